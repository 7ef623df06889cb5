import { PowgateError } from '../../errors.js';
import { checkInteger, describe, invalid } from '../../validate.js';
import { MAX_ID_LENGTH, type ReplayStore, type SpendEntry, type SpendResult, checkOptions, checkSpend, checkSpendEntries, isTime } from './types.js';

/** Options of {@link MemoryReplayStore}. */
export interface MemoryReplayStoreOptions {
  /** Most ids held at once, from 1 to 10,000,000 (well under V8's Map limit of 2^24). Default 100,000. */
  maxEntries?: number;
  /** The clock, in ms since the epoch. Default `Date.now`. */
  now?: () => number;
}

/** The key of MemoryReplayStore's synchronous batch spend, for verifySolutions. */
export const spendEach = Symbol('powgate.spendEach');

/**
 * An in-process replay store: the default, for a single server. Each call is
 * atomic because it runs to completion on the event loop. Bounded: when full it
 * first drops expired ids, and if none are expired it answers 'store_full' for
 * new ids rather than evict a live one (which would reopen replay).
 */
export class MemoryReplayStore implements ReplayStore {
  readonly #maxEntries: number;
  readonly #now: () => number;
  /** id → expiresAt in insertion order, which is about expiry order since TTLs are similar. */
  readonly #spent = new Map<string, number>();
  /** No held id expires before this, so a full sweep before then would free nothing. */
  #noExpiryBefore = -Infinity;
  /** The first held id's expiry: before then, there is no head to drop. */
  #headExpiresAt = Infinity;

  constructor(options: MemoryReplayStoreOptions = {}) {
    const { maxEntries = 100_000, now = Date.now } = checkOptions(options, 'options');
    this.#maxEntries = checkInteger(maxEntries, 'maxEntries', 1, 10_000_000);
    if (typeof now !== 'function') throw invalid('a function', 'now', now);
    this.#now = now as () => number;
  }

  /** How many ids are held, including expired ones not yet dropped. */
  get size(): number {
    return this.#spent.size;
  }

  async spend(id: string, expiresAt: number): Promise<SpendResult> {
    return this.spendNow(id, expiresAt);
  }

  /** The same as {@link spend}, synchronously: an in-process store needs no I/O. */
  spendNow(id: string, expiresAt: number): SpendResult {
    if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH || !isTime(expiresAt)) checkSpend(id, expiresAt);
    const now = this.#clock();
    this.#dropExpiredHead(now);
    return this.#spend(id, expiresAt, now);
  }

  /**
   * spendMany for verifySolutions, synchronously and without entry objects: ids[i]
   * until until[i], with one reading of the clock. Internal (a symbol, not exported).
   */
  [spendEach](ids: readonly string[], until: readonly number[]): SpendResult[] {
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH || !isTime(until[i])) checkSpend(id, until[i], `ids[${i}] / until[${i}]: `);
    }
    const now = this.#clock();
    this.#dropExpiredHead(now);
    const results: SpendResult[] = new Array(ids.length);
    for (let i = 0; i < ids.length; i++) results[i] = this.#spend(ids[i]!, until[i]!, now);
    return results;
  }

  async spendMany(entries: readonly SpendEntry[]): Promise<SpendResult[]> {
    const valid = checkSpendEntries(entries);
    const now = this.#clock();
    this.#dropExpiredHead(now);
    const results: SpendResult[] = new Array(valid.length);
    for (let i = 0; i < valid.length; i++) results[i] = this.#spend(valid[i]!.id, valid[i]!.expiresAt, now);
    return results;
  }

  async close(): Promise<void> {}

  #clock(): number {
    const now = this.#now();
    // A NaN clock would make every comparison false, and so every id spendable again.
    if (typeof now !== 'number' || !Number.isFinite(now)) {
      throw new PowgateError('ERR_INVALID_ARGUMENT', `expected now() to return a finite number but it returned ${describe(now)}`);
    }
    return now;
  }

  #spend(id: string, expiresAt: number, now: number): SpendResult {
    const held = this.#spent.get(id);
    if (held !== undefined && held > now) return 'replayed';
    if (expiresAt <= now) return 'spent'; // Already expired: nothing to protect.
    if (held !== undefined) this.#spent.delete(id); // Re-inserted below, at the tail, to keep the order.
    else if (this.#spent.size >= this.#maxEntries && !this.#sweep(now)) return 'store_full';
    if (this.#spent.size === 0) this.#headExpiresAt = expiresAt;
    this.#spent.set(id, expiresAt);
    this.#noExpiryBefore = Math.min(this.#noExpiryBefore, expiresAt);
    return 'spent';
  }

  /** Amortised O(1): each id is dropped once, and the loop stops at the first live one. */
  #dropExpiredHead(now: number): void {
    if (now < this.#headExpiresAt) return;
    for (const [id, expiresAt] of this.#spent) {
      if (expiresAt > now) {
        this.#headExpiresAt = expiresAt;
        return;
      }
      this.#spent.delete(id);
    }
    this.#headExpiresAt = Infinity;
  }

  /** Drops every expired id (O(n), only when full and something may have expired); true if that made room. */
  #sweep(now: number): boolean {
    if (now < this.#noExpiryBefore) return false;
    let earliest = Infinity;
    for (const [id, expiresAt] of this.#spent) {
      if (expiresAt <= now) this.#spent.delete(id);
      else earliest = Math.min(earliest, expiresAt);
    }
    this.#noExpiryBefore = earliest;
    this.#headExpiresAt = -Infinity; // the head may have changed: look again next time
    return this.#spent.size < this.#maxEntries;
  }
}
