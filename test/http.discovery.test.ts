// The discovery document, its Link from every refusal, CORS preflights and the token check's
// one answer shape, over real HTTP: node:http, Express, and `powgate serve` (dist/cli.js).
import { createServer, type Server } from 'node:http';
import express from 'express';
import fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { DISCOVERY_LINK_REL, DISCOVERY_PATH, discoveryDocument, discoveryLink } from '../src/gate/discovery.js';
import { Gate } from '../src/gate/gate.js';
import { LndRestBackend } from '../src/lightning/lnd-rest.js';
import { CORS_EXPOSE_HEADERS } from '../src/http/cors.js';
import { discoveryHandler } from '../src/http/discovery.js';
import { powgateFastifyHook, powgateMiddleware } from '../src/http/index.js';
import { PowgateService } from '../src/http/service.js';
import { close, listen, post, request, startServe, type ServeProcess } from './helpers/http.js';
import { startStandInNode, type StandInNode } from './helpers/lightning-node.js';

const SECRET = 'a discovery test secret that is long enough to pass';
const LINK = `</.well-known/l402.json>; rel="l402-manifest"`;

const servers: Server[] = [];
const serves: ServeProcess[] = [];
const nodes: StandInNode[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map(close));
  await Promise.all(serves.splice(0).map((s) => s.stop()));
  await Promise.all(nodes.splice(0).map((n) => n.close()));
});

async function serveHandler(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  return listen(server);
}

/** A node:http app: the service's routes, then /api/search behind the gate, then 200. */
async function nodeApp(gate: Gate, middleware: Parameters<typeof powgateMiddleware>[1] = {}): Promise<string> {
  const service = new PowgateService(gate);
  const guard = powgateMiddleware(gate, { scope: 'search', resource: 'GET /api/search', ...middleware });
  return serveHandler((req, res) =>
    service.handle(req, res, () =>
      guard(req, res, () => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('results');
      }),
    ),
  );
}

describe('the discovery document', () => {
  it('follows the L402 manifest shape, lists every door with its resources and doors, and states seconds only for a given hash rate', () => {
    const gate = new Gate({ secret: SECRET, difficulty: { base: 10, max: 14 }, scopes: { search: 12 } });
    gate.resource({ scope: 'search', method: 'GET', path: '/api/search' });
    const unknown = discoveryDocument(gate);
    expect(unknown).toMatchObject({ version: '1.0', provider: { name: 'powgate' }, currencies: ['msat'], payment_methods: [] });
    expect(unknown.services.map((s) => s.name)).toEqual(['default', 'search']);
    const search = unknown.services[1]!.resources[0]!;
    expect(search).toMatchObject({ method: 'GET', path: '/api/search', pricing: { model: 'dynamic' } });
    expect(search.powgate.doors).toEqual([{ method: 'pow', difficulty: 12, price_bits: 12, price_bits_max: 16, seconds_per_call: null, seconds_per_call_max: null }]);
    expect(unknown.powgate.reference_hardware).toBeNull();
    // A door without a recorded resource is listed with a resource without a path.
    expect(unknown.services[0]!.resources).toEqual([{ pricing: { model: 'dynamic' }, powgate: { scope: '', doors: [expect.objectContaining({ difficulty: 10 })] } }]);

    const known = discoveryDocument(gate, { reference: { hashesPerSecond: 4096, machine: 'a test machine' } });
    const doors = known.services[1]!.resources[0]!.powgate.doors;
    // 2^12 hashes at 4096 H/s: one second; 2^16 at the top of adaptive pricing: 16 s.
    expect(doors[0]).toMatchObject({ seconds_per_call: 1, seconds_per_call_max: 16 });
    expect(known.powgate.reference_hardware).toEqual({ hashes_per_second: 4096, machine: 'a test machine' });
    expect(JSON.stringify(known)).not.toContain(SECRET);

    expect(() => discoveryDocument(gate, { resources: [{ scope: 'nope', path: '/x' }] })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(() => discoveryDocument(gate, { reference: { hashesPerSecond: 0, machine: 'x' } })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(() => discoveryDocument(gate, { reference: { hashesPerSecond: 10, machine: '' } })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(discoveryLink()).toBe(LINK);
    expect([DISCOVERY_PATH, DISCOVERY_LINK_REL]).toEqual(['/.well-known/l402.json', 'l402-manifest']);
  });

  it('prices a Lightning door in msat (fixed, as L402 does) besides the work', async () => {
    const node = await startStandInNode();
    nodes.push(node);
    const backend = new LndRestBackend({ url: node.url, macaroon: node.lndMacaroonHex });
    const gate = new Gate({ secret: SECRET, difficulty: 8, scopes: { search: { sats: 5 } }, lightning: { backend, satsPerCall: 2 } });
    const doc = discoveryDocument(gate);
    expect(doc).toMatchObject({ macaroon_versions: [0], payment_methods: ['bolt11'], powgate: { doors: ['pow', 'l402'] } });
    expect(doc.services[0]!.resources[0]!.pricing).toEqual({ model: 'fixed', price_msat: 2000 });
    expect(doc.services[1]!.resources[0]!.pricing).toEqual({ model: 'fixed', price_msat: 5000 });
    expect(doc.services[1]!.resources[0]!.powgate.doors[1]).toEqual({ method: 'l402', sats: 5 });
  });

  it('is served free and cacheable with an ETag (304 on If-None-Match), HEAD too, and lists doors declared after the handler was made', async () => {
    const gate = new Gate({ secret: SECRET, difficulty: 8 });
    const url = await serveHandler(discoveryHandler(gate, { maxAgeSeconds: 60 }));
    gate.door('late', 9);
    const first = await request(url, DISCOVERY_PATH);
    expect(first.status).toBe(200);
    expect(first.headers).toMatchObject({ 'cache-control': 'public, max-age=60', 'content-type': 'application/json; charset=utf-8', 'access-control-allow-origin': '*' });
    expect(first.json.services.map((s: { name: string }) => s.name)).toEqual(['default', 'late']);
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    const again = await request(url, DISCOVERY_PATH, { headers: { 'if-none-match': etag } });
    expect([again.status, again.text, again.headers.etag]).toEqual([304, '', etag]);
    expect((await request(url, DISCOVERY_PATH, { headers: { 'if-none-match': '"other"' } })).status).toBe(200);
    const head = await request(url, DISCOVERY_PATH, { method: 'HEAD' });
    expect([head.status, head.text, head.headers.etag]).toEqual([200, '', etag]);
    // The document changes with the doors: so does its ETag.
    gate.door('later', 9);
    expect((await request(url, DISCOVERY_PATH)).headers.etag).not.toBe(etag);
    expect((await request(url, DISCOVERY_PATH, { method: 'POST', body: {} })).status).toBe(405);
    expect((await request(url, '/other')).status).toBe(404);
  });
});

describe('the Link to the discovery document and CORS on refusals', () => {
  it('node:http: every 402 links the document and exposes WWW-Authenticate and Link; the document lists the guarded route', async () => {
    const gate = new Gate({ secret: SECRET, difficulty: 8 });
    const url = await nodeApp(gate);
    for (const headers of [{}, { authorization: 'Bearer pgt2.garbage' }, { 'x-powgate-token': 'nope' }, { origin: 'https://agent.example' }] as Record<string, string>[]) {
      const refused = await request(url, '/api/search', { headers });
      expect(refused.status).toBe(402);
      expect(refused.headers.link).toBe(LINK);
      expect(refused.headers['access-control-allow-origin']).toBe('*');
      expect(refused.headers['access-control-expose-headers']).toBe(CORS_EXPOSE_HEADERS);
      expect(refused.headers['www-authenticate']).toMatch(/^PowGate /);
    }
    const doc = await request(url, DISCOVERY_PATH);
    expect(doc.status).toBe(200);
    expect(doc.json.services.find((s: { name: string }) => s.name === 'search').resources[0]).toMatchObject({ method: 'GET', path: '/api/search' });
    expect(doc.json.powgate.challenge_endpoint).toMatchObject({ method: 'POST', url: '/api/challenge' });
    // The service's own answers link it too.
    expect((await post(url, '/api/challenge', { scope: 'search' })).headers.link).toBe(LINK);
    expect((await request(url, '/api/status')).json.discovery).toBe(DISCOVERY_PATH);
  });

  it('links the document from 503 refusals (store unavailable) too', async () => {
    const down = { spend: async () => 'unavailable', spendCall: async () => ({ ok: false, reason: 'store_unavailable' }), close: async () => {} };
    const gate = new Gate({ secret: SECRET, difficulty: 8, store: down as never, counter: { hit: async () => undefined, close: async () => {} } });
    const url = await nodeApp(gate);
    const refused = await request(url, '/api/search');
    expect([refused.status, refused.json.error, refused.headers.link]).toEqual([503, 'store_unavailable', LINK]);
  });

  it('answers CORS preflights to a gated route with 204, never 402 (node:http and Express), with the allowed origins only', async () => {
    const gate = new Gate({ secret: SECRET, difficulty: 8 });
    const preflight = { origin: 'https://agent.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' };
    const nodeUrl = await nodeApp(gate);
    const app = express();
    app.use('/api/search', powgateMiddleware(gate, { scope: 'search', cors: ['https://agent.example'] }), (_req, res) => void res.send('results'));
    const expressUrl = await listen(((s) => (servers.push(s), s))(createServer(app)));
    for (const url of [nodeUrl, expressUrl]) {
      const answer = await request(url, '/api/search', { method: 'OPTIONS', headers: preflight });
      expect([answer.status, answer.text]).toEqual([204, '']);
      expect(answer.headers['access-control-allow-origin']).toMatch(/^(\*|https:\/\/agent\.example)$/);
      expect(answer.headers['access-control-allow-methods']).toBe('POST');
      expect(answer.headers['access-control-allow-headers']).toMatch(/Authorization/);
      expect(answer.headers['access-control-allow-headers']).toMatch(/X-Powgate-Token/);
      expect(answer.headers['access-control-allow-credentials']).toBeUndefined();
    }
    // A listed origin is echoed (and caches keyed by Origin); another gets no CORS grant, and still no 402.
    const other = await request(expressUrl, '/api/search', { method: 'OPTIONS', headers: { ...preflight, origin: 'https://evil.example' } });
    expect([other.status, other.headers['access-control-allow-origin'], other.headers.vary]).toEqual([204, undefined, 'Origin']);
    const refused = await request(expressUrl, '/api/search', { headers: { origin: 'https://agent.example' } });
    expect([refused.status, refused.headers['access-control-allow-origin'], refused.headers['access-control-expose-headers']]).toEqual([
      402,
      'https://agent.example',
      CORS_EXPOSE_HEADERS,
    ]);
    // A plain OPTIONS (not a preflight) is a request like any other: refused without a token.
    expect((await request(nodeUrl, '/api/search', { method: 'OPTIONS' })).status).toBe(402);
    // The service's routes answer preflights too.
    const service = await request(nodeUrl, '/api/token/verify', { method: 'OPTIONS', headers: preflight });
    expect([service.status, service.headers['access-control-allow-methods']]).toEqual([204, 'POST']);
  });

  it('Fastify: the hook answers preflights 204 and its 402 links the document with the expose headers', async () => {
    const gate = new Gate({ secret: SECRET, difficulty: 8 });
    const app = fastify();
    app.register(async (scoped) => {
      scoped.addHook('onRequest', powgateFastifyHook(gate, { scope: 'search', resource: 'GET /search' }));
      scoped.get('/search', async () => 'results');
      scoped.options('/search', async () => 'the handler must not run for a preflight');
    });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const preflight = await request(url, '/search', { method: 'OPTIONS', headers: { origin: 'https://agent.example', 'access-control-request-method': 'GET' } });
      expect([preflight.status, preflight.text, preflight.headers['access-control-allow-methods']]).toEqual([204, '', 'GET']);
      const refused = await request(url, '/search');
      expect([refused.status, refused.headers.link, refused.headers['access-control-expose-headers']]).toEqual([402, LINK, CORS_EXPOSE_HEADERS]);
      expect(discoveryDocument(gate).services[1]!.resources[0]).toMatchObject({ method: 'GET', path: '/search' });
    } finally {
      await app.close();
    }
  });

  it('omits the link when discovery is false, and refuses bad options as programmer errors', async () => {
    const gate = new Gate({ secret: SECRET, difficulty: 8 });
    const url = await serveHandler((req, res) => powgateMiddleware(gate, { discovery: false, cors: false })(req, res, () => res.end('ok')));
    const refused = await request(url, '/');
    expect([refused.status, refused.headers.link, refused.headers['access-control-allow-origin']]).toEqual([402, undefined, undefined]);
    expect(() => powgateMiddleware(gate, { resource: 'GET not-a-path' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(() => powgateMiddleware(gate, { cors: ['not an origin'] as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });
});

describe('POST /api/token/verify answers every input with one shape', () => {
  it('{}, a missing, non-string or garbage token, bad options, bad JSON: 200 { valid: false, reason: malformed }; oversized stays 413', async () => {
    const gate = new Gate({ secret: SECRET, difficulty: 8 });
    const service = new PowgateService(gate, { maxBodyBytes: 1024 });
    const url = await serveHandler(service.handle);
    const inputs: unknown[] = [
      {},
      { scope: 'x' },
      { token: 42 },
      { token: null },
      { token: 'garbage' },
      { token: 'x', scope: 7 },
      { token: 'x', any_scope: 'yes' },
      { token: 'x', extra: 1 },
      [],
      'a string',
      5,
    ];
    for (const body of inputs) {
      const answer = await post(
        url,
        '/api/token/verify',
        body === 'a string' ? JSON.stringify(body) : body,
        body === 'a string' ? { headers: { 'content-type': 'application/json' } } : {},
      );
      expect([answer.status, answer.json], JSON.stringify(body)).toEqual([200, { valid: false, reason: 'malformed' }]);
    }
    for (const [payload, type] of [
      ['{not json', 'application/json'],
      ['token=x', 'application/x-www-form-urlencoded'],
      ['', 'application/json'],
    ] as const) {
      const answer = await post(url, '/api/token/verify', payload, { headers: { 'content-type': type } });
      expect([answer.status, answer.json], payload).toEqual([200, { valid: false, reason: 'malformed' }]);
    }
    const big = await post(url, '/api/token/verify', { token: 'x'.repeat(2048) });
    expect([big.status, big.json.error]).toEqual([413, 'payload_too_large']);
  });
});

describe('powgate serve', () => {
  it("serves the discovery document with the flags' resources and reference hardware, and links it from its answers", async () => {
    const served = await startServe([
      '--difficulty',
      '8',
      '--scope',
      'search=10',
      '--resource',
      'search=POST /api/search',
      '--hash-rate',
      '1024',
      '--hash-rate-machine',
      'a test box',
      '--log-level',
      'warn',
    ]);
    serves.push(served);
    const doc = await request(served.url, DISCOVERY_PATH);
    expect(doc.status).toBe(200);
    const search = doc.json.services.find((s: { name: string }) => s.name === 'search');
    expect(search.resources).toEqual([
      {
        method: 'POST',
        path: '/api/search',
        pricing: { model: 'dynamic' },
        powgate: { scope: 'search', doors: [expect.objectContaining({ method: 'pow', difficulty: 10, seconds_per_call: 1 })] },
      },
    ]);
    expect(doc.json.powgate.reference_hardware).toEqual({ hashes_per_second: 1024, machine: 'a test box' });
    expect((await request(served.url, '/healthz')).headers.link).toBe(LINK);
    expect(JSON.parse(served.lines[0]!).discovery).toBe(`${served.url}${DISCOVERY_PATH}`);
  });
});
