import { backendInfo } from '../backend/loader.js';
import { PowgateError } from '../errors.js';
import { createChallenge, type Challenge } from '../protocol/challenge.js';
import { KeyRing, type KeyOptions } from '../protocol/keys.js';
import type { Refusal } from '../protocol/refusal.js';
import { MemoryReplayStore } from '../protocol/replay/memory.js';
import type { ReplayStore } from '../protocol/replay/types.js';
import { isScope } from '../protocol/shape.js';
import { issueToken, verifyToken, type TokenVerdict } from '../protocol/token.js';
import { verifySolution } from '../protocol/verify.js';
import { checkInteger, describe, invalid } from '../validate.js';
import { adaptiveDifficulty, difficultyFor, type AdaptiveDifficulty, type AdaptiveDifficultyOptions } from './adaptive-difficulty.js';
import { reasonDetail, type GateReason, type GateUnavailable, type PaymentRequired } from './envelope.js';
import { MemoryRateCounter, type RateCounter } from './rate-counter.js';

/** Most valid-token verdicts a Gate remembers. */
export const TOKEN_CACHE_SIZE = 10_000;
const SCOPE_MISMATCH: TokenVerdict = Object.freeze({ valid: false, reason: 'scope_mismatch' });

/** Options of {@link Gate}. */
export interface GateOptions extends KeyOptions {
  /** Where redeemed challenges are spent. Default: a new MemoryReplayStore (one process). */
  store?: ReplayStore;
  /** Where clients' requests are counted for adaptive difficulty. Default: a new MemoryRateCounter. */
  counter?: RateCounter;
  /** A fixed difficulty, or how it adapts to each client's rate. Default: adaptive, base 18, max 28. */
  difficulty?: number | AdaptiveDifficultyOptions;
  /** Sub-puzzles per challenge, 1 to 64. Default 1. */
  subPuzzles?: number;
  /** Challenge lifetime in ms. Default 120,000. */
  challengeTtlMs?: number;
  /** Token lifetime in ms. Default 300,000. */
  tokenTtlMs?: number;
  /** Clock-skew allowance in ms. Default 5,000. */
  skewMs?: number;
  /**
   * When the store or counter cannot answer (Redis down): false refuses with
   * `store_unavailable` (fail closed); true issues challenges at the base
   * difficulty and accepts valid solutions unspent (replays possible). Default false.
   */
  failOpen?: boolean;
}

/** A challenge for a client, or why none could be issued. */
export type ChallengeResult =
  | { ok: true; challenge: Challenge; /** The client's requests in the window, when counted. */ requests: number | undefined }
  | { ok: false; reason: 'store_unavailable' | 'difficulty_out_of_range'; detail: string };

/** A redeemed solution's token, or why there is none. */
export type RedeemResult = { ok: true; token: string; scope: string; expiresAt: number } | { ok: false; reason: Refusal };

/**
 * A proof-of-work gate, whatever the transport: issues challenges priced by each
 * client's recent rate, redeems solutions for short-lived tokens (each challenge
 * once), checks tokens, and words refusals so that they show the way through.
 * The HTTP service, the 402 middleware and the MCP tools are thin layers on it.
 */
export class Gate {
  readonly store: ReplayStore;
  readonly counter: RateCounter;
  readonly difficulty: AdaptiveDifficulty;
  readonly subPuzzles: number;
  readonly challengeTtlMs: number;
  readonly tokenTtlMs: number;
  readonly skewMs: number;
  readonly failOpen: boolean;
  readonly #keys: KeyOptions;
  /** Verdicts of valid tokens seen, by token, oldest first. */
  readonly #validTokens = new Map<string, Extract<TokenVerdict, { valid: true }>>();

  constructor(options: GateOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new PowgateError('ERR_INVALID_ARGUMENT', `expected an options object but received ${describe(options)}`);
    }
    KeyRing.from(options); // checks the keys now, not at the first request
    // A copy: the keys are read once, so a valid-token verdict remembered below can never
    // outlive a key that was removed from the caller's array (rotate by making a new Gate).
    this.#keys = options.keys ? { keys: options.keys.map((entry) => ({ ...entry })) } : { secret: options.secret };
    this.store = options.store ?? new MemoryReplayStore();
    this.counter = options.counter ?? new MemoryRateCounter();
    if (typeof this.store?.spend !== 'function') throw invalid('a ReplayStore', 'store', this.store);
    if (typeof this.counter?.hit !== 'function') throw invalid('a RateCounter', 'counter', this.counter);
    this.difficulty = adaptiveDifficulty(options.difficulty);
    this.subPuzzles = checkInteger(options.subPuzzles ?? 1, 'subPuzzles', 1, 64);
    this.challengeTtlMs = checkInteger(options.challengeTtlMs ?? 120_000, 'challengeTtlMs', 1_000, 86_400_000);
    this.tokenTtlMs = checkInteger(options.tokenTtlMs ?? 300_000, 'tokenTtlMs', 1_000, 86_400_000);
    this.skewMs = checkInteger(options.skewMs ?? 5_000, 'skewMs', 0, 600_000);
    this.failOpen = options.failOpen ?? false;
  }

  /**
   * Counts a request of `client` and returns the difficulty its rate earns, or
   * undefined when the counter cannot answer and the gate fails closed.
   */
  async priceFor(client: string): Promise<{ difficulty: number; requests: number | undefined } | undefined> {
    const requests = await this.counter.hit(client, this.difficulty.windowMs);
    if (requests === undefined) return this.failOpen ? { difficulty: this.difficulty.base, requests } : undefined;
    return { difficulty: difficultyFor(this.difficulty, requests), requests };
  }

  /**
   * A challenge for `client` (its address, or any stable key) and `scope`. A
   * client may ask for a harder difficulty than its rate earns (up to the max),
   * never an easier one.
   */
  async challenge(client: string, options: { scope?: string; difficulty?: number } = {}): Promise<ChallengeResult> {
    const scope = options.scope ?? '';
    if (!isScope(scope)) throw invalid('printable ASCII of at most 256 characters', 'scope', scope);
    const price = await this.priceFor(client);
    if (!price) return { ok: false, reason: 'store_unavailable', detail: reasonDetail('store_unavailable') };
    let difficulty = price.difficulty;
    if (options.difficulty !== undefined) {
      const asked = options.difficulty;
      if (typeof asked !== 'number' || !(asked >= difficulty && asked <= this.difficulty.max)) {
        return { ok: false, reason: 'difficulty_out_of_range', detail: `difficulty must be from ${difficulty} (this client's current price) to ${this.difficulty.max}` };
      }
      difficulty = asked;
    }
    const challenge = createChallenge({
      ...this.#keys,
      difficulty,
      scope,
      subPuzzles: this.subPuzzles,
      ttlMs: this.challengeTtlMs,
      minDifficulty: this.difficulty.min,
      maxDifficulty: this.difficulty.max,
    });
    return { ok: true, challenge, requests: price.requests };
  }

  /** Checks a solution (untrusted input: never throws), spends its challenge once, and issues a token for its scope. */
  async redeem(challenge: unknown, solution: unknown, options: { scope?: string } = {}): Promise<RedeemResult> {
    const verdict = await verifySolution(challenge as Challenge, solution as never, {
      ...this.#keys,
      store: this.store,
      scope: options.scope,
      skewMs: this.skewMs,
      minDifficulty: this.difficulty.min,
      maxDifficulty: this.difficulty.max,
    });
    let scope: string;
    if (verdict.ok) scope = verdict.scope;
    else if (verdict.reason === 'store_unavailable' && this.failOpen) {
      // Verified but not spent: fail open trades replay protection for availability.
      const unspent = await verifySolution(challenge as Challenge, solution as never, {
        ...this.#keys,
        store: new MemoryReplayStore({ maxEntries: 1 }),
        scope: options.scope,
        skewMs: this.skewMs,
        minDifficulty: this.difficulty.min,
        maxDifficulty: this.difficulty.max,
      });
      if (!unspent.ok) return unspent;
      scope = unspent.scope;
    } else return verdict;
    // One clock reading, so that expiresAt is exactly the token's own.
    const now = Date.now();
    const token = issueToken({ ...this.#keys, scope, method: 'pow', ttlMs: this.tokenTtlMs, now });
    return { ok: true, token, scope, expiresAt: now + this.tokenTtlMs };
  }

  /**
   * Checks a presented token (untrusted input: never throws). A client presents
   * the same token on every call until it expires, so the verdicts of valid
   * tokens are remembered (at most {@link TOKEN_CACHE_SIZE}, oldest dropped
   * first): a repeat skips decoding and the HMAC, and only expiry and scope are
   * checked again. Invalid tokens are never remembered, so garbage cannot fill it.
   */
  checkToken(token: unknown, options: { scope?: string } = {}): TokenVerdict {
    const scope = options.scope;
    if (scope !== undefined && !isScope(scope)) throw invalid('printable ASCII of at most 256 characters', 'scope', scope);
    const known = typeof token === 'string' ? this.#validTokens.get(token) : undefined;
    if (known) {
      if (Date.now() <= known.expiresAt + this.skewMs) return scope === undefined || known.scope === scope ? known : SCOPE_MISMATCH;
      this.#validTokens.delete(token as string); // Expired: the full check below says so.
    }
    const verdict = verifyToken(token, { ...this.#keys, skewMs: this.skewMs });
    if (!verdict.valid) return verdict;
    if (this.#validTokens.size >= TOKEN_CACHE_SIZE) this.#validTokens.delete(this.#validTokens.keys().next().value!);
    this.#validTokens.set(token as string, Object.freeze(verdict));
    return scope === undefined || verdict.scope === scope ? verdict : SCOPE_MISMATCH;
  }

  /**
   * The refusal for a call without a valid token, with a fresh challenge for
   * `client`: `{ status: 402, body }`, or 503 when failing closed. `redeem`
   * tells the client, for its transport, where to send the solution.
   */
  async refuse(reason: GateReason, client: string, options: { scope?: string; redeem: Record<string, unknown> }): Promise<{ status: 402; body: PaymentRequired } | { status: 503; body: GateUnavailable }> {
    const issued = await this.challenge(client, { scope: options.scope });
    if (!issued.ok) {
      return { status: 503, body: { error: 'store_unavailable', cause: { reason: 'store_unavailable', detail: issued.detail }, accepts: [] } };
    }
    return {
      status: 402,
      body: {
        error: 'payment_required',
        cause: { reason, detail: reasonDetail(reason) },
        accepts: [{ method: 'pow', challenge: issued.challenge, redeem: options.redeem }],
      },
    };
  }

  /** What this gate runs on and charges: for status endpoints. Secret-free. */
  status(): { backend: string; isa: string; difficulty: AdaptiveDifficulty; subPuzzles: number; challengeTtlMs: number; tokenTtlMs: number; failOpen: boolean } {
    const info = backendInfo();
    return {
      backend: info.backend,
      isa: info.isa,
      difficulty: { ...this.difficulty },
      subPuzzles: this.subPuzzles,
      challengeTtlMs: this.challengeTtlMs,
      tokenTtlMs: this.tokenTtlMs,
      failOpen: this.failOpen,
    };
  }

  /** Closes the store and the counter. */
  async close(): Promise<void> {
    await Promise.all([this.store.close(), this.counter.close()]);
  }
}
