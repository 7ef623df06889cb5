// powgate on a real Redis Cluster: three masters started on loopback and joined with
// `redis-cli --cluster create`. Spends and counted calls stay atomic across stores and
// across two `powgate serve --redis-cluster` processes; every key a command touches
// together shares one hash slot, while clients' rate keys spread over the masters.
// Skipped, visibly, where redis-server is not installed.
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisRateCounter } from '../src/storage/redis-rate-counter.js';
import { RedisReplayStore } from '../src/storage/redis.js';
import { CLI_SECRET, runCli } from './helpers/cli.js';
import { post, request, startServe, type ServeProcess } from './helpers/http.js';
import { type RedisCluster, ask, startRedisCluster } from './helpers/redis-cluster.js';
import { freePort, redisServerPath } from './helpers/redis-server.js';
import { distinctSolutions } from './helpers/solutions.js';

const bin = redisServerPath();
const reason = bin ? '' : ' (skipped: redis-server is not installed)';
if (!bin) console.warn('powgate tests: redis-server is not installed, so the Redis Cluster tests are skipped');

const inAMinute = () => Date.now() + 60_000;
let serial = 0;
const id = () => `cluster-${process.pid}-${++serial}`;

describe.skipIf(!bin)(`powgate on a Redis Cluster of three masters${reason}`, () => {
  let cluster: RedisCluster;
  const closing: { close(): Promise<void> }[] = [];
  const store = (seed: number, extra: Record<string, unknown> = {}) => {
    const made = new RedisReplayStore({ cluster: [cluster.nodes[seed]!], timeoutMs: 5000, ...extra });
    closing.push(made);
    return made;
  };
  const counter = (seed: number) => {
    const made = new RedisRateCounter({ cluster: [cluster.nodes[seed]!], timeoutMs: 5000 });
    closing.push(made);
    return made;
  };
  /** Keys held by each master. */
  const sizes = async () => Promise.all(cluster.nodes.map(async ({ port }) => Number(await ask(port, 'dbsize'))));

  beforeAll(async () => {
    cluster = await startRedisCluster();
  }, 90_000);

  afterAll(async () => {
    await Promise.all(closing.map((c) => c.close()));
    await cluster?.stop();
  });

  it('spends atomically across two stores seeded by different masters, all in one slot', async () => {
    const [a, b] = [store(0), store(2)];
    const ids = Array.from({ length: 20 }, id);
    // Every id ten times, alternating stores, all at once: each accepted exactly once.
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 ? a : b).spend(ids[i % 20]!, inAMinute())));
    expect(results.filter((r) => r === 'spent')).toHaveLength(20);
    expect(results.filter((r) => r === 'replayed')).toHaveLength(180);
    const spentBy = new Map<string, number>();
    results.forEach((r, i) => r === 'spent' && spentBy.set(ids[i % 20]!, (spentBy.get(ids[i % 20]!) ?? 0) + 1));
    expect([...spentBy.values()]).toEqual(ids.map(() => 1));
    // A batch (one pipeline to one node) mixes new and spent ids.
    const fresh = id();
    expect(
      await b.spendMany([
        { id: ids[0]!, expiresAt: inAMinute() },
        { id: fresh, expiresAt: inAMinute() },
      ]),
    ).toEqual(['replayed', 'spent']);
    // Every key in the {powgate} slot, held by one master.
    const slots = new Set(await Promise.all([...ids, fresh, 'epoch'].map((k) => ask(cluster.nodes[0]!.port, 'cluster', 'keyslot', `{powgate}:spent:${k}`))));
    expect(slots.size).toBe(1);
    expect((await sizes()).filter((n) => n > 0)).toHaveLength(1);
  });

  it("counts a token's calls atomically across both stores, and agrees on the epoch", async () => {
    const [a, b] = [store(1), store(2)];
    const token = id();
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).spendCall(token, 5, inAMinute())));
    expect(results.filter((r) => r.ok)).toHaveLength(5);
    expect(
      results
        .filter((r) => r.ok)
        .map((r) => (r as { used: number }).used)
        .sort((x, y) => x - y),
    ).toEqual([1, 2, 3, 4, 5]);
    expect(results.filter((r) => !r.ok).every((r) => (r as { reason: string }).reason === 'token_exhausted')).toBe(true);
    const [first, second] = await Promise.all([a.epoch(), b.epoch()]);
    expect(first).toBeTypeOf('number');
    expect(second).toBe(first);
    // A redemption's record comes back to whoever comes second, on either store.
    const redeemed = id();
    expect(await a.spendRecorded(redeemed, inAMinute(), 'record-1')).toEqual({ result: 'spent' });
    expect(await b.spendRecorded(redeemed, inAMinute(), 'record-2')).toEqual({ result: 'replayed', record: 'record-1' });
  });

  it('waits for replicas when told to: on masters without any, a spend is refused, never counted as spent', async () => {
    const errors: Error[] = [];
    const waiting = store(1, { waitReplicas: 1, timeoutMs: 400, onError: (e: Error) => errors.push(e) });
    const one = id();
    expect(await waiting.spend(one, inAMinute())).toBe('store_unavailable');
    expect(await waiting.spendCall(id(), 3, inAMinute())).toEqual({ ok: false, reason: 'store_unavailable' });
    expect(errors.length).toBeGreaterThan(0);
    // The id was written all the same (the safe side): a store that does not wait finds it spent.
    expect(await store(0).spend(one, inAMinute())).toBe('replayed');
  });

  it("counts rates across counters, each client's windows in one slot and clients spread over the masters", async () => {
    const [a, b] = [counter(0), counter(1)];
    const before = await sizes();
    expect(await a.hit('alice', 60_000)).toBe(1);
    expect(await b.hit('alice', 60_000)).toBeGreaterThanOrEqual(2); // 2, or more with the previous window's share
    expect(await b.hit('bob', 60_000, 3)).toBeGreaterThanOrEqual(3);
    await Promise.all(Array.from({ length: 30 }, (_, i) => a.hit(`client-${i}`, 60_000)));
    const after = await sizes();
    // Each master gained rate keys: the transaction (MULTI over two windows) ran on all three.
    expect(after.map((n, i) => n - before[i]!).every((gained) => gained > 0)).toBe(true);
    const slot = (key: string) => ask(cluster.nodes[0]!.port, 'cluster', 'keyslot', key);
    expect(await slot('powgate:rate:{k:alice}:0')).toBe(await slot('powgate:rate:{k:alice}:60000'));
  });

  it('refuses an untagged key prefix on a Cluster before anything connects; a given Cluster client works', async () => {
    const client = new Cluster(cluster.nodes, { enableOfflineQueue: false, redisOptions: { maxRetriesPerRequest: 0 } });
    client.on('error', () => {});
    try {
      expect(() => new RedisReplayStore({ client, keyPrefix: 'powgate:spent:' })).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringMatching(/needs a hash tag in the keyPrefix/) }),
      );
      expect(() => new RedisReplayStore({ cluster: cluster.nodes, keyPrefix: 'spent:' })).toThrow(/needs a hash tag/);
      await new Promise((resolve) => client.once('ready', resolve));
      const given = new RedisReplayStore({ client, keyPrefix: '{other}:spent:' });
      const one = id();
      expect(await given.spend(one, inAMinute())).toBe('spent');
      expect(await given.spend(one, inAMinute())).toBe('replayed');
      expect(await client.exists(`{other}:spent:${one}`)).toBe(1);
      await given.close(); // Leaves the caller's client open.
      expect(await client.ping()).toBe('PONG');
    } finally {
      client.disconnect();
    }
  });

  describe('two powgate serve --redis-cluster processes', () => {
    let servers: ServeProcess[] = [];

    beforeAll(async () => {
      // Each seeded by a different master: the cluster's map, not the seed, says where keys go.
      servers = await Promise.all([0, 2].map((seed) => startServe(['--redis-cluster', `127.0.0.1:${cluster.nodes[seed]!.port}`, '--difficulty', '2', '--log-level', 'warn'])));
    }, 40_000);

    afterAll(async () => {
      const codes = await Promise.all(servers.map((s) => s.stop()));
      expect(codes).toEqual(codes.map(() => 0));
      for (const s of servers) expect(s.lines.join('\n')).not.toContain(CLI_SECRET);
    });

    it("accepts one of many racing solutions once, and counts a token's calls once, across both", async () => {
      const [a, b] = servers.map((s) => s.url) as [string, string];
      expect((await request(a, '/api/status')).json).toMatchObject({ store: 'redis', counter: 'redis' });
      expect((await request(b, '/healthz')).json).toMatchObject({ store: 'up', counter: 'up' });
      const issued = await post(a, '/api/challenge', { calls: 5 });
      expect(issued.status, issued.text).toBe(200);
      const challenge = issued.json.challenge;
      const solutions = await distinctSolutions(challenge, 8, CLI_SECRET);
      // Each solution twice (a retry is answered with the same token), to either server, at once.
      const replies = await Promise.all(Array.from({ length: 16 }, (_, i) => post(i % 2 ? a : b, '/api/verify', { challenge, solution: solutions[i % 8] })));
      const accepted = replies.filter((r) => r.status === 200);
      const tokens = new Set(accepted.map((r) => r.json.token));
      expect(tokens.size, replies.map((r) => r.text).join('\n')).toBe(1);
      expect(accepted.length).toBeLessThanOrEqual(2); // The winner and, if it came later, its retry.
      expect(replies.filter((r) => r.status !== 200).every((r) => r.json.error === 'replayed')).toBe(true);
      // The token's five calls, spent from both servers at once: five pass, the rest are refused.
      const [token] = tokens;
      const uses = await Promise.all(Array.from({ length: 20 }, (_, i) => post(i % 2 ? a : b, '/api/token/verify', { token })));
      expect(uses.every((r) => r.status === 200)).toBe(true);
      expect(uses.filter((r) => r.json.valid === true)).toHaveLength(5);
      expect(uses.filter((r) => r.json.valid === false).map((r) => r.json.reason)).toEqual(Array(15).fill('token_exhausted'));
    });
  });

  it('stops powgate serve at start, with a clear message, when no seed answers', async () => {
    const port = await freePort();
    const result = await runCli(['serve', '--port', '0', '--redis-cluster', `127.0.0.1:${port}`], { env: { POWGATE_REDIS_PASSWORD: 'hunter2-secret' } });
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toContain(`cannot reach the Redis Cluster at 127.0.0.1:${port} within 10 s`);
    expect(result.stdout + result.stderr).not.toContain('hunter2-secret');
  }, 30_000);
});
