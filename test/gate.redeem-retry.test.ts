// Issue 16: a slow Redis made a redemption answer 503 while Redis applied the spend later, so the
// retry got 'replayed' and the client had to solve again. A retried redemption of the same
// challenge and solution now gets the same token back; another solution of it stays 'replayed'.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gate } from '../src/gate/gate.js';
import type { Challenge } from '../src/protocol/challenge.js';
import { MemoryReplayStore } from '../src/storage/memory.js';
import { RedisReplayStore } from '../src/storage/redis.js';
import type { RecordedSpend, ReplayStore } from '../src/storage/types.js';
import type { Solution } from '../src/protocol/solution.js';
import { SECRET, anotherSolution, solvedPair } from './helpers/protocol.js';
import { redisServerPath, startRedis, type RedisServer } from './helpers/redis-server.js';

/** A memory store whose first recorded spend is applied but answered as an outage, as a slow Redis did. */
class LateStore extends MemoryReplayStore {
  late = 1;
  override async spendRecorded(id: string, expiresAt: number, record: string): Promise<RecordedSpend> {
    const spent = await super.spendRecorded(id, expiresAt, record);
    return this.late-- > 0 ? { result: 'store_unavailable' } : spent;
  }
}

async function solvedAt(gate: Gate): Promise<{ challenge: Challenge; solution: Solution }> {
  const issued = await gate.challenge('client');
  if (!issued.ok) throw new Error(issued.reason);
  return solvedPair(issued.challenge);
}

async function expectRetriesGetTheSameToken(store: ReplayStore, beforeRetry: () => Promise<void> = async () => {}) {
  const gate = new Gate({ secret: SECRET, difficulty: 1, store });
  const { challenge, solution } = await solvedAt(gate);
  expect(await gate.redeem(challenge, solution)).toEqual({ ok: false, reason: 'store_unavailable' });
  await beforeRetry();
  const retried = await gate.redeem(challenge, solution);
  expect(retried).toMatchObject({ ok: true, calls: 1 });
  expect(await gate.redeem(challenge, solution)).toEqual(retried);
  // Another party's solution of the same challenge is a replay.
  expect(await gate.redeem(challenge, await anotherSolution(challenge, solution))).toEqual({ ok: false, reason: 'replayed' });
  // The same token: its one call is counted once, however many times it was handed out.
  const token = (retried as { token: string }).token;
  expect(await gate.useToken(token)).toMatchObject({ ok: true });
  expect(await gate.useToken(token)).toMatchObject({ ok: false, reason: 'token_exhausted' });
}

describe('a retried redemption', () => {
  it('after a spend applied late gets the same token, never replayed (memory store)', async () => {
    await expectRetriesGetTheSameToken(new LateStore());
  });

  it('of a spend that answered in time also gets the same token', async () => {
    const gate = new Gate({ secret: SECRET, difficulty: 1 });
    const { challenge, solution } = await solvedAt(gate);
    const first = await gate.redeem(challenge, solution);
    expect(first.ok).toBe(true);
    expect(await gate.redeem(challenge, solution)).toEqual(first);
  });

  it('through a store without records is replayed, as before', async () => {
    const inner = new MemoryReplayStore();
    const plain: ReplayStore = {
      spend: (i, e) => inner.spend(i, e),
      spendMany: (e) => inner.spendMany(e),
      spendCall: (i, c, e) => inner.spendCall(i, c, e),
      close: async () => {},
    };
    const gate = new Gate({ secret: SECRET, difficulty: 1, store: plain });
    const { challenge, solution } = await solvedAt(gate);
    expect((await gate.redeem(challenge, solution)).ok).toBe(true);
    expect(await gate.redeem(challenge, solution)).toEqual({ ok: false, reason: 'replayed' });
  });
});

const bin = redisServerPath();
describe.skipIf(!bin)(bin ? 'a retried redemption on Redis' : 'a retried redemption on Redis (skipped: redis-server not installed)', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('after DEBUG SLEEP made the first answer time out gets the same token', async () => {
    const store = new RedisReplayStore({ url: server.url, timeoutMs: 100 });
    const admin = new Redis(server.url);
    let sleeping: Promise<unknown> = Promise.resolve();
    try {
      await store.spend('warm-up', Date.now() + 60_000); // connected before the sleep
      const gate = new Gate({ secret: SECRET, difficulty: 1, store });
      const { challenge, solution } = await solvedAt(gate);
      await admin.ping();
      sleeping = admin.call('DEBUG', 'SLEEP', '0.5');
      // Sent during the sleep, applied after it. (Should a busy machine send it after the sleep,
      // it answers in time: then the retry must give the same token all the same.)
      const first = await gate.redeem(challenge, solution);
      expect(first.ok ? 'ok' : first.reason).toMatch(/^(ok|store_unavailable)$/);
      await sleeping;
      const retried = await gate.redeem(challenge, solution);
      expect(retried).toMatchObject({ ok: true });
      if (first.ok) expect(retried).toEqual(first);
      expect(await gate.redeem(challenge, solution)).toEqual(retried);
      expect(await gate.redeem(challenge, await anotherSolution(challenge, solution))).toEqual({ ok: false, reason: 'replayed' });
    } finally {
      await sleeping.catch(() => {});
      admin.disconnect();
      await store.close();
    }
  });
});
