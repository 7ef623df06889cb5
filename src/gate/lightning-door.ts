import { LightningUnavailable, type LightningBackend } from '../lightning/backend.js';
import type { KeyOptions } from '../protocol/keys.js';
import { MAX_SATS_PER_CALL, mintL402 } from '../protocol/l402.js';
import { checkInteger, invalid } from '../validate.js';

/** Options of the Lightning (L402) door: `GateOptions.lightning`. */
export interface LightningDoorOptions {
  /** The node that issues invoices (LndRestBackend, LnbitsBackend, or your own). */
  backend: LightningBackend;
  /** Sats per call at doors without a price of their own, 1 to 1,000,000. Default 1. */
  satsPerCall?: number;
  /** Invoice lifetime in seconds, 120 to 86,400. Default 600. */
  invoiceExpirySeconds?: number;
  /** How long a paid macaroon (and its allowance) lasts, in ms from its invoice. Default 3,600,000. */
  credentialTtlMs?: number;
  /** How long a refusal waits for the node's invoice before it goes out with proof of work only, in ms. Default 800. */
  timeoutMs?: number;
  /** Most invoice requests in flight to the node. Default 4. */
  maxConcurrent?: number;
  /** Most requests to the node per minute, all clients together: a flood of refusals cannot flood the node. Default 120. */
  maxInvoicesPerMinute?: number;
  /** Most new invoices per minute for one client key, so that one client cannot use up the rest's (a pooled key: half the node's budget). Default 10. */
  maxInvoicesPerClientPerMinute?: number;
  /** After the node failed or timed out, how long refusals skip it, in ms. Default 5,000. */
  retryAfterMs?: number;
  /** Most unpaid invoices remembered for reuse (one per client, door and bundle). Default 10,000. */
  maxPending?: number;
}

/** What a refusal offers through Lightning: a macaroon to present with the preimage of the invoice it names. */
export interface LightningOffer {
  macaroon: string;
  invoice: string;
  paymentHash: string;
  amountSats: number;
  satsPerCall: number;
  calls: number;
  /** When the invoice expires, in ms since the epoch. */
  invoiceExpiresAt: number;
  /** When the macaroon expires (paid or not). */
  expiresAt: number;
}

/** Why a refusal has no Lightning offer. */
export const LIGHTNING_OUTAGES = ['lightning_unavailable', 'lightning_busy'] as const;
export type LightningOutage = (typeof LIGHTNING_OUTAGES)[number];

/** An unpaid invoice is offered again only while the client still has this long to pay it. */
const REUSE_MARGIN_MS = 60_000;
/** An offer older than this is looked up on the node before it is offered again (another instance may have seen it paid). */
const RECHECK_MS = 30_000;
/** The scope's share of an invoice's memo. */
const MEMO_SCOPE_CHARS = 64;

type OfferResult = { ok: true; offer: LightningOffer } | { ok: false; reason: LightningOutage };

/** Rejects when `signal` aborts: a backend that ignores its signal still cannot hold a refusal. */
function deadline(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
}

/**
 * The Lightning door: gets an invoice from the node for a refusal and mints the macaroon
 * that its preimage unlocks. It protects the node: a client's unpaid invoice is offered
 * again rather than a new one made, invoice requests are bounded in number, rate and
 * time, and a node that fails is left alone for a while. It never makes a refusal wait
 * past `timeoutMs`: the refusal then goes out with proof of work only, saying why.
 */
export class LightningDoor {
  readonly backend: LightningBackend;
  readonly satsPerCall: number;
  readonly invoiceExpirySeconds: number;
  readonly credentialTtlMs: number;
  readonly timeoutMs: number;
  readonly maxConcurrent: number;
  readonly maxInvoicesPerMinute: number;
  readonly maxInvoicesPerClientPerMinute: number;
  readonly retryAfterMs: number;
  readonly maxPending: number;
  readonly #keys: KeyOptions;
  /** Unpaid offers by client, door and bundle, oldest first, and when the node last said each was open. */
  readonly #pending = new Map<string, { offer: LightningOffer; checkedAt: number }>();
  /** Offers being made, by key. */
  readonly #flights = new Map<string, Promise<OfferResult>>();
  /** Invoices made for each client this minute. */
  readonly #perClient = new Map<string, number>();
  /** Which pending key an invoice was offered under, to forget it once paid. */
  readonly #pendingByHash = new Map<string, string>();
  #inFlight = 0;
  #minuteStart = 0;
  #minuteCount = 0;
  #downUntil = 0;

  constructor(keys: KeyOptions, options: LightningDoorOptions) {
    if (typeof options !== 'object' || options === null) throw invalid('an object', 'lightning', options);
    const { backend } = options;
    if (typeof backend?.createInvoice !== 'function' || typeof backend.lookupInvoice !== 'function') {
      throw invalid('a LightningBackend', 'lightning.backend', backend);
    }
    this.backend = backend;
    this.#keys = keys;
    this.satsPerCall = checkInteger(options.satsPerCall ?? 1, 'lightning.satsPerCall', 1, MAX_SATS_PER_CALL);
    this.invoiceExpirySeconds = checkInteger(options.invoiceExpirySeconds ?? 600, 'lightning.invoiceExpirySeconds', 120, 86_400);
    this.credentialTtlMs = checkInteger(options.credentialTtlMs ?? 3_600_000, 'lightning.credentialTtlMs', 60_000, 366 * 86_400_000);
    if (this.credentialTtlMs < this.invoiceExpirySeconds * 1000) {
      throw invalid('at least the invoice lifetime', 'lightning.credentialTtlMs', this.credentialTtlMs);
    }
    this.timeoutMs = checkInteger(options.timeoutMs ?? 800, 'lightning.timeoutMs', 1, 60_000);
    this.maxConcurrent = checkInteger(options.maxConcurrent ?? 4, 'lightning.maxConcurrent', 1, 1_000);
    this.maxInvoicesPerMinute = checkInteger(options.maxInvoicesPerMinute ?? 120, 'lightning.maxInvoicesPerMinute', 1, 1_000_000);
    this.maxInvoicesPerClientPerMinute = checkInteger(options.maxInvoicesPerClientPerMinute ?? 10, 'lightning.maxInvoicesPerClientPerMinute', 1, 1_000_000);
    this.retryAfterMs = checkInteger(options.retryAfterMs ?? 5_000, 'lightning.retryAfterMs', 0, 3_600_000);
    this.maxPending = checkInteger(options.maxPending ?? 10_000, 'lightning.maxPending', 1, 10_000_000);
  }

  /** Whether the node is being left alone after a failure. */
  get down(): boolean {
    return Date.now() < this.#downUntil;
  }

  /**
   * An offer for `calls` calls at `scope`, priced `satsPerCall` each, for `client`: its
   * unpaid one again when it has one, else a new invoice. `reuse` false (clients that
   * cannot be told apart) always asks for a new one. Never throws for the node.
   */
  offer(client: string, scope: string, calls: number, satsPerCall: number, reuse: boolean): Promise<OfferResult> {
    if (!reuse) return this.#offer(client, undefined, scope, calls, satsPerCall);
    const key = JSON.stringify([client, scope, calls, satsPerCall]);
    // One request to the node per key at a time: concurrent refusals share its answer.
    const flying = this.#flights.get(key);
    if (flying) return flying;
    const flight = this.#offer(client, key, scope, calls, satsPerCall).finally(() => this.#flights.delete(key));
    this.#flights.set(key, flight);
    return flight;
  }

  async #offer(client: string, key: string | undefined, scope: string, calls: number, satsPerCall: number): Promise<OfferResult> {
    const now = Date.now();
    const known = key === undefined ? undefined : this.#pending.get(key);
    if (known && known.offer.invoiceExpiresAt - now > REUSE_MARGIN_MS) {
      if (now - known.checkedAt < RECHECK_MS) return { ok: true, offer: known.offer };
      // Another instance may have seen it paid: ask the node, within the same bounds. If it
      // cannot say, the invoice may still be unpaid: offer it again.
      const state = await this.#ask(client, (signal) => this.backend.lookupInvoice(known.offer.paymentHash, signal));
      if (!state.ok || state.value.state === 'open') {
        known.checkedAt = now;
        return { ok: true, offer: known.offer };
      }
    }
    if (known) this.#forget(key!, known.offer.paymentHash);
    const amountSats = calls * satsPerCall;
    const memo = `powgate: ${calls} call(s) at "${scope.length > MEMO_SCOPE_CHARS ? `${scope.slice(0, MEMO_SCOPE_CHARS)}...` : scope}"`;
    const created = await this.#ask(
      client,
      (signal) => this.backend.createInvoice({ amountSats, memo, expirySeconds: this.invoiceExpirySeconds }, signal),
      true,
      key === undefined,
    );
    if (!created.ok) return created;
    const invoice = created.value;
    if (invoice.amountSats !== amountSats) return this.#failed();
    // The macaroon's caveat holds whole seconds: the offer says the expiry it carries, not a later one.
    const expiresAt = Math.floor((now + this.credentialTtlMs) / 1000) * 1000;
    const minted = mintL402(this.#keys, { mode: 'lightning', paymentHash: Buffer.from(invoice.paymentHash, 'hex'), scope, calls, expiresAt, satsPerCall });
    const offer: LightningOffer = {
      macaroon: minted.macaroon,
      invoice: invoice.bolt11,
      paymentHash: invoice.paymentHash,
      amountSats,
      satsPerCall,
      calls,
      invoiceExpiresAt: Math.min(invoice.expiresAt, now + this.invoiceExpirySeconds * 1000),
      expiresAt,
    };
    if (key !== undefined) this.#remember(key, offer, now);
    return { ok: true, offer };
  }

  /**
   * One request to the node, within every bound: the breaker, the concurrency, the global
   * and (for a new invoice) the client's rate, and the time limit.
   */
  async #ask<T>(
    client: string,
    call: (signal: AbortSignal) => Promise<T>,
    create = false,
    pooled = false,
  ): Promise<{ ok: true; value: T } | { ok: false; reason: LightningOutage }> {
    const now = Date.now();
    if (now < this.#downUntil) return { ok: false, reason: 'lightning_unavailable' };
    if (now - this.#minuteStart >= 60_000) {
      this.#minuteStart = now;
      this.#minuteCount = 0;
      this.#perClient.clear();
    }
    const mine = this.#perClient.get(client) ?? 0;
    if (this.#inFlight >= this.maxConcurrent || this.#minuteCount >= this.maxInvoicesPerMinute) return { ok: false, reason: 'lightning_busy' };
    if (create && mine >= this.#perClientCap(pooled)) return { ok: false, reason: 'lightning_busy' };
    this.#minuteCount++;
    if (create && this.#perClient.size < this.maxPending) this.#perClient.set(client, mine + 1);
    this.#inFlight++;
    const signal = AbortSignal.timeout(this.timeoutMs);
    try {
      return { ok: true, value: await Promise.race([call(signal), deadline(signal)]) };
    } catch (error) {
      // Down, slow or talking nonsense: leave it alone for a while; the refusal offers work.
      if (error instanceof LightningUnavailable || signal.aborted) this.#downUntil = Date.now() + this.retryAfterMs;
      return { ok: false, reason: 'lightning_unavailable' };
    } finally {
      this.#inFlight--;
    }
  }

  /** A pooled key stands for many clients: it may use up to half of the node's budget, never all of it. */
  #perClientCap(pooled: boolean): number {
    return pooled ? Math.max(this.maxInvoicesPerClientPerMinute, Math.floor(this.maxInvoicesPerMinute / 2)) : this.maxInvoicesPerClientPerMinute;
  }

  #failed(): OfferResult {
    this.#downUntil = Date.now() + this.retryAfterMs;
    return { ok: false, reason: 'lightning_unavailable' };
  }

  /** A paid invoice is never offered again. */
  paid(paymentHash: string): void {
    const key = this.#pendingByHash.get(paymentHash);
    if (key !== undefined) this.#forget(key, paymentHash);
  }

  #remember(key: string, offer: LightningOffer, now: number): void {
    if (this.#pending.size >= this.maxPending) {
      const [oldest, old] = this.#pending.entries().next().value!;
      this.#forget(oldest, old.offer.paymentHash);
    }
    this.#pending.set(key, { offer, checkedAt: now });
    this.#pendingByHash.set(offer.paymentHash, key);
  }

  #forget(key: string, paymentHash: string): void {
    this.#pending.delete(key);
    this.#pendingByHash.delete(paymentHash);
  }
}
