import type { Redis, RedisOptions } from 'ioredis';
import { PowgateError } from '../../errors.js';
import { checkInteger, invalid } from '../../validate.js';
import { checkOptions } from './types.js';

/** What RedisReplayStore and RedisRateCounter share: where Redis is, how long to wait, whom to tell. */
export interface RedisConnectionOptions {
  /**
   * A `redis://` or `rediss://` URL. The owner then creates an ioredis client tuned
   * to fail fast (no offline queue, no retried commands, a command timeout) that
   * reconnects forever in the background; `close()` disconnects it.
   */
  url?: string;
  /**
   * An ioredis `Redis` instance that the caller owns and configures; `close()`
   * leaves it open. Recommended: `enableOfflineQueue: false` and
   * `maxRetriesPerRequest: 0`, so commands sent during an outage are refused
   * rather than queued and run later.
   */
  client?: Redis;
  /** Longest a call may wait for Redis, in ms from 1 to 60,000. Default 1000. */
  timeoutMs?: number;
  /**
   * Told of every error behind an unanswered call and, for a client made from a
   * `url`, of connection errors (which otherwise go unreported). Default: none.
   */
  onError?: (error: Error) => void;
}

/**
 * One lazily opened Redis client and the fail-fast rules around it (internal):
 * every call is bounded by `timeoutMs`, an outage rejects (the owner turns that into
 * its own "unavailable" answer) and the client reconnects by itself.
 */
export class RedisConnection {
  readonly timeoutMs: number;
  readonly #url: string | undefined;
  readonly #given: Redis | undefined;
  readonly #owner: string;
  readonly #onError: (error: Error) => void;
  /** The client, made on first use. */
  #client: Promise<Redis> | undefined;
  /** The first connection attempt of a client made from a url; calls wait for it (within their timeout). */
  #firstConnect: Promise<void> | undefined;
  #closed = false;

  /**
   * Checks the options shared by every Redis-backed class; `owner` names that class
   * in messages. The url is described by its length only: it may hold a password.
   */
  constructor(options: RedisConnectionOptions & Record<string, unknown>, owner: string) {
    const { url, client, timeoutMs = 1000, onError = () => {} } = checkOptions(options, 'options');
    if ((url === undefined) === (client === undefined)) {
      throw new PowgateError('ERR_INVALID_ARGUMENT', `expected exactly one of url and client in the options of ${owner}`);
    }
    if (url !== undefined && (typeof url !== 'string' || url.length === 0)) throw invalid('a non-empty string', 'url', url);
    if (client !== undefined && typeof (client as Redis)?.pipeline !== 'function') throw invalid('an ioredis Redis instance', 'client', client);
    if (typeof onError !== 'function') throw invalid('a function', 'onError', onError);
    this.#url = url as string | undefined;
    this.#given = client as Redis | undefined;
    this.#owner = owner;
    this.timeoutMs = checkInteger(timeoutMs, 'timeoutMs', 1, 60_000);
    this.#onError = (error) => {
      try {
        (onError as (error: Error) => void)(error);
      } catch {
        // A throwing callback must not turn an outage into a throw (or crash ioredis's emitter).
      }
    };
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Tells the owner's onError (never throws). */
  report(error: unknown): void {
    this.#onError(error instanceof Error ? error : new Error(String(error)));
  }

  /**
   * Runs `command` on the client within `timeoutMs`. Rejects for an outage, a
   * timeout or a closed connection; rejects with a PowgateError
   * `ERR_REDIS_CLIENT_MISSING` when ioredis is not installed (callers let that one through).
   */
  async run<T>(command: (client: Redis) => Promise<T>): Promise<T> {
    if (this.#closed) throw new Error(`the ${this.#owner} is closed`);
    const client = await this.#open(); // A missing ioredis is not an outage: this rejects.
    const run = async () => {
      await this.#firstConnect;
      return command(client);
    };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Redis did not answer within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    const running = run();
    running.catch(() => {}); // A late failure after the timeout won must not be an unhandled rejection.
    try {
      // A caller's client may queue commands while disconnected: the race bounds every call.
      return await Promise.race([running, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Disconnects a client made from a url; a caller's client stays open. Later calls reject. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#given || !this.#client) return;
    const client = await this.#client.catch(() => undefined);
    client?.disconnect();
  }

  #open(): Promise<Redis> {
    return (this.#client ??= this.#given ? Promise.resolve(this.#given) : this.#create(this.#url!));
  }

  async #create(url: string): Promise<Redis> {
    let RedisClient: typeof Redis;
    try {
      RedisClient = await importRedisClient(this.#owner);
    } catch (error) {
      this.#client = undefined; // So that installing ioredis later (or a mocked import in tests) is seen.
      throw error;
    }
    const settings: RedisOptions = {
      lazyConnect: true, // So that the first calls can wait for connect() instead of being refused.
      enableOfflineQueue: false, // While disconnected, refuse at once instead of queueing.
      maxRetriesPerRequest: 0, // Never resend a command; fail closed instead.
      autoResendUnfulfilledCommands: false,
      commandTimeout: this.timeoutMs,
      connectTimeout: this.timeoutMs,
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

/**
 * The ioredis client class (an optional peer dependency), or a PowgateError
 * `ERR_REDIS_CLIENT_MISSING` naming `npm install ioredis` when it is not installed; `user`
 * says what needs it. `powgate serve --redis` calls it at start-up, so that a missing client
 * stops it there rather than failing every request.
 */
export async function importRedisClient(user = 'a Redis store'): Promise<typeof Redis> {
  try {
    return (await import('ioredis')).Redis;
  } catch (cause) {
    throw new PowgateError('ERR_REDIS_CLIENT_MISSING', `install ioredis (npm install ioredis) to use ${user}`, { cause });
  }
}
