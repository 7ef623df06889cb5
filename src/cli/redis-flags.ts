import { RedisRateCounter } from '../storage/redis-rate-counter.js';
import type { RedisConnectionOptions, RedisNode } from '../storage/redis-connection.js';
import { RedisReplayStore } from '../storage/redis.js';
import { UsageError, optional, parseInteger, stringFlag, type OptionSpecs, type Parsed } from './args.js';
import type { Io } from './command.js';

/** Where `serve` and `mcp` keep shared state: one Redis, a Redis Cluster or a master behind Sentinel. */
export const REDIS_OPTIONS: OptionSpecs = {
  redis: { type: 'string' },
  'redis-cluster': { type: 'string' },
  'redis-sentinel': { type: 'string' },
  'redis-master': { type: 'string' },
  'redis-wait-replicas': { type: 'string' },
};

export const REDIS_USAGE = `  --redis URL              keep spent challenges, tokens' calls and rates in this Redis, shared
                           by every instance on it; default: in memory (this process)
  --redis-cluster NODES    the same in a Redis Cluster: some of its nodes, host:port,...
  --redis-sentinel NODES   the same in the master that these sentinels watch (host:port,...),
                           following its failovers; with --redis-master NAME
  --redis-wait-replicas N  count a spend only once N replicas hold it (Redis WAIT), so that a
                           failover cannot forget it; default 1 with --redis-sentinel, else 0
                           (POWGATE_REDIS_PASSWORD: the password of the Redis nodes, if any)`;

/** How long `serve` and `mcp` wait at start for a Cluster or a Sentinel master to answer. */
const REACH_MS = 10_000;

/** The shared store and counter that the flags of {@link REDIS_OPTIONS} ask for; with no flag, undefined. */
export interface RedisFromFlags {
  store: RedisReplayStore;
  counter: RedisRateCounter;
  /** What the flags point at, for messages: `Redis`, `the Redis Cluster at h:p,...`, `the master m behind h:p,...`. */
  where: string;
  /** Whether start-up must reach it ({@link reachRedis}): a seed list or a master name is checked then, not at the first call. */
  mustReach: boolean;
  /** The last error the clients reported (connection errors say more than a refused PING). */
  lastError(): Error | undefined;
}

/** Host:port pairs, comma-separated; IPv6 addresses in brackets (`[::1]:7000`). */
function parseNodes(text: string, flag: string): RedisNode[] {
  const nodes = text.split(',').map((entry) => {
    const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s[\]]+)):(\d{1,5})$/.exec(entry.trim());
    if (!match) throw new UsageError(`expected host:port,... for --${flag} but received '${entry.slice(0, 80)}'`);
    return { host: match[1] ?? match[2]!, port: parseInteger(match[3]!, flag, 1, 65_535) };
  });
  if (nodes.length > 64) throw new UsageError(`expected at most 64 nodes for --${flag}`);
  return nodes;
}

/** Checks the Redis flags; the store and counter are made, not connected (they connect on first use). */
export function redisFromFlags(parsed: Parsed, io: Io, onError?: (error: Error) => void): RedisFromFlags | undefined {
  const url = stringFlag(parsed, 'redis');
  const cluster = optional(stringFlag(parsed, 'redis-cluster'), (text) => parseNodes(text, 'redis-cluster'));
  const sentinels = optional(stringFlag(parsed, 'redis-sentinel'), (text) => parseNodes(text, 'redis-sentinel'));
  const masterName = stringFlag(parsed, 'redis-master');
  const waitText = stringFlag(parsed, 'redis-wait-replicas');
  const given = [url, cluster, sentinels].filter((value) => value !== undefined).length;
  if (given > 1) throw new UsageError('--redis, --redis-cluster and --redis-sentinel are exclusive: give one');
  if ((masterName !== undefined) !== (sentinels !== undefined)) throw new UsageError('--redis-sentinel and --redis-master go together');
  if (masterName !== undefined && !/^[\x21-\x7e]{1,128}$/.test(masterName)) throw new UsageError('expected a name of printable ASCII for --redis-master');
  if (given === 0) {
    if (waitText !== undefined) throw new UsageError('--redis-wait-replicas needs --redis, --redis-cluster or --redis-sentinel');
    return undefined;
  }
  if (url !== undefined && !/^rediss?:\/\/./.test(url)) throw new UsageError('expected a redis:// or rediss:// URL for --redis');
  const waitReplicas = optional(waitText, (text) => parseInteger(text, 'redis-wait-replicas', 0, 16)) ?? (sentinels ? 1 : 0);
  // A password in the URL wins (ioredis would let the option override it).
  const password = url !== undefined && /^rediss?:\/\/[^/]*@/.test(url) ? undefined : io.env.POWGATE_REDIS_PASSWORD || undefined;
  const target: RedisConnectionOptions = url !== undefined ? { url } : cluster ? { cluster } : { sentinels, masterName };
  let last: Error | undefined;
  const report = (error: Error) => {
    last = error;
    onError?.(error);
  };
  const shared = { ...target, ...(password === undefined ? {} : { password }), onError: report };
  const list = (nodes: RedisNode[]) => nodes.map(({ host, port }) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`)).join(',');
  return {
    store: new RedisReplayStore({ ...shared, waitReplicas }),
    counter: new RedisRateCounter(shared),
    where: url !== undefined ? 'Redis' : cluster ? `the Redis Cluster at ${list(cluster)}` : `the master ${masterName} behind ${list(sentinels!)}`,
    mustReach: url === undefined,
    lastError: () => last,
  };
}

/**
 * For a Cluster or a Sentinel master: waits until both the store and the counter answer, at most
 * 10 s, so that a wrong seed list or master name stops start-up with a clear message instead of
 * refusing every call. The message names hosts, never the password.
 */
export async function reachRedis(redis: RedisFromFlags | undefined): Promise<void> {
  if (!redis?.mustReach) return;
  const started = Date.now();
  let last: unknown;
  while (Date.now() - started < REACH_MS) {
    try {
      await Promise.all([redis.store.ping(), redis.counter.ping()]);
      return;
    } catch (error) {
      last = error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  await Promise.all([redis.store.close(), redis.counter.close()]);
  const cause = redis.lastError() ?? last;
  const reason = cause instanceof Error ? cause.message.slice(0, 200) : String(cause);
  throw new Error(`cannot reach ${redis.where} within ${REACH_MS / 1000} s: ${reason}`);
}
