// The same solution verified 1000 times at once is accepted exactly once, on
// the memory store and on a real redis-server (skipped, visibly, without one).
// Real time throughout: Redis keeps its own clock for expiry.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Challenge } from '../src/protocol/challenge.js';
import { RedisReplayStore } from '../src/storage/redis.js';
import type { ReplayStore } from '../src/storage/types.js';
import type { Solution } from '../src/protocol/solution.js';
import { verifySolution, verifySolutions } from '../src/protocol/verify.js';
import { solve } from '../src/solver/solve.js';
import { MemoryReplayStore } from '../src/storage/memory.js';
import { SECRET, challengeAt, solvedPair } from './helpers/protocol.js';
import { redisServerPath, startRedis, type RedisServer } from './helpers/redis-server.js';

async function solved(): Promise<{ challenge: Challenge; solution: Solution }> {
  return solvedPair({ difficulty: 8, now: Date.now() });
}

function expectExactlyOnce(verdicts: { ok: boolean; reason?: string }[]): void {
  expect(verdicts.filter((v) => v.ok)).toHaveLength(1);
  expect(verdicts.filter((v) => !v.ok).every((v) => v.reason === 'replayed')).toBe(true);
}

function replaySuite(makeStore: () => ReplayStore) {
  it('1000 concurrent verifications of one solution: exactly one accepted', async () => {
    const store = makeStore(); // before the challenge: a store made after it may have forgotten its spend
    const { challenge, solution } = await solved();
    const verdicts = await Promise.all(Array.from({ length: 1000 }, () => verifySolution(challenge, solution, { secret: SECRET, store })));
    expectExactlyOnce(verdicts);
  });

  it('1000 copies in one batch, and batches racing each other: exactly one accepted', async () => {
    const store = makeStore();
    const { challenge, solution } = await solved();
    const pairs = Array.from({ length: 1000 }, () => ({ challenge, solution }));
    expectExactlyOnce(await verifySolutions(pairs, { secret: SECRET, store }));

    const other = await solved();
    const racing = await Promise.all(
      Array.from({ length: 10 }, () =>
        verifySolutions(
          Array.from({ length: 100 }, () => other),
          { secret: SECRET, store },
        ),
      ),
    );
    expectExactlyOnce(racing.flat());
  });
}

describe('memory store', () => replaySuite(() => new MemoryReplayStore()));

const bin = redisServerPath();
if (!bin) console.warn('powgate tests: redis-server is not installed; the Redis replay tests are skipped');

describe.skipIf(!bin)(bin ? 'redis store' : 'redis store (skipped: redis-server not installed)', () => {
  let server: RedisServer;
  const stores: RedisReplayStore[] = [];
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await server?.stop();
  });
  // Each verification gets its own client half the time: the spend must be atomic across connections too.
  replaySuite(() => {
    const a = new RedisReplayStore({ url: server.url });
    const b = new RedisReplayStore({ url: server.url });
    stores.push(a, b);
    let n = 0;
    return {
      spend: (id, exp) => (n++ % 2 ? a : b).spend(id, exp),
      spendMany: (e) => (n++ % 2 ? a : b).spendMany(e),
      spendCall: (id, calls, exp) => (n++ % 2 ? a : b).spendCall(id, calls, exp),
      close: async () => {},
    };
  });
});

// Issue 16: instance A (correct clock) spent a challenge until expiresAt + skew + 1 by its clock;
// instance B, sharing A's store but lagging by less than the skew, still accepted the challenge
// after that record was gone.
describe('two verifiers whose clocks differ by less than the skew, one store', () => {
  it('the spend outlives the acceptance window of the one that lags', async () => {
    const skewMs = 5_000;
    const lag = skewMs - 1;
    let real = 1_800_000_000_000;
    const store = new MemoryReplayStore({ now: () => real });
    const challenge = challengeAt({ difficulty: 4, now: real, ttlMs: 60_000 });
    const solution = await solve(challenge, { threads: 1 });
    const options = { secret: SECRET, store, skewMs };
    expect((await verifySolution(challenge, solution, { ...options, now: real })).ok).toBe(true);
    // At each real time until B's window closes, B (clock real - lag) must see the spend.
    for (real = challenge.expiresAt; real <= challenge.expiresAt + skewMs + lag + 1; real += 500) {
      const verdict = await verifySolution(challenge, solution, { ...options, now: real - lag });
      expect(verdict.ok ? 'accepted' : verdict.reason, `at expiresAt + ${real - challenge.expiresAt} ms`).not.toBe('accepted');
    }
  });
});
