// The fetch wrapper over real HTTP on loopback: a Gate with the token service and the 402
// middleware (counting what the server saw), hostile servers, and a second origin that
// must never hear from the client.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { Budget, wrapFetchWithPowgate, type PaymentInfo, type PowgateFetchOptions } from '../src/client/index.js';
import { credentialKey } from '../src/client/credentials.js';
import { PowgateError } from '../src/errors.js';
import { Gate, type GateOptions } from '../src/gate/gate.js';
import { powgateMiddleware, type PowgateRequest } from '../src/http/index.js';
import { PowgateService } from '../src/http/service.js';
import { createChallenge } from '../src/protocol/challenge.js';
import { close, listen } from './helpers/http.js';
import { SECRET } from './helpers/protocol.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map(close));
});

/** What a server saw. */
interface Seen {
  requests: { method: string; url: string; headers: IncomingMessage['headers'] }[];
  passes: number;
  verifies: number;
  refusalsWithCredential: number;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c)).on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

async function start(handler: (req: IncomingMessage, res: ServerResponse, seen: Seen) => void): Promise<{ url: string; seen: Seen }> {
  const seen: Seen = { requests: [], passes: 0, verifies: 0, refusalsWithCredential: 0 };
  const server = createServer((req, res) => {
    seen.requests.push({ method: req.method!, url: req.url!, headers: req.headers });
    handler(req, res, seen);
  });
  servers.push(server);
  return { url: await listen(server), seen };
}

/** The token service and a gated echo route on one server, over a fresh gate (8 bits a call). */
function gated(options: Partial<GateOptions> = {}) {
  const gate = new Gate({ secret: SECRET, difficulty: 8, ...options });
  const service = new PowgateService(gate);
  const guard = powgateMiddleware(gate, { scope: 'search' });
  return start((req, res, seen) => {
    if (req.url === '/api/verify') seen.verifies++;
    if (req.url?.startsWith('/api/')) return service.handle(req, res);
    const presented = req.headers.authorization !== undefined || req.headers['x-powgate-token'] !== undefined;
    res.once('finish', () => {
      if (res.statusCode === 402 && presented) seen.refusalsWithCredential++;
    });
    guard(req, res, async () => {
      seen.passes++;
      const body = await readBody(req);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ ok: true, method: req.method, body, paidBy: (req as PowgateRequest).powgate?.method, auth: req.headers.authorization ?? null }));
    });
  });
}

/** A fetch wrapper that records its payments; no measuring (a fixed hash rate) unless told. */
function agent(options: PowgateFetchOptions = {}) {
  const payments: PaymentInfo[] = [];
  const pay = wrapFetchWithPowgate(fetch, { hashRate: 1e6, threads: 1, onPayment: (p) => payments.push(p), ...options });
  return { pay, payments };
}

async function codeOf(promise: Promise<unknown>): Promise<PowgateError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PowgateError);
  return error as PowgateError;
}

describe('paying a powgate gate', () => {
  it('solves, redeems and retries once; the next calls reuse nothing when a token buys one call', async () => {
    const { url, seen } = await gated();
    const { pay, payments } = agent();
    for (let i = 0; i < 3; i++) {
      const res = await pay(`${url}/search?q=${i}`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ ok: true, paidBy: 'pow' });
    }
    expect(payments).toHaveLength(3);
    expect(payments[0]).toMatchObject({ origin: url, scope: 'search', method: 'pow', calls: 1, price: { method: 'pow', calls: 1 } });
    expect(payments[0]!.price.seconds).toBeCloseTo(256 / 1e6, 9);
    expect(seen.passes).toBe(3);
    expect(seen.verifies).toBe(3);
    expect(seen.refusalsWithCredential).toBe(0);
  });

  it('buys bundles through more_calls; a token of N calls serves N requests, then the client buys again', async () => {
    const { url, seen } = await gated();
    const { pay, payments } = agent({ calls: 3 });
    const remaining: (string | null)[] = [];
    for (let i = 0; i < 7; i++) {
      const res = await pay(`${url}/search`);
      expect(res.status).toBe(200);
      remaining.push(res.headers.get('powgate-calls-remaining'));
    }
    expect(remaining).toEqual(['2', '1', '0', '2', '1', '0', '2']);
    expect(payments.map((p) => p.calls)).toEqual([3, 3, 3]);
    expect(seen.requests.filter((r) => r.url === '/api/challenge')).toHaveLength(3);
    expect(seen.passes).toBe(7);
    expect(seen.refusalsWithCredential).toBe(0);
  });

  it('buys again when the server says token_exhausted, whatever the client believed', async () => {
    const { url, seen } = await gated();
    const { pay, payments } = agent();
    expect((await pay(`${url}/search`)).status).toBe(200);
    // The client is told the token has many calls left: the server knows better.
    expect(pay.client.credentials.peek(credentialKey(url, 'search'))).toMatchObject({ calls: 1, remaining: 0 });
    const token = seen.requests.at(-1)!.headers.authorization!.slice('Bearer '.length);
    pay.client.credentials.put(credentialKey(url, 'search'), { credential: { kind: 'token', token }, method: 'pow', calls: 50, expiresAt: Date.now() + 60_000 });
    const before = seen.requests.length;
    expect((await pay(`${url}/search`)).status).toBe(200);
    expect(payments).toHaveLength(2);
    // With the stale token (402 token_exhausted), then the redeem, then with the new one.
    expect(seen.requests.slice(before).map((r) => r.url)).toEqual(['/search', '/api/verify', '/search']);
    expect(seen.refusalsWithCredential).toBe(1);
  });

  it('shares one purchase among concurrent requests and never presents more calls than it bought', async () => {
    const { url, seen } = await gated();
    const { pay, payments } = agent({ calls: 4 });
    const replies = await Promise.all(Array.from({ length: 10 }, (_, i) => pay(`${url}/search?i=${i}`)));
    expect(replies.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(payments).toHaveLength(3); // 4 + 4 + 4 calls for 10 requests
    expect(seen.passes).toBe(10);
    expect(seen.passes).toBeLessThanOrEqual(payments.reduce((n, p) => n + p.calls!, 0));
    expect(seen.refusalsWithCredential).toBe(0);
    // The two calls left serve the next two requests without a payment.
    await Promise.all([pay(`${url}/search`), pay(`${url}/search`)]);
    expect(payments).toHaveLength(3);
    expect(seen.passes).toBe(12);
  });

  it('sends bodies again after paying: strings, bytes, URLSearchParams, Blob, streams, Requests', async () => {
    const { url } = await gated();
    const { pay } = agent();
    const bodies: [RequestInit['body'], string][] = [
      ['plain text', 'plain text'],
      [new TextEncoder().encode('bytes'), 'bytes'],
      [new URLSearchParams({ a: '1', b: '2' }), 'a=1&b=2'],
      [new Blob(['a blob']), 'a blob'],
      [new Blob(['x']).stream(), 'x'],
    ];
    for (const [body, text] of bodies) {
      const init = { method: 'POST', body, ...(body instanceof ReadableStream ? { duplex: 'half' } : {}) } as RequestInit;
      expect(await (await pay(`${url}/search`, init)).json()).toMatchObject({ method: 'POST', body: text });
    }
    const request = new Request(`${url}/search`, { method: 'PUT', body: 'from a Request', headers: { 'x-mine': '1' } });
    expect(await (await pay(request)).json()).toMatchObject({ method: 'PUT', body: 'from a Request' });
  });

  it('refuses a stream body too large to keep, before sending anything', async () => {
    const { url, seen } = await gated();
    const { pay } = agent({ maxReplayBytes: 4 });
    const error = await codeOf(pay(`${url}/search`, { method: 'POST', body: new Blob(['too large']).stream(), duplex: 'half' } as RequestInit));
    expect(error.code).toBe('ERR_INVALID_ARGUMENT');
    expect(error.message).toMatch(/maxReplayBytes/);
    expect(seen.requests).toHaveLength(0);
  });

  it("keeps the request's own Authorization (OAuth): the token goes in X-Powgate-Token", async () => {
    const { url } = await gated();
    const { pay } = agent();
    const res = await pay(`${url}/search`, { headers: { authorization: 'Bearer oauth-abc' } });
    expect(await res.json()).toMatchObject({ ok: true, auth: 'Bearer oauth-abc' });
  });
});

describe('budgets and aborts', () => {
  it('refuses an absurd price before any work, in milliseconds, with the price', async () => {
    const { url, seen } = await gated();
    const progress: unknown[] = [];
    const { pay, payments } = agent({ hashRate: 1, onProgress: (p) => progress.push(p) });
    const started = performance.now();
    const error = await codeOf(pay(`${url}/search`));
    const elapsed = performance.now() - started;
    expect(error.code).toBe('ERR_BUDGET_EXCEEDED');
    expect(error.price).toEqual({ method: 'pow', seconds: 256, calls: 1 });
    expect(elapsed).toBeLessThan(1_000); // priced from the difficulty: nothing was solved
    expect(progress).toEqual([]);
    expect(payments).toEqual([]);
    expect(seen.verifies).toBe(0);
    expect(seen.requests).toHaveLength(1);
  });

  it('refuses once the window is spent (shared budgets count every client), and when approve says no', async () => {
    const { url, seen } = await gated();
    const budget = new Budget({ maxSecondsPerWindow: 3 });
    const first = agent({ hashRate: 256, budget }); // 1 CPU-second a call, as priced
    expect((await first.pay(`${url}/search`)).status).toBe(200);
    // The window holds what the solve really took, not the estimate.
    expect(budget.spent().seconds).toBeCloseTo(first.payments[0]!.cpuSeconds!, 9);
    await budget.authorize({ method: 'pow', seconds: 2.5, calls: 1 }); // another client of the same budget
    const second = agent({ hashRate: 256, budget });
    const error = await codeOf(second.pay(`${url}/search`));
    expect(error).toMatchObject({ code: 'ERR_BUDGET_EXCEEDED', price: { method: 'pow', seconds: 1, calls: 1 } });
    expect(error.message).toMatch(/maxSecondsPerWindow/);
    const asked: unknown[] = [];
    const declined = agent({ approve: (price) => (asked.push(price), false) });
    expect(await codeOf(declined.pay(`${url}/search`))).toMatchObject({ code: 'ERR_PAYMENT_DECLINED', price: { method: 'pow', calls: 1 } });
    expect(asked).toHaveLength(1);
    expect(seen.verifies).toBe(1);
  });

  it("aborts a solve through the request's signal: nothing is redeemed", async () => {
    const { url, seen } = await gated({ difficulty: 40, maxCalls: 1 });
    const controller = new AbortController();
    const { pay, payments } = agent({ hashRate: 1e15, maxSecondsPerWindow: Infinity, onProgress: () => controller.abort() });
    const error = await codeOf(pay(`${url}/search`, { signal: controller.signal }));
    expect(error.code).toBe('ERR_ABORTED');
    expect(payments).toEqual([]);
    expect(seen.verifies).toBe(0);
  });

  it("aborts a request waiting for another's purchase, and lets the purchase serve the rest", async () => {
    const { url } = await gated();
    let release!: () => void;
    const gateOpen = new Promise<void>((resolve) => (release = resolve));
    const { pay, payments } = agent({ calls: 2, approve: async () => (await gateOpen, true) });
    const controller = new AbortController();
    const first = pay(`${url}/search`);
    const second = pay(`${url}/search`, { signal: controller.signal });
    const third = pay(`${url}/search`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    controller.abort();
    expect((await codeOf(second)).code).toBe('ERR_ABORTED');
    release();
    expect([(await first).status, (await third).status]).toEqual([200, 200]);
    expect(payments).toHaveLength(1);
  });
});

describe('402s the client does not pay, and hostile ones', () => {
  /** A server whose 402 is `reply`'s, plus a second origin that must hear nothing. */
  async function hostile(reply: (seen: Seen, url: string, other: string) => { headers?: Record<string, string>; body: string }) {
    const other = await start((_req, res) => res.end('nothing to see'));
    let self = '';
    const server = await start((_req, res, seen) => {
      const { headers, body } = reply(seen, self, other.url);
      res.writeHead(402, { 'content-type': 'application/json', ...headers }).end(body);
    });
    self = server.url;
    return { url: server.url, seen: server.seen, other: other.seen };
  }
  const challenge = (difficulty = 8, extra: object = {}) => createChallenge({ secret: SECRET, difficulty, scope: 's', maxDifficulty: 64, ...extra });
  const envelope = (accept: object) => JSON.stringify({ error: 'payment_required', cause: { reason: 'token_required', detail: '' }, accepts: [accept] });
  const pow = (over: object = {}) => ({ method: 'pow', challenge: challenge(), calls: { max: 10 }, redeem: { url: '/api/verify', method: 'POST' }, ...over });

  it('a 402 in another format: a clear error after one request, never a loop', async () => {
    for (const reply of [
      { body: JSON.stringify({ x402Version: 1, accepts: [{ scheme: 'exact', network: 'base' }] }) },
      { headers: { 'www-authenticate': 'Bearer realm="api"' }, body: 'pay up' },
      { body: '' },
    ]) {
      const { url, seen } = await hostile(() => reply);
      const error = await codeOf(agent().pay(`${url}/x`));
      expect(error.code).toBe('ERR_UNSUPPORTED_CHALLENGE');
      expect(seen.requests).toHaveLength(1);
    }
  });

  it('refuses absurd difficulty (budget), huge fields and wrong types (bad envelope) without solving or sending', async () => {
    const cases: [string, string][] = [
      [envelope(pow({ challenge: challenge(64, { subPuzzles: 64 }) })), 'ERR_BUDGET_EXCEEDED'],
      [envelope(pow({ challenge: { ...challenge(), difficulty: 'easy' } })), 'ERR_BAD_ENVELOPE'],
      [envelope(pow({ redeem: { url: '/api/verify', padding: 'x'.repeat(20_000) } })), 'ERR_BAD_ENVELOPE'],
      [envelope(pow()).replace('"detail":""', `"detail":"${'x'.repeat(100_000)}"`), 'ERR_BAD_ENVELOPE'],
      [envelope(pow({ calls: { max: 'many' } })), 'ERR_BAD_ENVELOPE'],
      [envelope(pow({ redeem: { tool: 'powgate_verify' } })), 'ERR_BAD_ENVELOPE'],
    ];
    for (const [body, code] of cases) {
      const { url, seen } = await hostile(() => ({ headers: { 'www-authenticate': 'PowGate realm="powgate", scope="s"' }, body }));
      const started = performance.now();
      const error = await codeOf(agent({ hashRate: 1e8 }).pay(`${url}/x`));
      expect([error.code, seen.requests.length]).toEqual([code, 1]);
      expect(performance.now() - started).toBeLessThan(1_000);
    }
  });

  it('never sends a solution or credential to another origin: redeem, more_calls or a redirect there', async () => {
    const redeemElsewhere = await hostile((_s, _u, other) => ({ body: envelope(pow({ redeem: { url: `${other}/api/verify` } })) }));
    expect((await codeOf(agent().pay(`${redeemElsewhere.url}/x`))).code).toBe('ERR_BAD_ENVELOPE');
    expect(redeemElsewhere.other.requests).toHaveLength(0);

    const moreElsewhere = await hostile((_s, _u, other) => ({ body: envelope(pow({ redeem: { url: '/api/verify', more_calls: { url: `${other}/api/challenge` } } })) }));
    expect((await codeOf(agent({ calls: 5 }).pay(`${moreElsewhere.url}/x`))).code).toBe('ERR_BAD_ENVELOPE');
    expect(moreElsewhere.other.requests).toHaveLength(0);

    // A same-origin redeem URL that redirects elsewhere: the redirect is not followed.
    const other = await start((_req, res) => res.end('{}'));
    const redirecting = await start((req, res) => {
      if (req.url === '/api/verify') return void res.writeHead(307, { location: `${other.url}/api/verify` }).end();
      res.writeHead(402, { 'content-type': 'application/json' }).end(envelope(pow()));
    });
    expect((await codeOf(agent().pay(`${redirecting.url}/x`))).code).toBe('ERR_PAYMENT_FAILED');
    expect(other.seen.requests).toHaveLength(0);

    // A 402 reached through a redirect to another origin is not paid.
    const target = await hostile(() => ({ body: envelope(pow()) }));
    const bouncing = await start((_req, res) => res.writeHead(302, { location: `${target.url}/x` }).end());
    expect((await codeOf(agent().pay(`${bouncing.url}/x`))).code).toBe('ERR_UNSUPPORTED_CHALLENGE');
    expect(target.seen.requests.filter((r) => r.method === 'POST')).toHaveLength(0);
  });

  it('presents a cached credential only to its own origin', async () => {
    const { url } = await gated();
    const other = await start((req, res) => res.end(JSON.stringify({ auth: req.headers.authorization ?? null, token: req.headers['x-powgate-token'] ?? null })));
    const { pay } = agent({ calls: 5 });
    expect((await pay(`${url}/search`)).status).toBe(200);
    expect(await (await pay(`${other.url}/search`)).json()).toEqual({ auth: null, token: null });
  });

  it('reports the server refusing a credential it just sold as a failed payment, not a loop', async () => {
    const { url } = await gated();
    // A gate that redeems tokens this door refuses (another scope's service).
    const liar = await start(async (req, res, seen) => {
      if (req.url === '/api/verify') {
        seen.verifies++;
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: 'pgt2.forged', calls: 5, expires_at: Date.now() + 60_000 }));
      }
      const refusal = await fetch(`${url}/search`);
      res.writeHead(402, { 'content-type': 'application/json' }).end(await refusal.text());
    });
    const error = await codeOf(agent().pay(`${liar.url}/x`));
    expect(error.code).toBe('ERR_PAYMENT_FAILED');
    expect(error.message).toMatch(/just bought/);
    expect(liar.seen.requests.map((r) => r.url)).toEqual(['/x', '/api/verify', '/x']);
  });
});
