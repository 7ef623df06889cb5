import { createHash, timingSafeEqual } from 'node:crypto';
import { getBackend } from '../backend/loader.js';
import type { Sha256Backend } from '../backend/types.js';
import { PowgateError } from '../errors.js';
import { checkArray, checkInteger, describe } from '../validate.js';
import { challengeMac, challengeMacInput, parseChallenge, type ParsedChallenge } from './challenge.js';
import { checkDifficultyBounds } from './difficulty.js';
import { KeyRing, type KeyOptions } from './keys.js';
import { lifetimeRefusal, type Refusal } from './refusal.js';
import { MemoryReplayStore } from './replay/memory.js';
import type { ReplayStore, SpendResult } from './replay/types.js';
import { isScope, isTimestamp } from './shape.js';
import { parseSolution, type ParsedSolution } from './solution.js';
import { WORK_MESSAGE_BYTES, meetsThreshold, workMessage } from './work.js';

/** Options of {@link verifySolution} and {@link verifySolutions}. */
export interface VerifyOptions extends KeyOptions {
  /** Where spent challenges are recorded. Default: one MemoryReplayStore shared by the process. */
  store?: ReplayStore;
  /** The time in ms since the epoch. Default Date.now(). */
  now?: number;
  /** Clock-skew allowance in ms, on both ends of a challenge's lifetime. Default 5,000. */
  skewMs?: number;
  /** When set, the challenge's scope must equal it. Default: any scope. */
  scope?: string;
  /** Lowest difficulty accepted. Default 1. */
  minDifficulty?: number;
  /** Highest difficulty accepted. Default 40. */
  maxDifficulty?: number;
  /** Which backend hashes the proofs. Default: node:crypto for one pair, the serving backend for a batch. */
  backend?: Sha256Backend;
}

/** The verdict on one (challenge, solution) pair. */
export type Verdict =
  | {
      ok: true;
      id: string;
      kid: string;
      scope: string;
      difficulty: number;
      subPuzzles: number;
      issuedAt: number;
      expiresAt: number;
    }
  | { ok: false; reason: Refusal };

interface Settings {
  ring: KeyRing;
  store: ReplayStore;
  now: number;
  skewMs: number;
  scope: string | undefined;
  min: number;
  max: number;
}

let defaultStore: MemoryReplayStore | undefined;

function settings(options: VerifyOptions): Settings {
  if (typeof options !== 'object' || options === null) {
    throw new PowgateError('ERR_INVALID_ARGUMENT', `expected an options object but received ${describe(options)}`);
  }
  const bounds = checkDifficultyBounds(options.minDifficulty ?? 1, options.maxDifficulty ?? 40);
  const now = options.now ?? Date.now();
  if (!isTimestamp(now)) {
    throw new PowgateError('ERR_INVALID_ARGUMENT', `expected milliseconds since the epoch for now but received ${describe(now)}`);
  }
  if (options.scope !== undefined && !isScope(options.scope)) {
    throw new PowgateError('ERR_INVALID_ARGUMENT', `expected printable ASCII of at most 256 characters for scope but received ${describe(options.scope)}`);
  }
  const store = options.store ?? (defaultStore ??= new MemoryReplayStore());
  if (typeof store?.spend !== 'function' || typeof store.spendMany !== 'function') {
    throw new PowgateError('ERR_INVALID_ARGUMENT', `expected a ReplayStore for store but received ${describe(store)}`);
  }
  return {
    ring: KeyRing.from(options),
    store,
    now,
    skewMs: checkInteger(options.skewMs ?? 5_000, 'skewMs', 0, 86_400_000),
    scope: options.scope,
    min: bounds.min,
    max: bounds.max,
  };
}

/** Everything but the proofs and the spend: shape, key, MAC, scope, bounds, lifetime, id. */
function precheck(
  challenge: unknown,
  solution: unknown,
  s: Settings,
): { refusal: Refusal } | { c: ParsedChallenge; sol: ParsedSolution } {
  const c = parseChallenge(challenge);
  const sol = parseSolution(solution);
  if (!c || !sol) return { refusal: 'malformed' };
  const key = s.ring.find(c.json.kid);
  if (!key) return { refusal: 'unknown_key' };
  const expected = challengeMac(key, challengeMacInput(c.json, c.id, c.steps, c.threshold));
  if (!timingSafeEqual(expected, c.signature)) return { refusal: 'bad_signature' };
  if (s.scope !== undefined && c.json.scope !== s.scope) return { refusal: 'scope_mismatch' };
  if (c.json.difficulty < s.min || c.json.difficulty > s.max) return { refusal: 'difficulty_out_of_range' };
  const late = lifetimeRefusal(c.json.issuedAt, c.json.expiresAt, s.now, s.skewMs);
  if (late) return { refusal: late };
  if (sol.json.id !== c.json.id || sol.nonces.length !== c.json.subPuzzles) return { refusal: 'bad_solution' };
  return { c, sol };
}

function proofsHold(c: ParsedChallenge, nonces: readonly bigint[]): boolean {
  return nonces.every((nonce, j) =>
    meetsThreshold(createHash('sha256').update(workMessage(c.signature, j, nonce)).digest(), 0, c.threshold),
  );
}

function accepted(c: ParsedChallenge): Verdict {
  const { id, kid, scope, difficulty, subPuzzles, issuedAt, expiresAt } = c.json;
  return { ok: true, id, kid, scope, difficulty, subPuzzles, issuedAt, expiresAt };
}

function afterSpend(result: SpendResult, c: ParsedChallenge): Verdict {
  return result === 'spent' ? accepted(c) : { ok: false, reason: result };
}

/**
 * Verifies one solution and spends its challenge. Untrusted input never
 * throws: it yields `{ ok: false, reason }`. Bad options throw `PowgateError`.
 */
export async function verifySolution(challenge: unknown, solution: unknown, options: VerifyOptions): Promise<Verdict> {
  const s = settings(options);
  const checked = precheck(challenge, solution, s);
  if ('refusal' in checked) return { ok: false, reason: checked.refusal };
  const { c, sol } = checked;
  const good = options.backend ? batchProofs([{ c, nonces: sol.nonces }], options.backend)[0] : proofsHold(c, sol.nonces);
  if (!good) return { ok: false, reason: 'bad_solution' };
  // Kept until the challenge can no longer verify, skew included.
  return afterSpend(await s.store.spend(c.json.id, c.json.expiresAt + s.skewMs), c);
}

/** Hashes every proof of every item in one backend call; true per item when all its proofs hold. */
function batchProofs(items: readonly { c: ParsedChallenge; nonces: readonly bigint[] }[], backend: Sha256Backend): boolean[] {
  const total = items.reduce((n, item) => n + item.nonces.length, 0);
  const data = Buffer.alloc(total * WORK_MESSAGE_BYTES);
  let at = 0;
  for (const { c, nonces } of items) {
    nonces.forEach((nonce, j) => workMessage(c.signature, j, nonce).copy(data, WORK_MESSAGE_BYTES * at++));
  }
  const digests = total > 0 ? backend.hashUniform(data, WORK_MESSAGE_BYTES) : new Uint8Array(0);
  at = 0;
  return items.map(({ c, nonces }) => nonces.map(() => meetsThreshold(digests, 32 * at++, c.threshold)).every(Boolean));
}

/** One item of a batch: a challenge and a solution, both untrusted. */
export interface VerifyPair {
  challenge: unknown;
  solution: unknown;
}

/**
 * Verifies many pairs: proofs hashed in one backend batch, spends in one store
 * operation. Each pair gets its own verdict, in order; one bad item spoils nothing.
 */
export async function verifySolutions(pairs: readonly VerifyPair[], options: VerifyOptions): Promise<Verdict[]> {
  checkArray(pairs, 'pairs');
  const s = settings(options);
  const verdicts: Verdict[] = new Array(pairs.length);
  const pending: { index: number; c: ParsedChallenge; nonces: bigint[] }[] = [];
  pairs.forEach((pair, index) => {
    let checked;
    try {
      checked = precheck(pair?.challenge, pair?.solution, s);
    } catch {
      checked = { refusal: 'malformed' as const };
    }
    if ('refusal' in checked) verdicts[index] = { ok: false, reason: checked.refusal };
    else pending.push({ index, c: checked.c, nonces: checked.sol.nonces });
  });
  if (pending.length > 0) {
    const holds = batchProofs(pending, options.backend ?? (await getBackend()));
    const spendable = pending.filter((item, i) => {
      if (!holds[i]) verdicts[item.index] = { ok: false, reason: 'bad_solution' };
      return holds[i];
    });
    const spent = await s.store.spendMany(spendable.map(({ c }) => ({ id: c.json.id, expiresAt: c.json.expiresAt + s.skewMs })));
    spendable.forEach((item, i) => (verdicts[item.index] = afterSpend(spent[i]!, item.c)));
  }
  return verdicts;
}
