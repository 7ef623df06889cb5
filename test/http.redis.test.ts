// Many `powgate serve` processes behind one Redis: two real subprocesses of
// dist/cli.js share a real redis-server. Challenges and tokens made by one
// verify on the other; 10,000 concurrent submissions of 1,000 solutions spread
// across both are accepted exactly 1,000 times; Redis killed mid-run gives
// store_unavailable (fail closed) while the processes stay up, then recovery.
// Skipped, visibly, where redis-server is not installed.
import { Agent } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Challenge } from '../src/protocol/challenge.js';
import type { Solution } from '../src/protocol/solution.js';
import { solve } from '../src/solver/solve.js';
import { CLI_SECRET } from './helpers/cli.js';
import { anotherSolution, solvedPair } from './helpers/protocol.js';
import { post, request, startServe, type ServeProcess } from './helpers/http.js';
import { type RedisServer, redisServerPath, startRedis } from './helpers/redis-server.js';

const bin = redisServerPath();
if (!bin) console.warn('powgate tests: redis-server is not installed, so the two-server HTTP tests are skipped');

const SOLUTIONS = 1_000;
const COPIES = 10;

async function solvedAt(url: string, agent?: Agent): Promise<{ challenge: Challenge; solution: Solution }> {
  const reply = await post(url, '/api/challenge', {}, { agent });
  expect(reply.status, reply.text).toBe(200);
  return solvedPair(reply.json.challenge);
}

/** Polls `probe` every 100 ms until it returns true; how long that took. */
async function until(probe: () => Promise<boolean>, limitMs: number, what: string): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < limitMs) {
    if (await probe()) return performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what}: not within ${limitMs} ms`);
}

describe.skipIf(!bin)(bin ? 'two powgate serve processes sharing one Redis' : 'two powgate serve processes sharing one Redis (skipped: redis-server not installed)', () => {
  let redis: RedisServer;
  let servers: ServeProcess[] = [];
  let urls: string[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    servers = await Promise.all([0, 1].map(() => startServe(['--redis', redis.url, '--difficulty', '2', '--max-concurrency', '4096', '--log-level', 'warn'])));
    urls = servers.map((s) => s.url);
  }, 30_000);

  afterAll(async () => {
    const codes = await Promise.all(servers.map((s) => s.stop()));
    await redis?.stop();
    expect(codes).toEqual(codes.map(() => 0));
    // Warnings about Redis, never a secret.
    for (const s of servers) expect(s.lines.join('\n')).not.toContain(CLI_SECRET);
  });

  it('verifies on one server what the other issued: challenges, solutions and tokens', async () => {
    const [a, b] = urls as [string, string];
    expect((await request(a, '/api/status')).json).toMatchObject({ store: 'redis', counter: 'redis' });
    const { challenge, solution } = await solvedAt(a);
    const redeemed = await post(b, '/api/verify', { challenge, solution });
    expect(redeemed.status, redeemed.text).toBe(200);
    expect((await post(a, '/api/verify', { challenge, solution })).json).toEqual(redeemed.json);
    expect((await post(a, '/api/verify', { challenge, solution: await anotherSolution(challenge, solution, CLI_SECRET) })).json.error).toBe('replayed');
    const checked = await post(a, '/api/token/verify', { token: redeemed.json.token });
    expect(checked.json).toMatchObject({ valid: true, method: 'pow' });
    expect((await request(b, '/healthz')).json).toMatchObject({ store: 'up', counter: 'up' });
  });

  it('accepts exactly 1,000 of 10,000 concurrent submissions of 1,000 solutions spread across both', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 48 });
    try {
      const pairs = await Promise.all(Array.from({ length: SOLUTIONS }, (_, i) => post(urls[i % 2]!, '/api/challenge', {}, { agent })));
      expect(pairs.every((r) => r.status === 200)).toBe(true);
      const challenges: Challenge[] = pairs.map((r) => r.json.challenge);
      const solutions: Solution[] = [];
      for (const challenge of challenges) solutions.push(await solve(challenge, { threads: 1 }));
      // Every solution COPIES times, shuffled, each copy to either server.
      const submissions = Array.from({ length: SOLUTIONS * COPIES }, (_, i) => i % SOLUTIONS);
      for (let i = submissions.length - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1));
        [submissions[i], submissions[j]] = [submissions[j]!, submissions[i]!];
      }
      const replies = await Promise.all(submissions.map((k, i) => post(urls[i % 2]!, '/api/verify', { challenge: challenges[k], solution: solutions[k] }, { agent })));
      // Redemption is idempotent: every copy of a solution gets the one token it bought, so each
      // solution buys one token (one allowance), however many copies raced on either server.
      const tokens = new Map<number, Set<string>>();
      const statuses: Record<number, number> = {};
      replies.forEach((reply, i) => {
        statuses[reply.status] = (statuses[reply.status] ?? 0) + 1;
        if (reply.status === 200) tokens.set(submissions[i]!, (tokens.get(submissions[i]!) ?? new Set()).add(reply.json.token as string));
      });
      expect(statuses).toEqual({ 200: SOLUTIONS * COPIES });
      expect(tokens.size).toBe(SOLUTIONS);
      expect([...tokens.values()].every((set) => set.size === 1)).toBe(true);
      // Both servers took part in accepting.
      const byServer = [0, 1].map((s) => replies.filter((r, i) => r.status === 200 && i % 2 === s).length);
      expect(byServer.every((n) => n > 0)).toBe(true);
    } finally {
      agent.destroy();
    }
  });

  it('passes exactly the allowance of 1,000 concurrent calls with one token across both servers', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 48 });
    try {
      const bundle = await post(urls[0]!, '/api/challenge', { calls: 100 }, { agent });
      expect(bundle.json.challenge).toMatchObject({ calls: 100 });
      const redeemed = await post(urls[1]!, '/api/verify', { challenge: bundle.json.challenge, solution: await solve(bundle.json.challenge, { threads: 1 }) }, { agent });
      const token = redeemed.json.token as string;
      const replies = await Promise.all(Array.from({ length: 1_000 }, (_, i) => post(urls[i % 2]!, '/api/token/verify', { token }, { agent })));
      const passed = replies.filter((r) => r.json.valid === true);
      expect(passed.length).toBe(100);
      expect(new Set(passed.map((r) => r.json.used))).toEqual(new Set(Array.from({ length: 100 }, (_, i) => i + 1))); // each count once
      expect(replies.filter((r) => r.json.reason === 'token_exhausted').length).toBe(900);
      expect([0, 1].map((s) => passed.filter((r, i) => replies.indexOf(r) % 2 === s && i >= 0).length).every((n) => n > 0)).toBe(true);
    } finally {
      agent.destroy();
    }
  });

  it('fails closed while Redis is down, stays up, and recovers when it returns', async () => {
    const [a, b] = urls as [string, string];
    const pending = await solvedAt(a); // solved before the outage, redeemed after it
    const token = (await post(b, '/api/verify', await solvedAt(b))).json.token as string;

    // Traffic through the whole outage: only answers, never a dropped connection or a 500.
    let running = true;
    const seen: Record<string, number> = {};
    const traffic = (async () => {
      for (let i = 0; running; i++) {
        const reply = await post(urls[i % 2]!, '/api/challenge', {});
        const key = `${reply.status} ${reply.json?.error ?? ''}`.trim();
        seen[key] = (seen[key] ?? 0) + 1;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    await until(async () => (seen['200'] ?? 0) > 0, 5000, 'traffic before the outage');

    await redis.stop();
    for (const url of urls) {
      await until(async () => (await post(url, '/api/challenge', {})).status === 503, 5000, 'challenges refused');
      const refused = await post(url, '/api/challenge', {});
      expect([refused.status, refused.json.error, refused.headers['retry-after']]).toEqual([503, 'store_unavailable', '1']);
      const unspendable = await post(url, '/api/verify', pending);
      expect([unspendable.status, unspendable.json.error]).toEqual([503, 'store_unavailable']);
      expect((await request(url, '/healthz')).json).toMatchObject({ status: 'ok', store: 'down', counter: 'down' });
      // A token's MAC still checks, but its calls cannot be spent: refused, fail closed.
      expect((await post(url, '/api/token/verify', { token, check_only: true })).json.valid).toBe(true);
      const spend = await post(url, '/api/token/verify', { token });
      expect([spend.status, spend.json]).toEqual([503, { valid: false, reason: 'store_unavailable' }]);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    for (const s of servers) expect(s.child.exitCode).toBeNull();

    await redis.restart();
    for (const url of urls) {
      await until(async () => (await post(url, '/api/challenge', {})).status === 200, 10_000, 'recovery');
    }
    const before = seen['200'] ?? 0;
    await until(async () => (seen['200'] ?? 0) > before, 5000, 'traffic after recovery');
    running = false;
    await traffic;
    expect(Object.keys(seen).sort()).toEqual(['200', '503 store_unavailable']);

    // Redis came back empty: the solution refused during the outage was issued before its new
    // epoch, so it is refused as predates_store (the store cannot know it was never spent).
    const redeemed = await post(b, '/api/verify', pending);
    expect(redeemed.json.error, redeemed.text).toBe('predates_store');
    // New challenges made after recovery redeem across servers.
    const fresh = await solvedAt(b);
    expect((await post(a, '/api/verify', fresh)).status).toBe(200);
    expect((await request(a, '/healthz')).json).toMatchObject({ store: 'up', counter: 'up' });
    for (const s of servers) expect(s.child.exitCode).toBeNull();
  });
});
