// The Lightning (L402) door of gated MCP tools, through the SDK's own Client: the fixture server
// on stdio (a subprocess whose node, named in its environment, is the stand-in), the same app on
// Streamable HTTP in process, and `powgate mcp --sats`. The stand-in pays by releasing preimages.
import { rmSync } from 'node:fs';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import bolt11 from 'bolt11';
import * as z from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gate, solve, verifyToken, type Challenge, type L402Accept, type PaymentRequired } from '../src/index.js';
import { LndRestBackend } from '../src/lightning/index.js';
import { registerGatedTool } from '../src/mcp/index.js';
import { FIXTURE_SECRET, buildApp } from './fixtures/mcp-app.js';
import { CLI_SECRET, expectUsageError, runCli } from './helpers/cli.js';
import { startStandInNode, type StandInNode } from './helpers/lightning-node.js';
import { asResult, bundleFixture, connectCli, connectHttp, connectStdio, serveHttp, textJson, type Connected, type HttpApp } from './helpers/mcp.js';

let node: StandInNode;
beforeAll(async () => {
  node = await startStandInNode();
});
afterAll(() => node?.close());

/** The variables that name the stand-in as an LND node, as lightningFromEnv reads them. */
const nodeEnv = () => ({ POWGATE_LND_URL: node.url, POWGATE_LND_MACAROON: node.lndMacaroonHex });

/** The gate of the in-process servers: the stdio fixture's, with the stand-in as its node. */
const lightningGate = () =>
  new Gate({
    secret: FIXTURE_SECRET,
    difficulty: 8,
    calls: 2,
    tokenTtlMs: 60_000,
    lightning: { backend: new LndRestBackend({ url: node.url, macaroon: node.lndMacaroonHex }), satsPerCall: 2 },
  });

type Call = (name: string, args: Record<string, unknown>, meta?: Record<string, unknown>) => Promise<ReturnType<typeof asResult>>;

const caller =
  (mcp: () => Connected): Call =>
  async (name, args, meta) =>
    asResult(await mcp().client.callTool({ name, arguments: args, ...(meta ? { _meta: meta } : {}) }));

/** A refusal's envelope, checked to be the same in _meta, in the text mirror and (when present) in structuredContent. */
function envelope(result: ReturnType<typeof asResult>): PaymentRequired {
  expect(result.isError).toBe(true);
  const body = result._meta?.['powgate/refusal'] as PaymentRequired;
  expect(body).toBeDefined();
  expect(textJson(result)).toEqual(body);
  if (result.structuredContent) expect(result.structuredContent).toEqual(body);
  return body;
}

/** The Lightning offer of a refusal that has both doors, proof of work first. */
function offerOf(body: PaymentRequired): L402Accept {
  expect(body.accepts.map((a) => a.method)).toEqual(['pow', 'l402']);
  return body.accepts[1] as L402Accept;
}

describe.each(['stdio', 'http'] as const)('the Lightning door of a gated tool over %s', (kind) => {
  let mcp: Connected;
  let bundle: string | undefined;

  /** A new server (a process, or a gate behind every request's server) and the SDK's Client on it. */
  async function open(): Promise<Connected> {
    if (kind === 'stdio') return connectStdio(bundle!, [], { POWGATE_SECRET: FIXTURE_SECRET, POWGATE_TEST_CALLS: '2', ...nodeEnv() });
    const gate = lightningGate();
    const http: HttpApp = await serveHttp(() => buildApp(gate));
    const connected = await connectHttp(http.url);
    return { ...connected, close: () => connected.close().then(() => http.close()) };
  }

  beforeAll(async () => {
    if (kind === 'stdio') bundle = await bundleFixture('mcp-stdio-server.ts');
    mcp = await open();
  });
  afterAll(async () => {
    await mcp?.close();
    if (bundle) rmSync(bundle, { force: true });
  });
  const call = caller(() => mcp);

  it('refuses a call without a token with both doors: a challenge first, then an invoice, its macaroon and how to use them', async () => {
    const result = await call('search', { query: 'q' });
    expect(result.structuredContent).toBeUndefined(); // search has an outputSchema
    const body = envelope(result);
    expect(body.cause.reason).toBe('token_required');
    const offer = offerOf(body);
    expect(body.accepts[0]).toMatchObject({ method: 'pow', challenge: { scope: 'tool:search', calls: 2 } });
    expect(offer).toMatchObject({ method: 'l402', amountSats: 4, satsPerCall: 2, calls: 2, macaroon: expect.stringMatching(/^[A-Za-z0-9+/=]+$/) });
    // A real BOLT11 for the amount, whose payment hash is the one the macaroon is bound to.
    const invoice = bolt11.decode(offer.invoice);
    expect([invoice.satoshis, invoice.tagsObject.payment_hash]).toEqual([4, offer.paymentHash]);
    expect(offer.invoiceExpiresAt).toBeGreaterThan(Date.now());
    expect(offer.redeem).toMatchObject({
      pay: expect.stringContaining('preimage'),
      then: expect.stringMatching(/call search again with the argument powgate_token set to "L402 <macaroon>:<preimage hex>"/),
      present: { argument: 'powgate_token', meta: 'powgate/token' },
      or_redeem: { tool: 'powgate_verify', arguments: { method: 'l402', macaroon: '<macaroon>', preimage: '<preimage hex>' } },
    });
    // Only HTTP has headers to carry the credential.
    expect((offer.redeem.present as Record<string, string>).header).toBe(kind === 'http' ? 'Authorization: L402 <macaroon>:<preimage hex>' : undefined);
    // A tool without an outputSchema carries the envelope in structuredContent too.
    const ping = await call('ping', {});
    expect(ping.structuredContent).toBeDefined();
    expect(offerOf(envelope(ping))).toMatchObject({ calls: 2, amountSats: 4 });
  });

  it('runs the tool for the paid macaroon, call by call, then refuses it exhausted with a new invoice', async () => {
    const offer = offerOf(envelope(await call('search', { query: 'q' })));
    const created = node.invoicesCreated();
    const unpaid = envelope(await call('search', { query: 'q', powgate_token: `L402 ${offer.macaroon}:${'00'.repeat(32)}` }));
    expect(unpaid.cause.reason).toBe('bad_preimage');
    // stdio has one client: its unpaid invoice is offered again, not a new one. Stateless HTTP cannot tell clients apart.
    if (kind === 'stdio') {
      expect(offerOf(unpaid).invoice).toBe(offer.invoice);
      expect(node.invoicesCreated()).toBe(created);
    }
    const preimage = node.pay(offer.invoice);
    const credential = `L402 ${offer.macaroon}:${preimage}`;
    // As the argument an agent fills in, then in _meta under the older LSAT name.
    const first = await call('search', { query: 'a', powgate_token: credential });
    expect(first.isError).toBeFalsy();
    expect(first.structuredContent).toEqual({ results: ['result for a'] });
    const second = await call('search', { query: 'b' }, { 'powgate/token': credential.replace('L402', 'LSAT') });
    expect(second.structuredContent).toEqual({ results: ['result for b'] });
    const exhausted = envelope(await call('search', { query: 'c', powgate_token: credential }));
    expect(exhausted.cause.reason).toBe('token_exhausted');
    const fresh = offerOf(exhausted);
    expect(fresh.invoice).not.toBe(offer.invoice);
    expect(fresh.paymentHash).not.toBe(offer.paymentHash);
    // The new invoice is a way through again.
    const again = `L402 ${fresh.macaroon}:${node.pay(fresh.invoice)}`;
    expect((await call('search', { query: 'd', powgate_token: again })).structuredContent).toEqual({ results: ['result for d'] });
  });

  it('hands the handler its arguments without the credential', async () => {
    const offer = offerOf(envelope(await call('echo', { text: 'x' })));
    const preimage = node.pay(offer.invoice);
    const result = await call('echo', { text: 'hi', powgate_token: `L402 ${offer.macaroon}:${preimage}` });
    expect(result.isError).toBeFalsy();
    expect(textJson(result)).toEqual({ text: 'hi' });
  });

  it('redeems a paid macaroon with the verify tool for a token that shares its allowance; refuses a wrong preimage and malformed arguments', async () => {
    const offer = offerOf(envelope(await call('reports', { year: 2025 })));
    const preimage = node.pay(offer.invoice);
    const credential = `L402 ${offer.macaroon}:${preimage}`;
    expect((await call('reports', { year: 1, powgate_token: credential })).content[0]).toEqual({ type: 'text', text: 'report 1' });

    const redeemed = await call('powgate_verify', { method: 'l402', macaroon: offer.macaroon, preimage });
    expect(redeemed.isError).toBeFalsy();
    expect(textJson(redeemed)).toEqual(redeemed.structuredContent);
    expect(redeemed.structuredContent).toMatchObject({ ok: true, token: expect.stringMatching(/^pgt2\./), scope: 'paid', calls: 2, price: 2 });
    const { token, expires_at } = redeemed.structuredContent as { token: string; expires_at: number };
    expect(expires_at).toBe(offer.expiresAt);
    expect(verifyToken(token, { secret: FIXTURE_SECRET, scope: 'paid' })).toMatchObject({ valid: true, method: 'l402', calls: 2, price: 2 });
    // The call the macaroon spent is not given back: one left, for the token or the macaroon.
    expect((await call('reports', { year: 2, powgate_token: token })).content[0]).toEqual({ type: 'text', text: 'report 2' });
    expect(envelope(await call('reports', { year: 3, powgate_token: token })).cause.reason).toBe('token_exhausted');
    expect(envelope(await call('reports', { year: 3, powgate_token: credential })).cause.reason).toBe('token_exhausted');
    // Redeeming again gives a token, and nothing more to spend.
    const twice = await call('powgate_verify', { method: 'l402', macaroon: offer.macaroon, preimage });
    const other = (twice.structuredContent as { token: string }).token;
    expect(envelope(await call('reports', { year: 4, powgate_token: other })).cause.reason).toBe('token_exhausted');

    const wrong = await call('powgate_verify', { method: 'l402', macaroon: offer.macaroon, preimage: 'ab'.repeat(32) });
    expect(wrong.isError).toBe(true);
    expect(wrong.structuredContent).toMatchObject({ ok: false, reason: 'bad_preimage', detail: expect.stringContaining('preimage') });
    const malformed: Record<string, unknown>[] = [
      { method: 'l402', macaroon: 1, preimage },
      { method: 'l402', macaroon: offer.macaroon },
      { method: 'l402', preimage },
      { method: 'l402', macaroon: 'not a macaroon', preimage },
      { method: 'l402', macaroon: offer.macaroon, preimage: 'xyz' },
      { method: 'l402', macaroon: `${offer.macaroon}:${preimage}`, preimage },
      { method: 'bitcoin', macaroon: offer.macaroon, preimage },
    ];
    for (const args of malformed) {
      const result = await call('powgate_verify', args);
      expect(result.isError, JSON.stringify(args)).toBe(true);
      expect(result.structuredContent, JSON.stringify(args)).toMatchObject({ ok: false, reason: 'malformed' });
    }
  });

  it('offers an invoice beside the challenge of the challenge tool, and shows the door in status', async () => {
    const issued = await call('powgate_challenge', { scope: 'tool:ping', calls: 3 });
    expect(issued.isError).toBeFalsy();
    expect(textJson(issued)).toEqual(issued.structuredContent);
    const out = issued.structuredContent as { challenge: Challenge; l402: L402Accept };
    expect(out.challenge).toMatchObject({ scope: 'tool:ping', calls: 3 });
    expect(out.l402).toMatchObject({ calls: 3, satsPerCall: 2, amountSats: 6 });
    expect(bolt11.decode(out.l402.invoice).satoshis).toBe(6);
    const credential = `L402 ${out.l402.macaroon}:${node.pay(out.l402.invoice)}`;
    for (let i = 0; i < 3; i++) expect((await call('ping', { powgate_token: credential })).content[0]).toEqual({ type: 'text', text: 'pong true' });
    expect(envelope(await call('ping', { powgate_token: credential })).cause.reason).toBe('token_exhausted');
    const status = await call('powgate_status', {});
    expect(status.structuredContent).toMatchObject({ gate: { calls: 2, lightning: { backend: 'lnd', sats_per_call: 2, down: false } } });
  });

  it('with the node down, still refuses within a second with proof of work, saying why there is no invoice', async () => {
    // A server of its own: no unpaid invoice to offer again, and its door then leaves the node alone for a while.
    const fresh = await open();
    const call = caller(() => fresh);
    node.setMode('down');
    try {
      const started = performance.now();
      const refused = await call('reports', { year: 5 });
      expect(performance.now() - started).toBeLessThan(1_000);
      const body = envelope(refused);
      expect(body.accepts.map((a) => a.method)).toEqual(['pow']);
      expect(body.cause).toEqual({
        reason: 'token_required',
        detail: expect.any(String),
        unavailable: [{ method: 'l402', reason: 'lightning_unavailable', detail: expect.stringContaining('proof of work') }],
      });
      const issued = await call('powgate_challenge', { scope: 'paid', calls: 1 });
      expect(issued.isError).toBeFalsy();
      expect(issued.structuredContent).toMatchObject({
        ok: true,
        challenge: { scope: 'paid' },
        l402_unavailable: { reason: 'lightning_unavailable', detail: expect.stringContaining('proof of work') },
      });
      expect(issued.structuredContent).not.toHaveProperty('l402');
      expect((await call('powgate_status', {})).structuredContent).toMatchObject({ gate: { lightning: { down: true } } });
      // Never a dead end: the work door still lets the call through.
      const { challenge } = body.accepts[0]!;
      const verified = await call('powgate_verify', { challenge, solution: await solve(challenge) });
      const token = (verified.structuredContent as { token: string }).token;
      expect((await call('reports', { year: 6, powgate_token: token })).content[0]).toEqual({ type: 'text', text: 'report 6' });
    } finally {
      node.setMode('up');
      await fresh.close();
    }
  });
});

/** The fixture app with one more gated tool that shows everything its handler receives. */
function withPeek(gate: Gate): McpServer {
  const server = buildApp(gate);
  registerGatedTool(server, gate, 'peek', { inputSchema: { n: z.number() } }, async (args, extra) => ({
    content: [{ type: 'text', text: JSON.stringify({ args, meta: extra._meta ?? null, headers: extra.requestInfo?.headers ?? null }) }],
  }));
  return server;
}

describe('the Lightning door over Streamable HTTP: Authorization: L402', () => {
  let http: HttpApp;
  let anonymous: Connected;
  const clients: Connected[] = [];
  beforeAll(async () => {
    const gate = lightningGate();
    http = await serveHttp(() => withPeek(gate));
    anonymous = await connectHttp(http.url);
  });
  afterAll(async () => {
    await Promise.all([anonymous, ...clients].map((c) => c?.close()));
    await http?.close();
  });
  const call = caller(() => anonymous);

  /** A paid offer for `peek`, from its refusal. */
  async function paidOffer(): Promise<{ offer: L402Accept; preimage: string }> {
    const offer = offerOf(envelope(await call('peek', { n: 0 })));
    return { offer, preimage: node.pay(offer.invoice) };
  }

  /** What the handler saw, checked to hold no part of the credential. */
  function seen(result: ReturnType<typeof asResult>, secrets: string[]): { args: unknown; meta: Record<string, unknown> | null; headers: Record<string, string> } {
    expect(result.isError).toBeFalsy();
    const text = (result.content[0] as { text: string }).text;
    for (const secret of secrets) expect(text).not.toContain(secret);
    return JSON.parse(text);
  }

  it('runs the tool for the header, call by call, then refuses it exhausted with a new invoice; the handler never sees it', async () => {
    const { offer, preimage } = await paidOffer();
    const paid = await connectHttp(http.url, { Authorization: `L402 ${offer.macaroon}:${preimage}` });
    clients.push(paid);
    for (const n of [1, 2]) {
      const view = seen(asResult(await paid.client.callTool({ name: 'peek', arguments: { n } })), [offer.macaroon, preimage]);
      expect(view.args).toEqual({ n });
      expect(view.headers).not.toHaveProperty('authorization');
      expect(view.headers).toHaveProperty('content-type'); // the other headers are still there
    }
    const exhausted = envelope(asResult(await paid.client.callTool({ name: 'peek', arguments: { n: 3 } })));
    expect(exhausted.cause.reason).toBe('token_exhausted');
    expect(offerOf(exhausted).invoice).not.toBe(offer.invoice);
  });

  it('accepts the older LSAT scheme in the header', async () => {
    const { offer, preimage } = await paidOffer();
    const paid = await connectHttp(http.url, { Authorization: `LSAT ${offer.macaroon}:${preimage}` });
    clients.push(paid);
    const view = seen(asResult(await paid.client.callTool({ name: 'peek', arguments: { n: 1 } })), [offer.macaroon, preimage]);
    expect(view.headers).not.toHaveProperty('authorization');
  });

  it('never hands the handler the credential from the argument or _meta either', async () => {
    const { offer, preimage } = await paidOffer();
    const credential = `L402 ${offer.macaroon}:${preimage}`;
    expect(seen(await call('peek', { n: 1, powgate_token: credential }), [offer.macaroon, preimage]).args).toEqual({ n: 1 });
    const view = seen(await call('peek', { n: 2 }, { 'powgate/token': credential, other: 1 }), [offer.macaroon, preimage]);
    expect(view.meta).toEqual({ other: 1 });
  });

  it('refuses a wrong preimage in the header with bad_preimage and an invoice', async () => {
    const { offer } = await paidOffer();
    const wrong = await connectHttp(http.url, { Authorization: `L402 ${offer.macaroon}:${'cd'.repeat(32)}` });
    clients.push(wrong);
    const body = envelope(asResult(await wrong.client.callTool({ name: 'peek', arguments: { n: 1 } })));
    expect(body.cause.reason).toBe('bad_preimage');
    offerOf(body);
  });
});

describe('powgate mcp --sats', () => {
  it('offers an invoice beside each challenge, redeems it with verify, shows the door in status, and says when the node is down', async () => {
    const mcp = await connectCli(['--difficulty', '8', '--sats', '2', '--scope', 'tool:search'], nodeEnv());
    const call = caller(() => mcp);
    try {
      const status = await call('status', {});
      expect(status.structuredContent).toMatchObject({ gate: { lightning: { backend: 'lnd', sats_per_call: 2, down: false } } });

      const issued = await call('challenge', { scope: 'tool:search', calls: 3 });
      expect(issued.isError).toBeFalsy();
      const { challenge, l402 } = issued.structuredContent as { challenge: Challenge; l402: L402Accept };
      expect(challenge).toMatchObject({ scope: 'tool:search', calls: 3 });
      expect(l402).toMatchObject({ amountSats: 6, satsPerCall: 2, calls: 3 });
      // Asked again before paying: the same invoice, not a new one on the node.
      const again = (await call('challenge', { scope: 'tool:search', calls: 3 })).structuredContent as { l402: L402Accept };
      expect(again.l402.invoice).toBe(l402.invoice);

      const preimage = node.pay(l402.invoice);
      const redeemed = await call('verify', { method: 'l402', macaroon: l402.macaroon, preimage });
      expect(redeemed.structuredContent).toMatchObject({ ok: true, scope: 'tool:search', calls: 3, price: 2 });
      const { token } = redeemed.structuredContent as { token: string };
      expect(verifyToken(token, { secret: CLI_SECRET, scope: 'tool:search' })).toMatchObject({ valid: true, method: 'l402', calls: 3 });
      // Paid: never offered again.
      const next = (await call('challenge', { scope: 'tool:search', calls: 3 })).structuredContent as { l402: L402Accept };
      expect(next.l402.invoice).not.toBe(l402.invoice);

      expect((await call('verify', { method: 'l402', macaroon: l402.macaroon, preimage: 'ab'.repeat(32) })).structuredContent).toMatchObject({ ok: false, reason: 'bad_preimage' });
      expect((await call('verify', { method: 'l402', macaroon: l402.macaroon })).structuredContent).toMatchObject({ ok: false, reason: 'malformed' });

      node.setMode('down');
      const started = performance.now();
      const down = await call('challenge', { scope: 'tool:search', calls: 2 });
      expect(performance.now() - started).toBeLessThan(1_000);
      expect(down.structuredContent).toMatchObject({
        ok: true,
        challenge: { calls: 2 },
        l402_unavailable: { reason: 'lightning_unavailable', detail: expect.stringContaining('proof of work') },
      });
      expect((await call('status', {})).structuredContent).toMatchObject({ gate: { lightning: { down: true } } });
      // The node's credential never reaches the logs.
      expect(mcp.stderr()).not.toContain(node.lndMacaroonHex);
    } finally {
      node.setMode('up');
      await mcp.close();
    }
  });

  it('--sats without a node in the environment is a user error', async () => {
    const env = { POWGATE_LND_URL: undefined, POWGATE_LND_MACAROON: undefined, POWGATE_LNBITS_URL: undefined, POWGATE_LNBITS_KEY: undefined };
    expectUsageError(await runCli(['mcp', '--sats', '2'], { env }), /--sats opens the Lightning door/);
  });
});
