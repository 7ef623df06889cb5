// A throwaway Redis master, its replicas and one Sentinel watching them, on loopback.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ask, waitFor } from './redis-cluster.js';
import { type RedisServer, freePort, startRedis } from './redis-server.js';

export const MASTER_NAME = 'powgate-master';

export interface RedisSentinelSet {
  master: RedisServer;
  /** The first replica, promoted by a failover (its priority is the best). */
  replica: RedisServer;
  replicas: RedisServer[];
  sentinel: RedisServer;
  /** `127.0.0.1:<port>` of the sentinel, for --redis-sentinel. */
  sentinels: string;
  /** The port of the master that the sentinel names now. */
  masterPort(): Promise<number>;
  stop(): Promise<void>;
}

/** Whether `port` reports its replication link up and its offset caught up with the master's. */
export async function caughtUp(masterPort: number, replicaPort: number): Promise<boolean> {
  const info = async (port: number) => String(await ask(port, 'info', 'replication'));
  const offset = (text: string, field: string) => Number(new RegExp(`${field}:(\\d+)`).exec(text)?.[1] ?? -1);
  const [m, r] = [await info(masterPort), await info(replicaPort)];
  return r.includes('master_link_status:up') && offset(r, 'slave_repl_offset') >= offset(m, 'master_repl_offset');
}

/**
 * Starts a master, `count` replicas of it and, once they have synced (so that the sentinel's
 * first look finds them), a sentinel monitoring the master with a quorum of 1.
 */
export async function startRedisSentinel(count = 1): Promise<RedisSentinelSet> {
  const dir = await mkdtemp(join(tmpdir(), 'powgate-sentinel-'));
  const started: RedisServer[] = [];
  try {
    const master = await startRedis();
    started.push(master);
    const replicas: RedisServer[] = [];
    for (let i = 0; i < count; i++) {
      const replica = await startRedis(['--replicaof', '127.0.0.1', String(master.port), '--replica-priority', String(10 + i)]);
      started.push(replica);
      replicas.push(replica);
      await waitFor(() => caughtUp(master.port, replica.port), 20_000, 'the replica synced');
    }
    const port = await freePort();
    const conf = join(dir, 'sentinel.conf');
    await writeFile(
      conf,
      [
        `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${master.port} 1`,
        `sentinel down-after-milliseconds ${MASTER_NAME} 2000`,
        `sentinel failover-timeout ${MASTER_NAME} 20000`,
        '',
      ].join('\n'),
    );
    const sentinel = await startRedis([conf, '--sentinel', '--dir', dir], port);
    started.push(sentinel);
    await waitFor(
      async () => {
        const known = (await ask(port, 'sentinel', 'replicas', MASTER_NAME)) as string[][];
        return known.length === count && known.every((r) => !String(r).includes('s_down'));
      },
      30_000,
      'the sentinel found the replicas',
    );
    return {
      master,
      replica: replicas[0]!,
      replicas,
      sentinel,
      sentinels: `127.0.0.1:${port}`,
      masterPort: async () => Number(((await ask(port, 'sentinel', 'get-master-addr-by-name', MASTER_NAME)) as string[])[1]),
      stop: async () => {
        await Promise.all(started.map((s) => s.stop()));
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await Promise.all(started.map((s) => s.stop()));
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
