// RedisRateCounter against a real redis-server: the same counts as
// MemoryRateCounter on the same clock, shared by counters, keys that expire,
// one atomic round trip, and undefined (never a throw) through outages.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { MemoryRateCounter } from '../src/storage/rate-counter.js';
import { MAX_CALLS } from '../src/wire.js';
import { RedisRateCounter, type RedisRateCounterOptions } from '../src/storage/redis-rate-counter.js';
import { type RedisServer, redisServerPath, startRedis } from './helpers/redis-server.js';

const bin = redisServerPath();
if (!bin) console.warn('powgate tests: redis-server is not installed, so the RedisRateCounter tests are skipped');

const opened: { close(): Promise<void> }[] = [];
function counter(options: RedisRateCounterOptions): RedisRateCounter {
  const made = new RedisRateCounter(options);
  opened.push(made);
  return made;
}
afterEach(async () => {
  await Promise.all(opened.splice(0).map((o) => o.close()));
});

describe.skipIf(!bin)(bin ? 'RedisRateCounter' : 'RedisRateCounter (skipped: redis-server not installed)', () => {
  let server: RedisServer;
  let admin: Redis;
  beforeAll(async () => {
    server = await startRedis();
    admin = new Redis(server.url);
  });
  afterAll(async () => {
    admin?.disconnect();
    await server?.stop();
  });

  it('counts like MemoryRateCounter on the same clock, across window boundaries', async () => {
    let now = 1_800_000_000_000; // A window boundary for 1000 ms windows.
    const clock = () => now;
    const redis = counter({ url: server.url, now: clock, keyPrefix: `t:${randomUUID()}:` });
    const memory = new MemoryRateCounter({ now: clock });
    const key = 'client-a';
    const steps = [0, 100, 100, 300, 200, 250, 50, 400, 900, 10, 1500, 100, 2500, 0, 0];
    for (const step of steps) {
      now += step;
      const [r, m] = [await redis.hit(key, 1000), await memory.hit(key, 1000)];
      expect(r).toBeCloseTo(m, 9);
    }
    expect(await redis.hit('client-b', 1000)).toBe(1);
    // A challenge for all the calls a token may buy counts them all, and no more.
    for (const c of [redis, memory]) {
      expect(await c.hit('client-c', 1000, MAX_CALLS)).toBe(MAX_CALLS);
      await expect(c.hit('client-c', 1000, MAX_CALLS + 1)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    }
  });

  it('is shared by counters on one Redis, and keeps clients apart', async () => {
    const prefix = `t:${randomUUID()}:`;
    const a = counter({ url: server.url, keyPrefix: prefix });
    const b = counter({ url: server.url, keyPrefix: prefix });
    const windowMs = 3_600_000; // No boundary in the way.
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 ? a : b).hit('shared', windowMs)));
    // Atomic increments: each count from 1 to 200 seen once (plus the previous window's share, zero here).
    expect(results.map((r) => Math.round(r!)).sort((x, y) => x - y)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(await a.hit('other', windowMs)).toBe(1);
  });

  it('lets keys expire after two windows, and sends one transaction per hit', async () => {
    const prefix = `t:${randomUUID()}:`;
    const own = new Redis(server.url);
    opened.push({ close: async () => own.disconnect() });
    await own.ping();
    const c = counter({ client: own, keyPrefix: prefix });
    const stream = own.stream as unknown as { write: (...args: unknown[]) => boolean };
    const write = vi.spyOn(stream, 'write');
    await c.hit('x', 5000);
    expect(write).toHaveBeenCalledTimes(1); // MULTI ... EXEC in one write: one round trip
    write.mockRestore();
    const keys = await admin.keys(`${prefix}*`);
    expect(keys).toHaveLength(1);
    const pttl = await admin.pttl(keys[0]!);
    expect(pttl).toBeGreaterThan(9000);
    expect(pttl).toBeLessThanOrEqual(10_000);
  });

  it('refuses bad options', () => {
    expect(() => new RedisRateCounter({} as RedisRateCounterOptions)).toThrow(/expected exactly one of url, cluster, sentinels and client in the options of RedisRateCounter/);
    expect(() => new RedisRateCounter({ url: server.url, keyPrefix: 3 as never })).toThrow(/keyPrefix/);
    expect(() => new RedisRateCounter({ url: server.url, now: 3 as never })).toThrow(/for now/);
    expect(() => new RedisRateCounter({ url: server.url, timeoutMs: 0 })).toThrow(/timeoutMs/);
  });

  describe('through outages', () => {
    let down: RedisServer;
    beforeAll(async () => {
      down = await startRedis();
    });
    afterAll(async () => {
      await down?.stop();
    });

    it('answers undefined within the timeout while Redis is down, never throws, and recovers by itself', async () => {
      const errors: Error[] = [];
      const c = counter({ url: down.url, timeoutMs: 500, onError: (e) => errors.push(e) });
      expect(await c.hit('k', 60_000)).toBe(1);
      await down.stop();
      const started = performance.now();
      expect(await c.hit('k', 60_000)).toBeUndefined();
      expect(performance.now() - started).toBeLessThan(2500);
      expect(errors.length).toBeGreaterThan(0);
      await down.restart();
      let count: number | undefined;
      for (const until = performance.now() + 10_000; performance.now() < until; ) {
        count = await c.hit('k', 60_000);
        if (count !== undefined) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(count).toBe(1); // A restarted Redis is empty.
    });

    it('answers undefined when Redis is too slow', async () => {
      const c = counter({ url: down.url, timeoutMs: 200 });
      expect(await c.hit('slow', 60_000)).toBe(1);
      const sleeper = new Redis(down.url);
      const sleeping = sleeper.call('debug', 'sleep', '1');
      await new Promise((resolve) => setTimeout(resolve, 50));
      const started = performance.now();
      expect(await c.hit('slow', 60_000)).toBeUndefined();
      expect(performance.now() - started).toBeLessThan(900);
      await sleeping;
      sleeper.disconnect();
    });

    it('answers undefined once closed', async () => {
      const c = counter({ url: down.url });
      expect(await c.hit('closed', 60_000)).toBe(1);
      await c.close();
      expect(await c.hit('closed', 60_000)).toBeUndefined();
    });
  });
});
