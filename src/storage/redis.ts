import { PowgateError } from '../errors.js';
import { checkInteger, checkOptions, invalid } from '../validate.js';
import { hasHashTag } from './hash-tag.js';
import { RedisConnection, type RedisConnectionOptions } from './redis-connection.js';
import {
  CALL_REFUSED,
  type CallSpendResult,
  type RecordedSpend,
  type ReplayStore,
  type SpendEntry,
  type SpendResult,
  checkCallSpend,
  checkSpend,
  checkSpendEntries,
} from './types.js';

// One round trip, atomic: count the call unless the allowance is used up (a refused call
// counts nothing, so a holder's narrower copy cannot use up the wider one's calls); keep the
// count for the longest life any verifier asks (their clocks differ).
const SPEND_CALL = `local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used < tonumber(ARGV[1]) then used = redis.call('INCR', KEYS[1]) else used = -1 end
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return used`;

/** Options of {@link RedisReplayStore}: exactly one of `url`, `cluster`, `sentinels` and `client`. */
export interface RedisReplayStoreOptions extends RedisConnectionOptions {
  /**
   * Prefix of every key. Default `'powgate:spent:'`, and `'{powgate}:spent:'` on a Redis Cluster,
   * where the prefix must hold a hash tag (a batch of spends and the epoch go to one slot).
   */
  keyPrefix?: string;
  /**
   * Added to the epoch (`<keyPrefix>epoch`, the time the first verifier after a restart found the
   * database without it) before challenges are judged against it, in ms from 0 to 600,000: the
   * clock-skew allowance when the instances' clocks may differ, so that a challenge issued just
   * before a restart by a clock running ahead is refused too. Default 0 (clocks kept in step by NTP).
   */
  epochMarginMs?: number;
  /**
   * Replicas that must hold a spend (Redis `WAIT`) before it counts, from 0 to 16: with 1 or more,
   * a spend, a counted call or a redemption that the master could not copy within `timeoutMs`
   * resolves 'store_unavailable' (the id stays spent: the safe side), so a failover to that
   * replica (Sentinel, Cluster) cannot forget it and accept it again. Wait for every replica
   * that may be promoted: one that was not waited for may lack the last spends. Default 1 with
   * `sentinels`, else 0 (no wait).
   */
  waitReplicas?: number;
}

/**
 * A replay store shared by many servers: a spend is `SET prefix+id 1 PX ttl NX`, so the
 * first writer wins atomically and Redis drops the key when it expires. The ttl is
 * `expiresAt` less this process's clock, the clock the verifier judged expiry by: an
 * absolute PXAT would trust Redis's clock instead, and one running ahead would drop
 * live keys early and reopen replay.
 *
 * - Outages fail closed: a Redis that is down, restarting or slow yields
 *   'store_unavailable' within about `timeoutMs`; calls never hang, never throw
 *   for an outage and never report 'spent' unless Redis answered OK. The store
 *   recovers by itself when Redis is back. (A spend that timed out may still be
 *   applied by Redis later; the id is then spent, which is the safe side.)
 * - ioredis is an optional peer dependency, loaded on first use with a `url`; if
 *   it is not installed, that call rejects with a PowgateError `ERR_REDIS_CLIENT_MISSING`.
 * - Run Redis with `maxmemory-policy noeviction`: an evicted key reopens replay.
 * - An `expiresAt` already past is sent as is: Redis keeps nothing and answers 'spent'.
 * - On a Redis Cluster the prefix must hold a hash tag (`'{powgate}:spent:'` unless told otherwise):
 *   a batch is one pipeline to one node, so every spent id lives in that tag's slot.
 * - Behind Sentinel (or a Cluster with replicas), set `waitReplicas` so that no spend is
 *   acknowledged before a replica holds it: replication is asynchronous, and a failover would
 *   otherwise forget the last spends and accept them again.
 */
export class RedisReplayStore implements ReplayStore {
  readonly #redis: RedisConnection;
  readonly #prefix: string;
  readonly #margin: number;
  readonly #replicas: number;

  constructor(options: RedisReplayStoreOptions) {
    const checked = checkOptions(options, 'options');
    const { epochMarginMs = 0, waitReplicas = checked.sentinels === undefined ? 0 : 1 } = checked;
    this.#margin = checkInteger(epochMarginMs, 'epochMarginMs', 0, 600_000);
    this.#replicas = checkInteger(waitReplicas, 'waitReplicas', 0, 16);
    this.#redis = new RedisConnection(checked, 'RedisReplayStore');
    const { keyPrefix = this.#redis.isCluster ? '{powgate}:spent:' : 'powgate:spent:' } = checked;
    if (typeof keyPrefix !== 'string') throw invalid('a string', 'keyPrefix', keyPrefix);
    if (this.#redis.isCluster && !hasHashTag(keyPrefix)) {
      throw new PowgateError(
        'ERR_INVALID_ARGUMENT',
        `a Redis Cluster needs a hash tag in the keyPrefix of RedisReplayStore (e.g. '{powgate}:spent:'), so that a batch of spends stays in one slot; received ${JSON.stringify(keyPrefix.slice(0, 64))}`,
      );
    }
    this.#prefix = keyPrefix;
  }

  /** Resolves when Redis answers PING within `timeoutMs`; rejects with the reason otherwise (for a start-up check). */
  async ping(): Promise<void> {
    await this.#redis.ping();
  }

  async spend(id: string, expiresAt: number): Promise<SpendResult> {
    const [result] = await this.#spend([checkSpend(id, expiresAt)]);
    return result!;
  }

  async spendMany(entries: readonly SpendEntry[]): Promise<SpendResult[]> {
    return this.#spend(checkSpendEntries(entries));
  }

  /**
   * `SET prefix+id record PX ttl NX`, then `GET` in the same round trip: the record never
   * changes once set, so on 'replayed' the `GET` reads the first spend's (keys set by
   * {@link spend} hold `1`, which no redemption record equals).
   */
  async spendRecorded(id: string, expiresAt: number, record: string): Promise<RecordedSpend> {
    checkSpend(id, expiresAt);
    if (typeof record !== 'string' || record.length === 0 || record.length > 256) throw invalid('a non-empty string of at most 256 characters', 'record', record);
    const key = this.#prefix + id;
    const ttl = Math.max(1, Math.ceil(expiresAt - Date.now()));
    let replies: [Error | null, unknown][] | null;
    try {
      replies = await this.#redis.run((client) =>
        client
          .pipeline(
            this.#waited([
              ['set', key, record, 'PX', ttl, 'NX'],
              ['get', key],
            ]),
          )
          .exec(),
      );
    } catch (error) {
      if (error instanceof PowgateError) throw error; // ioredis is not installed: not an outage.
      this.#redis.report(error);
      return { result: 'store_unavailable' };
    }
    if (!this.#copied(replies)) return { result: 'store_unavailable' };
    const [set, get] = replies ?? [];
    if (!set || set[0] || (set[1] !== 'OK' && set[1] !== null)) {
      this.#redis.report(set?.[0] ?? new Error('Redis returned no replies'));
      return { result: 'store_unavailable' };
    }
    if (set[1] === 'OK') return { result: 'spent' };
    const held = get && !get[0] && typeof get[1] === 'string' ? get[1] : undefined;
    return held === undefined ? { result: 'replayed' } : { result: 'replayed', record: held };
  }

  /** Counts under `<keyPrefix>calls:<id>`, with `INCR` in a script (one round trip); the count lives until `expiresAt` by this process's clock. */
  async spendCall(id: string, calls: number, expiresAt: number): Promise<CallSpendResult> {
    checkCallSpend(id, calls, expiresAt);
    const ttl = Math.ceil(expiresAt - Date.now());
    if (ttl <= 0) return CALL_REFUSED.token_exhausted;
    let reply: unknown;
    try {
      const key = `${this.#prefix}calls:${id}`;
      if (this.#replicas === 0) reply = await this.#redis.run((client) => client.eval(SPEND_CALL, 1, key, calls, ttl));
      else {
        const replies = await this.#redis.run((client) => client.pipeline(this.#waited([['eval', SPEND_CALL, 1, key, calls, ttl]])).exec());
        if (!this.#copied(replies)) return CALL_REFUSED.store_unavailable;
        const [error, value] = replies?.[0] ?? [new Error('Redis returned no replies')];
        if (error) throw error;
        reply = value;
      }
    } catch (error) {
      if (error instanceof PowgateError) throw error; // ioredis is not installed: not an outage.
      this.#redis.report(error);
      return CALL_REFUSED.store_unavailable;
    }
    if (reply === -1) return CALL_REFUSED.token_exhausted;
    if (typeof reply !== 'number' || !Number.isInteger(reply) || reply < 1) {
      this.#redis.report(new Error('Redis returned a call count that is not a number'));
      return CALL_REFUSED.store_unavailable;
    }
    return { ok: true, used: reply };
  }

  /**
   * `SET <keyPrefix>epoch <now> NX`, then `GET` it, in one round trip: the first verifier after a
   * restart (or ever) writes its time; every verifier then reads the same one. A restart in the
   * round trip between this and the spend is the one window left.
   */
  async epoch(): Promise<number | undefined> {
    const key = `${this.#prefix}epoch`;
    let replies: [Error | null, unknown][] | null;
    try {
      replies = await this.#redis.run((client) =>
        client
          .pipeline([
            ['set', key, String(Date.now()), 'NX'],
            ['get', key],
          ])
          .exec(),
      );
    } catch (error) {
      if (error instanceof PowgateError) throw error; // ioredis is not installed: not an outage.
      this.#redis.report(error);
      return undefined;
    }
    const got = replies?.[1];
    const since = got && !got[0] && typeof got[1] === 'string' && /^\d{1,16}$/.test(got[1]) ? Number(got[1]) : undefined;
    if (since === undefined) this.#redis.report(got?.[0] ?? new Error('Redis returned no epoch'));
    return since === undefined ? undefined : since + this.#margin;
  }

  /** Disconnects a client the store made; a caller's client stays open. Later calls resolve 'store_unavailable'. */
  async close(): Promise<void> {
    await this.#redis.close();
  }

  async #spend(entries: readonly SpendEntry[]): Promise<SpendResult[]> {
    if (entries.length === 0) return [];
    const unavailable = (error: unknown): SpendResult[] => {
      this.#redis.report(error);
      return entries.map(() => 'store_unavailable');
    };
    // PX must be a positive integer; rounding up never shortens the protection.
    const now = Date.now();
    const commands = entries.map(({ id, expiresAt }) => ['set', this.#prefix + id, '1', 'PX', Math.max(1, Math.ceil(expiresAt - now)), 'NX']);
    let replies: [Error | null, unknown][] | null;
    try {
      replies = await this.#redis.run((client) => client.pipeline(this.#waited(commands)).exec()); // One round trip for the whole batch.
    } catch (error) {
      if (error instanceof PowgateError) throw error; // ioredis is not installed: not an outage.
      return unavailable(error);
    }
    if (!replies) return unavailable(new Error('Redis returned no replies'));
    if (!this.#copied(replies)) return entries.map(() => 'store_unavailable');
    const failed = replies.find(([error]) => error);
    if (failed) this.#redis.report(failed[0]!); // Once per call, not once per id.
    return replies.map(([error, reply]) => (error ? 'store_unavailable' : reply === 'OK' ? 'spent' : reply === null ? 'replayed' : 'store_unavailable'));
  }

  /** `commands`, then `WAIT` for the replicas when the store asks for any. */
  #waited(commands: (string | number)[][]): (string | number)[][] {
    return this.#replicas === 0 ? commands : [...commands, ['wait', this.#replicas, this.#redis.timeoutMs]];
  }

  /**
   * Whether the replicas asked for hold what the pipeline wrote (always, with none asked for);
   * the `WAIT` reply is removed from `replies`. Reports when they do not.
   */
  #copied(replies: [Error | null, unknown][] | null): boolean {
    if (this.#replicas === 0 || !replies) return true;
    const [error, count] = replies.pop() ?? [new Error('Redis returned no replies'), 0];
    if (!error && typeof count === 'number' && count >= this.#replicas) return true;
    this.#redis.report(error ?? new Error(`Redis copied the spend to ${String(count)} of ${this.#replicas} replicas in time`));
    return false;
  }
}
