import { PowgateError } from '../errors.js';
import { RedisConnection, type RedisConnectionOptions } from './redis-connection.js';
import { checkInteger, checkOptions, invalid } from '../validate.js';
import type { RateCounter } from './rate-counter.js';
import { MAX_CALLS } from '../wire.js';

/** Options of {@link RedisRateCounter}: exactly one of `url`, `cluster`, `sentinels` and `client`. */
export interface RedisRateCounterOptions extends RedisConnectionOptions {
  /** Prefix of every key. Default `'powgate:rate:'`. */
  keyPrefix?: string;
  /** The clock, in ms since the epoch. Default `Date.now`. */
  now?: () => number;
}

/** Longest client key counted as is; longer ones are cut (keys are addresses or scopes: short). */
const MAX_KEY_CHARS = 512;

/**
 * A rate counter shared by many servers, so that spreading requests over
 * instances does not lower a client's price. The same two-window approximation
 * as {@link MemoryRateCounter}: one Redis key per client and fixed window
 * (`prefix + '{k:' + key + '}:' + windowStart`: a client's windows share a hash slot, so the
 * transaction works on a Redis Cluster, and clients spread over its slots), incremented in a MULTI transaction that
 * also reads the previous window's count and sets the current key to expire
 * after two windows: one round trip, atomic, nothing left behind.
 *
 * Like RedisReplayStore it fails fast: a Redis that is down or slow yields
 * `undefined` within about `timeoutMs` (never a throw for an outage), and the
 * counter recovers by itself when Redis is back. Windows start at multiples of
 * `windowMs` on this process's clock: servers sharing a counter should keep
 * their clocks in sync (NTP) so that they count into the same keys.
 */
export class RedisRateCounter implements RateCounter {
  readonly #redis: RedisConnection;
  readonly #prefix: string;
  readonly #now: () => number;

  constructor(options: RedisRateCounterOptions) {
    const checked = checkOptions(options, 'options');
    const { keyPrefix = 'powgate:rate:', now = Date.now } = checked;
    this.#redis = new RedisConnection(checked, 'RedisRateCounter');
    if (typeof keyPrefix !== 'string') throw invalid('a string', 'keyPrefix', keyPrefix);
    if (typeof now !== 'function') throw invalid('a function', 'now', now);
    this.#prefix = keyPrefix;
    this.#now = now as () => number;
  }

  /** Resolves when Redis answers PING within `timeoutMs`; rejects with the reason otherwise (for a start-up check). */
  async ping(): Promise<void> {
    await this.#redis.ping();
  }

  async hit(key: string, windowMs: number, weight = 1): Promise<number | undefined> {
    if (typeof key !== 'string') throw invalid('a string', 'key', key);
    checkInteger(windowMs, 'windowMs', 1, 86_400_000);
    checkInteger(weight, 'weight', 0, MAX_CALLS); // a challenge for all the calls a token may buy
    const now = this.#now();
    const start = now - (now % windowMs);
    const base = `${this.#prefix}{k:${key.length > MAX_KEY_CHARS ? key.slice(0, MAX_KEY_CHARS) : key}}:`;
    const current = base + start;
    const previous = base + (start - windowMs);
    let replies: [Error | null, unknown][] | null;
    try {
      replies = await this.#redis.run((client) =>
        client
          .multi()
          .incrby(current, weight)
          .pexpire(current, 2 * windowMs)
          .get(previous)
          .exec(),
      );
    } catch (error) {
      if (error instanceof PowgateError) throw error; // ioredis is not installed: not an outage.
      this.#redis.report(error);
      return undefined;
    }
    const failed = replies?.find(([error]) => error);
    if (!replies || replies.length !== 3 || failed) {
      this.#redis.report(failed?.[0] ?? new Error('Redis aborted the transaction'));
      return undefined;
    }
    const count = Number(replies[0]![1]);
    const before = replies[2]![1] === null ? 0 : Number(replies[2]![1]);
    if (!Number.isFinite(count) || !Number.isFinite(before)) {
      this.#redis.report(new Error('Redis returned a count that is not a number'));
      return undefined;
    }
    const overlap = 1 - (now - start) / windowMs;
    return count + before * overlap;
  }

  /** Disconnects a client the counter made; a caller's client stays open. Later hits resolve undefined. */
  async close(): Promise<void> {
    await this.#redis.close();
  }
}
