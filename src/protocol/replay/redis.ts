import type { Redis, RedisOptions } from 'ioredis';
import { PowgateError } from '../../errors.js';
import { checkInteger, invalid } from '../../validate.js';
import { type ReplayStore, type SpendEntry, type SpendResult, checkOptions, checkSpend, checkSpendEntries } from './types.js';

/** Options of {@link RedisReplayStore}: exactly one of `url` and `client`. */
export interface RedisReplayStoreOptions {
  /**
   * A `redis://` or `rediss://` URL. The store then creates and owns an ioredis
   * client tuned to fail fast (no offline queue, no retried commands, a command
   * timeout) that reconnects forever in the background; `close()` disconnects it.
   */
  url?: string;
  /**
   * An ioredis `Redis` instance that the caller owns and configures; `close()`
   * leaves it open. Recommended: `enableOfflineQueue: false` and
   * `maxRetriesPerRequest: 0`, so commands sent during an outage are refused
   * rather than queued and run later.
   */
  client?: Redis;
  /** Prefix of every key. Default `'powgate:spent:'`. */
  keyPrefix?: string;
  /** Longest a call may wait for Redis before it resolves 'store_unavailable', in ms from 1 to 60,000. Default 1000. */
  timeoutMs?: number;
  /**
   * Told of every error behind a 'store_unavailable' and, for a store made from
   * a `url`, of connection errors (which otherwise go unreported). Default: none.
   */
  onError?: (error: Error) => void;
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
 *   it is not installed, that call rejects with a PowgateError `ERR_BACKEND_UNAVAILABLE`.
 * - Run Redis with `maxmemory-policy noeviction`: an evicted key reopens replay.
 * - An `expiresAt` already past is sent as is: Redis keeps nothing and answers 'spent'.
 * - For Redis Cluster, put a hash tag in `keyPrefix` (e.g. `'{powgate}:spent:'`) so that a batch stays in one slot.
 */
export class RedisReplayStore implements ReplayStore {
  readonly #url: string | undefined;
  readonly #given: Redis | undefined;
  readonly #prefix: string;
  readonly #timeoutMs: number;
  readonly #onError: (error: Error) => void;
  /** The client, made on first use. */
  #client: Promise<Redis> | undefined;
  /** The first connection attempt of a client made from a url; calls wait for it (within their timeout). */
  #firstConnect: Promise<void> | undefined;
  #closed = false;

  constructor(options: RedisReplayStoreOptions) {
    const { url, client, keyPrefix = 'powgate:spent:', timeoutMs = 1000, onError = () => {} } = checkOptions(options, 'options');
    if ((url === undefined) === (client === undefined)) {
      throw new PowgateError('ERR_INVALID_ARGUMENT', 'expected exactly one of url and client in the options of RedisReplayStore');
    }
    // Messages describe the url by its length only: it may hold a password.
    if (url !== undefined && (typeof url !== 'string' || url.length === 0)) throw invalid('a non-empty string', 'url', url);
    if (client !== undefined && typeof (client as Redis)?.pipeline !== 'function') throw invalid('an ioredis Redis instance', 'client', client);
    if (typeof keyPrefix !== 'string') throw invalid('a string', 'keyPrefix', keyPrefix);
    if (typeof onError !== 'function') throw invalid('a function', 'onError', onError);
    this.#url = url as string | undefined;
    this.#given = client as Redis | undefined;
    this.#prefix = keyPrefix;
    this.#timeoutMs = checkInteger(timeoutMs, 'timeoutMs', 1, 60_000);
    this.#onError = (error) => {
      try {
        (onError as (error: Error) => void)(error);
      } catch {
        // A throwing callback must not turn an outage into a throw (or crash ioredis's emitter).
      }
    };
  }

  async spend(id: string, expiresAt: number): Promise<SpendResult> {
    const [result] = await this.#spend([checkSpend(id, expiresAt)]);
    return result!;
  }

  async spendMany(entries: readonly SpendEntry[]): Promise<SpendResult[]> {
    return this.#spend(checkSpendEntries(entries));
  }

  /** Disconnects a client the store made; a caller's client stays open. Later calls resolve 'store_unavailable'. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#given || !this.#client) return;
    const client = await this.#client.catch(() => undefined);
    client?.disconnect();
  }

  async #spend(entries: readonly SpendEntry[]): Promise<SpendResult[]> {
    if (entries.length === 0) return [];
    const unavailable = (error: unknown): SpendResult[] => {
      this.#onError(error instanceof Error ? error : new Error(String(error)));
      return entries.map(() => 'store_unavailable');
    };
    if (this.#closed) return unavailable(new Error('the RedisReplayStore is closed'));
    const client = await this.#open(); // A missing ioredis is not an outage: this rejects.
    // PX must be a positive integer; rounding up never shortens the protection.
    const now = Date.now();
    const commands = entries.map(({ id, expiresAt }) => ['set', this.#prefix + id, '1', 'PX', Math.max(1, Math.ceil(expiresAt - now)), 'NX']);
    const run = async () => {
      await this.#firstConnect;
      return client.pipeline(commands).exec(); // One round trip for the whole batch.
    };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Redis did not answer within ${this.#timeoutMs} ms`)), this.#timeoutMs);
    });
    try {
      // A caller's client may queue commands while disconnected: the race bounds every call.
      const replies = await Promise.race([run(), timeout]);
      if (!replies) return unavailable(new Error('Redis returned no replies'));
      const failed = replies.find(([error]) => error);
      if (failed) this.#onError(failed[0]!); // Once per call, not once per id.
      return replies.map(([error, reply]) =>
        error ? 'store_unavailable' : reply === 'OK' ? 'spent' : reply === null ? 'replayed' : 'store_unavailable',
      );
    } catch (error) {
      return unavailable(error);
    } finally {
      clearTimeout(timer);
    }
  }

  #open(): Promise<Redis> {
    return (this.#client ??= this.#given ? Promise.resolve(this.#given) : this.#create(this.#url!));
  }

  async #create(url: string): Promise<Redis> {
    let RedisClient: typeof Redis;
    try {
      ({ Redis: RedisClient } = await import('ioredis'));
    } catch (cause) {
      throw new PowgateError('ERR_BACKEND_UNAVAILABLE', 'install ioredis (npm install ioredis) to use RedisReplayStore', { cause });
    }
    const settings: RedisOptions = {
      lazyConnect: true, // So that the first calls can wait for connect() instead of being refused.
      enableOfflineQueue: false, // While disconnected, refuse at once instead of queueing.
      maxRetriesPerRequest: 0, // Never resend a command; fail closed instead.
      autoResendUnfulfilledCommands: false,
      commandTimeout: this.#timeoutMs,
      connectTimeout: this.#timeoutMs,
      retryStrategy: (attempt) => Math.min(attempt * 100, 1000), // Keep reconnecting, at least once a second.
    };
    const client = new RedisClient(url, settings);
    // Without a listener, ioredis prints every connection error to the console.
    client.on('error', (error: Error) => this.#onError(error));
    // Its failure is reported through 'error'; reconnection goes on in the background.
    this.#firstConnect = client.connect().catch(() => {});
    return client;
  }
}
