import type { LightningBackend } from '../lightning/backend.js';
import type { KeyOptions } from '../protocol/keys.js';
import { MAX_SATS_PER_CALL, mintL402 } from '../protocol/l402.js';
import { checkInteger, invalid } from '../validate.js';

/** Options of the Lightning (L402) door: `GateOptions.lightning`. */
export interface LightningDoorOptions {
  /** The node that issues invoices (LndRestBackend, LnbitsBackend, or your own). */
  backend: LightningBackend;
  /** Sats per call at doors without a price of their own, 1 to 1,000,000. Default 1. */
  satsPerCall?: number;
  /** Invoice lifetime in seconds. Default 600. */
  invoiceExpirySeconds?: number;
  /** How long a paid macaroon (and its allowance) lasts, in ms from its invoice. Default 3,600,000. */
  credentialTtlMs?: number;
  /** How long a refusal waits for the node's invoice before it goes out with proof of work only, in ms. Default 800. */
  timeoutMs?: number;
  /** Most invoice requests in flight to the node. Default 4. */
  maxConcurrent?: number;
  /** Most invoices created per minute, all clients together: a flood of refusals cannot flood the node. Default 120. */
  maxInvoicesPerMinute?: number;
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
export type LightningOutage = 'lightning_unavailable' | 'lightning_busy';

/** An unpaid invoice is offered again only while the client still has this long to pay it. */
const REUSE_MARGIN_MS = 60_000;

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
  readonly retryAfterMs: number;
  readonly maxPending: number;
  readonly #keys: KeyOptions;
  /** Unpaid offers by client, door and bundle, oldest first. */
  readonly #pending = new Map<string, LightningOffer>();
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
    this.invoiceExpirySeconds = checkInteger(options.invoiceExpirySeconds ?? 600, 'lightning.invoiceExpirySeconds', 60, 86_400);
    this.credentialTtlMs = checkInteger(options.credentialTtlMs ?? 3_600_000, 'lightning.credentialTtlMs', 60_000, 366 * 86_400_000);
    if (this.credentialTtlMs < this.invoiceExpirySeconds * 1000) {
      throw invalid('at least the invoice lifetime', 'lightning.credentialTtlMs', this.credentialTtlMs);
    }
    this.timeoutMs = checkInteger(options.timeoutMs ?? 800, 'lightning.timeoutMs', 1, 60_000);
    this.maxConcurrent = checkInteger(options.maxConcurrent ?? 4, 'lightning.maxConcurrent', 1, 1_000);
    this.maxInvoicesPerMinute = checkInteger(options.maxInvoicesPerMinute ?? 120, 'lightning.maxInvoicesPerMinute', 1, 1_000_000);
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
  async offer(
    client: string,
    scope: string,
    calls: number,
    satsPerCall: number,
    reuse: boolean,
  ): Promise<{ ok: true; offer: LightningOffer } | { ok: false; reason: LightningOutage }> {
    const now = Date.now();
    const key = JSON.stringify([client, scope, calls, satsPerCall]);
    const known = reuse ? this.#pending.get(key) : undefined;
    if (known && known.invoiceExpiresAt - now > REUSE_MARGIN_MS) return { ok: true, offer: known };
    if (known) this.#forget(key, known.paymentHash);
    if (now < this.#downUntil) return { ok: false, reason: 'lightning_unavailable' };
    if (now - this.#minuteStart >= 60_000) {
      this.#minuteStart = now;
      this.#minuteCount = 0;
    }
    if (this.#inFlight >= this.maxConcurrent || this.#minuteCount >= this.maxInvoicesPerMinute) return { ok: false, reason: 'lightning_busy' };
    this.#minuteCount++;
    this.#inFlight++;
    const amountSats = calls * satsPerCall;
    const signal = AbortSignal.timeout(this.timeoutMs);
    try {
      const asked = this.backend.createInvoice({ amountSats, memo: `powgate: ${calls} call(s) at "${scope}"`, expirySeconds: this.invoiceExpirySeconds }, signal);
      const invoice = await Promise.race([asked, deadline(signal)]);
      if (invoice.amountSats !== amountSats) throw new Error('the node returned an invoice for another amount');
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
      if (reuse) this.#remember(key, offer);
      return { ok: true, offer };
    } catch {
      // Down, slow, refusing or talking nonsense: leave it alone for a while; the refusal offers work.
      this.#downUntil = Date.now() + this.retryAfterMs;
      return { ok: false, reason: 'lightning_unavailable' };
    } finally {
      this.#inFlight--;
    }
  }

  /** A paid invoice is never offered again. */
  paid(paymentHash: string): void {
    const key = this.#pendingByHash.get(paymentHash);
    if (key !== undefined) this.#forget(key, paymentHash);
  }

  #remember(key: string, offer: LightningOffer): void {
    if (this.#pending.size >= this.maxPending) {
      const [oldest, old] = this.#pending.entries().next().value!;
      this.#forget(oldest, old.paymentHash);
    }
    this.#pending.set(key, offer);
    this.#pendingByHash.set(offer.paymentHash, key);
  }

  #forget(key: string, paymentHash: string): void {
    this.#pending.delete(key);
    this.#pendingByHash.delete(paymentHash);
  }
}
