import { PowgateError } from '../errors.js';
import { checkInteger, checkOptions, describe, invalid } from '../validate.js';
import { NONE, SpentIds } from './spent-ids.js';
import { SpendRecords } from './records.js';
import {
  CALL_REFUSED,
  MAX_ID_LENGTH,
  type CallSpendResult,
  type RecordedSpend,
  type ReplayStore,
  type SpendEntry,
  type SpendResult,
  checkCallSpend,
  checkSpend,
  checkSpendEntries,
  isTime,
} from './types.js';

/** Options of {@link MemoryReplayStore}. */
export interface MemoryReplayStoreOptions {
  /**
   * Most ids held at once, from 1 to 10,000,000 (well under V8's Map limit of 2^24). When full
   * of live ids, the oldest is forgotten and everything expiring no later is refused from then
   * on (see {@link MemoryReplayStore}): size it above the redemptions the server can take in a
   * challenge lifetime. Default 100,000.
   */
  maxEntries?: number;
  /** Most tokens whose calls are counted at once, from 1 to 10,000,000; full, it forgets the oldest as ids do. Default 100,000. */
  maxTokens?: number;
  /** The clock, in ms since the epoch. Default `Date.now`. */
  now?: () => number;
  /**
   * When the store's memory began, in ms since the epoch: challenges issued before it are
   * refused (a store made by a restarted process has forgotten their spends). Default: the
   * clock's time at construction. An earlier time is for a store given the spends it must know.
   */
  since?: number;
}

// MemoryReplayStore's synchronous spends for verifySolutions (symbols: internal, not exported from the package).
/** `(count)`: reads the clock once, drops the expired head and makes room for `count` spends; returns now. */
export const beginSpends = Symbol('powgate.beginSpends');
/** `(id, until, now)`: spends an id given as text, at the time beginSpends returned. */
export const spendText = Symbol('powgate.spendText');
/** `(bytes, at, until, now)`: spends the challenge id whose 16 decoded bytes are bytes[at, at + 16): the same id as its text. */
export const spendBytes = Symbol('powgate.spendBytes');

/**
 * An in-process replay store: the default, for a single server. Each call is
 * atomic because it runs to completion on the event loop. Bounded: when full it
 * first drops expired ids; if none are, it forgets the oldest live one and raises a
 * floor: from then on an id it does not hold that expires at or before the floor is
 * answered 'store_full' (it may have been spent), never 'spent'. So a flood of spends
 * cannot reopen replay, nor lock out a client with a newer challenge: to refuse one,
 * an attacker must redeem `maxEntries` newer challenges between its issue and its
 * redemption. Token call counts ({@link spendCall}) are bounded the same way. This holds
 * when an id always comes with the same expiry (a challenge's is signed into its id) or an
 * earlier one.
 */
export class MemoryReplayStore implements ReplayStore {
  readonly #maxEntries: number;
  readonly #now: () => number;
  /** id → expiresAt in insertion order, which is about expiry order since TTLs are similar. */
  readonly #spent = new SpentIds();
  /** No held id expires before this, so a full sweep before then would free nothing. */
  #noExpiryBefore = -Infinity;
  /** The first held id's expiry: before then, there is no head to drop. */
  #headExpiresAt = Infinity;
  readonly #maxTokens: number;
  /** Calls used per token id, in insertion order, which is about expiry order since token lifetimes are similar. */
  readonly #calls = new Map<string, { used: number; until: number }>();
  /** Ids and counts expiring at or before these were (or may have been) forgotten live: refused when not held. */
  readonly #floor = new Floors();
  /** When this store began (its clock): it knows no spend from before, e.g. of the process it replaced. */
  readonly since: number;
  /** Records kept by spendRecorded, as many as ids at most. */
  readonly #records: SpendRecords;

  constructor(options: MemoryReplayStoreOptions = {}) {
    const { maxEntries = 100_000, maxTokens = 100_000, now = Date.now, since } = checkOptions(options, 'options');
    this.#maxEntries = checkInteger(maxEntries, 'maxEntries', 1, 10_000_000);
    this.#maxTokens = checkInteger(maxTokens, 'maxTokens', 1, 10_000_000);
    if (typeof now !== 'function') throw invalid('a function', 'now', now);
    this.#now = now as () => number;
    this.#records = new SpendRecords(this.#maxEntries);
    if (since !== undefined && !isTime(since)) throw invalid('a number of ms since the epoch', 'since', since);
    // Read raw: a broken clock is reported by the first spend, as before.
    this.since = since ?? (this.#now() as number);
  }

  /** The time the store was made: challenges issued before it are refused (a restarted process forgot their spends). */
  async epoch(): Promise<number> {
    return this.since;
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
    return this[spendText](id, expiresAt, now);
  }

  async spendRecorded(id: string, expiresAt: number, record: string): Promise<RecordedSpend> {
    if (typeof record !== 'string' || record.length > MAX_ID_LENGTH) throw invalid(`a string of at most ${MAX_ID_LENGTH} characters`, 'record', record);
    const result = this.spendNow(id, expiresAt);
    const now = this.#clock();
    if (result === 'spent') this.#records.keep(id, record, expiresAt, now);
    if (result !== 'replayed') return { result };
    const held = this.#records.find(id, now);
    return held === undefined ? { result } : { result, record: held };
  }

  async spendMany(entries: readonly SpendEntry[]): Promise<SpendResult[]> {
    const valid = checkSpendEntries(entries);
    const now = this.#clock();
    this.#dropExpiredHead(now);
    const results: SpendResult[] = new Array(valid.length);
    for (let i = 0; i < valid.length; i++) results[i] = this[spendText](valid[i]!.id, valid[i]!.expiresAt, now);
    return results;
  }

  [beginSpends](count: number): number {
    const now = this.#clock();
    this.#dropExpiredHead(now);
    this.#spent.reserve(Math.min(count, this.#maxEntries - this.#spent.size));
    return now;
  }

  /** Callers have checked `id` and `until` (see checkSpend). */
  [spendText](id: string, until: number, now: number): SpendResult {
    const verdict = this.#admit(this.#spent.findText(id), until, now);
    if (verdict === undefined) this.#spent.addText(id, until);
    return verdict ?? 'spent';
  }

  /** Callers have checked `until` (see checkSpend). */
  [spendBytes](bytes: Uint8Array, at: number, until: number, now: number): SpendResult {
    const verdict = this.#admit(this.#spent.findBytes(bytes, at), until, now);
    if (verdict === undefined) this.#spent.addBytes(bytes, at, until);
    return verdict ?? 'spent';
  }

  async spendCall(id: string, calls: number, expiresAt: number): Promise<CallSpendResult> {
    return this.spendCallNow(id, calls, expiresAt);
  }

  /** The same as {@link spendCall}, synchronously. */
  spendCallNow(id: string, calls: number, expiresAt: number): CallSpendResult {
    checkCallSpend(id, calls, expiresAt);
    const now = this.#clock();
    const counts = this.#calls;
    let held = counts.get(id);
    if (held !== undefined && held.until <= now) {
      counts.delete(id);
      held = undefined;
    }
    if (held === undefined) {
      if (expiresAt <= now) return CALL_REFUSED.token_exhausted; // past its lifetime: no call left
      // Its count may have been forgotten: its calls may all be used.
      if (expiresAt <= this.#floor.calls) return CALL_REFUSED.store_full;
      if (counts.size >= this.#maxTokens && !this.#dropExpiredCalls(now) && !this.#forgetOldestCall(expiresAt)) return CALL_REFUSED.store_full;
      held = { used: 0, until: expiresAt };
      counts.set(id, held);
    }
    held.until = Math.max(held.until, expiresAt); // another verifier's longer window extends it
    if (held.used >= calls) return CALL_REFUSED.token_exhausted;
    held.used += 1;
    return { ok: true, used: held.used };
  }

  /** Drops expired token counts from the oldest on; true if that made room. */
  #dropExpiredCalls(now: number): boolean {
    for (const [id, held] of this.#calls) {
      if (held.until > now) break;
      this.#calls.delete(id);
    }
    return this.#calls.size < this.#maxTokens;
  }

  /** Forgets the oldest live count if it expires before `expiresAt` (else the newcomer is not newer); true if it did. */
  #forgetOldestCall(expiresAt: number): boolean {
    const [id, held] = this.#calls.entries().next().value!;
    if (held.until >= expiresAt) return false;
    this.#calls.delete(id);
    this.#floor.calls = Math.max(this.#floor.calls, held.until);
    return true;
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

  /** The verdict on spending an id held at entry `held` (or NONE) until `expiresAt`; undefined: add it now, at the end. */
  #admit(held: number, expiresAt: number, now: number): SpendResult | undefined {
    const spent = this.#spent;
    if (held !== NONE && spent.expiresAt(held) > now) return 'replayed';
    if (expiresAt <= now) return 'spent'; // Already expired: nothing to protect.
    if (expiresAt <= this.#floor.ids) return 'store_full'; // It may have been spent and forgotten.
    if (held !== NONE)
      spent.delete(held); // Added again, at the end, to keep the order.
    else if (spent.size >= this.#maxEntries && !this.#sweep(now) && !this.#forgetOldest(expiresAt)) return 'store_full';
    if (spent.size === 0) this.#headExpiresAt = expiresAt;
    this.#noExpiryBefore = Math.min(this.#noExpiryBefore, expiresAt);
    return undefined;
  }

  /** Forgets the oldest live id if it expires before `expiresAt` (else the newcomer is not newer); true if it did. */
  #forgetOldest(expiresAt: number): boolean {
    const spent = this.#spent;
    const oldest = spent.first();
    const until = spent.expiresAt(oldest);
    if (until >= expiresAt) return false;
    spent.delete(oldest);
    this.#floor.ids = Math.max(this.#floor.ids, until);
    this.#headExpiresAt = -Infinity; // the head changed: look again next time
    return true;
  }

  /** Amortised O(1): each id is dropped once, and the loop stops at the first live one. */
  #dropExpiredHead(now: number): void {
    if (now < this.#headExpiresAt) return;
    const spent = this.#spent;
    for (let entry = spent.first(); entry !== NONE; ) {
      const expiresAt = spent.expiresAt(entry);
      if (expiresAt > now) {
        this.#headExpiresAt = expiresAt;
        return;
      }
      const next = spent.next(entry);
      spent.delete(entry);
      entry = next;
    }
    this.#headExpiresAt = Infinity;
  }

  /** Drops every expired id (O(n), only when full and something may have expired); true if that made room. */
  #sweep(now: number): boolean {
    if (now < this.#noExpiryBefore) return false;
    const spent = this.#spent;
    let earliest = Infinity;
    for (let entry = spent.first(); entry !== NONE; ) {
      const expiresAt = spent.expiresAt(entry);
      const next = spent.next(entry);
      if (expiresAt <= now) spent.delete(entry);
      else earliest = Math.min(earliest, expiresAt);
      entry = next;
    }
    this.#noExpiryBefore = earliest;
    this.#headExpiresAt = -Infinity; // the head may have changed: look again next time
    return spent.size < this.#maxEntries;
  }
}

/** The floors of a {@link MemoryReplayStore}: the latest expiry it forgot while still live. */
class Floors {
  ids = -Infinity;
  calls = -Infinity;
}
