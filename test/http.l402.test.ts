// The Lightning door over real HTTP: a stand-in node that signs real BOLT11 invoices and
// "pays" by releasing preimages, the 402 middleware and the token service, and an L402
// client this project did not write (@getalby/lightning-tools' fetchWithL402).
import { createServer, type Server } from 'node:http';
import { fetchWithL402 } from '@getalby/lightning-tools/402/l402';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Gate, type GateOptions } from '../src/gate/gate.js';
import { powgateMiddleware, REMAINING_HEADER } from '../src/http/index.js';
import { PowgateService } from '../src/http/service.js';
import { LnbitsBackend, LndRestBackend } from '../src/lightning/index.js';
import { close, listen, post, request, startServe } from './helpers/http.js';
import { runCli } from './helpers/cli.js';
import { SECRET } from './helpers/protocol.js';
import { startStandInNode, type StandInNode } from './helpers/lightning-node.js';

let node: StandInNode;
const servers: Server[] = [];

beforeAll(async () => {
  node = await startStandInNode();
});
afterAll(() => node.close());
afterEach(async () => {
  node.setMode('up');
  await Promise.all(servers.splice(0).map(close));
});

function lnd(timeoutMs?: number) {
  return new LndRestBackend({ url: node.url, macaroon: node.lndMacaroonHex, timeoutMs });
}

/** A gated route and the token service on one server, over a fresh gate. */
async function serve(options: Partial<GateOptions> = {}, route: { scope?: string; sats?: number } = {}) {
  const gate = new Gate({ secret: SECRET, difficulty: 8, calls: 3, lightning: { backend: lnd(), satsPerCall: 2 }, ...options });
  const service = new PowgateService(gate);
  const guard = powgateMiddleware(gate, { scope: route.scope ?? 'search', sats: route.sats });
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/api/')) return service.handle(req, res);
    guard(req, res, () => res.end(JSON.stringify({ ok: true })));
  });
  servers.push(server);
  return { gate, url: await listen(server) };
}

function l402Of(body: any) {
  return body.accepts.find((a: { method: string }) => a.method === 'l402');
}

describe('the Lightning door over HTTP', () => {
  it('offers both doors in one 402; a paid macaroon passes its calls, then is refused with a new invoice', async () => {
    const { url } = await serve();
    const refused = await request(url, '/search');
    expect(refused.status).toBe(402);
    const auth = refused.headers['www-authenticate']!;
    expect(auth).toMatch(/^PowGate realm="powgate", scope="search", error="token_required", L402 macaroon="[A-Za-z0-9+/=]+", invoice="lnbcrt60n1/);
    expect(refused.json.accepts.map((a: { method: string }) => a.method)).toEqual(['pow', 'l402']);
    const offer = l402Of(refused.json);
    expect(offer).toMatchObject({ amountSats: 6, satsPerCall: 2, calls: 3 });
    expect(offer.redeem.present).toEqual({ header: 'Authorization', value: 'L402 <macaroon>:<preimage hex>' });
    expect(auth).toContain(`macaroon="${offer.macaroon}", invoice="${offer.invoice}"`);

    // Unpaid: refused, and the same unpaid invoice is offered again, not a new one.
    const created = node.invoicesCreated();
    const unpaid = await request(url, '/search', { headers: { authorization: `L402 ${offer.macaroon}:${'00'.repeat(32)}` } });
    expect([unpaid.status, unpaid.json.cause.reason]).toEqual([402, 'bad_preimage']);
    expect(l402Of(unpaid.json).invoice).toBe(offer.invoice);
    expect(node.invoicesCreated()).toBe(created);

    const preimage = node.pay(offer.invoice);
    const credential = `L402 ${offer.macaroon}:${preimage}`;
    const remaining: string[] = [];
    for (let i = 0; i < 3; i++) {
      const passed = await request(url, '/search', { headers: { authorization: i === 1 ? credential.replace('L402', 'LSAT') : credential } });
      expect(passed.status).toBe(200);
      remaining.push(passed.headers[REMAINING_HEADER] as string);
    }
    expect(remaining).toEqual(['2', '1', '0']);
    const exhausted = await request(url, '/search', { headers: { authorization: credential } });
    expect([exhausted.status, exhausted.json.cause.reason]).toEqual([402, 'token_exhausted']);
    // The paid invoice is never offered again.
    expect(l402Of(exhausted.json).invoice).not.toBe(offer.invoice);
  });

  it('redeems a paid macaroon for a token that shares its allowance', async () => {
    const { url } = await serve();
    const offer = l402Of((await request(url, '/search')).json);
    const preimage = node.pay(offer.invoice);
    expect((await request(url, '/search', { headers: { authorization: `L402 ${offer.macaroon}:${preimage}` } })).status).toBe(200);
    const redeemed = await post(url, '/api/verify', { method: 'l402', macaroon: offer.macaroon, preimage });
    expect(redeemed.status).toBe(200);
    expect(redeemed.json).toMatchObject({ scope: 'search', calls: 3, price: 2 });
    const again = await post(url, '/api/verify', { method: 'l402', macaroon: offer.macaroon, preimage });
    expect(again.status).toBe(200); // redeeming twice gains nothing: the same count
    const token = redeemed.json.token as string;
    expect((await request(url, '/search', { headers: { authorization: `Bearer ${token}` } })).headers[REMAINING_HEADER]).toBe('1');
    expect((await request(url, '/search', { headers: { authorization: `Bearer ${again.json.token}` } })).headers[REMAINING_HEADER]).toBe('0');
    expect((await request(url, '/search', { headers: { authorization: `L402 ${offer.macaroon}:${preimage}` } })).json.cause.reason).toBe('token_exhausted');
    const spent = await post(url, '/api/token/verify', { token: `L402 ${offer.macaroon}:${preimage}`, scope: 'search', check_only: true });
    expect(spent.json, spent.text).toMatchObject({ valid: true, method: 'l402', calls: 3, price: 2 });
    const bad = await post(url, '/api/verify', { method: 'l402', macaroon: offer.macaroon, preimage: 'ab'.repeat(32) });
    expect([bad.status, bad.json.error]).toEqual([403, 'bad_preimage']);
    const malformed = await post(url, '/api/verify', { method: 'l402', macaroon: 1, preimage });
    expect([malformed.status, malformed.json.error]).toEqual([400, 'malformed']);
  });

  it('refuses a macaroon paid at a cheaper door', async () => {
    const { gate, url } = await serve();
    const cheap = l402Of((await request(url, '/search')).json);
    const preimage = node.pay(cheap.invoice);
    const dear = createServer((req, res) => powgateMiddleware(gate, { scope: 'search-pro', sats: 5 })(req, res, () => res.end('ok')));
    servers.push(dear);
    const dearUrl = await listen(dear);
    const refused = await request(dearUrl, '/', { headers: { authorization: `L402 ${cheap.macaroon}:${preimage}` } });
    expect(refused.json.cause.reason).toBe('scope_mismatch');
    expect(l402Of(refused.json)).toMatchObject({ satsPerCall: 5, amountSats: 15 });
  });

  it('gets @getalby/lightning-tools fetchWithL402 through, unchanged', async () => {
    const { url } = await serve();
    const paid: string[] = [];
    const wallet = {
      payInvoice: async ({ invoice }: { invoice: string }) => {
        paid.push(invoice);
        return { preimage: node.pay(invoice) };
      },
    };
    const response = await fetchWithL402(`${url}/search`, {}, { wallet });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true });
    expect(response.headers.get(REMAINING_HEADER)).toBe('2');
    expect(paid).toHaveLength(1);
  });

  it('answers within a second with the proof-of-work door and the cause when the node is down or slow', async () => {
    const { gate, url } = await serve({ lightning: { backend: lnd(5_000), satsPerCall: 2, timeoutMs: 500 } });
    for (const mode of ['slow', 'down', 'garbage'] as const) {
      node.setMode(mode, 30_000);
      const started = performance.now();
      const refused = await request(url, '/search', { localAddress: mode === 'garbage' ? '127.0.0.3' : '127.0.0.2' });
      expect(performance.now() - started).toBeLessThan(1_000);
      expect(refused.status).toBe(402);
      expect(refused.json.accepts.map((a: { method: string }) => a.method)).toEqual(['pow']);
      expect(refused.json.cause.unavailable).toEqual([{ method: 'l402', reason: 'lightning_unavailable', detail: expect.stringContaining('proof of work') }]);
      expect(refused.headers['www-authenticate']).not.toContain('L402');
      expect(gate.status().lightning).toMatchObject({ backend: 'lnd', down: true });
      // Left alone for a while: the next refusals do not even ask it.
      const asked = node.requestsReceived();
      expect((await request(url, '/search', { localAddress: '127.0.0.4' })).json.cause.unavailable).toHaveLength(1);
      expect(node.requestsReceived()).toBe(asked);
      node.setMode('up');
      await new Promise((resolve) => setTimeout(resolve, 5_100));
    }
    expect(l402Of((await request(url, '/search', { localAddress: '127.0.0.5' })).json)).toBeDefined();
  }, 30_000);

  it('does not turn a flood of refusals into a flood of invoices', async () => {
    const { url } = await serve({ lightning: { backend: lnd(), satsPerCall: 1, maxInvoicesPerMinute: 5 } });
    const before = node.invoicesCreated();
    // One client asking again and again: one invoice.
    for (let i = 0; i < 20; i++) await request(url, '/search');
    expect(node.invoicesCreated() - before).toBe(1);
    // Many clients at once: at most the per-minute bound, the rest told why, all still offered work.
    const addresses = Array.from({ length: 30 }, (_, i) => `127.0.1.${i + 1}`);
    const replies = await Promise.all(addresses.map((localAddress) => request(url, '/search', { localAddress })));
    expect(node.invoicesCreated() - before).toBeLessThanOrEqual(5);
    expect(replies.every((r) => r.status === 402 && r.json.accepts[0].method === 'pow')).toBe(true);
    const busy = replies.filter((r) => r.json.cause.unavailable?.[0]?.reason === 'lightning_busy');
    expect(busy.length).toBeGreaterThanOrEqual(25);
  });

  it('works with an LNbits backend too', async () => {
    const { url } = await serve({ lightning: { backend: new LnbitsBackend({ url: node.url, invoiceKey: node.lnbitsKey }), satsPerCall: 1 } });
    const offer = l402Of((await request(url, '/search')).json);
    const preimage = node.pay(offer.invoice);
    expect((await request(url, '/search', { headers: { authorization: `L402 ${offer.macaroon}:${preimage}` } })).status).toBe(200);
  });

  it("speaks Aperture's proof-of-work dialect when asked", async () => {
    const { url } = await serve({ aperturePow: true, difficulty: 4, calls: 2 });
    const refused = await request(url, '/search');
    const auth = refused.headers['www-authenticate']!;
    const pow = refused.json.accepts.find((a: { method: string }) => a.method === 'l402-pow');
    expect(pow).toMatchObject({ calls: 2 });
    // PowGate, then Aperture's PoW (the first macaroon= followed by pow=), then Lightning last.
    expect(auth.indexOf(`L402 macaroon="${pow.macaroon}", pow="${pow.pow}"`)).toBeGreaterThan(0);
    expect(auth.indexOf(', pow=')).toBeLessThan(auth.indexOf(', invoice='));
    expect(/(LSAT|L402) macaroon="(.*?)", pow="(\d+)"/.exec(auth)![2]).toBe(pow.macaroon);
  });

  it('`powgate serve --sats` opens the door from the environment, with the price, and never prints the credential', async () => {
    const env = { POWGATE_LND_URL: node.url, POWGATE_LND_MACAROON: node.lndMacaroonHex };
    const serve = await startServe(['--sats', '3', '--difficulty', '8', '--calls', '2'], env);
    try {
      const status = await request(serve.url, '/api/status');
      expect(status.json.lightning).toEqual({ backend: 'lnd', sats_per_call: 3, down: false });
      const issued = await post(serve.url, '/api/challenge', { calls: 4 });
      expect(issued.json.challenge).toMatchObject({ calls: 4 });
      expect(issued.json.l402).toMatchObject({ calls: 4, satsPerCall: 3, amountSats: 12 });
      const preimage = node.pay(issued.json.l402.invoice);
      const token = await post(serve.url, '/api/verify', { method: 'l402', macaroon: issued.json.l402.macaroon, preimage });
      expect(token.json).toMatchObject({ calls: 4, price: 3 });
      expect((await post(serve.url, '/api/token/verify', { token: token.json.token })).json).toMatchObject({ valid: true, used: 1, remaining: 3 });
    } finally {
      await serve.stop();
    }
    expect(serve.lines.join('\n') + serve.stderr()).not.toContain(node.lndMacaroonHex);
    const missing = await runCli(['serve', '--sats', '3'], { env: { POWGATE_LND_URL: undefined, POWGATE_LNBITS_URL: undefined } });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('POWGATE_LND_URL');
  });
});
