import type { Cluster, ClusterOptions, Redis, RedisOptions } from 'ioredis';
import { PowgateError } from '../errors.js';
import { checkInteger, checkOptions, invalid } from '../validate.js';

/**
 * An ioredis `Redis` (direct or through Sentinel) or `Cluster` instance. Typed by the methods
 * powgate calls, so that its declarations compile where ioredis is not installed.
 */
export interface RedisClient {
  pipeline(...args: never[]): unknown;
  eval(...args: never[]): unknown;
  ping(...args: never[]): unknown;
}

/** What the connection holds: the ioredis client itself. */
type IoredisClient = Redis | Cluster;

/** A Redis node's address. */
export interface RedisNode {
  host: string;
  port: number;
}

/**
 * What RedisReplayStore and RedisRateCounter share: where Redis is, how long to wait, whom to
 * tell. Exactly one of `url`, `cluster`, `sentinels` and `client`.
 */
export interface RedisConnectionOptions {
  /**
   * A `redis://` or `rediss://` URL. The owner then creates an ioredis client tuned
   * to fail fast (no offline queue, no retried commands, a command timeout) that
   * reconnects forever in the background; `close()` disconnects it.
   */
  url?: string;
  /**
   * Seed nodes of a Redis Cluster (any of its masters or replicas; one is enough, more
   * survive one being down). The owner creates an ioredis `Cluster` with the same
   * fail-fast rules as for `url`. Keys that a command touches together must share a hash slot.
   */
  cluster?: readonly RedisNode[];
  /**
   * Sentinels watching the master named `masterName`. The owner creates an ioredis client
   * that asks them for the master and follows failovers; the same fail-fast rules as for `url`.
   */
  sentinels?: readonly RedisNode[];
  /** The master's name under `sentinels` (`sentinel monitor <name> ...`). Required with `sentinels`. */
  masterName?: string;
  /** Password of the Redis nodes (not of the sentinels), for `cluster` and `sentinels`, or `url` without one. Default: none. */
  password?: string;
  /**
   * An ioredis `Redis` or `Cluster` instance that the caller owns and configures; `close()`
   * leaves it open. Recommended: `enableOfflineQueue: false` and
   * `maxRetriesPerRequest: 0`, so commands sent during an outage are refused
   * rather than queued and run later.
   */
  client?: RedisClient;
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
  readonly #target: Target | undefined;
  readonly #given: IoredisClient | undefined;
  readonly #owner: string;
  readonly #onError: (error: Error) => void;
  /** The client, made on first use. */
  #client: Promise<IoredisClient> | undefined;
  /** The first connection attempt of a client made from a url; calls wait for it (within their timeout). */
  #firstConnect: Promise<void> | undefined;
  #closed = false;

  /**
   * Checks the options shared by every Redis-backed class; `owner` names that class
   * in messages. The url is described by its length only: it may hold a password.
   */
  constructor(options: RedisConnectionOptions & Record<string, unknown>, owner: string) {
    const { client, timeoutMs = 1000, onError = () => {} } = checkOptions(options, 'options');
    const given = (['url', 'cluster', 'sentinels', 'client'] as const).filter((name) => options[name] !== undefined);
    if (given.length !== 1) {
      throw new PowgateError('ERR_INVALID_ARGUMENT', `expected exactly one of url, cluster, sentinels and client in the options of ${owner}`);
    }
    if (client !== undefined && typeof (client as Redis)?.pipeline !== 'function') throw invalid('an ioredis Redis or Cluster instance', 'client', client);
    if (typeof onError !== 'function') throw invalid('a function', 'onError', onError);
    this.#target = client === undefined ? checkTarget(options) : undefined;
    this.#given = client as IoredisClient | undefined;
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

  /** Whether the client is (or will be) a Redis Cluster, whose multi-key commands must stay in one hash slot. */
  get isCluster(): boolean {
    return this.#target ? this.#target.kind === 'cluster' : (this.#given as { isCluster?: boolean }).isCluster === true;
  }

  /** Resolves when Redis answers PING within `timeoutMs`; rejects with the reason otherwise. */
  async ping(): Promise<void> {
    await this.run((client) => client.ping());
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
  async run<T>(command: (client: IoredisClient) => Promise<T>): Promise<T> {
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

  #open(): Promise<IoredisClient> {
    return (this.#client ??= this.#given ? Promise.resolve(this.#given) : this.#create(this.#target!));
  }

  async #create(target: Target): Promise<IoredisClient> {
    let ioredis: { Redis: typeof Redis; Cluster: typeof Cluster };
    try {
      ioredis = await importIoredis(this.#owner);
    } catch (error) {
      this.#client = undefined; // So that installing ioredis later (or a mocked import in tests) is seen.
      throw error;
    }
    const retryStrategy = (attempt: number) => Math.min(attempt * 100, 1000); // Keep reconnecting, at least once a second.
    const settings: RedisOptions = {
      lazyConnect: true, // So that the first calls can wait for connect() instead of being refused.
      enableOfflineQueue: false, // While disconnected, refuse at once instead of queueing.
      maxRetriesPerRequest: 0, // Never resend a command; fail closed instead.
      autoResendUnfulfilledCommands: false,
      commandTimeout: this.timeoutMs,
      connectTimeout: this.timeoutMs,
      retryStrategy,
      ...(target.password === undefined ? {} : { password: target.password }),
    };
    let client: IoredisClient;
    if (target.kind === 'url') {
      client = new ioredis.Redis(target.url, settings);
    } else if (target.kind === 'sentinels') {
      client = new ioredis.Redis({
        ...settings,
        sentinels: target.nodes.map(({ host, port }) => ({ host, port })),
        name: target.masterName,
        sentinelRetryStrategy: retryStrategy,
        // Subscribe to +switch-master: move to the new master at once, not when the old one drops us.
        failoverDetector: true,
        // A demoted master answers READONLY: reconnect (through the sentinels) without resending.
        reconnectOnError: (error) => (error.message.startsWith('READONLY') ? 1 : false),
      });
    } else {
      const { retryStrategy: _, lazyConnect, enableOfflineQueue, ...redisOptions } = settings;
      const clusterSettings: ClusterOptions = {
        lazyConnect,
        enableOfflineQueue,
        redisOptions,
        clusterRetryStrategy: retryStrategy, // Keep rediscovering the slots, at least once a second.
        slotsRefreshTimeout: this.timeoutMs,
        // Follow a failover or a resharding within the call's time, then give up (the call is refused).
        maxRedirections: 4,
        retryDelayOnFailover: 100,
        retryDelayOnClusterDown: 100,
        retryDelayOnTryAgain: 100,
      };
      client = new ioredis.Cluster(
        target.nodes.map(({ host, port }) => ({ host, port })),
        clusterSettings,
      );
    }
    // Without a listener, ioredis prints every connection error to the console.
    client.on('error', (error: Error) => this.#onError(error));
    // Its failure is reported through 'error'; reconnection goes on in the background.
    this.#firstConnect = client.connect().catch(() => {});
    return client;
  }
}

/**
 * The ioredis client classes (an optional peer dependency), or a PowgateError
 * `ERR_REDIS_CLIENT_MISSING` naming `npm install ioredis` when it is not installed; `user`
 * says what needs it. `powgate serve --redis` calls it at start-up, so that a missing client
 * stops it there rather than failing every request.
 */
export async function importIoredis(user = 'a Redis store'): Promise<{ Redis: typeof Redis; Cluster: typeof Cluster }> {
  try {
    return await import('ioredis');
  } catch (cause) {
    throw new PowgateError('ERR_REDIS_CLIENT_MISSING', `install ioredis (npm install ioredis) to use ${user}`, { cause });
  }
}

type Target = { kind: 'url'; url: string; password?: string } | { kind: 'cluster' | 'sentinels'; nodes: RedisNode[]; masterName?: string; password?: string };

const MAX_NODES = 64;

/** The checked url, cluster or sentinels of `options` (exactly one is set). */
function checkTarget(options: Record<string, unknown>): Target {
  const { url, cluster, sentinels, masterName, password } = options;
  if (password !== undefined && (typeof password !== 'string' || password.length === 0)) throw invalid('a non-empty string', 'password', '(hidden)');
  const secret = password === undefined ? {} : { password: password as string };
  if (url !== undefined) {
    if (typeof url !== 'string' || url.length === 0) throw invalid('a non-empty string', 'url', url);
    return { kind: 'url', url, ...secret };
  }
  const kind = cluster !== undefined ? 'cluster' : 'sentinels';
  const nodes = checkNodes(kind === 'cluster' ? cluster : sentinels, kind);
  if (kind === 'cluster') {
    if (masterName !== undefined) throw new PowgateError('ERR_INVALID_ARGUMENT', 'masterName goes with sentinels, not with cluster');
    return { kind, nodes, ...secret };
  }
  if (typeof masterName !== 'string' || !/^[\x21-\x7e]{1,128}$/.test(masterName)) throw invalid('a name of 1 to 128 printable ASCII characters', 'masterName', masterName);
  return { kind, nodes, masterName, ...secret };
}

function checkNodes(nodes: unknown, name: string): RedisNode[] {
  if (!Array.isArray(nodes) || nodes.length === 0 || nodes.length > MAX_NODES) throw invalid(`an array of 1 to ${MAX_NODES} { host, port }`, name, nodes);
  return nodes.map((node: unknown, i) => {
    const { host, port } = checkOptions(node, `${name}[${i}]`);
    if (typeof host !== 'string' || host.length === 0 || host.length > 255) throw invalid('a host name or address', `${name}[${i}].host`, host);
    return { host, port: checkInteger(port, `${name}[${i}].port`, 1, 65_535) };
  });
}
