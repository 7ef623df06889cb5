// A throwaway Redis master, one replica and one Sentinel watching them, on loopback.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ask, waitFor } from './redis-cluster.js';
import { type RedisServer, freePort, startRedis } from './redis-server.js';

export const MASTER_NAME = 'powgate-master';

export interface RedisSentinelSet {
  master: RedisServer;
  replica: RedisServer;
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
 * Starts a master, a replica of it and, once the replica has synced (so that the sentinel's
 * first look finds it), a sentinel monitoring the master with a quorum of 1.
 */
export async function startRedisSentinel(): Promise<RedisSentinelSet> {
  const dir = await mkdtemp(join(tmpdir(), 'powgate-sentinel-'));
  const started: RedisServer[] = [];
  try {
    const master = await startRedis();
    started.push(master);
    const replica = await startRedis(['--replicaof', '127.0.0.1', String(master.port)]);
    started.push(replica);
    await waitFor(() => caughtUp(master.port, replica.port), 20_000, 'the replica synced');
    const port = await freePort();
    const conf = join(dir, 'sentinel.conf');
    await writeFile(conf, [
      `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${master.port} 1`,
      `sentinel down-after-milliseconds ${MASTER_NAME} 2000`,
      `sentinel failover-timeout ${MASTER_NAME} 20000`,
      '',
    ].join('\n'));
    const sentinel = await startRedis([conf, '--sentinel', '--dir', dir], port);
    started.push(sentinel);
    await waitFor(async () => {
      const replicas = (await ask(port, 'sentinel', 'replicas', MASTER_NAME)) as string[][];
      return replicas.length === 1 && !String(replicas[0]).includes('s_down') && String(replicas[0]).includes('slave');
    }, 30_000, 'the sentinel found the replica');
    return {
      master,
      replica,
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
