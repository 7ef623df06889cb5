// A token's calls: spent once per gated call, atomically, never more than its allowance;
// bundles cost N times the work of one call; doors charge their own price.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gate, MAX_CALLS, MemoryReplayStore, RedisReplayStore, issueToken, solve, type Challenge, type ReplayStore } from '../src/index.js';
import { parseChallenge } from '../src/protocol/challenge.js';
import { thresholdForSteps } from '../src/protocol/difficulty.js';
import { meetsThreshold, workMessage } from '../src/protocol/work.js';
import { expectCode } from './helpers/errors.js';
import { SECRET } from './helpers/protocol.js';
import { redisServerPath, startRedis, type RedisServer } from './helpers/redis-server.js';

function spendCallSuite(name: string, make: () => ReplayStore) {
  describe(`${name}: spendCall`, () => {
    it('counts 1 to calls, then refuses token_exhausted; tokens are counted apart', async () => {
      const store = make();
      const until = Date.now() + 60_000;
      const used = [];
      for (let i = 0; i < 5; i++) used.push(await store.spendCall('token-a', 3, until));
      expect(used).toEqual([
        { ok: true, used: 1 },
        { ok: true, used: 2 },
        { ok: true, used: 3 },
        { ok: false, reason: 'token_exhausted' },
        { ok: false, reason: 'token_exhausted' },
      ]);
      expect(await store.spendCall('token-b', 1, until)).toEqual({ ok: true, used: 1 });
      expect(await store.spendCall('token-a', 3, Date.now() - 1)).toEqual({ ok: false, reason: 'token_exhausted' });
    });

    it('never passes more than the allowance under 1,000 concurrent calls', async () => {
      const store = make();
      const until = Date.now() + 60_000;
      const results = await Promise.all(Array.from({ length: 1_000 }, () => store.spendCall('busy', 250, until)));
      const passed = results.filter((r) => r.ok) as { used: number }[];
      expect(passed.length).toBe(250);
      expect(new Set(passed.map((r) => r.used)).size).toBe(250);
    });

    it('keeps a count for the longest life asked for: a later expiry extends it, an earlier never shortens it', async () => {
      const store = make();
      const now = Date.now();
      expect(await store.spendCall('lives', 3, now + 200)).toEqual({ ok: true, used: 1 });
      expect(await store.spendCall('lives', 3, now + 60_000)).toEqual({ ok: true, used: 2 });
      expect(await store.spendCall('lives', 3, now + 100)).toEqual({ ok: true, used: 3 });
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(await store.spendCall('lives', 3, Date.now() + 200)).toEqual({ ok: false, reason: 'token_exhausted' });
    });

    it('refuses bad arguments with ERR_INVALID_ARGUMENT', async () => {
      const store = make();
      for (const [id, calls, until] of [
        ['', 1, 1],
        ['x', 0, 1],
        ['x', 1.5, 1],
        ['x', 2 ** 32, 1],
        ['x', 1, NaN],
        [7, 1, 1],
      ] as const) {
        await expect(store.spendCall(id as string, calls, until)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
      }
    });
  });
}

spendCallSuite('MemoryReplayStore', () => new MemoryReplayStore());

describe('MemoryReplayStore: counted tokens are bounded and forgotten when they expire', () => {
  it('when full, forgets the oldest count for a newer token and refuses what expires no later: never a call too many', async () => {
    let now = 1_000_000;
    const store = new MemoryReplayStore({ maxTokens: 2, now: () => now });
    expect((await store.spendCall('a', 5, now + 100)).ok).toBe(true);
    expect((await store.spendCall('b', 5, now + 200)).ok).toBe(true);
    // A newer token is counted: 'a' (the oldest) is forgotten, and refused from then on.
    expect(await store.spendCall('c', 5, now + 300)).toEqual({ ok: true, used: 1 });
    expect(await store.spendCall('a', 5, now + 100)).toEqual({ ok: false, reason: 'store_full' });
    expect(await store.spendCall('x', 5, now + 90)).toEqual({ ok: false, reason: 'store_full' });
    // Not newer than the oldest held ('b'): refused rather than forget it.
    expect(await store.spendCall('y', 5, now + 150)).toEqual({ ok: false, reason: 'store_full' });
    expect(await store.spendCall('b', 5, now + 200)).toEqual({ ok: true, used: 2 });
    now += 250;
    expect(await store.spendCall('d', 5, now + 300)).toEqual({ ok: true, used: 1 });
  });

  it('a flood of tokens does not lock out a client with a newer one (the lock-out of issue 16)', async () => {
    let now = 1_000_000;
    const store = new MemoryReplayStore({ maxTokens: 100, now: () => now });
    for (let i = 0; i < 100; i++) expect((await store.spendCall(`flood${i}`, 1, now + 300_000)).ok).toBe(true);
    now += 1000;
    expect(await store.spendCall('honest', 3, now + 300_000)).toEqual({ ok: true, used: 1 });
    expect(await store.spendCall('honest', 3, now + 300_000)).toEqual({ ok: true, used: 2 });
    // No flood token gains a call: held ones are exhausted, the forgotten one is refused.
    for (let i = 0; i < 100; i++) expect((await store.spendCall(`flood${i}`, 1, now - 1000 + 300_000)).ok).toBe(false);
  });
});

const bin = redisServerPath();
describe.skipIf(!bin)('RedisReplayStore (a real redis-server)', () => {
  let server: RedisServer;
  const stores: RedisReplayStore[] = [];
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await server?.stop();
  });
  // Two connections, alternating: the count must be atomic across them.
  spendCallSuite('RedisReplayStore', () => {
    const keyPrefix = `t${Math.random()}:`;
    const a = new RedisReplayStore({ url: server.url, keyPrefix });
    const b = new RedisReplayStore({ url: server.url, keyPrefix });
    stores.push(a, b);
    let n = 0;
    return { spend: a.spend.bind(a), spendMany: a.spendMany.bind(a), spendCall: (id, calls, until) => (n++ % 2 ? a : b).spendCall(id, calls, until), close: async () => {} };
  });

  it('forgets a count when the token expires (the key has its lifetime)', async () => {
    const store = new RedisReplayStore({ url: server.url });
    stores.push(store);
    expect(await store.spendCall('short', 1, Date.now() + 150)).toEqual({ ok: true, used: 1 });
    expect(await store.spendCall('short', 1, Date.now() + 150)).toEqual({ ok: false, reason: 'token_exhausted' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await store.spendCall('short', 1, Date.now() + 150)).toEqual({ ok: true, used: 1 });
  });
});

describe("Gate: every gated call spends one of the token's calls", () => {
  it('passes exactly the allowance of 1,000 concurrent calls with one token', async () => {
    const gate = new Gate({ secret: SECRET, difficulty: 8, scopes: { api: undefined } });
    const token = issueToken({ secret: SECRET, scope: 'api', calls: 100, price: 8 });
    const results = await Promise.all(Array.from({ length: 1_000 }, () => gate.useToken(token, { scope: 'api' })));
    expect(results.filter((r) => r.ok).length).toBe(100);
    expect(results.filter((r) => !r.ok && r.reason === 'token_exhausted').length).toBe(900);
  });

  it("charges each door its own price: a cheap door's token does not open a dear one, and a client names only declared doors", async () => {
    // Two gates sharing a secret: one sells a cheap tool, the other a dear one.
    const cheap = new Gate({ secret: SECRET, difficulty: 4, scopes: { cheap: undefined } });
    const dear = new Gate({ secret: SECRET, difficulty: 4, scopes: { dear: 12, cheap: undefined } });
    expect(await cheap.challenge('c', { scope: 'dear' })).toMatchObject({ ok: false, reason: 'unknown_scope' });
    expect(await cheap.challenge('c', { scope: 'admin' })).toMatchObject({ ok: false, reason: 'unknown_scope' });
    const issued = (await dear.challenge('c', { scope: 'dear' })) as { challenge: Challenge };
    expect(issued.challenge).toMatchObject({ difficulty: 12, price: 12, calls: 1 });
    // A token that claims the dear scope but paid the cheap price is refused by the dear door.
    const underpaid = issueToken({ secret: SECRET, scope: 'dear', price: 4 });
    expect(await dear.useToken(underpaid, { scope: 'dear' })).toEqual({ ok: false, reason: 'price_too_low' });
    expect(await cheap.useToken(underpaid, { scope: 'dear', anyScope: true })).toEqual({ ok: false, reason: 'scope_mismatch' });
    const paid = issueToken({ secret: SECRET, scope: 'dear', price: 12 });
    expect((await dear.useToken(paid, { scope: 'dear' })).ok).toBe(true);
    expect(() => dear.door('dear', 13)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    dear.door('dear', 12);
    dear.door('dear');
    expect(dear.doors()).toEqual([
      { scope: '', difficulty: 4, price: 4 },
      { scope: 'dear', difficulty: 12, price: 12 },
      { scope: 'cheap', difficulty: 4, price: 4 },
    ]);
  });

  it('refuses hostile numbers of calls and prices them exactly: difficulty + log2(N), the price per call unchanged', async () => {
    const gate = new Gate({ secret: SECRET, difficulty: 10, maxCalls: 64, subPuzzles: 4 });
    for (const calls of [0, -1, 1.5, 65, NaN, Infinity, 2 ** 53, '2', null, {}]) {
      expect(await gate.challenge('c', { calls: calls as number }), String(calls)).toMatchObject({ ok: false, reason: 'calls_out_of_range' });
    }
    for (const calls of [1, 2, 3, 8, 64]) {
      const { challenge } = (await gate.challenge('c', { calls })) as { challenge: Challenge };
      const steps = Math.round((10 + Math.log2(calls)) * 65536);
      expect(challenge).toMatchObject({ calls, subPuzzles: 4, difficulty: steps / 65536, price: 12 });
      // Work: the threshold of N calls is the one-call threshold divided by N (exactly, for powers of two).
      if (Number.isInteger(Math.log2(calls))) expect(parseChallenge(challenge)!.threshold).toBe(thresholdForSteps(10 * 65536) / BigInt(calls));
    }
    expectCode(() => new Gate({ secret: SECRET, maxCalls: 0 }), 'ERR_INVALID_ARGUMENT');
    // Every challenge a gate may issue stays within the protocol's 64 bits, bundles included.
    expectCode(() => new Gate({ secret: SECRET, difficulty: { base: 40, max: 62 }, maxCalls: 8 }), 'ERR_INVALID_ARGUMENT');
    expectCode(() => new Gate({ secret: SECRET, difficulty: 10, maxCalls: 1024, scopes: { dear: 55 } }), 'ERR_INVALID_ARGUMENT');
    expect(new Gate({ secret: SECRET, difficulty: { base: 40, max: 61 }, maxCalls: 8 }).maxCalls).toBe(8);
    expectCode(() => new Gate({ secret: SECRET, maxCalls: 4, calls: 5 }), 'ERR_INVALID_ARGUMENT');
  });

  it('issues a challenge for every number of calls its maxCalls allows, up to MAX_CALLS (the rate counter counts them all)', async () => {
    const gate = new Gate({ secret: SECRET, difficulty: { base: 8, max: 30 }, maxCalls: MAX_CALLS });
    expect(await gate.challenge('c', { calls: MAX_CALLS })).toMatchObject({ ok: true, challenge: { calls: MAX_CALLS } });
    expect(await gate.challenge('c', { calls: MAX_CALLS + 1 })).toMatchObject({ ok: false, reason: 'calls_out_of_range' });
  });

  it('a bundle costs N times the work of one call: mean hashes to solve, per call, against 2^d (node:crypto counts)', async () => {
    const gate = new Gate({ secret: SECRET, difficulty: 5, maxCalls: 16 });
    const SAMPLES = 300;
    for (const calls of [1, 4, 16]) {
      let hashes = 0;
      for (let i = 0; i < SAMPLES; i++) {
        const parsed = parseChallenge(((await gate.challenge('c', { calls })) as { challenge: Challenge }).challenge)!;
        let nonce = 0n;
        while (
          !meetsThreshold(
            createHash('sha256')
              .update(workMessage(parsed.signature, 0, nonce))
              .digest(),
            0,
            parsed.threshold,
          )
        )
          nonce++;
        hashes += Number(nonce) + 1;
      }
      // Hashes to a solution are geometric with mean 2^(d + log2 N) = 32 N; the sample mean's sd is about 32 N / sqrt(SAMPLES).
      const perCall = hashes / SAMPLES / calls;
      expect(Math.abs(perCall - 32) / (32 / Math.sqrt(SAMPLES)), `${calls} calls: ${perCall.toFixed(1)} hashes per call`).toBeLessThan(5);
    }
  });

  it('solves and redeems a bundle into a token of N calls at the per-call price', async () => {
    const gate = new Gate({ secret: SECRET, difficulty: 4, scopes: { api: undefined } });
    const { challenge } = (await gate.challenge('c', { scope: 'api', calls: 3 })) as { challenge: Challenge };
    const redeemed = await gate.redeem(challenge, await solve(challenge, { threads: 1 }));
    expect(redeemed).toMatchObject({ ok: true, calls: 3, price: 4, scope: 'api' });
    const token = (redeemed as { token: string }).token;
    const used = [];
    for (let i = 0; i < 4; i++) {
      const r = await gate.useToken(token, { scope: 'api' });
      used.push(r.ok ? r.grant.used : r.reason);
    }
    expect(used).toEqual([1, 2, 3, 'token_exhausted']);
  });
});
