// The Lightning door and Aperture's proof of work, paid by the client: a Gate with a stand-in
// Lightning node (its invoices are real BOLT11; paying releases the preimage), plain L402
// servers that speak only WWW-Authenticate, and LND's REST API for the wallet.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { callbackWallet, LndRestWallet, wrapFetchWithPowgate, type PaymentInfo, type PowgateFetchOptions } from '../src/client/index.js';
import { PowgateError } from '../src/errors.js';
import { Gate, type GateOptions } from '../src/gate/gate.js';
import { HttpGate, powgateMiddleware, type PowgateRequest } from '../src/http/index.js';
import { PowgateService } from '../src/http/service.js';
import { LndRestBackend } from '../src/lightning/index.js';
import { close, listen } from './helpers/http.js';
import { startStandInNode, type StandInNode } from './helpers/lightning-node.js';
import { SECRET } from './helpers/protocol.js';

let node: StandInNode;
const servers: Server[] = [];
beforeAll(async () => {
  node = await startStandInNode();
});
afterAll(() => node.close());
afterEach(async () => {
  await Promise.all(servers.splice(0).map(close));
});

async function start(handler: (req: IncomingMessage, res: import('node:http').ServerResponse) => void): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  return listen(server);
}

/** The token service and a gated route over a gate with a Lightning door (2 sats a call, 3 calls a payment). */
async function serve(options: Partial<GateOptions> = {}) {
  const gate = new Gate({
    secret: SECRET,
    difficulty: 8,
    calls: 3,
    lightning: { backend: new LndRestBackend({ url: node.url, macaroon: node.lndMacaroonHex }), satsPerCall: 2 },
    ...options,
  });
  const service = new PowgateService(gate);
  const guard = powgateMiddleware(gate, { scope: 'search' });
  let passes = 0;
  const url = await start((req, res) => {
    if (req.url?.startsWith('/api/')) return service.handle(req, res);
    guard(req, res, () => {
      passes++;
      res.end(JSON.stringify({ paidBy: (req as PowgateRequest).powgate?.method }));
    });
  });
  return { gate, url, passes: () => passes };
}

function agent(options: PowgateFetchOptions = {}) {
  const payments: PaymentInfo[] = [];
  const invoices: string[] = [];
  const wallet = callbackWallet(async (invoice) => (invoices.push(invoice), node.pay(invoice)));
  const pay = wrapFetchWithPowgate(fetch, { hashRate: 1e6, apertureHashRate: 1e5, threads: 1, wallet, onPayment: (p) => payments.push(p), ...options });
  return { pay, payments, invoices };
}

async function errorOf(promise: Promise<unknown>): Promise<PowgateError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PowgateError);
  return error as PowgateError;
}

describe('the Lightning door', () => {
  it('pays the invoice through a callback wallet, presents L402 for its calls, then pays again', async () => {
    const { url, passes } = await serve();
    const { pay, payments, invoices } = agent({ prefer: ['l402'], maxSatsPerCall: 2 });
    for (let i = 0; i < 4; i++) expect(await (await pay(`${url}/search`)).json()).toEqual({ paidBy: 'l402' });
    expect(invoices).toHaveLength(2);
    expect(payments.map((p) => [p.method, p.sats, p.calls])).toEqual([
      ['l402', 6, 3],
      ['l402', 6, 3],
    ]);
    expect(payments[0]!.price).toEqual({ method: 'l402', sats: 6, calls: 3 });
    expect(passes()).toBe(4);
    expect(pay.client.budget.spent().sats).toBe(12);
  });

  it('never pays sats by default; with sats allowed, falls back to Lightning only when the work is over budget', async () => {
    const { url } = await serve();
    const none = agent({ prefer: ['l402'] });
    expect(await errorOf(none.pay(`${url}/search`))).toMatchObject({ code: 'ERR_BUDGET_EXCEEDED', price: { method: 'l402', sats: 6, calls: 3 } });
    expect(none.invoices).toEqual([]);

    const cheapWork = agent({ maxSatsPerCall: 2 });
    expect(await (await cheapWork.pay(`${url}/search`)).json()).toEqual({ paidBy: 'pow' });
    expect(cheapWork.invoices).toEqual([]);

    const dearWork = agent({ maxSatsPerCall: 2, hashRate: 1 }); // 256 CPU-seconds a call: over budget
    expect(await (await dearWork.pay(`${url}/search`)).json()).toEqual({ paidBy: 'l402' });
    expect(dearWork.invoices).toHaveLength(1);

    const noWallet = wrapFetchWithPowgate(fetch, { hashRate: 1, maxSatsPerCall: 2 });
    expect((await errorOf(noWallet(`${url}/search`))).code).toBe('ERR_BUDGET_EXCEEDED');
  });

  it('redeems the paid macaroon for a token when asked, and buys bundles of sats', async () => {
    const { url } = await serve();
    const { pay, payments } = agent({ prefer: ['l402'], maxSatsPerCall: 2, redeemL402: true, calls: 5 });
    for (let i = 0; i < 5; i++) {
      const res = await pay(`${url}/search`);
      expect(res.headers.get('powgate-calls-remaining')).toBe(String(4 - i));
    }
    expect(payments.map((p) => [p.method, p.sats, p.calls])).toEqual([['l402', 10, 5]]);
    expect(pay.client.credentials.peek(`["${url}","search"]`)?.credential.kind).toBe('token');
  });

  it("refuses a wallet's wrong preimage, and stops at maxSatsPerWindow", async () => {
    const { url } = await serve();
    const liar = wrapFetchWithPowgate(fetch, { prefer: ['l402'], maxSatsPerCall: 2, wallet: callbackWallet(() => 'ab'.repeat(32)) });
    expect((await errorOf(liar(`${url}/search`))).code).toBe('ERR_PAYMENT_FAILED');
    const { pay, invoices } = agent({ prefer: ['l402'], maxSatsPerCall: 2, maxSatsPerWindow: 10 }); // 6 sats for 3 calls
    for (let i = 0; i < 3; i++) expect((await pay(`${url}/search`)).status).toBe(200);
    expect((await errorOf(pay(`${url}/search`))).code).toBe('ERR_BUDGET_EXCEEDED');
    expect(invoices).toHaveLength(1);
  });

  it('pays a plain L402 server that speaks only WWW-Authenticate (no powgate body)', async () => {
    const gate = new Gate({
      secret: SECRET,
      difficulty: 8,
      calls: 2,
      lightning: { backend: new LndRestBackend({ url: node.url, macaroon: node.lndMacaroonHex }), satsPerCall: 1 },
    });
    const http = new HttpGate(gate, { scope: 'plain' });
    let refusals = 0;
    const url = await start(async (req, res) => {
      const checked = await http.check(req);
      if (checked.ok) return void res.end('paid');
      refusals++;
      // Only the L402 challenge, as a plain L402 server sends it.
      const l402 = /L402 macaroon="[^"]+", invoice="[^"]+"/.exec(checked.refusal.headers['www-authenticate']!)![0];
      res.writeHead(402, { 'www-authenticate': `Basic realm="x", ${l402}`, 'content-type': 'text/html' }).end('<h1>Payment Required</h1>');
    });
    // The header does not say how many calls an invoice buys: it is priced as one, then presented until refused.
    const { pay, payments } = agent({ maxSatsPerCall: 2 });
    for (let i = 0; i < 3; i++) expect(await (await pay(`${url}/a/${i}`)).text()).toBe('paid');
    expect(payments.map((p) => [p.method, p.scope, p.price.calls, p.sats])).toEqual([
      ['l402', undefined, 1, 2],
      ['l402', undefined, 1, 2],
    ]);
    // /a/1: refused without a credential, then passed with the cached one (its second call); /a/2: refused without, refused with it (exhausted), bought again.
    expect(refusals).toBe(4);
  });
});

describe("Aperture's proof of work", () => {
  it('solves the token-id puzzle, appends the caveat and presents :POW (Gate aperturePow)', async () => {
    const { url, passes } = await serve({ aperturePow: true, lightning: undefined, calls: 2 });
    const { pay, payments } = agent({ prefer: ['l402-pow'] });
    for (let i = 0; i < 3; i++) expect(await (await pay(`${url}/search`)).json()).toEqual({ paidBy: 'pow' });
    expect(payments.map((p) => [p.method, p.calls])).toEqual([
      ['l402-pow', 2],
      ['l402-pow', 2],
    ]);
    expect(payments[0]!.price).toMatchObject({ method: 'l402-pow', calls: 2 });
    expect(passes()).toBe(3);
  });

  it('pays a server that sends only `L402 macaroon="...", pow="N"`', async () => {
    const gate = new Gate({ secret: SECRET, difficulty: 8, aperturePow: true });
    const http = new HttpGate(gate, { scope: 'aperture' });
    const url = await start(async (req, res) => {
      const checked = await http.check(req);
      if (checked.ok) return void res.end(`paid by ${checked.grant.method}`);
      const pow = /L402 macaroon="[^"]+", pow="\d+"/.exec(checked.refusal.headers['www-authenticate']!)![0];
      res.writeHead(402, { 'www-authenticate': pow.replace('L402', 'LSAT') }).end();
    });
    const { pay, payments } = agent();
    expect(await (await pay(`${url}/x`)).text()).toBe('paid by pow');
    expect(payments).toMatchObject([{ method: 'l402-pow', scope: undefined, calls: undefined, price: { calls: 1 } }]);
  });

  it('refuses an absurd number of bits before any work', async () => {
    const gate = new Gate({ secret: SECRET, difficulty: 8, aperturePow: true });
    const http = new HttpGate(gate, { scope: 'aperture' });
    const url = await start(async (req, res) => {
      const checked = await http.check(req);
      const mac = /L402 macaroon="([^"]+)", pow/.exec(checked.ok ? '' : checked.refusal.headers['www-authenticate']!)![1];
      res.writeHead(402, { 'www-authenticate': `L402 macaroon="${mac}", pow="60"` }).end();
    });
    const started = performance.now();
    const error = await errorOf(wrapFetchWithPowgate(fetch, { apertureHashRate: 1e7 })(`${url}/x`));
    expect(error).toMatchObject({ code: 'ERR_BUDGET_EXCEEDED', price: { method: 'l402-pow', calls: 1 } });
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});

describe('the LND REST wallet', () => {
  /** A stand-in for LND's SendPaymentSync that pays through the stand-in node, recording each request. */
  async function lnd(answer?: (body: Record<string, unknown>) => unknown) {
    const seen: { method: string; url: string; macaroon: unknown; body: Record<string, unknown> }[] = [];
    const url = await start((req, res) => {
      const chunks: Buffer[] = [];
      req
        .on('data', (c: Buffer) => chunks.push(c))
        .on('end', () => {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          seen.push({ method: req.method!, url: req.url!, macaroon: req.headers['grpc-metadata-macaroon'], body });
          const reply = answer
            ? answer(body)
            : { payment_error: '', payment_preimage: Buffer.from(node.pay(body.payment_request), 'hex').toString('base64'), payment_hash: '', payment_route: {} };
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(reply));
        });
    });
    return { url, seen };
  }

  it('sends SendPaymentSync with the invoice, a fee limit and the macaroon; the preimage opens the gate', async () => {
    const { url: gateUrl } = await serve();
    const { url, seen } = await lnd();
    const wallet = new LndRestWallet({ url, macaroon: 'ab'.repeat(40), maxFeeSats: 3 });
    const pay = wrapFetchWithPowgate(fetch, { wallet, prefer: ['l402'], maxSatsPerCall: 2 });
    expect(await (await pay(`${gateUrl}/search`)).json()).toEqual({ paidBy: 'l402' });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/v1/channels/transactions', macaroon: 'ab'.repeat(40), body: { fee_limit: { fixed: '3' } } });
    expect(seen[0]!.body.payment_request).toMatch(/^lnbcrt60n1/);
  });

  it('reports payment_error and a missing preimage as failed payments, without the macaroon', async () => {
    const failing = await lnd(() => ({ payment_error: 'no route', payment_preimage: '' }));
    const error = await errorOf(new LndRestWallet({ url: failing.url, macaroon: 'cd'.repeat(40) }).pay('lnbcrt1'));
    expect(error.code).toBe('ERR_PAYMENT_FAILED');
    expect(error.message).toContain('no route');
    expect(error.message).not.toContain('cd'.repeat(40));
    const empty = await lnd(() => ({}));
    expect((await errorOf(new LndRestWallet({ url: empty.url, macaroon: 'cd'.repeat(40) }).pay('lnbcrt1'))).code).toBe('ERR_PAYMENT_FAILED');
    expect(() => new LndRestWallet({ url: 'http://example.com', macaroon: 'cd' })).toThrow(/https/);
  });
});
