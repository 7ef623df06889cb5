import { checkArray, invalid } from '../validate.js';

/** What a spend attempt came to. 'spent': first time, accepted. 'replayed': already spent and not yet expired.
 *  'store_full': the memory store is full of unexpired entries and refuses rather than evicting live ones (which would reopen replay).
 *  'store_unavailable': the store could not answer (Redis down or too slow); callers fail closed. */
export type SpendResult = 'spent' | 'replayed' | 'store_full' | 'store_unavailable';

/**
 * One id to spend and how long to keep it. An `expiresAt` that is already past
 * protects nothing: the spend reports 'spent' and keeps nothing, so callers
 * check expiry (with their clock-skew allowance) before spending.
 */
export interface SpendEntry {
  /** A non-empty string of at most 256 characters, e.g. a challenge's MAC in base64url. */
  id: string;
  /** When the id may be spent again, in ms since the epoch (a finite number within the range of `Date`). */
  expiresAt: number;
}

/** What spending one call of a token came to: the calls used so far, this one included, or why it may not pass. */
export type CallSpendResult = { ok: true; used: number } | { ok: false; reason: 'token_exhausted' | 'store_full' | 'store_unavailable' };

/**
 * Where solutions are spent, so that each is accepted at most once, and where tokens'
 * calls are counted, so that none passes more calls than it bought.
 */
export interface ReplayStore {
  /** Atomically records `id` as spent until `expiresAt`. Never throws for an outage: resolves 'store_unavailable'. */
  spend(id: string, expiresAt: number): Promise<SpendResult>;
  /** The same for many ids in one operation (memory: in process; Redis: one pipelined round trip). Results in input order; duplicates within one call: only the first is 'spent'. */
  spendMany(entries: readonly SpendEntry[]): Promise<SpendResult[]>;
  /**
   * Atomically spends one of the `calls` calls of the token `id`, counted until `expiresAt`
   * (then forgotten): `{ ok: true, used }` for calls 1 to `calls`, then `token_exhausted`
   * (also for an `expiresAt` already past: callers check expiry, with their skew, first). A
   * later `expiresAt` for the same id extends the count's life; an earlier one never shortens it.
   * Never throws for an outage: resolves `store_unavailable`.
   */
  spendCall(id: string, calls: number, expiresAt: number): Promise<CallSpendResult>;
  /**
   * Optional: {@link spend}, keeping `record` (at most 256 characters) with the id; on
   * 'replayed', also resolves the record the first spend kept, if any. Redemption keeps what
   * it issued there, so that the client who did the work gets its token again on a retry.
   */
  spendRecorded?(id: string, expiresAt: number, record: string): Promise<RecordedSpend>;
  /**
   * Optional: when this store's memory began, in ms since the epoch. A store restarted empty
   * has forgotten the spends made before then, so verifiers refuse challenges issued before it
   * (as `expired`: ask for a new one) rather than accept their replays. Resolves undefined when
   * the store cannot tell (an outage): verifiers then fail closed (`store_unavailable`).
   */
  epoch?(): Promise<number | undefined>;
  /** Releases connections (Redis); a no-op for memory. */
  close(): Promise<void>;
}

/** What {@link ReplayStore.spendRecorded} came to: the spend's result, and on 'replayed' the first spend's record. */
export interface RecordedSpend {
  result: SpendResult;
  /** The record kept by the spend that came first (only with 'replayed'; absent when none was kept). */
  record?: string;
}

// Argument checks shared by the stores (internal; not exported from the package).

/** Longest id a store accepts. */
export const MAX_ID_LENGTH = 256;
/** Largest |ms since the epoch| a `Date` can hold. */
const MAX_TIME = 8.64e15;

/** Checks one id and expiry; `where` prefixes the names in messages (e.g. `entries[3].`). */
export function checkSpend(id: unknown, expiresAt: unknown, where = ''): SpendEntry {
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH) {
    throw invalid(`a non-empty string of at most ${MAX_ID_LENGTH} characters`, `${where}id`, id);
  }
  if (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt) || Math.abs(expiresAt) > MAX_TIME) {
    throw invalid(`a finite number of ms since the epoch from -${MAX_TIME} to ${MAX_TIME}`, `${where}expiresAt`, expiresAt);
  }
  return { id, expiresAt };
}

/** Checks a call spend's arguments (see checkSpend); `calls` from 1 to 2^32 - 1. */
export function checkCallSpend(id: unknown, calls: unknown, expiresAt: unknown): void {
  checkSpend(id, expiresAt);
  if (typeof calls !== 'number' || !Number.isInteger(calls) || calls < 1 || calls > 0xffffffff) {
    throw invalid('an integer from 1 to 4294967295', 'calls', calls);
  }
}

/** Results shared by the stores: refusals carry no per-call data. */
export const CALL_REFUSED = Object.freeze({
  token_exhausted: Object.freeze({ ok: false as const, reason: 'token_exhausted' as const }),
  store_full: Object.freeze({ ok: false as const, reason: 'store_full' as const }),
  store_unavailable: Object.freeze({ ok: false as const, reason: 'store_unavailable' as const }),
});

/** A finite number of ms within the range of `Date`. */
export function isTime(value: unknown): value is number {
  return typeof value === 'number' && Math.abs(value) <= MAX_TIME;
}

/** Checks every entry before any is spent, so a bad batch spends nothing. */
export function checkSpendEntries(entries: unknown): readonly SpendEntry[] {
  const list = checkArray(entries, 'entries');
  for (let i = 0; i < list.length; i++) {
    const entry = list[i];
    if (typeof entry !== 'object' || entry === null) throw invalid('an object', `entries[${i}]`, entry);
    const { id, expiresAt } = entry as Record<string, unknown>;
    // Messages are only built on failure: this runs for every spend of a batch.
    if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH || !isTime(expiresAt)) {
      checkSpend(id, expiresAt, `entries[${i}].`);
    }
  }
  return list as readonly SpendEntry[];
}
