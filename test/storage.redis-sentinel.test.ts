// powgate behind Redis Sentinel: a real master, replica and sentinel on loopback, and two
// `powgate serve --redis-sentinel` processes. Through a `SENTINEL FAILOVER`, under load:
// spends, redemptions and counted calls made before it survive; a request during the
// switch is answered or refused `store_unavailable` (never a 500); nothing is accepted
// twice, before, during or after (run with --redis-wait-replicas 0, it has caught a second
// solution accepted: the old master acknowledged a spend the new one never got). Skipped, visibly, where redis-server is not installed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Challenge } from '../src/protocol/challenge.js';
import type { Solution } from '../src/protocol/solution.js';
import { CLI_SECRET } from './helpers/cli.js';
import { type Reply, post, request, startServe, type ServeProcess } from './helpers/http.js';
import { ask, waitFor } from './helpers/redis-cluster.js';
import { redisServerPath } from './helpers/redis-server.js';
import { MASTER_NAME, type RedisSentinelSet, caughtUp, startRedisSentinel } from './helpers/redis-sentinel.js';
import { distinctSolutions } from './helpers/solutions.js';

const bin = redisServerPath();
const reason = bin ? '' : ' (skipped: redis-server is not installed)';
if (!bin) console.warn('powgate tests: redis-server is not installed, so the Redis Sentinel tests are skipped');

interface Redeemed {
  challenge: Challenge;
  solutions: Solution[];
  token: string;
}

describe.skipIf(!bin)(`two powgate serve processes behind Redis Sentinel, through a failover${reason}`, () => {
  let redis: RedisSentinelSet;
  let servers: ServeProcess[] = [];
  let urls: string[] = [];

  beforeAll(async () => {
    redis = await startRedisSentinel();
    const args = ['--redis-sentinel', redis.sentinels, '--redis-master', MASTER_NAME, '--difficulty', '2', '--log-level', 'warn'];
    servers = await Promise.all([0, 1].map(() => startServe(args)));
    urls = servers.map((s) => s.url);
  }, 90_000);

  afterAll(async () => {
    const codes = await Promise.all(servers.map((s) => s.stop()));
    await redis?.stop();
    expect(codes).toEqual(codes.map(() => 0));
    for (const s of servers) expect(s.lines.join('\n')).not.toContain(CLI_SECRET);
  });

  /** A challenge for `calls` calls from server `i`, two solutions of it, the first redeemed on the other server; else the refusal. */
  async function redeemOne(i: number, calls: number): Promise<Redeemed | Reply> {
    const issued = await post(urls[i % 2]!, '/api/challenge', { calls });
    if (issued.status !== 200) return issued;
    const challenge: Challenge = issued.json.challenge;
    const solutions = await distinctSolutions(challenge, 2, CLI_SECRET);
    const redeemed = await post(urls[(i + 1) % 2]!, '/api/verify', { challenge, solution: solutions[0] });
    if (redeemed.status !== 200) return redeemed;
    return { challenge, solutions, token: redeemed.json.token };
  }

  const isRefusal = (reply: Reply) => reply.status === 503 && (reply.json?.error === 'store_unavailable' || reply.json?.reason === 'store_unavailable');

  it('keeps what was spent before, refuses store_unavailable during the switch, and accepts nothing twice', async () => {
    const before = await redeemOne(0, 5);
    expect('token' in before, JSON.stringify(before)).toBe(true);
    const kept = before as Redeemed;
    const passes: number[] = []; // `used` of every call that passed, whenever
    for (const url of urls) {
      const used = await post(url, '/api/token/verify', { token: kept.token });
      expect(used.json, used.text).toMatchObject({ valid: true });
      passes.push(used.json.used);
    }
    // The spends are on the replica before it is promoted (they were acknowledged only then: WAIT 1).
    await waitFor(() => caughtUp(redis.master.port, redis.replica.port), 10_000, 'the replica caught up');

    // Load through the switch: redemptions, and calls of a token with 40 calls, on both servers.
    const bundle = await redeemOne(1, 40);
    expect('token' in bundle).toBe(true);
    const { token } = bundle as Redeemed;
    const accepted: Redeemed[] = [];
    const refused: Reply[] = [];
    const others: Reply[] = [];
    let stop = false;
    const load = (async () => {
      for (let i = 0; !stop; i++) {
        const outcome = await redeemOne(i, 1);
        if ('token' in outcome) accepted.push(outcome);
        else (isRefusal(outcome) ? refused : others).push(outcome);
        const used = await post(urls[i % 2]!, '/api/token/verify', { token });
        if (used.status === 200 && used.json.valid === true) passes.push(1000 + used.json.used);
        else if (!isRefusal(used) && !(used.status === 200 && used.json.reason === 'token_exhausted')) others.push(used);
      }
    })();
    await waitFor(async () => accepted.length >= 3, 20_000, 'load before the failover');
    expect(await ask(redis.sentinel.port, 'sentinel', 'failover', MASTER_NAME)).toBe('OK');
    await waitFor(async () => (await redis.masterPort()) === redis.replica.port, 30_000, 'the sentinel named the replica master');
    const switched = accepted.length;
    // Service resumes on the new master by itself.
    await waitFor(async () => accepted.length >= switched + 5, 30_000, 'redemptions after the failover');
    stop = true;
    await load;
    // The switch is over when the sentinels have announced it and the new master has its replica again.
    await waitFor(
      async () => {
        const health = await Promise.all(urls.map((url) => request(url, '/healthz')));
        return health.every((h) => h.json?.store === 'up' && h.json?.counter === 'up');
      },
      40_000,
      'both servers healthy after the failover',
    );

    // Never a 500, nor any refusal but store_unavailable.
    expect(others.map((r) => `${r.status} ${r.text}`)).toEqual([]);
    console.info(`sentinel failover: ${accepted.length} redemptions accepted, ${refused.length} refused store_unavailable during the load`);
    // Everything accepted before and during the switch is still spent on the new master:
    // a second solution is replayed, the first is answered its own token again (idempotent).
    for (const [i, { challenge, solutions, token: mine }] of [kept, ...accepted].entries()) {
      const again = await post(urls[i % 2]!, '/api/verify', { challenge, solution: solutions[1] });
      expect(again.json.error, again.text).toBe('replayed');
      const retry = await post(urls[(i + 1) % 2]!, '/api/verify', { challenge, solution: solutions[0] });
      expect(retry.json.token, retry.text).toBe(mine);
    }
    // The token's calls: each count passed at most once, on either side of the switch.
    const kept5 = passes.filter((used) => used < 1000);
    expect(kept5).toEqual([1, 2]);
    const after = await post(urls[0]!, '/api/token/verify', { token: kept.token });
    expect(after.json, after.text).toMatchObject({ valid: true, used: 3 });
    const counted = passes.filter((used) => used > 1000);
    expect(new Set(counted).size).toBe(counted.length);
    expect((await request(urls[1]!, '/healthz')).json).toMatchObject({ store: 'up', counter: 'up' });
  }, 120_000);
});
