import { checkInteger, checkOptions, invalid } from '../validate.js';
import { MAX_CALLS } from '../wire.js';

/**
 * Counts each client's recent requests, for adaptive difficulty. Shared by all
 * servers when it lives in Redis, so that spreading requests over instances
 * does not lower the price.
 */
export interface RateCounter {
  /**
   * Counts `weight` requests of `key` (default 1; 0 only reads) and returns its requests
   * in the last `windowMs` (these included), or undefined when the counter cannot answer
   * (Redis down). Never throws for an outage.
   */
  hit(key: string, windowMs: number, weight?: number): Promise<number | undefined>;
  /** Releases connections; a no-op in memory. */
  close(): Promise<void>;
}

/** Options of {@link MemoryRateCounter}. */
export interface MemoryRateCounterOptions {
  /** Most clients tracked at once; beyond that the least recently seen is forgotten. Default 100,000. */
  maxKeys?: number;
  /** The clock, in ms since the epoch. Default `Date.now`. */
  now?: () => number;
}

interface Window {
  /** Start of the current fixed window. */
  start: number;
  current: number;
  previous: number;
}

/**
 * An in-process counter: two fixed windows per client, the previous one weighted by
 * how much of it still overlaps the sliding window (the usual sliding-window
 * approximation: O(1) memory per client, within one window's count of exact).
 */
export class MemoryRateCounter implements RateCounter {
  readonly #maxKeys: number;
  readonly #now: () => number;
  /** In least-recently-seen order: a hit moves its key to the end. */
  readonly #windows = new Map<string, Window>();

  constructor(options: MemoryRateCounterOptions = {}) {
    const { maxKeys = 100_000, now = Date.now } = checkOptions(options, 'options');
    this.#maxKeys = checkInteger(maxKeys, 'maxKeys', 1, 10_000_000);
    if (typeof now !== 'function') throw invalid('a function', 'now', now);
    this.#now = now as () => number;
  }

  async hit(key: string, windowMs: number, weight = 1): Promise<number> {
    return this.hitNow(key, windowMs, weight);
  }

  /** The same as {@link hit}, synchronously. */
  hitNow(key: string, windowMs: number, weight = 1): number {
    if (typeof key !== 'string') throw invalid('a string', 'key', key);
    checkInteger(windowMs, 'windowMs', 1, 86_400_000);
    checkInteger(weight, 'weight', 0, MAX_CALLS); // a challenge for all the calls a token may buy
    const now = this.#now();
    const start = now - (now % windowMs);
    let w = this.#windows.get(key);
    if (w) this.#windows.delete(key);
    else if (this.#windows.size >= this.#maxKeys) this.#windows.delete(this.#windows.keys().next().value!);
    if (!w || start - w.start >= 2 * windowMs) w = { start, current: 0, previous: 0 };
    else if (start > w.start) w = { start, current: 0, previous: w.current };
    w.current += weight;
    this.#windows.set(key, w);
    const overlap = 1 - (now - start) / windowMs;
    return w.current + w.previous * overlap;
  }

  async close(): Promise<void> {}
}
