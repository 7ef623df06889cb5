// The HTTP token service and the 402 middleware, over real HTTP on loopback:
// every route and status, the limits, logs and metrics, node:http / Express /
// Fastify gates and their probes, adaptive difficulty, trusted proxies, and
// failing open or closed when the store cannot answer.
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import express from 'express';
import fastify from 'fastify';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Gate, type GateOptions } from '../src/gate/gate.js';
import type { RateCounter } from '../src/storage/rate-counter.js';
import { clientAddress, clientRateKey, normalizeAddress, TrustedProxies } from '../src/http/client-address.js';
import { HttpMetrics } from '../src/http/metrics.js';
import { powgateFastifyHook, powgateMiddleware, presentedToken } from '../src/http/index.js';
import { createPowgateServer, PowgateService, VERIFY_STATUS, type PowgateServiceOptions } from '../src/http/index.js';
import { createChallenge, type Challenge } from '../src/protocol/challenge.js';
import type { ReplayStore, SpendResult } from '../src/storage/types.js';
import { issueToken } from '../src/protocol/token.js';
import { MemoryReplayStore } from '../src/storage/memory.js';
import { solve } from '../src/solver/solve.js';
import { CLI_SECRET, expectUsageError, runCli } from './helpers/cli.js';
import { close, listen, post, request, startServe, type Reply } from './helpers/http.js';
import { OTHER_SECRET, SECRET, anotherSolution, failingNonce, solvedPair } from './helpers/protocol.js';

const LOW = 4; // Difficulty low enough to solve at once.

/** A store that cannot answer (Redis down), or answers `result`. */
function brokenStore(result: SpendResult = 'store_unavailable'): ReplayStore {
  return {
    spend: async () => result,
    spendMany: async (entries) => entries.map(() => result),
    spendCall: async () => (result === 'store_unavailable' || result === 'store_full' ? { ok: false, reason: result } : { ok: true, used: 1 }),
    close: async () => {},
  };
}
const brokenCounter: RateCounter = { hit: async () => undefined, close: async () => {} };

interface Running {
  url: string;
  gate: Gate;
  service: PowgateService;
  server: Server;
  logs: string[];
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((f) => f()));
});

/** Collects pino's lines. */
function logSink(level = 'info'): { logs: string[]; logger: pino.Logger } {
  const logs: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      logs.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return { logs, logger: pino({ level }, stream) };
}

async function startService(gateOptions: Partial<GateOptions> = {}, serviceOptions: PowgateServiceOptions = {}, timeouts = {}): Promise<Running> {
  const gate = new Gate({ secret: SECRET, difficulty: LOW, scopes: { search: undefined }, ...gateOptions });
  // debug: every request's line, the hot route's too, so that the secret-free checks see them all.
  const { logs, logger } = logSink('debug');
  const service = new PowgateService(gate, { logger, metrics: new HttpMetrics({ defaultMetrics: true }), metricsAccess: 'public', ...serviceOptions });
  const server = createPowgateServer(service, timeouts);
  const url = await listen(server);
  cleanups.push(async () => {
    await close(server);
    await gate.close();
  });
  return { url, gate, service, server, logs };
}

async function solved(url: string, body: unknown = {}): Promise<{ challenge: Challenge; solution: Awaited<ReturnType<typeof solve>> }> {
  const reply = await post(url, '/api/challenge', body);
  expect(reply.status, reply.text).toBe(200);
  return solvedPair(reply.json.challenge);
}

async function tokenFrom(url: string, scope = ''): Promise<string> {
  const { challenge, solution } = await solved(url, { scope });
  const reply = await post(url, '/api/verify', { challenge, solution });
  expect(reply.status, reply.text).toBe(200);
  return reply.json.token;
}

describe('the token service routes', () => {
  it('issues a challenge, redeems its solution for a token once, and checks the token', async () => {
    const { url } = await startService();
    const empty = await request(url, '/api/challenge', { method: 'POST' }); // no body at all
    expect(empty.status).toBe(200);
    expect(empty.json.challenge).toMatchObject({ v: 2, difficulty: LOW, scope: '', calls: 1, price: LOW });
    expect(empty.headers['content-type']).toMatch(/^application\/json/);

    // A bundle of 4 calls costs log2(4) = 2 more bits; the token allows 4 calls.
    const { challenge, solution } = await solved(url, { scope: 'search', calls: 4 });
    expect(challenge).toMatchObject({ scope: 'search', calls: 4, difficulty: LOW + 2, price: LOW });
    const before = Date.now();
    const verified = await post(url, '/api/verify', { challenge, solution });
    expect(verified.status).toBe(200);
    expect(verified.json).toEqual({ token: expect.stringMatching(/^pgt2\./), scope: 'search', expires_at: expect.any(Number), calls: 4, price: LOW });
    expect(verified.json.expires_at).toBeGreaterThanOrEqual(before + 300_000);

    // A retry of the same solution (its answer lost on the way) gets the same token, never 'replayed'.
    const again = await post(url, '/api/verify', { challenge, solution });
    expect(again.status).toBe(200);
    expect(again.json).toEqual(verified.json);

    const { token } = verified.json;
    // Without a scope, the '' door: a token of another scope is not valid there unless any_scope is asked for.
    expect((await post(url, '/api/token/verify', { token })).json).toEqual({ valid: false, reason: 'scope_mismatch' });
    expect((await post(url, '/api/token/verify', { token, scope: 'search', check_only: true })).json).toEqual({
      valid: true,
      method: 'pow',
      issued_at: expect.any(Number),
      expires_at: verified.json.expires_at,
      scope: 'search',
      calls: 4,
      price: LOW,
    });
    const valid = await post(url, '/api/token/verify', { token, scope: 'search' });
    expect(valid.status).toBe(200);
    expect(valid.json).toEqual({
      valid: true,
      method: 'pow',
      issued_at: expect.any(Number),
      expires_at: verified.json.expires_at,
      scope: 'search',
      calls: 4,
      price: LOW,
      used: 1,
      remaining: 3,
    });
    expect((await post(url, '/api/token/verify', { token, any_scope: true })).json).toMatchObject({ valid: true, used: 2, remaining: 2 });
    expect((await post(url, '/api/token/verify', { token, scope: 'search' })).json).toMatchObject({ valid: true, used: 3 });
    expect((await post(url, '/api/token/verify', { token, scope: 'search' })).json).toMatchObject({ valid: true, used: 4, remaining: 0 });
    expect((await post(url, '/api/token/verify', { token, scope: 'search' })).json).toEqual({ valid: false, reason: 'token_exhausted' });
    expect((await post(url, '/api/token/verify', { token, scope: 'search', check_only: true })).json.valid).toBe(true);
    expect((await post(url, '/api/token/verify', { token, scope: 'admin' })).json).toEqual({ valid: false, reason: 'scope_mismatch' });
    // The client names only the doors the operator declared, and at most maxCalls calls.
    expect((await post(url, '/api/challenge', { scope: 'admin' })).json).toMatchObject({ error: 'unknown_scope', scopes: ['', 'search'] });
    for (const calls of [0, -1, 1.5, 101, 2 ** 53, '4', null]) {
      const reply = await post(url, '/api/challenge', { scope: 'search', calls });
      expect([reply.status, reply.json.error], String(calls)).toEqual([400, 'calls_out_of_range']);
    }
    expect((await post(url, '/api/token/verify', { token: 'pgt1.garbage' })).json).toEqual({ valid: false, reason: 'unsupported_version' });
    expect((await post(url, '/api/token/verify', { token: 'pgt2.garbage' })).json).toEqual({ valid: false, reason: 'malformed' });
    expect((await post(url, '/api/token/verify', { token: 42 })).json).toEqual({ valid: false, reason: 'malformed' });
    const foreign = issueToken({ secret: OTHER_SECRET });
    expect((await post(url, '/api/token/verify', { token: foreign })).json).toEqual({ valid: false, reason: 'unknown_key' });
    const expired = issueToken({ secret: SECRET, now: Date.now() - 3_600_000, ttlMs: 1000 });
    expect((await post(url, '/api/token/verify', { token: expired })).json).toEqual({ valid: false, reason: 'expired' });
  });

  it('maps every refusal of a solution to its documented status', async () => {
    const { url } = await startService({ difficulty: { base: LOW, min: LOW, max: 12 } });
    const { challenge, solution } = await solved(url);
    const cases: [string, unknown, number, string][] = [
      ['no solution', { challenge }, 400, 'malformed'],
      ['an extra field', { challenge, solution, more: 1 }, 400, 'malformed'],
      ['an array', [challenge, solution], 400, 'malformed'],
      ['a solution of the wrong shape', { challenge, solution: { ...solution, nonces: 'x' } }, 400, 'malformed'],
      ['a tampered challenge', { challenge: { ...challenge, scope: 'admin' }, solution }, 403, 'bad_signature'],
      ['a wrong nonce', { challenge, solution: { ...solution, nonces: [failingNonce(challenge)] } }, 403, 'bad_solution'],
    ];
    const expiredChallenge = createChallenge({ secret: SECRET, difficulty: LOW, now: Date.now() - 3_600_000, ttlMs: 1000, minDifficulty: LOW, maxDifficulty: 12 });
    cases.push(['an expired challenge', { challenge: expiredChallenge, solution: await solve(expiredChallenge, { threads: 1 }) }, 403, 'expired']);
    const tooEasy = createChallenge({ secret: SECRET, difficulty: 2 });
    cases.push(['a difficulty below the bounds', { challenge: tooEasy, solution: await solve(tooEasy, { threads: 1 }) }, 403, 'difficulty_out_of_range']);
    const foreign = createChallenge({ keys: [{ kid: 'rotated-out', secret: OTHER_SECRET }], difficulty: LOW });
    cases.push(['an unknown key', { challenge: foreign, solution: await solve(foreign, { threads: 1 }) }, 403, 'unknown_key']);
    for (const [what, body, status, reason] of cases) {
      const reply = await post(url, '/api/verify', body);
      expect([what, reply.status, reply.json?.error]).toEqual([what, status, reason]);
      expect(VERIFY_STATUS[reason as keyof typeof VERIFY_STATUS]).toBe(status);
    }
    // The untouched solution is still good after all that.
    expect((await post(url, '/api/verify', { challenge, solution })).status).toBe(200);
  });

  it('answers 503 with Retry-After when the store is full or unavailable', async () => {
    for (const result of ['store_full', 'store_unavailable'] as const) {
      const { url } = await startService({ store: brokenStore(result) });
      const { challenge, solution } = await solved(url);
      const reply = await post(url, '/api/verify', { challenge, solution });
      expect(reply.status).toBe(503);
      expect(reply.json.error).toBe(result);
      expect(reply.headers['retry-after']).toBe('1');
    }
  });

  it('lets a client ask for a harder challenge, never an easier one or a malformed one', async () => {
    const { url } = await startService({ difficulty: { base: 6, min: 6, max: 10 } });
    expect((await post(url, '/api/challenge', { difficulty: 9.5 })).json.challenge.difficulty).toBe(9.5);
    const easier = await post(url, '/api/challenge', { difficulty: 5 });
    expect(easier.status).toBe(400);
    expect(easier.json).toMatchObject({ error: 'difficulty_out_of_range', min: 6, max: 10 });
    expect((await post(url, '/api/challenge', { difficulty: 11 })).status).toBe(400);
    for (const body of [{ difficulty: '9' }, { scope: 7 }, { scope: 'é' }, { scope: 'x'.repeat(257) }, { other: 1 }, [], 'text', null, 12]) {
      const reply = await post(url, '/api/challenge', body === 'text' ? JSON.stringify('text') : body, { headers: { 'content-type': 'application/json' } });
      expect([body, reply.status, reply.json.error]).toEqual([body, 400, 'malformed']);
    }
  });

  it('serves status, health and metrics without secrets', async () => {
    const { url } = await startService({}, { trustProxy: 'loopback' });
    const status = await request(url, '/api/status');
    expect(status.status).toBe(200);
    expect(status.json).toMatchObject({
      service: 'powgate',
      version: expect.any(String),
      backend: expect.any(String),
      store: 'memory',
      counter: 'memory',
      difficulty: { base: LOW, min: LOW, max: LOW },
      fail_open: false,
      uptime_s: expect.any(Number),
      trusted_proxies: 1,
    });
    expect(status.text).not.toContain(SECRET);
    const health = await request(url, '/healthz');
    expect(health.status).toBe(200);
    expect(health.json).toMatchObject({ status: 'ok', store: 'up', counter: 'up' });
    const head = await request(url, '/healthz', { method: 'HEAD' });
    expect([head.status, head.text]).toEqual([200, '']);
    const metrics = await request(url, '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.headers['content-type']).toMatch(/^text\/plain/);
    expect(metrics.text).toContain('powgate_process_cpu_user_seconds_total');
  });

  it('reports down stores in /healthz but stays alive', async () => {
    const { url } = await startService({ store: brokenStore(), counter: brokenCounter });
    const health = await request(url, '/healthz');
    expect(health.status).toBe(200);
    expect(health.json).toMatchObject({ status: 'ok', store: 'down', counter: 'down' });
    // A store that spends challenges but cannot count a token's calls (Redis forbidding scripts) is down too.
    const noCalls: ReplayStore = { ...brokenStore('spent'), spendCall: async () => ({ ok: false, reason: 'store_unavailable' }) };
    const partial = await startService({ store: noCalls });
    expect((await request(partial.url, '/healthz')).json).toMatchObject({ store: 'down', counter: 'up' });
  });

  it('counts requests by route and status, refusals by reason, verify latency and client solve times', async () => {
    const { url } = await startService();
    const { challenge, solution } = await solved(url);
    expect((await post(url, '/api/verify', { challenge, solution: { ...solution, elapsedMs: 1500 } })).status).toBe(200);
    expect((await post(url, '/api/verify', { challenge, solution: await anotherSolution(challenge, solution) })).status).toBe(409);
    await post(url, '/api/token/verify', { token: 'nope' });
    await request(url, '/nowhere');
    const text = (await request(url, '/metrics')).text;
    expect(text).toContain('powgate_http_requests_total{route="/api/challenge",method="POST",status="200",channel="api"} 1');
    expect(text).toContain('powgate_http_requests_total{route="/api/verify",method="POST",status="200",channel="api"} 1');
    expect(text).toContain('powgate_http_requests_total{route="/api/verify",method="POST",status="409",channel="api"} 1');
    expect(text).toContain('powgate_http_requests_total{route="unmatched",method="GET",status="404",channel="api"} 1');
    expect(text).toContain('powgate_refusals_total{route="/api/verify",reason="replayed",channel="api"} 1');
    expect(text).toContain('powgate_refusals_total{route="/api/token/verify",reason="malformed",channel="api"} 1');
    expect(text).toMatch(/powgate_verify_duration_seconds_count\{outcome="accepted"\} 1/);
    expect(text).toMatch(/powgate_verify_duration_seconds_count\{outcome="refused"\} 1/);
    expect(text).toContain('powgate_client_solve_seconds_count 1');
    expect(text).toContain('powgate_client_solve_seconds_sum 1.5');
    expect(text).toContain('powgate_client_solve_seconds_bucket{le="2"} 1');
    expect(text).toContain('powgate_client_solve_seconds_bucket{le="1"} 0');
  });
});

describe('limits and hostile input', () => {
  it('refuses unknown routes (404), wrong methods (405 with Allow), wrong media types (415) and bad JSON (400)', async () => {
    const { url } = await startService();
    const missing = await request(url, '/api/nothing?token=x');
    expect([missing.status, missing.json.error]).toEqual([404, 'not_found']);
    const wrong = await request(url, '/api/verify');
    expect([wrong.status, wrong.json.error, wrong.headers.allow]).toEqual([405, 'method_not_allowed', 'POST']);
    const wrongGet = await post(url, '/metrics', {});
    expect([wrongGet.status, wrongGet.headers.allow]).toEqual([405, 'GET, HEAD']);
    const text = await post(url, '/api/verify', 'challenge=1', { headers: { 'content-type': 'text/plain' } });
    expect([text.status, text.json.error]).toEqual([415, 'unsupported_media_type']);
    const form = await post(url, '/api/challenge', '{}', { headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(form.status).toBe(415);
    const untyped = await post(url, '/api/challenge', '{}'); // a string body: no Content-Type
    expect(untyped.status).toBe(415);
    const typed = await post(url, '/api/challenge', '{}', { headers: { 'content-type': 'application/json; charset=utf-8' } });
    expect(typed.status).toBe(200);
    for (const bad of ['{', '{"challenge": }', '\u0000', 'pgt1.abc', '['.repeat(50_000)]) {
      const reply = await post(url, '/api/verify', bad, { headers: { 'content-type': 'application/json' } });
      expect([reply.status, reply.json.error]).toEqual([400, 'malformed']);
      expect(reply.json.detail).toMatch(/not valid JSON/);
    }
  });

  it('refuses a body over the cap with 413, before reading it when its length is announced', async () => {
    const { url, service } = await startService({}, { maxBodyBytes: 1024 });
    const big = await post(url, '/api/verify', { challenge: 'x'.repeat(2000), solution: {} });
    expect([big.status, big.json.error]).toEqual([413, 'payload_too_large']);
    // A 100 MB body announced, then nothing sent: the answer comes without waiting for it.
    const port = Number(new URL(url).port);
    const early = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write('POST /api/verify HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100000000\r\n\r\n{"challenge":');
      });
      let text = '';
      socket.on('data', (d) => (text += d));
      socket.on('end', () => resolve(text));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    expect(early).toMatch(/^HTTP\/1\.1 413 /);
    expect(early.toLowerCase()).toContain('connection: close');
    // Chunked, with no length announced: cut off once it passes the cap.
    const chunked = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write('POST /api/verify HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n');
        const chunk = 'x'.repeat(600);
        for (let i = 0; i < 3; i++) socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
      });
      let text = '';
      socket.on('data', (d) => (text += d));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    expect(chunked).toMatch(/^HTTP\/1\.1 413 /);
    expect(service.inFlight).toBe(0);
  });

  it('bounds concurrency: over the limit answers 503 with Retry-After, then serves again', async () => {
    // Two health checks that hold their slot: the store's probe does not answer until let go.
    let letGo!: () => void;
    const held = new Promise<void>((resolve) => (letGo = resolve));
    const slow: ReplayStore = {
      spend: async () => (await held, 'spent'),
      spendMany: async () => [],
      spendCall: async () => (await held, { ok: true, used: 1 }),
      close: async () => {},
    };
    const { url, service } = await startService({ store: slow }, { maxConcurrency: 2 });
    const holders = [request(url, '/healthz'), request(url, '/healthz', { localAddress: '127.0.0.2' })];
    for (let i = 0; i < 50 && service.inFlight < 2; i++) await new Promise((r) => setTimeout(r, 20));
    expect(service.inFlight).toBe(2);
    const over = await post(url, '/api/token/verify', { token: 'x' });
    expect([over.status, over.json.error, over.headers['retry-after']]).toEqual([503, 'overloaded', '1']);
    letGo();
    expect((await Promise.all(holders)).map((r) => r.status)).toEqual([200, 200]);
    for (let i = 0; i < 50 && service.inFlight > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(service.inFlight).toBe(0);
    expect((await post(url, '/api/token/verify', { token: 'x' })).status).toBe(200);
  });

  it('stalled bodies hold no slot, and their own deadline cuts them (408) though they never close', async () => {
    const { url, service } = await startService({}, { maxConcurrency: 2, bodyTimeoutMs: 300 });
    const port = Number(new URL(url).port);
    // They never read and never close their side: only the server can end these connections.
    const answers: Promise<string>[] = [];
    const stalled = [0, 1, 2].map(() => {
      const socket = connect(port, '127.0.0.1', () => socket.write('POST /api/verify HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 60000\r\n\r\n{'));
      socket.on('error', () => {});
      answers.push(
        new Promise((resolve) => {
          let got = '';
          socket.on('data', (d) => (got += d)).on('close', () => resolve(got));
        }),
      );
      return socket;
    });
    for (let i = 0; i < 50 && service.clientRequests('127.0.0.1') < 3; i++) await new Promise((r) => setTimeout(r, 20));
    expect([service.clientRequests('127.0.0.1'), service.inFlight]).toEqual([3, 0]);
    expect((await post(url, '/api/token/verify', { token: 'x' }, { localAddress: '127.0.0.2' })).status).toBe(200);
    const got = await Promise.all(answers);
    for (const text of got) expect(text).toMatch(/^HTTP\/1\.1 408 [\s\S]*"body_timeout"/);
    expect([service.clientRequests('127.0.0.1'), service.inFlight]).toEqual([0, 0]);
    for (const socket of stalled) socket.destroy();
  });

  it('survives garbage on the wire and slow clients (header timeout), and keeps serving', async () => {
    const { url } = await startService({}, {}, { headersTimeoutMs: 300, requestTimeoutMs: 600 });
    const port = Number(new URL(url).port);
    const raw = (text: string) =>
      new Promise<string>((resolve) => {
        const socket = connect(port, '127.0.0.1', () => socket.write(text));
        let got = '';
        socket.on('data', (d) => (got += d));
        socket.on('close', () => resolve(got));
        socket.on('error', () => resolve(got));
      });
    expect(await raw('\x16\x03\x01 not http at all\r\n\r\n')).toMatch(/^HTTP\/1\.1 400 /);
    expect(await raw(`GET /healthz HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`)).toMatch(/^HTTP\/1\.1 431 /);
    const started = Date.now();
    expect(await raw('GET /healthz HTTP/1.1\r\nhost: x\r\n')).toMatch(/^HTTP\/1\.1 408 |^$/); // headers never finish
    expect(Date.now() - started).toBeLessThan(5000);
    expect((await request(url, '/healthz')).status).toBe(200);
  });

  it('logs one secret-free line per request', async () => {
    const { url, logs } = await startService({}, {}, {});
    const token = await tokenFrom(url, 'search');
    const { challenge } = (await post(url, '/api/challenge', {})).json;
    await post(url, '/api/token/verify', { token }, { headers: { authorization: `Bearer ${token}` } });
    await post(url, '/api/verify', `{"challenge": ${JSON.stringify(challenge)}, "solution": ${JSON.stringify(token)}`, { headers: { 'content-type': 'application/json' } });
    await request(url, `/api/status?token=${token}`, { headers: { authorization: `Bearer ${token}` } });
    const lines = logs.map((line) => JSON.parse(line));
    expect(lines.length).toBe(6);
    for (const line of lines) {
      expect(line).toMatchObject({ method: expect.any(String), route: expect.any(String), status: expect.any(Number), ms: expect.any(Number) });
    }
    expect(lines.find((l) => l.status === 400)).toMatchObject({ route: '/api/verify', reason: 'malformed' });
    const all = logs.join('\n');
    for (const secret of [SECRET, CLI_SECRET, token, token.split('.')[2]!, challenge.signature, 'Bearer', 'authorization']) {
      expect(all).not.toContain(secret);
    }
  });
});

describe('client addresses', () => {
  const trusted = TrustedProxies.from('10.0.0.0/8, 192.168.1.7, 2001:db8::/32, loopback');
  const table: [string, string | undefined, string | string[] | undefined, TrustedProxies | undefined, string][] = [
    ['no proxies configured: the socket, whatever is claimed', '203.0.113.5', '1.2.3.4', undefined, '203.0.113.5'],
    ['an untrusted peer: its claim is ignored', '203.0.113.5', '1.2.3.4', trusted, '203.0.113.5'],
    ['a trusted peer: the hop it reports', '10.1.2.3', '198.51.100.7', trusted, '198.51.100.7'],
    ['trusted hops skipped from the right', '10.1.2.3', '198.51.100.7, 192.168.1.7, 10.9.9.9', trusted, '198.51.100.7'],
    ['a forged left part is never reached', '10.1.2.3', '6.6.6.6, 198.51.100.7, 10.9.9.9', trusted, '198.51.100.7'],
    ['a client claiming to be a proxy is still the client', '10.1.2.3', '10.0.0.1, 203.0.113.9', trusted, '203.0.113.9'],
    ['all hops trusted: the leftmost', '10.1.2.3', '10.0.0.1, 192.168.1.7', trusted, '10.0.0.1'],
    ['no header from a trusted peer: the peer', '10.1.2.3', undefined, trusted, '10.1.2.3'],
    ['garbage hop: the trusted hop that wrote it', '10.1.2.3', 'evil, 10.0.0.4', trusted, '10.0.0.4'],
    ['garbage right after the peer: the peer', '10.1.2.3', 'not-an-ip', trusted, '10.1.2.3'],
    ['empty hops skipped', '10.1.2.3', '198.51.100.7, , ', trusted, '198.51.100.7'],
    ['several headers, joined', '10.1.2.3', ['198.51.100.7', '10.0.0.2'], trusted, '198.51.100.7'],
    ['IPv4-mapped peer', '::ffff:10.1.2.3', '198.51.100.7', trusted, '198.51.100.7'],
    ['IPv4-mapped untrusted peer', '::ffff:203.0.113.5', '198.51.100.7', trusted, '203.0.113.5'],
    ['IPv6 proxy range', '2001:db8::1', '2001:DB8:1::1, 2a00::5', trusted, '2a00::5'],
    ['ports in hops', '10.1.2.3', '198.51.100.7:4711, [2001:db8::9]:80', trusted, '198.51.100.7'],
    ['loopback preset', '127.0.0.1', '198.51.100.7', trusted, '198.51.100.7'],
    ['IPv6 loopback', '::1', '198.51.100.7', trusted, '198.51.100.7'],
    ['no peer address', undefined, '198.51.100.7', trusted, 'unknown'],
  ];
  it.each(table)('%s', (_what, peer, header, proxies, expected) => {
    expect(clientAddress(peer, header, proxies)).toBe(expected);
  });

  it('walks at most 32 hops of a very long chain', () => {
    const header = `${Array.from({ length: 1000 }, () => '10.0.0.1').join(',')}`;
    expect(clientAddress('10.0.0.2', header, trusted)).toBe('10.0.0.1');
    expect(clientAddress('10.0.0.2', `203.0.113.1,${'10.0.0.1,'.repeat(40)}10.0.0.1`, trusted)).toBe('10.0.0.1');
  });

  it('normalizes addresses and parses lists strictly', () => {
    expect(normalizeAddress('::FFFF:1.2.3.4')).toBe('1.2.3.4');
    expect(normalizeAddress('[::1]:8080')).toBe('::1');
    expect(normalizeAddress('fe80::1%eth0')).toBe('fe80::1');
    // One spelling per address, every IPv4-mapped form folded to IPv4.
    expect(normalizeAddress('2001:DB8:0:0::1')).toBe('2001:db8::1');
    expect(normalizeAddress('2001:db8::0:1')).toBe('2001:db8::1');
    expect(normalizeAddress('::ffff:7f00:1')).toBe('127.0.0.1');
    expect(normalizeAddress('::FFFF:7F00:0001')).toBe('127.0.0.1');
    expect(normalizeAddress('1.2.3')).toBeUndefined();
    expect(normalizeAddress('')).toBeUndefined();
    expect(TrustedProxies.from(['192.168.0.0/16']).has('::ffff:192.168.3.4')).toBe(true);
    // Rates are counted per IPv4 address and per IPv6 /64.
    expect(clientRateKey('203.0.113.5')).toBe('203.0.113.5');
    expect(['2001:db8::1', '2001:db8::2', '2001:db8:0:0:ffff::3'].map(clientRateKey)).toEqual(Array(3).fill('2001:db8:0:0::/64'));
    expect(clientRateKey('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
    expect(clientRateKey('::1')).toBe('0:0:0:0::/64');
    expect(clientRateKey('fe80::')).toBe('fe80:0:0:0::/64');
    expect(TrustedProxies.from('private').has('172.20.0.1')).toBe(true);
    expect(TrustedProxies.from('private').has('172.32.0.1')).toBe(false);
    expect(TrustedProxies.from('').entries).toEqual([]);
    for (const bad of ['10.0.0.0/33', 'example.com', '10.0.0.0/x', '::1/129', 'loopback,1.2.3.4/-1']) {
      expect(() => TrustedProxies.from(bad)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    }
  });

  it('reads X-Forwarded-For only from a configured proxy, end to end', async () => {
    // 127.0.0.1 is the proxy; 127.0.0.2 is a client that forges the header.
    const { url } = await startService({ difficulty: { base: 4, min: 4, max: 20, freeRequests: 1, windowMs: 60_000 } }, { trustProxy: '127.0.0.1' });
    const price = async (from: string, xff?: string) =>
      (await post(url, '/api/challenge', {}, { localAddress: from, headers: xff ? { 'x-forwarded-for': xff } : {} })).json.challenge.difficulty as number;
    // Through the proxy, one busy client behind it.
    for (let i = 0; i < 8; i++) await price('127.0.0.1', '198.51.100.7');
    expect(await price('127.0.0.1', '198.51.100.7')).toBeGreaterThan(4);
    // Another client behind the same proxy starts at the base.
    expect(await price('127.0.0.1', '198.51.100.8')).toBe(4);
    // A direct client cannot pose as someone else: its own count rises whatever it claims.
    const forged = [];
    for (let i = 0; i < 8; i++) forged.push(await price('127.0.0.2', `203.0.113.${i}`));
    expect(forged.at(-1)).toBeGreaterThan(4);
  });
});

describe('adaptive difficulty over HTTP', () => {
  it('rises with the calls a client asks for, within bounds, and leaves other clients alone', async () => {
    const { url } = await startService({ difficulty: { base: 5, min: 5, max: 9, freeRequests: 2, windowMs: 60_000 } });
    const prices: number[] = [];
    for (let i = 0; i < 40; i++) prices.push((await post(url, '/api/challenge', {}, { localAddress: '127.0.0.1' })).json.challenge.difficulty);
    expect(prices.slice(0, 2)).toEqual([5, 5]);
    for (let i = 1; i < prices.length; i++) expect(prices[i]).toBeGreaterThanOrEqual(prices[i - 1]!);
    expect(prices[8]).toBeGreaterThan(6); // 9 calls asked for, 2 free: log2(4.5) ≈ 2.2 bits more
    expect(prices.at(-1)).toBe(9); // capped at max
    // Buying many calls at once is no cheaper: a bundle of 16 counts 16.
    const fresh = await post(url, '/api/challenge', { calls: 16 }, { localAddress: '127.0.0.4' });
    expect(fresh.json.challenge).toMatchObject({ calls: 16, price: 8 }); // 16 asked, 2 free: 3 more bits a call
    expect((await post(url, '/api/challenge', {}, { localAddress: '127.0.0.3' })).json.challenge.difficulty).toBe(5);
    // Paying for calls (token/verify) counts nothing more: they were counted when asked for.
    const token = issueToken({ secret: SECRET, calls: 100, price: 5 });
    for (let i = 0; i < 10; i++) expect((await post(url, '/api/token/verify', { token }, { localAddress: '127.0.0.3' })).json.valid).toBe(true);
    expect((await post(url, '/api/challenge', {}, { localAddress: '127.0.0.3' })).json.challenge.difficulty).toBe(5);
  });
});

describe('a store too full to count a new token', () => {
  it('answers 503 store_full to a token no newer than those counted, and the middleware offers a new one (a newer token passes)', async () => {
    const { url, gate } = await startService({ store: new MemoryReplayStore({ maxTokens: 1 }) });
    const first = issueToken({ secret: SECRET, scope: 'search', calls: 5, price: LOW, now: Date.now() + 1000 });
    const second = issueToken({ secret: SECRET, scope: 'search', calls: 5, price: LOW });
    expect((await post(url, '/api/token/verify', { token: first, scope: 'search' })).json).toMatchObject({ valid: true, used: 1 });
    const full = await post(url, '/api/token/verify', { token: second, scope: 'search' });
    expect([full.status, full.json, full.headers['retry-after']]).toEqual([503, { valid: false, reason: 'store_full' }, '1']);
    const gated = createServer((req, res) => powgateMiddleware(gate, { scope: 'search' })(req, res, () => res.end('ok')));
    const gatedUrl = await listen(gated);
    cleanups.push(() => close(gated));
    const refused = await request(gatedUrl, '/', { headers: { authorization: `Bearer ${second}` } });
    expect(refused.status).toBe(402);
    expect(refused.json).toMatchObject({ error: 'payment_required', cause: { reason: 'store_full' }, accepts: [{ method: 'pow' }] });
    expect((await request(gatedUrl, '/', { headers: { authorization: `Bearer ${first}` } })).text).toBe('ok');
  });
});

describe('failing closed or open when the store cannot answer', () => {
  it('fails closed by default: 503 store_unavailable on every route that needs the store', async () => {
    const { url, gate } = await startService({ store: brokenStore(), counter: brokenCounter });
    const challenge = await post(url, '/api/challenge', {});
    expect([challenge.status, challenge.json.error, challenge.headers['retry-after']]).toEqual([503, 'store_unavailable', '1']);
    const made = createChallenge({ secret: SECRET, difficulty: LOW });
    const verify = await post(url, '/api/verify', { challenge: made, solution: await solve(made, { threads: 1 }) });
    expect([verify.status, verify.json.error]).toEqual([503, 'store_unavailable']);
    // A token's MAC needs no store, but its calls do: a spend fails closed, a check does not.
    const token = issueToken({ secret: SECRET, price: LOW });
    const spent = await post(url, '/api/token/verify', { token });
    expect([spent.status, spent.json]).toEqual([503, { valid: false, reason: 'store_unavailable' }]);
    expect((await post(url, '/api/token/verify', { token, check_only: true })).json.valid).toBe(true);
    const gated = createServer((req, res) => powgateMiddleware(gate)(req, res, () => res.end('ok')));
    const gatedUrl = await listen(gated);
    cleanups.push(() => close(gated));
    const refused = await request(gatedUrl, '/');
    expect([refused.status, refused.json.error, refused.headers['retry-after']]).toEqual([503, 'store_unavailable', '1']);
    expect(refused.json.accepts).toEqual([]);
    const withToken = await request(gatedUrl, '/', { headers: { 'x-powgate-token': token } });
    expect([withToken.status, withToken.json.error]).toEqual([503, 'store_unavailable']);
  });

  it('fails open when asked: challenges at the base difficulty, solutions accepted unspent', async () => {
    const { url } = await startService({ store: brokenStore(), counter: brokenCounter, failOpen: true, difficulty: { base: LOW, min: LOW, max: 12 } });
    const { challenge, solution } = await solved(url);
    expect(challenge.difficulty).toBe(LOW);
    expect((await post(url, '/api/verify', { challenge, solution })).status).toBe(200);
    expect((await post(url, '/api/verify', { challenge, solution })).status).toBe(200); // the price of failing open
    expect((await request(url, '/api/status')).json.fail_open).toBe(true);
  });
});

/** What every gate must do, whatever framework carries it. */
function gateSuite(name: string, start: (gate: Gate) => Promise<string>) {
  describe(`the 402 gate with ${name}`, () => {
    let url: string;
    let gate: Gate;
    const setup = async () => {
      gate = new Gate({ secret: SECRET, difficulty: LOW });
      cleanups.push(() => gate.close());
      url = await start(gate);
    };

    const expectRefusal = (reply: Reply, reason: string) => {
      expect(reply.status, reply.text).toBe(402);
      expect(reply.headers['content-type']).toMatch(/^application\/json/);
      expect(reply.headers['www-authenticate']).toBe(`PowGate realm="api", scope="search", error="${reason}"`);
      expect(reply.json).toMatchObject({
        error: 'payment_required',
        cause: { reason, detail: expect.any(String) },
        accepts: [{ method: 'pow', challenge: { v: 2, scope: 'search', difficulty: LOW, calls: 1, price: LOW }, redeem: { url: '/api/verify', method: 'POST' } }],
      });
    };

    it('refuses without a token, with everything an agent needs to get through, then lets it in', async () => {
      await setup();
      const refused = await request(url, '/data');
      expectRefusal(refused, 'token_required');
      // The on-ramp: solve what the body says, redeem where it says, present the token as it says.
      const [accept] = refused.json.accepts;
      const solution = await solve(accept.challenge, { threads: 1 });
      const redeemed = await post(url, accept.redeem.url, { challenge: accept.challenge, solution });
      expect(redeemed.status, redeemed.text).toBe(200);
      expect(accept.redeem.present.header).toBe('Authorization');
      const passed = await request(url, '/data', { headers: { authorization: `Bearer ${redeemed.json.token}` } });
      expect([passed.status, passed.json, passed.headers['powgate-calls-remaining']]).toEqual([200, { data: 'secret stuff', scope: 'search' }, '0']);
      // One call bought, one call served: the next is refused with a fresh challenge, the on-ramp again.
      const spent = await request(url, '/data', { headers: { 'x-powgate-token': redeemed.json.token } });
      expectRefusal(spent, 'token_exhausted');
      expect(spent.json.accepts[0].challenge.id).not.toBe(accept.challenge.id);
      // A bundle: the refusal says how to ask for more calls; three calls, three passes, then exhausted.
      const more = await post(url, accept.redeem.more_calls.url, { scope: 'search', calls: 3 });
      const bundle = more.json.challenge;
      const token = (await post(url, accept.redeem.url, { challenge: bundle, solution: await solve(bundle, { threads: 1 }) })).json.token;
      const remaining = [];
      for (const headers of [{ 'x-powgate-token': token }, { authorization: `Bearer ${token}` }, { 'x-powgate-token': '', authorization: `Bearer ${token}` }] as Record<
        string,
        string
      >[]) {
        const reply = await request(url, '/data', { headers });
        expect(reply.status).toBe(200);
        remaining.push(reply.headers['powgate-calls-remaining']);
      }
      expect(remaining).toEqual(['2', '1', '0']);
      expectRefusal(await request(url, '/data', { headers: { authorization: `Bearer ${token}` } }), 'token_exhausted');
    });

    it('answers probes (empty body, no credentials, wrong Accept, other methods) with the refusal envelope', async () => {
      await setup();
      expectRefusal(await request(url, '/data', { method: 'POST' }), 'token_required');
      expectRefusal(await request(url, '/data', { method: 'POST', body: '', headers: { 'content-type': 'application/json' } }), 'token_required');
      expectRefusal(await request(url, '/data', { headers: { accept: 'text/html' } }), 'token_required');
      expectRefusal(await request(url, '/data', { headers: { accept: 'application/xml;q=1, */*;q=0' } }), 'token_required');
      expectRefusal(await request(url, '/data', { method: 'DELETE', body: '{broken', headers: { 'content-type': 'application/json' } }), 'token_required');
      expectRefusal(await request(url, '/data', { headers: { authorization: 'Bearer some-oauth-token' } }), 'token_required');
      expectRefusal(await request(url, '/data', { headers: { authorization: 'Basic dXNlcjpwYXNz' } }), 'token_required');
    });

    it('refuses bad tokens with their reason: garbage, another scope, another key, expired', async () => {
      await setup();
      expectRefusal(await request(url, '/data', { headers: { 'x-powgate-token': 'garbage' } }), 'malformed');
      expectRefusal(await request(url, '/data', { headers: { authorization: 'Bearer pgt2.garbage.x' } }), 'malformed');
      expectRefusal(await request(url, '/data', { headers: { authorization: 'Bearer pgt1.garbage.x' } }), 'unsupported_version');
      // A token bought at another door's lower price does not open this one.
      expectRefusal(await request(url, '/data', { headers: { authorization: `Bearer ${issueToken({ secret: SECRET, scope: 'search', price: LOW - 1 })}` } }), 'price_too_low');
      expectRefusal(await request(url, '/data', { headers: { 'x-powgate-token': 'x'.repeat(5000) } }), 'malformed');
      expectRefusal(await request(url, '/data', { headers: { authorization: `Bearer ${issueToken({ secret: SECRET, scope: 'admin' })}` } }), 'scope_mismatch');
      expectRefusal(await request(url, '/data', { headers: { authorization: `PowGate ${issueToken({ secret: OTHER_SECRET, scope: 'search' })}` } }), 'unknown_key');
      const old = issueToken({ secret: SECRET, scope: 'search', now: Date.now() - 3_600_000, ttlMs: 1000 });
      expectRefusal(await request(url, '/data', { headers: { authorization: `Bearer ${old}` } }), 'expired');
      const good = issueToken({ secret: SECRET, scope: 'search', price: LOW });
      expect((await request(url, '/data', { headers: { authorization: `bearer ${good}` } })).status).toBe(200);
    });
  });
}

const protect = { scope: 'search', realm: 'api' };

gateSuite('node:http', async (gate) => {
  const service = new PowgateService(gate, { metrics: new HttpMetrics({ defaultMetrics: false }) });
  const guard = powgateMiddleware(gate, protect);
  const server = createServer((req, res) => {
    if (req.url!.startsWith('/api/')) return service.handle(req, res);
    guard(req, res, () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ data: 'secret stuff', scope: (req as { powgate?: { scope: string } }).powgate!.scope }));
    });
  });
  cleanups.push(() => close(server));
  return listen(server);
});

gateSuite('Express', async (gate) => {
  const app = express();
  app.use(new PowgateService(gate, { metrics: new HttpMetrics({ defaultMetrics: false }) }).handle);
  app.use('/data', powgateMiddleware(gate, protect));
  app.all('/data', (req, res) => {
    res.json({ data: 'secret stuff', scope: (req as { powgate?: { scope: string } }).powgate!.scope });
  });
  const server = createServer(app);
  cleanups.push(() => close(server));
  return listen(server);
});

gateSuite('Fastify', async (gate) => {
  const app = fastify();
  const service = new PowgateService(gate, { metrics: new HttpMetrics({ defaultMetrics: false }) });
  // The token service beside Fastify's routes: its paths are answered before Fastify's router.
  app.addHook('onRequest', async (request, reply) => {
    if (!request.url.startsWith('/api/')) return;
    reply.hijack();
    service.handle(request.raw, reply.raw);
  });
  app.register(async (scoped) => {
    scoped.addHook('onRequest', powgateFastifyHook(gate, protect));
    scoped.all('/data', async (request) => ({ data: 'secret stuff', scope: (request as unknown as { powgate: { scope: string } }).powgate.scope }));
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
  await app.listen({ port: 0, host: '127.0.0.1' });
  cleanups.push(() => app.close());
  const { port } = app.server.address() as { port: number };
  return `http://127.0.0.1:${port}`;
});

describe('presentedToken', () => {
  it('reads X-Powgate-Token first, then Bearer pgt1 tokens and the PowGate scheme, nothing else', () => {
    expect(presentedToken({ 'x-powgate-token': 'a', authorization: 'Bearer pgt1.b' })).toBe('a');
    expect(presentedToken({ authorization: 'Bearer pgt1.b' })).toBe('pgt1.b');
    expect(presentedToken({ authorization: 'BEARER   pgt1.b ' })).toBe('pgt1.b');
    expect(presentedToken({ authorization: 'PowGate whatever' })).toBe('whatever');
    expect(presentedToken({ authorization: 'Bearer eyJhbGciOi' })).toBeUndefined();
    expect(presentedToken({ authorization: 'Bearer' })).toBeUndefined();
    expect(presentedToken({})).toBeUndefined();
  });
});

describe('powgate serve', () => {
  it('refuses bad flags with exit code 2 and the usage', async () => {
    const cases: [string[], Record<string, string | undefined>, RegExp][] = [
      [['--port', 'x'], {}, /--port/],
      [['--port', '70000'], {}, /--port/],
      [['--difficulty', '8', '--max-difficulty', '20'], {}, /--difficulty fixes/],
      [['--min-difficulty', '20', '--max-difficulty', '10'], {}, /above --max-difficulty/],
      [['--trust-proxy', '10.0.0.0/40'], {}, /--trust-proxy/],
      [['--redis', 'localhost:6379'], {}, /--redis/],
      [['--redis', 'redis://a', '--redis-cluster', 'a:1'], {}, /--redis, --redis-cluster and --redis-sentinel are exclusive/],
      [['--redis-cluster', 'a:1,b'], {}, /expected host:port,\.\.\. for --redis-cluster but received 'b'/],
      [['--redis-cluster', '[::1]:99999'], {}, /--redis-cluster/],
      [['--redis-sentinel', 'a:26379'], {}, /--redis-sentinel and --redis-master go together/],
      [['--redis-master', 'm'], {}, /--redis-sentinel and --redis-master go together/],
      [['--redis-wait-replicas', '1'], {}, /--redis-wait-replicas needs/],
      [['--redis-cluster', 'a:1', '--redis-wait-replicas', '17'], {}, /--redis-wait-replicas/],
      [['--log-level', 'loud'], {}, /--log-level/],
      [['--token-ttl', 'soon'], {}, /--token-ttl/],
      [['--max-body', '0'], {}, /--max-body/],
      [[], { POWGATE_SECRET: undefined }, /no secret/],
      [[], { POWGATE_SECRET: 'short' }, /secret/],
    ];
    const results = await Promise.all(cases.map(([args, env]) => runCli(['serve', ...args], { env })));
    results.forEach((result, i) => expectUsageError(result, cases[i]![2]));
    const help = await runCli(['serve', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: powgate serve/);
    expect(help.stdout).toContain('--trust-proxy');
  });

  it('serves, logs JSON lines without secrets, and stops gracefully on SIGTERM and SIGINT', async () => {
    const served = await startServe(['--difficulty', String(LOW), '--host', '127.0.0.1']);
    const { url } = served;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const token = await tokenFrom(url);
    expect((await post(url, '/api/token/verify', { token })).json.valid).toBe(true);
    expect(await served.stop()).toBe(0);
    const lines = served.lines.map((line) => JSON.parse(line));
    expect(lines[0]).toMatchObject({ msg: 'listening', url, store: 'memory' });
    // At the default level (info) the hot route's answer is not logged: challenge and verify are.
    expect(lines.filter((l) => l.route).map((l) => l.route)).toEqual(['/api/challenge', '/api/verify']);
    expect(lines.at(-1)).toMatchObject({ msg: 'stopped' });
    const all = served.lines.join('\n');
    for (const secret of [CLI_SECRET, token]) expect(all).not.toContain(secret);

    const again = await startServe([]);
    again.child.kill('SIGINT');
    expect(await again.stop()).toBe(0);
  });

  // Issue 16: `powgate serve | head -1`, then Ctrl-C: the last lines met a broken pipe, and a
  // synchronous flush retried it forever (exit 0 now; null would be the helper's SIGKILL).
  it.each(['SIGINT', 'SIGTERM'] as const)('stops on %s after whoever read its stdout has gone', async (signal) => {
    const served = await startServe([]);
    served.child.stdout!.destroy();
    await post(served.url, '/api/challenge', {}); // a line for the broken pipe
    served.child.kill(signal);
    expect(await served.stop()).toBe(0);
  });
});
