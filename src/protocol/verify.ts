import { getBackend, readyBackend } from '../backend/loader.js';
import type { Sha256Backend } from '../backend/types.js';
import { PowgateError } from '../errors.js';
import { checkArray, checkInteger, describe, invalid } from '../validate.js';
import { checkDifficultyBounds } from './difficulty.js';
import { KeyRing, type KeyOptions } from './keys.js';
import { BatchReader } from './batch-reader.js';
import { PairReader, type Accepted, type ReadPair } from './pair-reader.js';
import { lifetimeRefusal, type Refusal } from './refusal.js';
import { MemoryReplayStore, beginSpends, spendBytes } from '../storage/memory.js';
import { checkSpend, isTime, type ReplayStore } from '../storage/types.js';
import { isScope, isTimestamp } from './shape.js';
import { REFUSED, afterSpend, epochOf, isDirect, spendDirect, spendThrough, spendUntil, type DecodedIds, type Verdict } from './verify-spend.js';

export type { Verdict } from './verify-spend.js';

/** Options of {@link verifySolution} and {@link verifySolutions}. */
export interface VerifyOptions extends KeyOptions {
  /** Where spent challenges are recorded. Default: one MemoryReplayStore shared by the process, whose memory began with it. */
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
  /** Which backend checks MACs and proofs. Default: the serving backend (see backendInfo()). */
  backend?: Sha256Backend;
}

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
  // Made on first use, but its memory began with the process: no spend of this process predates it.
  const store = options.store ?? (defaultStore ??= new MemoryReplayStore({ since: Math.floor(performance.timeOrigin) }));
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

/** The given backend (checked), or the serving one once loaded: no await on the hot path. */
function givenBackend(options: VerifyOptions): Sha256Backend | undefined {
  const { backend } = options;
  if (backend === undefined) return readyBackend();
  if (typeof backend?.checkMacs !== 'function' || typeof backend.checkProofs !== 'function') {
    throw invalid('a Sha256Backend', 'backend', backend);
  }
  return backend;
}

/** Steps 4 to 6 of docs/PROTOCOL.md "Verification", for a pair whose MAC holds. */
function signedRefusal(p: Accepted, s: Settings): Refusal | undefined {
  if (s.scope !== undefined && p.scope !== s.scope) return 'scope_mismatch';
  if (p.difficulty < s.min || p.difficulty > s.max) return 'difficulty_out_of_range';
  return lifetimeRefusal(p.issuedAt, p.expiresAt, s.now, s.skewMs);
}

function proofsHold(count: number, verdicts: Uint8Array, first: number): boolean {
  let all = 1;
  for (let j = 0; j < count; j++) all &= verdicts[first + j]!;
  return all === 1;
}

function acceptedOf(p: ReadPair): Accepted {
  const { id, kid, scope, difficulty, subPuzzles, calls, price, issuedAt, expiresAt } = p;
  return { ok: true, id, kid, scope, difficulty, subPuzzles, calls, price, issuedAt, expiresAt };
}

// Scratch for one pair's checks (filled and read with no await in between), and views of it by length.
const oneIndex = new Uint8Array(1);
const oneVerdict = new Uint8Array(1);
const oneProofs = new Uint8Array(64);
const views = new WeakMap<Uint8Array, Uint8Array[]>();

function head(array: Uint8Array, length: number): Uint8Array {
  let cached = views.get(array);
  if (!cached) views.set(array, (cached = []));
  return (cached[length] ??= array.subarray(0, length));
}

/** Every check but the spend, on one pair, through the per-pair reader: a refusal, or the pair to spend. */
function checkOne(reader: PairReader, challenge: unknown, solution: unknown, s: Settings, backend: Sha256Backend): Refusal | Accepted {
  const p = reader.read(s.ring, challenge, solution);
  if (typeof p === 'string') return p;
  oneIndex[0] = p.keyIndex;
  backend.checkMacs(s.ring.challengeKeys, oneIndex, head(reader.input, p.macLength), p.macLength, reader.tag, oneVerdict);
  if (oneVerdict[0] !== 1) return 'bad_signature';
  const accepted = acceptedOf(p);
  const late = signedRefusal(accepted, s) ?? (p.firstProof < 0 ? 'bad_solution' : undefined);
  if (late) return late;
  const n = p.subPuzzles;
  backend.checkProofs(head(reader.prefixes, 40 * n), head(reader.nonces, 8 * n), head(reader.thresholds, 8 * n), head(oneProofs, n));
  return proofsHold(n, oneProofs, 0) ? accepted : 'bad_solution';
}

const oneReader = new PairReader();

/**
 * Verifies one solution and spends its challenge: one MAC and a few proofs, checked
 * by the serving backend without batching. Untrusted input never throws: it yields
 * `{ ok: false, reason }`. Bad options throw `PowgateError`.
 */
export async function verifySolution(challenge: unknown, solution: unknown, options: VerifyOptions): Promise<Verdict> {
  const s = settings(options);
  const backend = givenBackend(options) ?? (await getBackend());
  const checked = checkOne(oneReader, challenge, solution, s, backend);
  if (typeof checked === 'string') return REFUSED[checked];
  const { store } = s;
  const since = isDirect(store) ? store.since : await epochOf(store);
  if (since === undefined) return REFUSED.store_unavailable;
  if (checked.issuedAt < since) return REFUSED.predates_store;
  const until = spendUntil(checked, s.skewMs);
  if (!isDirect(store)) return afterSpend(await store.spend(checked.id, until), checked);
  // The reader has the id's bytes: spent by them, it is not decoded a second time.
  if (!isTime(until)) checkSpend(checked.id, until);
  return afterSpend(store[spendBytes](oneReader.input, oneReader.idAt, until, store[beginSpends](1)), checked);
}

/** One item of a batch: a challenge and a solution, both untrusted. */
export interface VerifyPair {
  challenge: unknown;
  solution: unknown;
}

/**
 * Verifies many pairs: shapes and expiry in TypeScript, then every challenge MAC
 * (one backend call per MAC-input length: usually one) and every proof (one call)
 * in SIMD batches, then the spends (memory: in process, synchronously; other stores: one
 * spendMany, which for Redis is one pipelined round trip). Each pair gets its own verdict,
 * in order, equal to what verifySolution gives it; one bad item spoils nothing.
 */
export async function verifySolutions(pairs: readonly VerifyPair[], options: VerifyOptions): Promise<Verdict[]> {
  checkArray(pairs, 'pairs');
  const s = settings(options);
  const backend = givenBackend(options) ?? (await getBackend());
  const n = pairs.length;
  // A pair that passes every check but the spend holds its Accepted verdict until the spend.
  const verdicts: Verdict[] = new Array(n);
  const fast = typeof backend.packChallenges === 'function' ? new BatchReader(s.ring, backend.packChallenges, n) : undefined;
  const slow: number[] = [];
  for (let i = 0; i < n; i++) {
    let taken = false;
    try {
      const pair = pairs[i];
      taken = fast !== undefined && fast.take(pair?.challenge, pair?.solution, i);
    } catch {
      // a hostile pair object: the per-pair reader gives the verdict
    }
    if (!taken) slow.push(i);
  }
  const idBytes = fast ? checkFast(fast, s, backend, verdicts, slow) : undefined;

  for (const i of slow) {
    let checked: Refusal | Accepted;
    try {
      const pair = pairs[i];
      checked = checkOne(oneReader, pair?.challenge, pair?.solution, s, backend);
    } catch {
      checked = 'malformed';
    }
    verdicts[i] = typeof checked === 'string' ? REFUSED[checked] : checked;
  }

  const { store } = s;
  if (verdicts.some((v) => v.ok)) {
    const since = isDirect(store) ? store.since : await epochOf(store);
    for (let i = 0; i < n; i++) {
      const v = verdicts[i]!;
      if (v.ok && (since === undefined || v.issuedAt < since)) verdicts[i] = since === undefined ? REFUSED.store_unavailable : REFUSED.predates_store;
    }
  }
  if (isDirect(store)) spendDirect(store, verdicts, idBytes, s.skewMs);
  else await spendThrough(store, verdicts, s.skewMs);
  return verdicts;
}

/**
 * The fast path's checks: MACs per length group, then proofs, all in batches. Items it
 * cannot vouch for join `slow`; a pair that passes gets its Accepted verdict, to be spent.
 */
function checkFast(fast: BatchReader, s: Settings, backend: Sha256Backend, verdicts: Verdict[], slow: number[]): DecodedIds | undefined {
  const packed = fast.finish();
  if (!packed) {
    for (let k = 0; k < fast.count; k++) slow.push(fast.index(k));
    return undefined;
  }
  const macHeld = new Uint8Array(fast.count);
  for (const group of packed.macGroups) {
    const held = backend.checkMacs(s.ring.challengeKeys, group.keyIndexes, group.data, group.length, group.tags);
    for (let rank = 0; rank < group.items.length; rank++) macHeld[group.items[rank]!] = held[rank]!;
  }
  const proofHeld = backend.checkProofs(packed.prefixes, packed.nonces, packed.thresholds);
  for (const k of packed.rejected) macHeld[k] = 2; // not judged here
  const at = new Int32Array(verdicts.length).fill(-1);
  for (let k = 0; k < fast.count; k++) {
    const index = fast.index(k);
    if (macHeld[k] === 2) {
      slow.push(index);
      continue;
    }
    if (macHeld[k] !== 1) {
      verdicts[index] = REFUSED.bad_signature;
      continue;
    }
    const accepted = fast.accepted(k);
    const refusal = signedRefusal(accepted, s) ?? (proofsHold(accepted.subPuzzles, proofHeld, fast.firstProof(k)) ? undefined : 'bad_solution');
    if (refusal) {
      verdicts[index] = REFUSED[refusal];
    } else {
      verdicts[index] = accepted;
      at[index] = 16 * k;
    }
  }
  return { bytes: packed.ids, at };
}
