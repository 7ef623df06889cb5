// A throwaway Redis Cluster of three masters (no replicas) on loopback, made the way an operator
// makes one: `redis-server --cluster-enabled yes` three times, then `redis-cli --cluster create`.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { type RedisServer, freePort, startRedis } from './redis-server.js';

const run = promisify(execFile);

export interface RedisCluster {
  /** The masters' addresses. */
  nodes: { host: string; port: number }[];
  /** `host:port,host:port,host:port`, for --redis-cluster. */
  seeds: string;
  stop(): Promise<void>;
}

/** Polls `probe` every 100 ms until it returns true, at most `limitMs`. */
export async function waitFor(probe: () => Promise<boolean>, limitMs: number, what: string): Promise<void> {
  for (const started = Date.now(); Date.now() - started < limitMs; ) {
    if (await probe().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what}: not within ${limitMs} ms`);
}

/** Asks one node a question, on a connection of its own. */
export async function ask(port: number, ...command: (string | number)[]): Promise<unknown> {
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    await client.connect();
    return await client.call(String(command[0]), ...command.slice(1).map(String));
  } finally {
    client.disconnect();
  }
}

/** Starts three cluster-enabled masters, joins them with redis-cli and waits for cluster_state:ok on each. */
export async function startRedisCluster(): Promise<RedisCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'powgate-cluster-'));
  const servers: RedisServer[] = [];
  try {
    const ports = [await freePort(), await freePort(), await freePort()];
    for (const port of ports) {
      servers.push(await startRedis(['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${port}.conf`), '--dir', dir, '--cluster-node-timeout', '2000'], port));
    }
    const addresses = ports.map((port) => `127.0.0.1:${port}`);
    await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'], { timeout: 30_000 });
    for (const port of ports) {
      await waitFor(async () => String(await ask(port, 'cluster', 'info')).includes('cluster_state:ok'), 30_000, `cluster_state:ok on ${port}`);
    }
    return {
      nodes: ports.map((port) => ({ host: '127.0.0.1', port })),
      seeds: addresses.join(','),
      stop: async () => {
        await Promise.all(servers.map((s) => s.stop()));
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await Promise.all(servers.map((s) => s.stop()));
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
