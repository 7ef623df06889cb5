// Issue 16: a store restarted empty (Redis restarted, or a new process with a memory store)
// forgot the spends of challenges still valid, and accepted their replays. A store now knows
// when its memory began, and challenges issued before then are refused.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gate } from '../src/gate/gate.js';
import { MemoryReplayStore } from '../src/storage/memory.js';
import { RedisReplayStore } from '../src/storage/redis.js';
import type { ReplayStore } from '../src/storage/types.js';
import { verifySolution, verifySolutions } from '../src/protocol/verify.js';
import { solve } from '../src/solver/solve.js';
import { SECRET, challengeAt } from './helpers/protocol.js';
import { redisServerPath, startRedis, type RedisServer } from './helpers/redis-server.js';

const NOW = 1_800_000_000_000;

describe('a memory store made after a challenge was issued (a restarted process)', () => {
  it('refuses it as predates_store, one by one and in a batch; a store made before accepts it once', async () => {
    let clock = NOW;
    const before = new MemoryReplayStore({ now: () => clock });
    const challenge = challengeAt({ now: NOW, difficulty: 4 });
    const solution = await solve(challenge, { threads: 1 });
    clock = NOW + 30_000;
    const options = { secret: SECRET, now: clock };
    expect(await verifySolution(challenge, solution, { ...options, store: before })).toMatchObject({ ok: true });
    // The process restarts: its new store has forgotten the spend.
    const restarted = new MemoryReplayStore({ now: () => clock });
    expect(restarted.since).toBe(clock);
    expect(await verifySolution(challenge, solution, { ...options, store: restarted })).toEqual({ ok: false, reason: 'predates_store' });
    expect(await verifySolutions([{ challenge, solution }], { ...options, store: restarted })).toEqual([{ ok: false, reason: 'predates_store' }]);
    // A challenge issued after the restart is accepted.
    const fresh = challengeAt({ now: clock, difficulty: 4 });
    expect(await verifySolution(fresh, await solve(fresh, { threads: 1 }), { ...options, store: restarted })).toMatchObject({ ok: true });
  });

  it('fails closed when the store cannot say when its memory began', async () => {
    const inner = new MemoryReplayStore({ since: 0 });
    const blind: ReplayStore = {
      spend: (i, e) => inner.spend(i, e),
      spendMany: (e) => inner.spendMany(e),
      spendCall: (i, c, e) => inner.spendCall(i, c, e),
      epoch: async () => undefined,
      close: async () => {},
    };
    const challenge = challengeAt({ now: Date.now(), difficulty: 4 });
    const solution = await solve(challenge, { threads: 1 });
    expect(await verifySolution(challenge, solution, { secret: SECRET, store: blind })).toEqual({ ok: false, reason: 'store_unavailable' });
  });
});

const bin = redisServerPath();
describe.skipIf(!bin)(bin ? 'Redis restarted empty' : 'Redis restarted empty (skipped: redis-server not installed)', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('refuses the replay of a challenge spent before the restart', async () => {
    const store = new RedisReplayStore({ url: server.url });
    const admin = new Redis(server.url);
    try {
      const gate = new Gate({ secret: SECRET, difficulty: 4, store });
      const issued = await gate.challenge('client');
      if (!issued.ok) throw new Error(issued.reason);
      const solution = await solve(issued.challenge, { threads: 1 });
      expect(await gate.redeem(issued.challenge, solution)).toMatchObject({ ok: true });
      await admin.flushall(); // what a restart without persistence leaves
      await new Promise((r) => setTimeout(r, 5));
      const replayed = await verifySolution(issued.challenge, solution, { secret: SECRET, store });
      expect(replayed).toEqual({ ok: false, reason: 'predates_store' });
      // Challenges issued after it are served as usual.
      const fresh = await gate.challenge('client');
      if (!fresh.ok) throw new Error(fresh.reason);
      await new Promise((r) => setTimeout(r, 2));
      const later = await gate.challenge('client');
      if (!later.ok) throw new Error(later.reason);
      expect(await gate.redeem(later.challenge, await solve(later.challenge, { threads: 1 }))).toMatchObject({ ok: true });
    } finally {
      admin.disconnect();
      await store.close();
    }
  });
});
