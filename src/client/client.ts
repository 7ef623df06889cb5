// The client's core, transport-free: prices a refusal's doors, asks the budget, pays one door,
// and keeps what it bought. fetch and MCP wrappers are thin layers on it.
import { availableParallelism } from 'node:os';
import { PowgateError, type PaymentPrice } from '../errors.js';
import type { SolveProgress } from '../solver/solve.js';
import { checkInteger, invalid } from '../validate.js';
import { Budget, type BudgetOptions } from './budget.js';
import type { CachedCredential, Credential, Lease } from './credential.js';
import { credentialKey, CredentialCache } from './credentials.js';
import { payAperturePow, payL402, payPow, type DoorReceipt } from './doors.js';
import { badEnvelope } from './l402-fields.js';
import type { Envelope, Offer, PaymentMethod, PowOffer } from './offers.js';
import { checkPrefer, rankOffers } from './policy.js';
import { priceOf } from './price.js';
import { apertureRatePerThread, solverRatePerThread } from './hash-rate.js';
import type { DoorTransport } from './transport.js';
import type { Wallet } from './wallet.js';
import { MAX_CALLS } from '../protocol/price.js';

/** What a payment was: reported to `onPayment` once the credential is in hand. */
export interface PaymentInfo {
  /** Who asked: an HTTP origin, or the MCP wrapper's name for its server. */
  origin: string;
  /** The scope bought for; undefined for a plain L402 server. */
  scope: string | undefined;
  method: PaymentMethod;
  /** The price as priced before paying (expected CPU-seconds, or sats). */
  price: PaymentPrice;
  /** Calls the credential allows; undefined when the server did not say (a plain L402 server: presented until refused). */
  calls: number | undefined;
  /** When it expires (ms since the epoch); undefined when unknown. */
  expiresAt: number | undefined;
  /** The whole payment: pricing excluded, solving or paying and redeeming included. */
  elapsedMs: number;
  /** Measured CPU-seconds of the proof of work. */
  cpuSeconds?: number;
  /** Sats paid. */
  sats?: number;
}

/** Progress of a proof of work, with what it is for. */
export interface ClientProgress extends SolveProgress {
  method: 'pow' | 'l402-pow';
  origin: string;
  scope: string | undefined;
}

/** Options of {@link PowgateClient}: the budget's, and how to pay. */
export interface PowgateClientOptions extends BudgetOptions {
  /** A budget to share (with other clients); the budget options above are then ignored. Default: one made from them. */
  budget?: Budget;
  /** A credential cache to share. Default: a new {@link CredentialCache}. */
  credentials?: CredentialCache;
  /** Pays Lightning invoices; without one, the Lightning door is never used. Default: none. */
  wallet?: Wallet;
  /** Doors in the order to try them; the budget picks the first it allows. Default ['pow', 'l402-pow', 'l402']. */
  prefer?: readonly PaymentMethod[];
  /** Solver threads for powgate's proof of work. Default os.availableParallelism(). */
  threads?: number;
  /** Calls to buy per payment where the server lets the client choose (`more_calls`), up to its most. Default: what the refusal offers. */
  calls?: number;
  /** Hashes per second of one solver thread, for pricing. Default: measured once per process, lazily (about 0.5 s), on the backend solve() uses. */
  hashRate?: number;
  /** Hashes per second for Aperture's dialect (one thread), for pricing. Default: measured once, lazily (about 0.1 s). */
  apertureHashRate?: number;
  /** Redeem a paid L402 credential for a powgate token where the server offers it. Default false (present the L402 credential). */
  redeemL402?: boolean;
  /** Called after each payment. Default: none. */
  onPayment?: (payment: PaymentInfo) => void;
  /** Called with the progress of each proof of work, at most about ten times a second. Default: none. */
  onProgress?: (progress: ClientProgress) => void;
}

/** Per-payment options of {@link PowgateClient.pay} and {@link PowgateClient.acquire}. */
export interface PayOptions {
  /** Who asked (an HTTP origin, or an MCP server's name): the credential is kept and reported under it. */
  origin: string;
  /** Aborts pricing waits, the proof of work and the redeem (not a Lightning payment already sent). */
  signal?: AbortSignal;
  /** Whether an L402 credential can be presented (false when the request's own Authorization header is taken). Default true. */
  l402?: boolean;
}

function rate(value: unknown, what: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) throw invalid('a positive number', what, value);
  return value;
}

/**
 * Pays powgate and L402 refusals within a budget. One client (and its budget and cache) may
 * serve several wrappers. `acquire` is what a wrapper calls on a refusal: a lease on a
 * cached credential, or one bought for it (single-flight per origin and scope).
 */
export class PowgateClient {
  readonly budget: Budget;
  readonly credentials: CredentialCache;
  readonly wallet: Wallet | undefined;
  readonly prefer: readonly PaymentMethod[];
  readonly threads: number;
  readonly calls: number | undefined;
  readonly redeemL402: boolean;
  readonly #hashRate: number | undefined;
  readonly #apertureHashRate: number | undefined;
  readonly #onPayment: PowgateClientOptions['onPayment'];
  readonly #onProgress: PowgateClientOptions['onProgress'];

  constructor(options: PowgateClientOptions = {}) {
    if (typeof options !== 'object' || options === null) throw invalid('an options object', 'options', options);
    if (options.budget !== undefined && !(options.budget instanceof Budget)) throw invalid('a Budget', 'budget', options.budget);
    if (options.credentials !== undefined && !(options.credentials instanceof CredentialCache)) throw invalid('a CredentialCache', 'credentials', options.credentials);
    if (options.wallet !== undefined && typeof options.wallet?.pay !== 'function') throw invalid('a Wallet ({ pay(invoice) })', 'wallet', options.wallet);
    for (const name of ['onPayment', 'onProgress'] as const) {
      if (options[name] !== undefined && typeof options[name] !== 'function') throw invalid('a function', name, options[name]);
    }
    this.budget = options.budget ?? new Budget(options);
    this.credentials = options.credentials ?? new CredentialCache();
    this.wallet = options.wallet;
    this.prefer = checkPrefer(options.prefer);
    this.threads = checkInteger(options.threads ?? availableParallelism(), 'threads', 1, 256);
    this.calls = options.calls === undefined ? undefined : checkInteger(options.calls, 'calls', 1, MAX_CALLS);
    this.redeemL402 = options.redeemL402 ?? false;
    if (typeof this.redeemL402 !== 'boolean') throw invalid('a boolean', 'redeemL402', options.redeemL402);
    this.#hashRate = rate(options.hashRate, 'hashRate');
    this.#apertureHashRate = rate(options.apertureHashRate, 'apertureHashRate');
    this.#onPayment = options.onPayment;
    this.#onProgress = options.onProgress;
  }

  /** The price of paying an offer (measuring the solver's hash rate first, once, when a proof-of-work door needs it). */
  async price(offer: Offer): Promise<PaymentPrice> {
    if (offer.method === 'l402') return priceOf(offer, 1);
    const perThread = offer.method === 'pow' ? (this.#hashRate ?? (await solverRatePerThread(this.threads))) : (this.#apertureHashRate ?? (await apertureRatePerThread()));
    return priceOf(offer, perThread);
  }

  /** A lease on a live cached credential for `origin` and `scope`, or undefined. */
  take(origin: string, scope: string | undefined, options: { l402?: boolean } = {}): Lease | undefined {
    return this.credentials.take(credentialKey(origin, scope), accepts(options.l402 ?? true));
  }

  /**
   * A lease on a cached credential for `origin` and `scope`, waiting for the purchase in
   * flight for them if there is one; undefined when there is none (then send the request
   * without a credential and {@link acquire} on its refusal).
   */
  wait(origin: string, scope: string | undefined, options: { signal?: AbortSignal; l402?: boolean } = {}): Promise<Lease | undefined> {
    return this.credentials.wait(credentialKey(origin, scope), { signal: options.signal, accept: accepts(options.l402 ?? true) });
  }

  /** A lease on the credential for the refusal's origin and scope: cached, or bought by {@link pay} (one purchase at a time per key). */
  acquire(envelope: Envelope, transport: DoorTransport, options: PayOptions): Promise<Lease> {
    const key = credentialKey(options.origin, envelope.scope);
    return this.credentials.acquire(key, (signal) => this.pay(envelope, transport, { ...options, signal }), { signal: options.signal, accept: accepts(options.l402 ?? true) });
  }

  /**
   * Pays one door of a refusal, without the cache: ranks the doors (`prefer`, a wallet for
   * Lightning, where L402 can be presented), asks for `calls` calls where the server lets it,
   * prices each door and takes the first the budget allows, asks `approve`, pays, settles the
   * budget with what it cost and reports it. Throws ERR_UNSUPPORTED_CHALLENGE (no door this
   * client can pay), ERR_BUDGET_EXCEEDED, ERR_PAYMENT_DECLINED, ERR_PAYMENT_FAILED, ERR_ABORTED.
   */
  async pay(envelope: Envelope, transport: DoorTransport, options: PayOptions): Promise<CachedCredential> {
    const { origin, signal } = options;
    let ranked = rankOffers(envelope.offers, { prefer: this.prefer, wallet: this.wallet !== undefined, l402: options.l402 ?? true });
    if (ranked.length === 0) throw unsupported(envelope, this.prefer, this.wallet !== undefined);
    ranked = await this.#bundle(ranked, envelope, transport, signal);
    let chosen: { offer: Offer; price: PaymentPrice } | undefined;
    let firstRefusal: PowgateError | undefined;
    for (const offer of ranked) {
      const price = await this.price(offer);
      const refusal = this.budget.check(price);
      if (!refusal) {
        chosen = { offer, price };
        break;
      }
      firstRefusal ??= refusal;
    }
    if (!chosen) throw firstRefusal!;
    const charge = await this.budget.authorize(chosen.price);
    if (signal?.aborted) throw new PowgateError('ERR_ABORTED', 'the call was aborted', { cause: signal.reason, price: chosen.price });
    const { offer } = chosen;
    const scope = envelope.scope;
    const onProgress =
      this.#onProgress && offer.method !== 'l402' ? (p: SolveProgress) => this.#onProgress!({ ...p, method: offer.method as 'pow' | 'l402-pow', origin, scope }) : undefined;
    const started = performance.now();
    let paid: { bought: CachedCredential; receipt: DoorReceipt };
    try {
      if (offer.method === 'pow') paid = await payPow(offer, transport, { threads: this.threads, signal, onProgress });
      else if (offer.method === 'l402-pow') paid = await payAperturePow(offer, { signal, onProgress });
      else paid = await payL402(offer, this.wallet!, { signal, redeem: this.redeemL402 ? transport : undefined });
    } catch (error) {
      // The work done counts, whatever became of it; sats stay reserved (a failed payment may still have gone through).
      const seconds = ((performance.now() - started) / 1000) * (offer.method === 'pow' ? this.threads : 1);
      if (offer.method !== 'l402') charge.settle({ seconds });
      throw error;
    }
    const elapsedMs = performance.now() - started;
    charge.settle({ seconds: paid.receipt.cpuSeconds, sats: paid.receipt.sats });
    const expiresAt = Number.isFinite(paid.bought.expiresAt) ? paid.bought.expiresAt : undefined;
    const calls = Number.isFinite(paid.bought.calls) ? paid.bought.calls : undefined;
    this.#onPayment?.({ origin, scope, method: offer.method, price: chosen.price, calls, expiresAt, elapsedMs, ...paid.receipt });
    return paid.bought;
  }

  /** With `calls` set, a powgate door for that many calls (and its Lightning offer), asked for where the server lets the client. */
  async #bundle(ranked: Offer[], envelope: Envelope, transport: DoorTransport, signal: AbortSignal | undefined): Promise<Offer[]> {
    // The powgate door says where to ask, whichever door then pays.
    const pow = envelope.offers.find((o): o is PowOffer => o.method === 'pow');
    if (this.calls === undefined || !pow || !transport.moreCalls || !ranked.some((o) => o.method === 'pow' || o.method === 'l402')) return ranked;
    const calls = Math.min(this.calls, pow.maxCalls);
    if (pow.challenge.calls === calls) return ranked;
    const more = await transport.moreCalls(pow, calls, signal);
    if (!more) return ranked;
    if (more.challenge.scope !== envelope.scope || more.challenge.calls !== calls) throw badEnvelope('the challenge for more calls is for another scope or number of calls');
    if (more.l402 && more.l402.calls !== calls) throw badEnvelope('the Lightning offer for more calls is for another number of calls');
    return ranked.map((o) => (o.method === 'pow' ? { ...o, challenge: more.challenge } : o.method === 'l402' && more.l402 ? { ...more.l402, redeem: o.redeem } : o));
  }
}

function accepts(l402: boolean): ((credential: Credential) => boolean) | undefined {
  return l402 ? undefined : (credential) => credential.kind === 'token';
}

function unsupported(envelope: Envelope, prefer: readonly PaymentMethod[], wallet: boolean): PowgateError {
  const offered = envelope.offers.map((o) => o.method);
  if (offered.length === 0) return new PowgateError('ERR_UNSUPPORTED_CHALLENGE', 'the refusal offers no door this client knows (pow, l402-pow, l402)');
  const why = offered.includes('l402') && !wallet ? '; Lightning needs a wallet (and maxSatsPerCall above 0)' : '';
  return new PowgateError('ERR_UNSUPPORTED_CHALLENGE', `the refusal offers ${offered.join(', ')}, none of which this client may use (prefer: ${prefer.join(', ')})${why}`);
}
