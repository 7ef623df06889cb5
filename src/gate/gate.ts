import { backendInfo } from '../backend/loader.js';
import { PowgateError } from '../errors.js';
import { createChallenge, type Challenge } from '../protocol/challenge.js';
import { DIFFICULTY_STEPS, PROTOCOL_MAX_DIFFICULTY, PROTOCOL_MIN_DIFFICULTY, difficultySteps } from '../protocol/difficulty.js';
import { KeyRing, type KeyOptions } from '../protocol/keys.js';
import { MAX_CALLS, log2Steps, priceSteps } from '../protocol/price.js';
import { REFUSALS, type Refusal } from '../protocol/refusal.js';
import { MemoryReplayStore } from '../storage/memory.js';
import type { ReplayStore } from '../storage/types.js';
import { isScope } from '../protocol/shape.js';
import { MAX_POW_BITS, MAX_SATS_PER_CALL, mintL402, verifyL402, type L402Verdict, type ValidL402 } from '../protocol/l402.js';
import { checkPrice, signToken, verifyToken, type TokenVerdict, type ValidToken } from '../protocol/token.js';
import { verifySolution } from '../protocol/verify.js';
import { checkInteger, describe, invalid } from '../validate.js';
import { checkResource, type DiscoveryResource } from './discovery.js';
import { DEFAULT_CHANNEL, OTHER_SCOPE, type Channel, type Degradation, type DoorKind, type GateEvent, type GateObserver } from './events.js';
import { adaptiveDifficulty, difficultyFor, type AdaptiveDifficulty, type AdaptiveDifficultyOptions } from './adaptive-difficulty.js';
import { reasonDetail, type ChallengeRefusal, type GateReason, type GateUnavailable, type PaymentRequired, type Unavailable } from './envelope.js';
import { LightningDoor, type LightningDoorOptions } from './lightning-door.js';
import { MemoryRateCounter, type RateCounter } from '../storage/rate-counter.js';
import { RecordingStore, newIssue, solutionDigest, type Issue } from './redemption.js';

/** Most valid-token verdicts a Gate remembers (their MAC checks; never their spends). */
export const TOKEN_CACHE_SIZE = 10_000;

/** Options of {@link Gate}. */
export interface GateOptions extends KeyOptions {
  /** Where redeemed challenges are spent and tokens' calls counted. Default: a new MemoryReplayStore (one process). */
  store?: ReplayStore;
  /** Where the calls clients buy are counted for adaptive pricing. Default: a new MemoryRateCounter. */
  counter?: RateCounter;
  /**
   * The price of one call: a fixed difficulty (bits per sub-puzzle), or how it adapts to each
   * client's rate of calls bought. Doors without a price of their own charge this. Default:
   * adaptive, base 18, max 28.
   */
  difficulty?: number | AdaptiveDifficultyOptions;
  /** Sub-puzzles per challenge, 1 to 64. Default 1. */
  subPuzzles?: number;
  /** Calls a challenge buys when the client does not ask for a number. Default 1. */
  calls?: number;
  /** Most calls one challenge (and so one token) may buy, 1 to 1,048,576. Default 100. */
  maxCalls?: number;
  /**
   * The doors (scopes) clients may buy calls for, each with its per-call base difficulty, or
   * undefined for the gate's. The scope '' is always a door. Middleware and gated tools
   * declare theirs with {@link Gate.door}. Default: none besides ''.
   */
  scopes?: Readonly<Record<string, number | DoorPrice | undefined>>;
  /** The Lightning (L402) door: a node that issues invoices, and sats per call. Default: none. */
  lightning?: LightningDoorOptions;
  /**
   * Also offer proof of work in Aperture's L402 dialect (`WWW-Authenticate: L402 macaroon=..., pow=...`,
   * credential `L402 <macaroon>:POW`), for L402 tooling that only knows it. Default false.
   */
  aperturePow?: boolean;
  /** Challenge lifetime in ms. Default 120,000. */
  challengeTtlMs?: number;
  /** Token lifetime in ms. Default 300,000. */
  tokenTtlMs?: number;
  /** Longest token lifetime accepted (see verifyToken's `maxTokenTtlMs`), in ms. Default: each token's own. */
  maxTokenTtlMs?: number;
  /** Clock-skew allowance in ms. Default 5,000. */
  skewMs?: number;
  /**
   * When the store or counter cannot answer (Redis down): false refuses with
   * `store_unavailable` (fail closed); true issues challenges at the base
   * difficulty, accepts valid solutions unspent (replays possible) and lets valid
   * tokens pass uncounted. Default false.
   */
  failOpen?: boolean;
  /** Told of every step of the funnel and every degradation (see {@link Gate.observe}). Default: none. */
  observer?: GateObserver;
}

/** A door's prices: per-call difficulty (bits per sub-puzzle; adaptive pricing adds to it) and sats per call (with a Lightning door). */
export interface DoorPrice {
  /** Default: the gate's base difficulty. */
  difficulty?: number;
  /** Default: the Lightning door's `satsPerCall`. */
  sats?: number;
}

/** A challenge for a client, or why none could be issued. */
export type ChallengeResult =
  | { ok: true; challenge: Challenge; /** The calls the client bought in the window, when counted. */ requests: number | undefined }
  | { ok: false; reason: ChallengeRefusal; detail: string };

/** A redeemed solution's token, or why there is none. */
export type RedeemResult = { ok: true; token: string; scope: string; expiresAt: number; calls: number; price: number } | { ok: false; reason: Refusal };

/**
 * A token or L402 credential that passed a door: what it carries, and its calls used so far
 * (this one included; undefined when not spent). An L402 credential's `issuedAt` is 0 (a
 * macaroon carries no issue time), its `method` is 'l402' when paid by invoice and 'pow' in
 * Aperture's dialect, and its `id` is the key its calls are counted under.
 */
export interface Grant extends ValidToken {
  used: number | undefined;
}

/** The verdict on a presented token at a door. */
export type UseResult = { ok: true; grant: Grant } | { ok: false; reason: Refusal };

/** Options of {@link Gate.useToken}. */
export interface UseTokenOptions {
  /** The door: the token's scope must equal it. Default ''. */
  scope?: string;
  /** Accept a token of any scope this gate has a door for (at that door's price). Default false. */
  anyScope?: boolean;
  /** Spend one of the token's calls. Default true; false only checks (nothing is counted). */
  spend?: boolean;
  /** Where the call came from, for observers (see {@link Channel}). Default 'api'. */
  channel?: Channel;
}

/**
 * Options of {@link Gate.challenge} and {@link Gate.refuse} that say how a client's key is
 * counted. A key is counted the calls it asks for, at issue, so that buying many challenges
 * at once cannot dodge the price their number earns. A `pooled` key is shared by clients
 * that cannot be told apart (an MCP server over stateless HTTP without addresses): asking
 * there is free and counts nothing, so that free refusals cannot raise everyone's price; its
 * calls count when redeemed (pass the same `client` and `pooled` to {@link Gate.redeem}).
 */
export interface ClientCounting {
  /** Default false. */
  pooled?: boolean;
  /** Where the request came from, for observers (see {@link Channel}). Default 'api'. */
  channel?: Channel;
}

/** How long a fail-open pass keeps the gate reported degraded (`fail_open`) after it, in ms. */
export const FAIL_OPEN_REPORT_MS = 60_000;

const REFUSED = Object.fromEntries(REFUSALS.map((reason) => [reason, Object.freeze({ ok: false as const, reason })])) as Record<
  Refusal,
  Extract<UseResult, { ok: false }>
>;

function refusal(reason: ChallengeRefusal): Extract<ChallengeResult, { ok: false }> {
  return { ok: false, reason, detail: reasonDetail(reason) };
}

/** A valid L402 credential as the token fields a door checks: paid in sats (lightning) or in bits (Aperture's PoW). */
function l402Token(v: ValidL402): ValidToken {
  return { valid: true, method: v.mode === 'lightning' ? 'l402' : 'pow', issuedAt: 0, expiresAt: v.expiresAt, scope: v.scope, kid: v.kid, id: v.countId, calls: v.calls, price: v.price };
}

/** One door: its per-call prices, as given (undefined: the gate's). */
interface Door {
  difficulty: number | undefined;
  sats: number | undefined;
}

/**
 * A proof-of-work gate, whatever the transport: issues challenges for the doors it
 * declares, priced per call and by the calls each client buys; redeems solutions
 * for tokens that carry a signed allowance of calls (each challenge once); spends one of
 * a token's calls, atomically in the store, on every gated call; and words refusals so
 * that they show the way through. The HTTP service, the 402 middleware and the MCP tools
 * are thin layers on it.
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
  readonly #keys: KeyOptions;
  readonly #doors = new Map<string, Door>([['', { difficulty: undefined, sats: undefined }]]);
  /** How far adaptive pricing may raise a door above its base: max - base. */
  readonly #headroom: number;
  /** Verdicts of valid tokens seen, by token, oldest first: they skip the MAC, never the spend. */
  readonly #validTokens = new Map<string, ValidToken>();
  /** The store's epoch, written (Redis: SET NX) before the first challenge, so that no challenge predates it. */
  #epochWritten: Promise<unknown> | undefined;
  /** The same for L402 credentials. */
  readonly #validL402 = new Map<string, ValidL402>();
  /** The entry points behind the doors, for the discovery document. */
  readonly #resources: DiscoveryResource[] = [];
  readonly #observers: GateObserver[] = [];
  /** Until when the gate reports `fail_open`: some time after it last let a call through uncounted. */
  #failOpenUntil = 0;
  /** The last degraded() answer and what it was computed from. */
  #degraded: { key: number; list: readonly Degradation[] } | undefined;

  constructor(options: GateOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new PowgateError('ERR_INVALID_ARGUMENT', `expected an options object but received ${describe(options)}`);
    }
    KeyRing.from(options); // checks the keys now, not at the first request
    // A copy: the keys are read once, so a valid-token verdict remembered below can never
    // outlive a key that was removed from the caller's array (rotate by making a new Gate).
    this.#keys = options.keys
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
    this.#headroom = this.difficulty.max - this.difficulty.base;
    this.lightning = options.lightning === undefined ? undefined : new LightningDoor(this.#keys, options.lightning);
    this.aperturePow = options.aperturePow ?? false;
    if (typeof this.aperturePow !== 'boolean') throw invalid('a boolean', 'aperturePow', this.aperturePow);
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
    if (typeof observer !== 'function') throw invalid('a function', 'observer', observer);
    this.#observers.push(observer);
    return () => {
      const at = this.#observers.indexOf(observer);
      if (at !== -1) this.#observers.splice(at, 1);
    };
  }

  /** Whether anyone observes: events are built only then. */
  get observed(): boolean {
    return this.#observers.length > 0;
  }

  #emit(event: GateEvent): void {
    for (const observer of this.#observers) {
      try {
        observer(event);
      } catch {
        // An observer's failure must never change a verdict.
      }
    }
  }

  /** The scope as a label: a declared door's, else OTHER_SCOPE (a client's invention is never a label). */
  #scopeLabel(scope: unknown): string {
    return typeof scope === 'string' && this.#doors.has(scope) ? scope : OTHER_SCOPE;
  }

  #refused(step: 'call' | 'challenge' | 'redeem', reason: string, scope: unknown, door: DoorKind, channel: Channel | undefined): void {
    if (this.#observers.length) this.#emit({ stage: 'refused', step, reason, scope: this.#scopeLabel(scope), door, channel: channel ?? DEFAULT_CHANNEL });
  }

  /** A fail-open pass: reported degraded for a while, and told to observers. */
  #failedOpen(scope: unknown, channel: Channel | undefined): void {
    this.#failOpenUntil = Date.now() + FAIL_OPEN_REPORT_MS;
    if (this.#observers.length) this.#emit({ stage: 'degraded', degraded: 'fail_open', scope: this.#scopeLabel(scope), door: 'work', channel: channel ?? DEFAULT_CHANNEL });
  }

  /**
   * How this gate serves degraded now, if at all (see {@link Degradation}): checks without the
   * native addon, a recent fail-open pass (within {@link FAIL_OPEN_REPORT_MS}), a Lightning node
   * that failed, a memory store (replay protection per instance). Empty when nothing is.
   * Cheap: called for every response that says so.
   */
  degraded(): readonly Degradation[] {
    const key = (Date.now() < this.#failOpenUntil ? 1 : 0) | (this.lightning?.down ? 2 : 0);
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
    if (!isScope(scope)) throw invalid('printable ASCII of at most 256 characters', 'scope', scope);
    if (sats !== undefined) checkInteger(sats, `the sats per call of scope "${scope}"`, 1, MAX_SATS_PER_CALL);
    if (difficulty !== undefined && (typeof difficulty !== 'number' || !(difficulty >= PROTOCOL_MIN_DIFFICULTY && difficulty <= PROTOCOL_MAX_DIFFICULTY))) {
      throw invalid(`a number from ${PROTOCOL_MIN_DIFFICULTY} to ${PROTOCOL_MAX_DIFFICULTY}`, `the difficulty of scope "${scope}"`, difficulty);
    }
    const most = (difficulty ?? this.difficulty.base) + this.#headroom + log2Steps(this.maxCalls) / DIFFICULTY_STEPS;
    if (most > PROTOCOL_MAX_DIFFICULTY) {
      throw invalid(`a price whose highest bundle stays within ${PROTOCOL_MAX_DIFFICULTY} bits`, `the difficulty of scope "${scope}"`, difficulty);
    }
    const known = this.#doors.get(scope);
    if (known?.difficulty !== undefined && difficulty !== undefined && known.difficulty !== difficulty) {
      throw new PowgateError('ERR_INVALID_ARGUMENT', `scope "${scope}" is already a door at difficulty ${known.difficulty}, not ${difficulty}`);
    }
    if (known?.sats !== undefined && sats !== undefined && known.sats !== sats) {
      throw new PowgateError('ERR_INVALID_ARGUMENT', `scope "${scope}" is already a door at ${known.sats} sats per call, not ${sats}`);
    }
    this.#doors.set(scope, { difficulty: difficulty ?? known?.difficulty, sats: sats ?? known?.sats });
  }

  /**
   * Records an entry point behind a declared door (an HTTP method and path, or an MCP tool),
   * for the discovery document (see discoveryDocument). Recording the same one again is a no-op.
   */
  resource(resource: DiscoveryResource): void {
    checkResource(resource);
    if (!this.#doors.has(resource.scope)) throw invalid('a declared scope', 'resource.scope', resource.scope);
    const same = (r: DiscoveryResource) => r.scope === resource.scope && r.method === resource.method && r.path === resource.path && r.tool === resource.tool;
    if (!this.#resources.some(same)) this.#resources.push(Object.freeze({ ...resource }));
  }

  /** The entry points recorded with {@link resource}, in order. */
  resources(): readonly DiscoveryResource[] {
    return [...this.#resources];
  }

  /** The doors: per-call base difficulty (bits per sub-puzzle), price (bits of work per call) and, with Lightning, sats per call. */
  doors(): { scope: string; difficulty: number; price: number; sats?: number }[] {
    return [...this.#doors.keys()].map((scope) => {
      const difficulty = this.#baseOf(scope)!;
      const sats = this.#satsOf(scope);
      return { scope, difficulty, price: this.#priceSteps(difficulty) / DIFFICULTY_STEPS, ...(sats === undefined ? {} : { sats }) };
    });
  }

  /** A door's sats per call, or undefined without a Lightning door. */
  #satsOf(scope: string): number | undefined {
    return this.lightning && (this.#doors.get(scope)?.sats ?? this.lightning.satsPerCall);
  }

  /** The difficulties this gate issues, from the cheapest door's lowest price to the dearest door's highest bundle. */
  #bounds(): { minDifficulty: number; maxDifficulty: number } {
    const bases = [...this.#doors.keys()].map((scope) => this.#baseOf(scope)!);
    const { base, min } = this.difficulty;
    return {
      minDifficulty: Math.max(PROTOCOL_MIN_DIFFICULTY, Math.min(...bases) - (base - min)),
      maxDifficulty: Math.min(PROTOCOL_MAX_DIFFICULTY, Math.max(...bases) + this.#headroom + Math.log2(this.maxCalls) + 1 / DIFFICULTY_STEPS),
    };
  }

  #baseOf(scope: string): number | undefined {
    const door = this.#doors.get(scope);
    return door === undefined ? undefined : (door.difficulty ?? this.difficulty.base);
  }

  /** A door's per-call price in steps: its base difficulty with the gate's sub-puzzles (what a token must have paid). */
  #priceSteps(difficulty: number): number {
    return priceSteps(difficultySteps(difficulty), this.subPuzzles, 1);
  }

  /**
   * The per-call difficulty `client`'s rate of calls earns at the door `scope`, counting
   * `weight` more calls first (default 0: only read), or undefined when the counter cannot
   * answer and the gate fails closed.
   */
  async priceFor(client: string, scope = '', weight = 0, channel?: Channel): Promise<{ difficulty: number; requests: number | undefined } | undefined> {
    const base = this.#baseOf(scope);
    if (base === undefined) throw invalid('a declared scope', 'scope', scope);
    const requests = await this.counter.hit(client, this.difficulty.windowMs, weight);
    if (requests === undefined) {
      if (!this.failOpen) return undefined;
      this.#failedOpen(scope, channel);
      return { difficulty: base, requests };
    }
    return { difficulty: difficultyFor(this.difficulty, requests, base), requests };
  }

  /**
   * A challenge for `client` (its address, or any stable key) at the door `scope`, for
   * `calls` calls (default the gate's `calls`): N calls cost N times the work of one, as
   * log2(N) more bits. The calls count toward the client's rate unless its key is `pooled`
   * (see {@link ClientCounting}). A client may ask for a harder per-call difficulty than its
   * rate earns (up to the door's max), never an easier one.
   */
  async challenge(client: string, options: { scope?: string; difficulty?: number; calls?: number } & ClientCounting = {}): Promise<ChallengeResult> {
    const result = await this.#challenge(client, options);
    if (this.#observers.length) {
      if (result.ok) this.#emit({ stage: 'challenge_issued', scope: result.challenge.scope, door: 'work', channel: options.channel ?? DEFAULT_CHANNEL });
      else this.#refused('challenge', result.reason, options.scope ?? '', 'work', options.channel);
    }
    return result;
  }

  async #challenge(client: string, options: { scope?: string; difficulty?: number; calls?: number } & ClientCounting): Promise<ChallengeResult> {
    const scope = options.scope ?? '';
    if (!isScope(scope)) throw invalid('printable ASCII of at most 256 characters', 'scope', scope);
    if (!this.#doors.has(scope)) return refusal('unknown_scope');
    await this.#writeEpoch();
    const calls = options.calls === undefined ? this.calls : options.calls;
    if (typeof calls !== 'number' || !Number.isInteger(calls) || calls < 1 || calls > this.maxCalls) {
      return { ok: false, reason: 'calls_out_of_range', detail: `calls must be an integer from 1 to ${this.maxCalls}` };
    }
    const price = await this.priceFor(client, scope, options.pooled === true ? 0 : calls, options.channel);
    if (!price) return refusal('store_unavailable');
    let perCall = price.difficulty;
    if (options.difficulty !== undefined) {
      const asked = options.difficulty;
      const most = this.#baseOf(scope)! + this.#headroom;
      if (typeof asked !== 'number' || !(asked >= perCall && asked <= most)) {
        return { ok: false, reason: 'difficulty_out_of_range', detail: `difficulty must be from ${perCall} (this client's current price per call) to ${most}` };
      }
      perCall = asked;
    }
    const steps = difficultySteps(perCall) + log2Steps(calls);
    if (steps > PROTOCOL_MAX_DIFFICULTY * DIFFICULTY_STEPS) return { ok: false, reason: 'calls_out_of_range', detail: 'that many calls at this price exceed the protocol\'s 64 bits' };
    const challenge = createChallenge({
      ...this.#keys,
      difficulty: steps / DIFFICULTY_STEPS,
      calls,
      scope,
      subPuzzles: this.subPuzzles,
      ttlMs: this.challengeTtlMs,
      minDifficulty: PROTOCOL_MIN_DIFFICULTY,
      maxDifficulty: PROTOCOL_MAX_DIFFICULTY,
    });
    return { ok: true, challenge, requests: price.requests };
  }

  /**
   * A Lightning offer for `client` at the door `scope`, for `calls` calls (default the gate's
   * `calls`): an invoice and the macaroon its preimage unlocks, the client's unpaid one again
   * when it has one (never for a `pooled` key), or why there is none. Undefined without a
   * Lightning door. Waits for the node at most its `timeoutMs`; never throws for the node.
   */
  async lightningOffer(
    client: string,
    options: { scope?: string; calls?: number } & ClientCounting = {},
  ): Promise<Awaited<ReturnType<LightningDoor['offer']>> | undefined> {
    const scope = options.scope ?? '';
    if (!this.#doors.has(scope)) throw invalid('a declared scope', 'scope', scope);
    const sats = this.#satsOf(scope);
    if (sats === undefined) return undefined;
    const calls = checkInteger(options.calls ?? this.calls, 'calls', 1, this.maxCalls);
    const offered = await this.lightning!.offer(client, scope, calls, sats, options.pooled !== true);
    if (this.#observers.length) {
      const channel = options.channel ?? DEFAULT_CHANNEL;
      if (offered.ok) this.#emit({ stage: 'challenge_issued', scope, door: 'lightning', channel });
      else this.#emit({ stage: 'degraded', degraded: 'lightning_unavailable', reason: offered.reason, scope, door: 'lightning', channel });
    }
    return offered;
  }

  /**
   * Checks a solution (untrusted input: never throws), spends its challenge once, and
   * issues a token for its scope with the calls and per-call price the challenge signed.
   * Idempotent for the solver: the same challenge and solution again get the same token
   * (kept with the spend; see docs/PROTOCOL.md), another solution of it `replayed`.
   */
  async redeem(challenge: unknown, solution: unknown, options: { scope?: string; client?: string } & ClientCounting = {}): Promise<RedeemResult> {
    const result = await this.#redeem(challenge, solution, options);
    if (this.#observers.length) {
      const scope = result.ok ? result.scope : (challenge as { scope?: unknown } | null)?.scope;
      if (!result.ok) this.#refused('redeem', result.reason, scope, 'work', options.channel);
      else {
        // The challenge verified: its signed issue time is the server's own.
        const issuedAt = (challenge as { issuedAt: number }).issuedAt;
        const seconds = Math.max(0, (Date.now() - issuedAt) / 1000);
        this.#emit({ stage: 'redeemed', scope: result.scope, door: 'work', channel: options.channel ?? DEFAULT_CHANNEL, seconds });
      }
    }
    return result;
  }

  async #redeem(challenge: unknown, solution: unknown, options: { scope?: string; client?: string } & ClientCounting): Promise<RedeemResult> {
    const verify = { ...this.#keys, scope: options.scope, skewMs: this.skewMs, ...this.#bounds() };
    const recording = new RecordingStore(this.store, () => newIssue(solution, Date.now()));
    let verdict = await verifySolution(challenge, solution, { ...verify, store: recording });
    if (!verdict.ok && verdict.reason === 'replayed' && recording.held?.digest === solutionDigest(solution)) {
      // The same solution again (its first answer was lost): the same token, read back from
      // the spend. 'replayed' comes after every other check, so only the signed terms are read here.
      const terms = await verifySolution(challenge, solution, { ...verify, store: new MemoryReplayStore({ maxEntries: 1, since: 0 }) });
      if (terms.ok) return this.#tokenFor(terms, recording.held);
    }
    if (!verdict.ok && verdict.reason === 'store_unavailable' && this.failOpen) {
      // Verified but not spent: fail open trades replay protection for availability.
      verdict = await verifySolution(challenge, solution, { ...verify, store: new MemoryReplayStore({ maxEntries: 1, since: 0 }) });
      if (verdict.ok) this.#failedOpen(verdict.scope, options.channel);
    }
    if (!verdict.ok) return verdict;
    // A pooled key's calls count once paid for (its asks were free).
    if (options.pooled === true && options.client !== undefined) await this.counter.hit(options.client, this.difficulty.windowMs, verdict.calls);
    return this.#tokenFor(verdict, recording.made ?? newIssue(solution, Date.now()));
  }

  /**
   * Makes the store mark when its memory begins before the first challenge is issued (a fresh
   * Redis would otherwise mark it at the first redemption, after challenges it then refuses).
   * Tried again while the store cannot answer.
   */
  #writeEpoch(): Promise<unknown> | undefined {
    if (this.#epochWritten === undefined && typeof this.store.epoch === 'function') {
      this.#epochWritten = this.store.epoch().then((since) => {
        if (since === undefined) this.#epochWritten = undefined;
      });
    }
    return this.#epochWritten;
  }

  /** The token a redemption issues: its terms from the challenge, its time and id from the issue kept with the spend. */
  #tokenFor(terms: { scope: string; calls: number; price: number }, issue: Issue): RedeemResult {
    const { scope, calls, price } = terms;
    const key = KeyRing.from(this.#keys).signing;
    const expiresAt = issue.issuedAt + this.tokenTtlMs;
    const fields = { kid: key.kid, method: 'pow' as const, scope, issuedAt: issue.issuedAt, expiresAt, id: issue.id, calls, priceUnits: checkPrice('pow', price) };
    return { ok: true, token: signToken(key, fields), scope, expiresAt, calls, price };
  }

  /**
   * A gated call: checks the presented token (untrusted input: never throws) for the door
   * `scope` and its price, then spends one of its calls, atomically in the store. Valid
   * tokens' MAC verdicts are remembered (at most {@link TOKEN_CACHE_SIZE}, oldest dropped
   * first), so a repeat skips decoding and the HMAC; the spend is never skipped.
   */
  async useToken(token: unknown, options: UseTokenOptions = {}): Promise<UseResult> {
    const { scope = '', anyScope = false, spend = true, channel } = options;
    if (!isScope(scope)) throw invalid('printable ASCII of at most 256 characters', 'scope', scope);
    const verdict = this.#verify(token);
    if (!verdict.valid) {
      if (spend) this.#refused('call', verdict.reason, scope, 'work', channel);
      return REFUSED[verdict.reason];
    }
    return this.#pass(verdict, scope, anyScope, spend, channel);
  }

  /**
   * A gated call with an L402 credential (`<base64 macaroon>:<hex preimage>`, or `:POW` in
   * Aperture's dialect; the part of `Authorization: L402 ...` after the scheme): checks it as
   * {@link useToken} checks a token (untrusted input: never throws), then spends one of its
   * calls. A paid invoice's calls are counted under its payment hash, shared with the token
   * it may be redeemed for.
   */
  async useL402(credential: unknown, options: UseTokenOptions = {}): Promise<UseResult> {
    const { scope = '', anyScope = false, spend = true, channel } = options;
    if (!isScope(scope)) throw invalid('printable ASCII of at most 256 characters', 'scope', scope);
    const verdict = this.#verifyL402(credential);
    // An invalid credential's door is not known: it says it is Lightning's.
    if (!verdict.valid) {
      if (spend) this.#refused('call', verdict.reason, scope, 'lightning', channel);
      return REFUSED[verdict.reason];
    }
    // Aperture's dialect is a door only where it is offered.
    if (verdict.mode === 'pow' && !this.aperturePow) {
      if (spend) this.#refused('call', 'malformed', scope, 'work', channel);
      return REFUSED.malformed;
    }
    // Its preimage proves the invoice paid, whatever this door then says: never offer it again.
    if (verdict.mode === 'lightning') this.lightning?.paid(verdict.paymentHash);
    return this.#pass(l402Token(verdict), scope, anyScope, spend, channel, verdict.countUntil);
  }

  /**
   * The door's checks of a valid credential (scope, price), then the spend, counted until
   * `countUntil` at least (an L402 credential's signed expiry, which a holder may shorten).
   */
  #pass(verdict: ValidToken, scope: string, anyScope: boolean, spend: boolean, channel: Channel | undefined, countUntil = verdict.expiresAt): Promise<UseResult> {
    const pending = this.#spendCall(verdict, scope, anyScope, spend, channel, countUntil);
    // Unobserved, the hot path takes no extra step.
    if (this.#observers.length === 0 || !spend) return pending;
    return pending.then((result) => {
      const door: DoorKind = verdict.method === 'l402' ? 'lightning' : 'work';
      if (!result.ok) this.#refused('call', result.reason, anyScope ? verdict.scope : scope, door, channel);
      else {
        const event = { stage: 'paid_call' as const, scope: this.#scopeLabel(verdict.scope), door, channel: channel ?? DEFAULT_CHANNEL };
        this.#emit(event);
        if (result.grant.used === result.grant.calls) this.#emit({ ...event, stage: 'allowance_exhausted' });
      }
      return result;
    });
  }

  async #spendCall(verdict: ValidToken, scope: string, anyScope: boolean, spend: boolean, channel: Channel | undefined, countUntil: number): Promise<UseResult> {
    if (!anyScope && verdict.scope !== scope) return REFUSED.scope_mismatch;
    const base = this.#baseOf(verdict.scope);
    if (base === undefined) return REFUSED.scope_mismatch;
    if (verdict.method === 'l402') {
      // A door without a sats price sells nothing for sats: fail closed.
      const sats = this.#satsOf(verdict.scope);
      if (sats === undefined || verdict.price < sats) return REFUSED.price_too_low;
    } else if (Math.round(verdict.price * DIFFICULTY_STEPS) < this.#priceSteps(base)) {
      return REFUSED.price_too_low;
    }
    if (!spend) return { ok: true, grant: { ...verdict, used: undefined } };
    // Counted for as long as any instance may accept the token: until expiresAt + skew by its
    // clock, which may run up to skew behind this one's.
    const spent = await this.store.spendCall(verdict.id, verdict.calls, Math.max(verdict.expiresAt, countUntil) + 2 * this.skewMs + 1);
    if (spent.ok) return { ok: true, grant: { ...verdict, used: spent.used } };
    if (spent.reason === 'store_unavailable' && this.failOpen) {
      this.#failedOpen(verdict.scope, channel);
      return { ok: true, grant: { ...verdict, used: undefined } };
    }
    return REFUSED[spent.reason];
  }

  /**
   * Redeems a paid L402 credential for a powgate token (`method: 'l402'`) with the same
   * scope, calls, price and expiry, counted under the same key: the two share one allowance,
   * so redeeming spends nothing and redeeming twice gains nothing. Never throws for input.
   */
  redeemL402(credential: unknown, options: { scope?: string; channel?: Channel } = {}): RedeemResult {
    const result = this.#redeemL402(credential, options);
    if (this.#observers.length) {
      if (result.ok) this.#emit({ stage: 'redeemed', scope: result.scope, door: 'lightning', channel: options.channel ?? DEFAULT_CHANNEL });
      else this.#refused('redeem', result.reason, options.scope ?? OTHER_SCOPE, 'lightning', options.channel);
    }
    return result;
  }

  #redeemL402(credential: unknown, options: { scope?: string }): RedeemResult {
    const verdict = this.#verifyL402(credential);
    if (!verdict.valid) return verdict.reason === 'token_exhausted' ? REFUSED.token_exhausted : { ok: false, reason: verdict.reason };
    if (verdict.mode !== 'lightning') return REFUSED.malformed;
    // A token carries one expiry: a holder's shorter one would end its count early, and the
    // signed one would lengthen what the holder was given. Redeem the macaroon as minted.
    if (verdict.expiresAt !== verdict.countUntil) return REFUSED.malformed;
    // Redeemed without a call first: the door must still stop offering the paid invoice.
    this.lightning?.paid(verdict.paymentHash);
    if (options.scope !== undefined && verdict.scope !== options.scope) return REFUSED.scope_mismatch;
    const key = KeyRing.from(this.#keys).find(verdict.kid)!;
    const issuedAt = Math.min(Date.now(), verdict.expiresAt);
    const fields = { kid: key.kid, method: 'l402' as const, scope: verdict.scope, issuedAt, expiresAt: verdict.expiresAt, id: Buffer.from(verdict.countId, 'base64url'), calls: verdict.calls, priceUnits: verdict.price };
    return { ok: true, token: signToken(key, fields), scope: verdict.scope, expiresAt: verdict.expiresAt, calls: verdict.calls, price: verdict.price };
  }

  /** An L402 verdict, remembered when valid as token verdicts are. */
  #verifyL402(credential: unknown): L402Verdict {
    const known = typeof credential === 'string' ? this.#validL402.get(credential) : undefined;
    if (known) {
      if (Date.now() <= known.expiresAt + this.skewMs) return known;
      this.#validL402.delete(credential as string);
    }
    const verdict = verifyL402(credential, { ...this.#keys, skewMs: this.skewMs });
    // Only the minted text is remembered: its variants (attenuated, re-encoded) are free to make.
    if (!verdict.valid || !verdict.canonical) return verdict;
    if (this.#validL402.size >= TOKEN_CACHE_SIZE) this.#validL402.delete(this.#validL402.keys().next().value!);
    this.#validL402.set(credential as string, Object.freeze(verdict));
    return verdict;
  }

  /** A token's verdict, its MAC verdict remembered when valid; expiry is checked every time. */
  #verify(token: unknown): TokenVerdict {
    const known = typeof token === 'string' ? this.#validTokens.get(token) : undefined;
    if (known) {
      if (Date.now() <= known.expiresAt + this.skewMs) return known;
      this.#validTokens.delete(token as string); // Expired: the full check below says so.
    }
    const verdict = verifyToken(token, { ...this.#keys, skewMs: this.skewMs, maxTokenTtlMs: this.maxTokenTtlMs });
    if (!verdict.valid) return verdict;
    if (this.#validTokens.size >= TOKEN_CACHE_SIZE) this.#validTokens.delete(this.#validTokens.keys().next().value!);
    this.#validTokens.set(token as string, Object.freeze(verdict));
    return verdict;
  }

  /**
   * The refusal for a call without a valid token, with a fresh challenge for
   * `client` and, with a Lightning door, an invoice and its macaroon: `{ status: 402, body }`,
   * or 503 when failing closed. `redeem` (and `l402Redeem`) tell the client, for its
   * transport, where to send the solution (and how to present the paid macaroon).
   */
  async refuse(
    reason: GateReason,
    client: string,
    options: { scope?: string; redeem: Record<string, unknown>; l402Redeem?: Record<string, unknown> } & ClientCounting,
  ): Promise<{ status: 402; body: PaymentRequired } | { status: 503; body: GateUnavailable }> {
    // The store could not count the call: paying again would not help, so no challenge. (A full
    // memory store refuses only credentials older than what it forgot: a new one passes.)
    if (reason === 'store_unavailable') {
      // Told by useToken when a credential was presented.
      return { status: 503, body: { error: 'store_unavailable', cause: { reason, detail: reasonDetail(reason) }, accepts: [] } };
    }
    const scope = options.scope ?? '';
    // A presented credential's refusal was told by useToken; a call without one is told here.
    if (reason === 'token_required') this.#refused('call', reason, scope, 'work', options.channel);
    // Both doors at once: the node's answer (bounded in time) never delays the challenge.
    const counting = { scope, pooled: options.pooled, channel: options.channel };
    const [issued, paid] = await Promise.all([this.challenge(client, counting), this.lightningOffer(client, counting)]);
    if (!issued.ok) {
      if (issued.reason !== 'store_unavailable') throw new PowgateError('ERR_INVALID_ARGUMENT', `cannot refuse with a challenge: ${issued.detail}`);
      return { status: 503, body: { error: 'store_unavailable', cause: { reason: 'store_unavailable', detail: issued.detail }, accepts: [] } };
    }
    const { challenge } = issued;
    const accepts: PaymentRequired['accepts'] = [{ method: 'pow', challenge, calls: { max: this.maxCalls }, redeem: options.redeem }];
    const unavailable: Unavailable[] = [];
    if (paid?.ok) accepts.push({ method: 'l402', ...paid.offer, redeem: options.l402Redeem ?? {} });
    else if (paid) unavailable.push({ method: 'l402', reason: paid.reason, detail: reasonDetail(paid.reason) });
    // Not to a pooled key: its calls count at redemption, which this dialect never goes through.
    if (this.aperturePow && options.pooled !== true) {
      // Aperture's PoW is one puzzle of whole bits: at least the challenge's work for its calls.
      const bits = Math.min(MAX_POW_BITS, Math.ceil(challenge.price + Math.log2(challenge.calls)));
      const minted = mintL402(this.#keys, { mode: 'pow', scope, calls: challenge.calls, powBits: bits, expiresAt: Date.now() + this.challengeTtlMs + this.tokenTtlMs });
      accepts.push({ method: 'l402-pow', macaroon: minted.macaroon, pow: bits, calls: challenge.calls, expiresAt: challenge.expiresAt });
    }
    const cause = { reason, detail: reasonDetail(reason), ...(unavailable.length > 0 ? { unavailable } : {}) };
    return { status: 402, body: { error: 'payment_required', cause, accepts } };
  }

  /** What this gate runs on and charges: for status endpoints. Secret-free. */
  status(): {
    backend: string;
    isa: string;
    difficulty: AdaptiveDifficulty;
    doors: { scope: string; difficulty: number; price: number; sats?: number }[];
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
  } {
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
