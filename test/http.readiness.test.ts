// Liveness and readiness across a real Redis outage (killed, then restarted), and `--redis`
// without the Redis client installed: a failed start, not a healthy server that answers 500.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gate } from '../src/gate/gate.js';
import { RedisRateCounter } from '../src/storage/redis-rate-counter.js';
import { readinessHandler } from '../src/http/readiness.js';
import { RedisReplayStore } from '../src/storage/redis.js';
import { runCli } from './helpers/cli.js';
import { close, listen, request, startServe, type ServeProcess } from './helpers/http.js';
import { type RedisServer, redisServerPath, startRedis } from './helpers/redis-server.js';
import { createServer, type Server } from 'node:http';

const bin = redisServerPath();
if (!bin) console.warn('powgate tests: redis-server is not installed, so the readiness tests across an outage are skipped');
const NO_IOREDIS = fileURLToPath(new URL('./fixtures/no-ioredis.mjs', import.meta.url));

/** Polls `probe` every 100 ms until it returns true. */
async function until(probe: () => Promise<boolean>, limitMs: number, what: string): Promise<void> {
  const started = performance.now();
  while (performance.now() - started < limitMs) {
    if (await probe()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what}: not within ${limitMs} ms`);
}

describe.skipIf(!bin)('readiness across a Redis outage', () => {
  let redis: RedisServer;
  let served: ServeProcess;
  let embedded: Server;
  let embeddedUrl: string;
  let gate: Gate;

  beforeAll(async () => {
    redis = await startRedis();
    served = await startServe(['--redis', redis.url, '--difficulty', '8', '--log-level', 'warn']);
    // An embedder's own server, with the exported handler.
    gate = new Gate({
      secret: 'a readiness test secret that is long enough',
      difficulty: 8,
      store: new RedisReplayStore({ url: redis.url }),
      counter: new RedisRateCounter({ url: redis.url }),
    });
    embedded = createServer(readinessHandler(gate, { timeoutMs: 1500 }));
    embeddedUrl = await listen(embedded);
  }, 30_000);

  afterAll(async () => {
    expect(await served?.stop()).toBe(0);
    if (embedded) await close(embedded);
    await gate?.close();
    await redis?.stop();
  });

  it('/readyz: 200 while Redis answers, 503 store_unavailable while it is down (/healthz stays 200), 200 again once it is back', async () => {
    for (const url of [served.url, embeddedUrl]) {
      const ready = await request(url, '/readyz');
      expect([ready.status, ready.json]).toEqual([200, { status: 'ready', store: 'up', counter: 'up' }]);
    }
    await redis.stop();
    for (const url of [served.url, embeddedUrl]) {
      const unready = await request(url, '/readyz');
      expect([unready.status, unready.json, unready.headers['retry-after']]).toEqual([
        503,
        { status: 'unready', reason: 'store_unavailable', store: 'down', counter: 'down' },
        '1',
      ]);
    }
    const live = await request(served.url, '/healthz');
    expect([live.status, live.json.status, live.json.store]).toEqual([200, 'ok', 'down']);
    expect(served.child.exitCode).toBeNull();
    await redis.restart();
    for (const url of [served.url, embeddedUrl]) {
      await until(async () => (await request(url, '/readyz')).status === 200, 10_000, `${url} ready again`);
    }
    expect((await request(served.url, '/readyz')).json).toEqual({ status: 'ready', store: 'up', counter: 'up' });
  }, 30_000);
});

describe('--redis without the Redis client installed', () => {
  it('serve and mcp fail at start-up, exit 1, and name npm install ioredis', async () => {
    for (const command of ['serve', 'mcp']) {
      const result = await runCli(
        [command, '--redis', 'redis://127.0.0.1:1', '--port', '0'].filter((arg) => command === 'serve' || (arg !== '--port' && arg !== '0')),
        { nodeOptions: ['--import', NO_IOREDIS] },
      );
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr).toMatch(new RegExp(`^powgate ${command}: install ioredis \\(npm install ioredis\\) to use --redis\\n$`));
      expect(result.stdout).not.toContain('listening');
    }
  });

  it('the same processes start without --redis (the hook only hides ioredis)', async () => {
    const result = await runCli(['mcp'], { nodeOptions: ['--import', NO_IOREDIS] });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/serving on stdio/);
  });
});
