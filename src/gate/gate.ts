import { backendInfo } from '../backend/loader.js';
import { PowgateError } from '../errors.js';
import { DIFFICULTY_STEPS, PROTOCOL_MAX_DIFFICULTY } from '../protocol/difficulty.js';
import { KeyRing, type KeyOptions } from '../protocol/keys.js';
import { MAX_CALLS, log2Steps } from '../protocol/price.js';
import { MemoryReplayStore } from '../storage/memory.js';
import { MemoryRateCounter, type RateCounter } from '../storage/rate-counter.js';
import type { ReplayStore } from '../storage/types.js';
import { checkInteger, describe, invalid } from '../validate.js';
import { adaptiveDifficulty, type AdaptiveDifficulty } from './adaptive-difficulty.js';
import { issueChallenge, lightningOffer, priceFor, type ChallengeOptions } from './challenge-issue.js';
import type { GateCore } from './core.js';
import { CredentialCache } from './credential-cache.js';
import type { DiscoveryResource } from './discovery.js';
import { Doors, type DoorListing } from './doors.js';
import type { GateReason, CallRefusal } from './envelope.js';
import type { Channel, Degradation, GateObserver } from './events.js';
import { Funnel } from './funnel.js';
import { LightningDoor } from './lightning-door.js';
import type { ChallengeResult, ClientCounting, GateOptions, RedeemResult, UseResult, UseTokenOptions } from './options.js';
import { redeemL402, redeemSolution, type RedeemOptions } from './redeem.js';
import { refuse, type RefuseOptions } from './refuse.js';
import { useL402, useToken } from './token-use.js';

export { TOKEN_CACHE_SIZE } from './credential-cache.js';
export type { ChallengeResult, ClientCounting, DoorPrice, GateOptions, Grant, RedeemResult, UseResult, UseTokenOptions } from './options.js';

/** What a gate runs on and charges (see {@link Gate.status}). Secret-free. */
export interface GateStatus {
  backend: string;
  isa: string;
  difficulty: AdaptiveDifficulty;
  doors: DoorListing[];
  subPuzzles: number;
  calls: number;
  maxCalls: number;
  challengeTtlMs: number;
  tokenTtlMs: number;
  failOpen: boolean;
  lightning: { backend: string; satsPerCall: number; down: boolean } | undefined;
  aperturePow: boolean;
  /**
   * 'per-instance' with a memory store: each instance spends on its own, so several instances
   * behind one address each accept the same solution once (degraded). 'shared' otherwise.
   */
  replayProtection: 'per-instance' | 'shared';
}

/**
 * A proof-of-work gate, whatever the transport: issues challenges for the doors it
 * declares, priced per call and by the calls each client buys; redeems solutions
 * for tokens that carry a signed allowance of calls (each challenge once); spends one of
 * a token's calls, atomically in the store, on every gated call; and words refusals so
 * that they show the way through. It says what happened, never how a transport says it:
 * the HTTP service, the 402 middleware and the MCP tools are thin layers on it. Its public
 * fields are its options, checked, with their defaults filled in ({@link GateOptions}).
 */
export class Gate {
  readonly store: ReplayStore;
  readonly counter: RateCounter;
  readonly difficulty: AdaptiveDifficulty;
  readonly subPuzzles: number;
  readonly calls: number;
  readonly maxCalls: number;
  readonly challengeTtlMs: number;
  readonly tokenTtlMs: number;
  readonly maxTokenTtlMs: number | undefined;
  readonly skewMs: number;
  readonly failOpen: boolean;
  /** The Lightning door, when configured. */
  readonly lightning: LightningDoor | undefined;
  readonly aperturePow: boolean;
  readonly #core: GateCore;
  /** The last degraded() answer and what it was computed from. */
  #degraded: { key: number; list: readonly Degradation[] } | undefined;

  constructor(options: GateOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new PowgateError('ERR_INVALID_ARGUMENT', `expected an options object but received ${describe(options)}`);
    }
    KeyRing.from(options); // checks the keys now, not at the first request
    // A copy: the keys are read once, so a valid-token verdict remembered below can never
    // outlive a key that was removed from the caller's array (rotate by making a new Gate).
    const keys: KeyOptions = options.keys
      ? { keys: options.keys.map((entry) => ({ ...entry })) }
      : { secret: options.secret, ...(options.acceptDerivation1 === undefined ? {} : { acceptDerivation1: options.acceptDerivation1 }) };
    this.store = options.store ?? new MemoryReplayStore();
    this.counter = options.counter ?? new MemoryRateCounter();
    if (typeof this.store?.spend !== 'function' || typeof this.store.spendCall !== 'function') throw invalid('a ReplayStore', 'store', this.store);
    if (typeof this.counter?.hit !== 'function') throw invalid('a RateCounter', 'counter', this.counter);
    this.difficulty = adaptiveDifficulty(options.difficulty);
    this.subPuzzles = checkInteger(options.subPuzzles ?? 1, 'subPuzzles', 1, 64);
    this.maxCalls = checkInteger(options.maxCalls ?? 100, 'maxCalls', 1, MAX_CALLS);
    this.calls = checkInteger(options.calls ?? 1, 'calls', 1, this.maxCalls);
    this.challengeTtlMs = checkInteger(options.challengeTtlMs ?? 120_000, 'challengeTtlMs', 1_000, 86_400_000);
    this.tokenTtlMs = checkInteger(options.tokenTtlMs ?? 300_000, 'tokenTtlMs', 1_000, 86_400_000);
    this.skewMs = checkInteger(options.skewMs ?? 5_000, 'skewMs', 0, 600_000);
    this.maxTokenTtlMs = options.maxTokenTtlMs === undefined ? undefined : checkInteger(options.maxTokenTtlMs, 'maxTokenTtlMs', 1_000, 366 * 86_400_000);
    this.failOpen = options.failOpen ?? false;
    if (this.difficulty.max + log2Steps(this.maxCalls) / DIFFICULTY_STEPS > PROTOCOL_MAX_DIFFICULTY) {
      throw invalid(`at most ${PROTOCOL_MAX_DIFFICULTY} bits with maxCalls' log2 added`, 'difficulty.max', this.difficulty.max);
    }
    this.lightning = options.lightning === undefined ? undefined : new LightningDoor(keys, options.lightning);
    this.aperturePow = options.aperturePow ?? false;
    if (typeof this.aperturePow !== 'boolean') throw invalid('a boolean', 'aperturePow', this.aperturePow);
    const doors = new Doors(this);
    this.#core = {
      settings: this,
      keys,
      doors,
      funnel: new Funnel((scope) => doors.has(scope)),
      credentials: new CredentialCache(keys, this.skewMs, this.maxTokenTtlMs),
      epochWritten: undefined,
    };
    const scopes = options.scopes ?? {};
    if (typeof scopes !== 'object' || scopes === null) throw invalid('an object of scopes and prices', 'scopes', scopes);
    for (const [scope, price] of Object.entries(scopes)) {
      if (typeof price === 'object' && price !== null) this.door(scope, price.difficulty, price.sats);
      else this.door(scope, price);
    }
    if (options.observer !== undefined) this.observe(options.observer);
  }

  /**
   * Tells `observer` of every step of the funnel (refusals, challenges and invoices issued,
   * redemptions, paid calls, exhausted allowances) and every degradation, synchronously; what it
   * throws is dropped. Returns a function that stops telling it.
   */
  observe(observer: GateObserver): () => void {
    return this.#core.funnel.observe(observer);
  }

  /** Whether anyone observes: events are built only then. */
  get observed(): boolean {
    return this.#core.funnel.observed;
  }

  /**
   * How this gate serves degraded now, if at all (see {@link Degradation}): checks without the
   * native addon, a recent fail-open pass (within the last minute), a Lightning node
   * that failed, a memory store (replay protection per instance). Empty when nothing is.
   * Cheap: called for every response that says so.
   */
  degraded(): readonly Degradation[] {
    const key = (Date.now() < this.#core.funnel.failOpenUntil ? 1 : 0) | (this.lightning?.down ? 2 : 0);
    if (this.#degraded?.key === key) return this.#degraded.list;
    const list: Degradation[] = [];
    let backend: string;
    try {
      backend = backendInfo().backend;
    } catch {
      backend = 'unavailable';
    }
    if (backend !== 'native') list.push(`backend_${backend}` as Degradation);
    if (key & 1) list.push('fail_open');
    if (key & 2) list.push('lightning_unavailable');
    if (this.store instanceof MemoryReplayStore) list.push('replay_per_instance');
    this.#degraded = { key, list: Object.freeze(list) };
    return this.#degraded.list;
  }

  /**
   * Declares a door: clients may buy calls for `scope`, at `difficulty` per call (bits
   * per sub-puzzle; adaptive pricing adds to it), or the gate's base when undefined, and
   * through Lightning at `sats` per call, or the Lightning door's `satsPerCall`.
   * Declaring a door again is fine unless both give different prices.
   */
  door(scope: string, difficulty?: number, sats?: number): void {
    this.#core.doors.declare(scope, difficulty, sats);
  }

  /**
   * Records an entry point behind a declared door (an HTTP method and path, or an MCP tool),
   * for the discovery document (see discoveryDocument). Recording the same one again is a no-op.
   */
  resource(resource: DiscoveryResource): void {
    this.#core.doors.addResource(resource);
  }

  /** The entry points recorded with {@link resource}, in order. */
  resources(): readonly DiscoveryResource[] {
    return this.#core.doors.resources();
  }

  /** The doors: per-call base difficulty (bits per sub-puzzle), price (bits of work per call) and, with Lightning, sats per call. */
  doors(): DoorListing[] {
    return this.#core.doors.list();
  }

  /**
   * The per-call difficulty `client`'s rate of calls earns at the door `scope`, counting
   * `weight` more calls first (default 0: only read), or undefined when the counter cannot
   * answer and the gate fails closed.
   */
  async priceFor(client: string, scope = '', weight = 0, channel?: Channel): Promise<{ difficulty: number; requests: number | undefined } | undefined> {
    return priceFor(this.#core, client, scope, weight, channel);
  }

  /**
   * A challenge for `client` (its address, or any stable key) at the door `scope`, for
   * `calls` calls (default the gate's `calls`): N calls cost N times the work of one, as
   * log2(N) more bits. The calls count toward the client's rate unless its key is `pooled`
   * (see {@link ClientCounting}). A client may ask for a harder per-call difficulty than its
   * rate earns (up to the door's max), never an easier one.
   */
  async challenge(client: string, options: ChallengeOptions = {}): Promise<ChallengeResult> {
    return issueChallenge(this.#core, client, options);
  }

  /**
   * A Lightning offer for `client` at the door `scope`, for `calls` calls (default the gate's
   * `calls`): an invoice and the macaroon its preimage unlocks, the client's unpaid one again
   * when it has one (never for a `pooled` key), or why there is none. Undefined without a
   * Lightning door. Waits for the node at most its `timeoutMs`; never throws for the node.
   */
  async lightningOffer(client: string, options: { scope?: string; calls?: number } & ClientCounting = {}): Promise<Awaited<ReturnType<LightningDoor['offer']>> | undefined> {
    return lightningOffer(this.#core, client, options);
  }

  /**
   * Checks a solution (untrusted input: never throws), spends its challenge once, and
   * issues a token for its scope with the calls and per-call price the challenge signed.
   * Idempotent for the solver: the same challenge and solution again get the same token
   * (kept with the spend; see docs/PROTOCOL.md), another solution of it `replayed`.
   */
  async redeem(challenge: unknown, solution: unknown, options: RedeemOptions = {}): Promise<RedeemResult> {
    return redeemSolution(this.#core, challenge, solution, options);
  }

  /**
   * A gated call: checks the presented token (untrusted input: never throws) for the door
   * `scope` and its price, then spends one of its calls, atomically in the store. Valid
   * tokens' MAC verdicts are remembered (at most {@link TOKEN_CACHE_SIZE}, oldest dropped
   * first), so a repeat skips decoding and the HMAC; the spend is never skipped.
   */
  async useToken(token: unknown, options: UseTokenOptions = {}): Promise<UseResult> {
    return useToken(this.#core, token, options);
  }

  /**
   * A gated call with an L402 credential (`<base64 macaroon>:<hex preimage>`, or `:POW` in
   * Aperture's dialect; the part of `Authorization: L402 ...` after the scheme): checks it as
   * {@link useToken} checks a token (untrusted input: never throws), then spends one of its
   * calls. A paid invoice's calls are counted under its payment hash, shared with the token
   * it may be redeemed for.
   */
  async useL402(credential: unknown, options: UseTokenOptions = {}): Promise<UseResult> {
    return useL402(this.#core, credential, options);
  }

  /**
   * Redeems a paid L402 credential for a powgate token (`method: 'l402'`) with the same
   * scope, calls, price and expiry, counted under the same key: the two share one allowance,
   * so redeeming spends nothing and redeeming twice gains nothing. Never throws for input.
   */
  redeemL402(credential: unknown, options: { scope?: string; channel?: Channel } = {}): RedeemResult {
    return redeemL402(this.#core, credential, options);
  }

  /**
   * The refusal for a call without a valid token, with a fresh challenge for `client` and,
   * with a Lightning door, an invoice and its macaroon: `{ kind: 'payment_required', body }`,
   * or `{ kind: 'unavailable', body }` when failing closed (the store cannot answer).
   * `redeem` (and `l402Redeem`) tell the client, for its transport, where to send the
   * solution (and how to present the paid macaroon).
   */
  async refuse(reason: GateReason, client: string, options: RefuseOptions): Promise<CallRefusal> {
    return refuse(this.#core, reason, client, options);
  }

  /** What this gate runs on and charges: for status endpoints. Secret-free. */
  status(): GateStatus {
    const info = backendInfo();
    return {
      backend: info.backend,
      isa: info.isa,
      difficulty: { ...this.difficulty },
      doors: this.doors(),
      subPuzzles: this.subPuzzles,
      calls: this.calls,
      maxCalls: this.maxCalls,
      challengeTtlMs: this.challengeTtlMs,
      tokenTtlMs: this.tokenTtlMs,
      failOpen: this.failOpen,
      lightning: this.lightning && { backend: this.lightning.backend.kind, satsPerCall: this.lightning.satsPerCall, down: this.lightning.down },
      aperturePow: this.aperturePow,
      replayProtection: this.store instanceof MemoryReplayStore ? 'per-instance' : 'shared',
    };
  }

  /** Closes the store and the counter. */
  async close(): Promise<void> {
    await Promise.all([this.store.close(), this.counter.close()]);
  }
}
