// RedisReplayStore against a real redis-server: the same semantics as the
// memory store, atomic across stores, and fail-closed through outages.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { RedisReplayStore, type RedisReplayStoreOptions } from '../src/storage/redis.js';
import { type RedisServer, redisServerPath, startRedis } from './helpers/redis-server.js';

const bin = redisServerPath();
if (!bin) console.warn('powgate tests: redis-server is not installed, so the RedisReplayStore tests are skipped');

const id = () => randomUUID();
const inAMinute = () => Date.now() + 60_000;

async function timed<T>(promise: Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await promise;
  return { value, ms: performance.now() - started };
}

/** Spends fresh ids until one is accepted; how long that took. */
async function recovery(store: RedisReplayStore, limitMs = 10_000): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < limitMs) {
    if ((await store.spend(id(), inAMinute())) === 'spent') return performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no recovery within ${limitMs} ms`);
}

/** Stores and clients made by a test, closed after it. */
const opened: { close(): Promise<void> }[] = [];
function store(options: RedisReplayStoreOptions): RedisReplayStore {
  const made = new RedisReplayStore(options);
  opened.push(made);
  return made;
}
function client(url: string): Redis {
  const made = new Redis(url);
  made.on('error', () => {}); // The test's own client; the store never touches its listeners.
  opened.push({ close: async () => made.disconnect() });
  return made;
}
afterEach(async () => {
  await Promise.all(opened.splice(0).map((o) => o.close()));
});

describe.skipIf(!bin)(bin ? 'RedisReplayStore' : 'RedisReplayStore (skipped: redis-server not installed)', () => {
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

  it('accepts an id once, then reports it replayed', async () => {
    const s = store({ url: server.url });
    const a = id();
    expect(await s.spend(a, inAMinute())).toBe('spent');
    expect(await s.spend(a, inAMinute())).toBe('replayed');
    expect(await s.spend(id(), inAMinute())).toBe('spent');
  });

  it('keeps the key until expiresAt, then lets the id be spent again', async () => {
    const s = store({ url: server.url });
    const a = id();
    const expiresAt = Date.now() + 60_000;
    expect(await s.spend(a, expiresAt)).toBe('spent');
    expect(await admin.get(`powgate:spent:${a}`)).toBe('1');
    expect(Math.abs((await admin.pexpiretime(`powgate:spent:${a}`)) - expiresAt)).toBeLessThanOrEqual(50);
    const pttl = await admin.pttl(`powgate:spent:${a}`);
    expect(pttl).toBeGreaterThan(55_000);
    expect(pttl).toBeLessThanOrEqual(60_000);

    const b = id();
    expect(await s.spend(b, Date.now() + 300)).toBe('spent');
    expect(await s.spend(b, Date.now() + 300)).toBe('replayed');
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await s.spend(b, inAMinute())).toBe('spent');
  });

  it('keeps nothing for an expiresAt already past (and rounds fractions up)', async () => {
    const s = store({ url: server.url });
    const a = id();
    const pause = () => new Promise((r) => setTimeout(r, 5)); // a past expiresAt is kept for the minimum, 1 ms
    expect(await s.spend(a, Date.now() - 1000)).toBe('spent');
    await pause();
    expect(await s.spend(a, -5)).toBe('spent');
    await pause();
    expect(await admin.exists(`powgate:spent:${a}`)).toBe(0);
    const expiresAt = Date.now() + 60_000.2;
    expect(await s.spend(a, expiresAt)).toBe('spent');
    // Sent as a ttl from this process's clock; Redis, on the same machine, lands on the same instant.
    const at = await admin.pexpiretime(`powgate:spent:${a}`);
    expect(at).toBeGreaterThanOrEqual(Math.ceil(expiresAt) - 50);
    expect(at).toBeLessThanOrEqual(Math.ceil(expiresAt) + 50);
  });

  it('keeps stores with different key prefixes apart', async () => {
    const a = id();
    expect(await store({ url: server.url, keyPrefix: 'one:' }).spend(a, inAMinute())).toBe('spent');
    expect(await store({ url: server.url, keyPrefix: 'two:' }).spend(a, inAMinute())).toBe('spent');
    expect(await admin.exists(`one:${a}`, `two:${a}`)).toBe(2);
  });

  it('accepts exactly one of 1000 concurrent spends of the same id', async () => {
    const s = store({ url: server.url });
    const a = id();
    const results = await Promise.all(Array.from({ length: 1000 }, () => s.spend(a, inAMinute())));
    expect(results.filter((r) => r === 'spent')).toHaveLength(1);
    expect(results.filter((r) => r === 'replayed')).toHaveLength(999);
  });

  it('accepts exactly one of 1000 concurrent spends across two stores and connections', async () => {
    const stores = [store({ url: server.url }), store({ client: client(server.url) })];
    const a = id();
    const results = await Promise.all(Array.from({ length: 1000 }, (_, i) => stores[i % 2]!.spend(a, inAMinute())));
    expect(results.filter((r) => r === 'spent')).toHaveLength(1);
    expect(results.filter((r) => r === 'replayed')).toHaveLength(999);
  });

  it('spends a batch in input order, only the first of duplicates', async () => {
    const s = store({ url: server.url });
    const [a, b, c, old] = [id(), id(), id(), id()];
    await s.spend(old, inAMinute());
    const ids = [a, b, a, old, c, b];
    expect(await s.spendMany(ids.map((x) => ({ id: x, expiresAt: inAMinute() })))).toEqual(['spent', 'spent', 'replayed', 'replayed', 'spent', 'replayed']);
    expect(await s.spendMany([])).toEqual([]);
  });

  it('sends a batch in one write, and spends 10,000 ids at once', async () => {
    const own = client(server.url);
    await own.ping();
    const s = store({ client: own, timeoutMs: 10_000 });
    const stream = own.stream as unknown as { write: (...args: unknown[]) => boolean };
    const write = vi.spyOn(stream, 'write');
    const entries = Array.from({ length: 10_000 }, () => ({ id: id(), expiresAt: inAMinute() }));
    const first = await timed(s.spendMany(entries));
    expect(write).toHaveBeenCalledTimes(1);
    expect(first.value.every((r) => r === 'spent')).toBe(true);
    expect((await s.spendMany(entries)).every((r) => r === 'replayed')).toBe(true);
    expect(first.ms).toBeLessThan(5000);
    write.mockRestore();
  });

  it("leaves a caller's client open on close, and answers store_unavailable once closed", async () => {
    const own = client(server.url);
    const mine = store({ client: own });
    const made = store({ url: server.url });
    expect(await made.spend(id(), inAMinute())).toBe('spent');
    await mine.close();
    await made.close();
    await made.close();
    expect(await own.ping()).toBe('PONG');
    expect(await mine.spend(id(), inAMinute())).toBe('store_unavailable');
    expect(await made.spendMany([{ id: id(), expiresAt: inAMinute() }])).toEqual(['store_unavailable']);
    await new RedisReplayStore({ url: server.url }).close(); // Never used: nothing to disconnect.
  });

  it('refuses bad options and arguments with ERR_INVALID_ARGUMENT', async () => {
    const bad = (options: unknown, message: RegExp) => {
      expect(() => new RedisReplayStore(options as RedisReplayStoreOptions)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringMatching(message) }),
      );
    };
    bad({}, /expected exactly one of url, cluster, sentinels and client/);
    bad({ url: server.url, client: admin }, /expected exactly one of url, cluster, sentinels and client/);
    bad(undefined, /expected exactly one of url, cluster, sentinels and client/);
    bad('redis://x', /expected an object for options but received a string/);
    bad({ url: '' }, /expected a non-empty string for url but received a string of length 0/);
    bad({ client: {} }, /expected an ioredis Redis or Cluster instance for client but received an object/);
    bad({ url: server.url, cluster: [{ host: '127.0.0.1', port: 1 }] }, /expected exactly one of url, cluster, sentinels and client/);
    bad({ cluster: [] }, /expected an array of 1 to 64 \{ host, port \} for cluster/);
    bad({ cluster: [{ host: '127.0.0.1', port: 0 }] }, /for cluster\[0\]\.port but received the number 0/);
    bad({ cluster: ['127.0.0.1:7000'] }, /expected an object for cluster\[0\]/);
    // Untagged, a batch of spends would span slots (and nodes): refused before anything connects.
    bad({ cluster: [{ host: '127.0.0.1', port: 7000 }], keyPrefix: 'powgate:spent:' }, /a Redis Cluster needs a hash tag in the keyPrefix/);
    bad({ cluster: [{ host: '127.0.0.1', port: 7000 }], keyPrefix: 'powgate:{}:' }, /a Redis Cluster needs a hash tag/);
    bad({ cluster: [{ host: '127.0.0.1', port: 7000 }], masterName: 'm' }, /masterName goes with sentinels/);
    bad({ sentinels: [{ host: '127.0.0.1', port: 26379 }] }, /for masterName but received undefined/);
    bad({ url: server.url, password: '' }, /expected a non-empty string for password/);
    bad({ url: server.url, waitReplicas: 17 }, /expected an integer from 0 to 16 for waitReplicas/);
    bad({ url: server.url, keyPrefix: 1 }, /expected a string for keyPrefix but received the number 1/);
    bad({ url: server.url, timeoutMs: 0 }, /expected an integer from 1 to 60000 for timeoutMs but received the number 0/);
    bad({ url: server.url, onError: 'log' }, /expected a function for onError/);
    const s = store({ url: server.url });
    await expect(s.spend('', inAMinute())).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: /for id/ });
    await expect(s.spendMany([{ id: 'a', expiresAt: Number.NaN }])).rejects.toMatchObject({ message: /for entries\[0\]\.expiresAt/ });
  });

  it("never puts the url's password in a message or a reported error", async () => {
    const errors: Error[] = [];
    const s = store({ url: 'redis://:hunter2@127.0.0.1:1', timeoutMs: 300, onError: (e) => errors.push(e) });
    expect(await s.spend(id(), inAMinute())).toBe('store_unavailable');
    expect(errors.length).toBeGreaterThan(0);
    for (const error of errors) expect(`${error.message}\n${error.stack}`).not.toContain('hunter2');
    expect(() => new RedisReplayStore({ url: 1 as never })).toThrow(/for url but received the number 1/);
  });

  describe('through outages', () => {
    let down: RedisServer;
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    beforeAll(async () => {
      down = await startRedis();
      process.on('unhandledRejection', onUnhandled);
    });
    afterEach(async () => {
      await down.restart(); // Each test starts with the server up.
      expect(unhandled).toEqual([]);
    });
    afterAll(async () => {
      process.off('unhandledRejection', onUnhandled);
      await down?.stop();
    });

    it('answers store_unavailable within the timeout while Redis is down, and recovers by itself', async () => {
      const errors: Error[] = [];
      const consoleError = vi.spyOn(console, 'error');
      const s = store({ url: down.url, timeoutMs: 1000, onError: (e) => errors.push(e) });
      const a = id();
      expect(await s.spend(a, inAMinute())).toBe('spent');
      await down.stop();
      const single = await timed(s.spend(id(), inAMinute()));
      expect(single.value).toBe('store_unavailable');
      expect(single.ms).toBeLessThan(3000);
      const batch = await timed(
        s.spendMany([
          { id: id(), expiresAt: inAMinute() },
          { id: a, expiresAt: inAMinute() },
        ]),
      );
      expect(batch.value).toEqual(['store_unavailable', 'store_unavailable']);
      expect(batch.ms).toBeLessThan(3000);
      expect(errors.length).toBeGreaterThan(0);
      await down.restart();
      expect(await recovery(s)).toBeLessThan(5000);
      expect(consoleError).not.toHaveBeenCalled();
      consoleError.mockRestore();
    });

    it("does the same with a caller's client on ioredis defaults (offline queue, retries)", async () => {
      const s = store({ client: client(down.url), timeoutMs: 1000 });
      expect(await s.spend(id(), inAMinute())).toBe('spent');
      await down.stop();
      for (let i = 0; i < 3; i++) {
        const { value, ms } = await timed(s.spend(id(), inAMinute()));
        expect(value).toBe('store_unavailable');
        expect(ms).toBeLessThan(3000);
      }
      await down.restart();
      expect(await recovery(s)).toBeLessThan(5000);
    });

    it('answers store_unavailable when Redis is down from the start, then connects when it comes up', async () => {
      await down.stop();
      const s = store({ url: down.url, timeoutMs: 1000 });
      const { value, ms } = await timed(s.spend(id(), inAMinute()));
      expect(value).toBe('store_unavailable');
      expect(ms).toBeLessThan(3000);
      await down.restart();
      expect(await recovery(s)).toBeLessThan(5000);
    });

    it('answers store_unavailable when Redis is too slow, and fails closed if it applies the spend later', async () => {
      const s = store({ url: down.url, timeoutMs: 300 });
      expect(await s.spend(id(), inAMinute())).toBe('spent');
      const sleeper = client(down.url);
      const sleeping = sleeper.call('debug', 'sleep', '2');
      await new Promise((resolve) => setTimeout(resolve, 100));
      const late = id();
      const { value, ms } = await timed(s.spend(late, inAMinute()));
      expect(value).toBe('store_unavailable');
      expect(ms).toBeLessThan(1200); // Redis answers only after 2 s.
      await sleeping;
      expect(await s.spend(late, inAMinute())).toBe('replayed');
      expect(await s.spend(id(), inAMinute())).toBe('spent');
    });
  });
});

describe('RedisReplayStore without ioredis installed', () => {
  afterEach(() => {
    vi.doUnmock('ioredis');
    vi.resetModules();
  });

  it('rejects its first use with ERR_REDIS_CLIENT_MISSING', async () => {
    vi.resetModules();
    vi.doMock('ioredis', () => {
      throw new Error("Cannot find package 'ioredis'");
    });
    const { RedisReplayStore: Fresh } = await import('../src/storage/redis.js');
    const { PowgateError: FreshError } = await import('../src/errors.js');
    const s = new Fresh({ url: 'redis://127.0.0.1:1' });
    const error = await s.spend('a', inAMinute()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FreshError);
    expect(error).toMatchObject({ code: 'ERR_REDIS_CLIENT_MISSING', message: /install ioredis/ });
    await s.close();
  });
});
