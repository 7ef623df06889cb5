// The MCP wrapper end to end, with the SDK's own Client: against the README's own MCP example,
// run as written over stdio and, with only its transport line swapped for Streamable HTTP, over
// HTTP; and the Lightning door against the fixture server (stdio and Streamable HTTP) with the
// stand-in node. The agents are a few lines, with no glue; the tests count what crossed the wire
// by spying on the SDK client's own callTool.
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { credentialKey } from '../src/client/credentials.js';
import { callbackWallet, wrapMcpClientWithPowgate, type ClientProgress, type PaymentInfo, type PowgateMcpOptions } from '../src/client/index.js';
import { PowgateError } from '../src/errors.js';
import { Gate } from '../src/gate/gate.js';
import { LndRestBackend } from '../src/lightning/index.js';
import { FIXTURE_SECRET, buildApp } from './fixtures/mcp-app.js';
import { CLI_SECRET } from './helpers/cli.js';
import { startStandInNode, type StandInNode } from './helpers/lightning-node.js';
import { bundleFixture, connectHttp, connectStdio, serveHttp, type Connected } from './helpers/mcp.js';
import { readmeMcpExample } from './helpers/readme-mcp.js';

const root = path.join(__dirname, '..');
// Inside the package (so that 'powgate' is the package itself, built in dist/), files of their own.
const dir = path.join(root, 'build', 'readme-examples');
mkdirSync(dir, { recursive: true });
const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The README's example:mcp block, as a file in the package: as written (stdio), or serving Streamable HTTP. */
function example(kind: 'stdio' | 'http'): string {
  const file = path.join(dir, `client-mcp-readme-${kind}-${process.pid}.mjs`);
  writeFileSync(file, readmeMcpExample(kind));
  cleanups.push(() => rmSync(file, { force: true }));
  return file;
}

let stdioExample = '';
let httpExample = '';
beforeAll(() => {
  stdioExample = example('stdio');
  httpExample = example('http');
});

/** The HTTP example in a process of its own (its one session is one client's): its /mcp URL. */
async function startHttpExample(): Promise<string> {
  const child = spawn(process.execPath, [httpExample], { env: { ...process.env, POWGATE_SECRET: CLI_SECRET }, stdio: ['ignore', 'pipe', 'inherit'] });
  cleanups.push(() => child.kill());
  const port = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the example exited with code ${code}`)));
  });
  return `http://127.0.0.1:${port}/mcp`;
}

/** A new SDK Client on a new copy of the README's example, over stdio or Streamable HTTP. */
async function connect(kind: 'stdio' | 'http'): Promise<Client> {
  const client = new Client({ name: 'agent', version: '1.0.0' });
  if (kind === 'stdio') await client.connect(new StdioClientTransport({ command: 'node', args: [stdioExample], env: { POWGATE_SECRET: CLI_SECRET } }));
  else await client.connect(new StreamableHTTPClientTransport(new URL(await startHttpExample())));
  cleanups.push(() => client.close());
  return client;
}

/** One tools/call the wrapper made through the SDK client: the tool, whether a credential rode along, and what came back. */
interface Sent {
  name: string;
  arguments: Record<string, unknown>;
  presented: unknown;
  result?: CallToolResult;
}

/** Records every tools/call (and tools/list) the SDK client makes, by spying on its own methods. */
function record(client: Client) {
  const sent: Sent[] = [];
  let lists = 0;
  const callTool = client.callTool.bind(client);
  const listTools = client.listTools.bind(client);
  vi.spyOn(client, 'callTool').mockImplementation(async (params, schema, options) => {
    const args = params.arguments ?? {};
    const entry: Sent = { name: params.name, arguments: args, presented: args.powgate_token ?? params._meta?.['powgate/token'] };
    sent.push(entry);
    entry.result = (await callTool(params, schema, options)) as CallToolResult;
    return entry.result;
  });
  vi.spyOn(client, 'listTools').mockImplementation((params, options) => {
    lists++;
    return listTools(params, options);
  });
  return {
    sent,
    lists: () => lists,
    /** tools/call requests of one tool. */
    of: (name: string) => sent.filter((s) => s.name === name),
    /** Calls (from the `from`th on) that presented a credential and were refused anyway: overspending. */
    refusedWithCredential: (from = 0) => sent.slice(from).filter((s) => s.presented !== undefined && s.result?.isError === true),
  };
}

async function errorOf(promise: Promise<unknown>): Promise<PowgateError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PowgateError);
  return error as PowgateError;
}

/** The README example's price: 18 bits a call, so 2^18 hashes a call, whatever the bundle. */
function expectExamplePrice(payment: PaymentInfo, hashRate: number): void {
  expect(payment.price.method).toBe('pow');
  const hashesPerCall = (payment.price.seconds! * hashRate) / payment.price.calls;
  expect(Math.abs(hashesPerCall / 2 ** 18 - 1)).toBeLessThan(1e-3);
}

const HASH_RATE = 1e7;
const textOf = (result: unknown) => (result as CallToolResult).content;

describe("the README's MCP example: five-line agents", () => {
  it("over stdio: gets through again and again, one payment per call at the example's price", async () => {
    const payments: PaymentInfo[] = [];
    const results: unknown[] = [];
    // The agent (the hash rate is measured on first use, on the solver that will run):
    const client = new Client({ name: 'agent', version: '1.0.0' });
    await client.connect(new StdioClientTransport({ command: 'node', args: [stdioExample], env: { POWGATE_SECRET: CLI_SECRET } }));
    const paid = wrapMcpClientWithPowgate(client, { maxSecondsPerCall: 5, onPayment: (p) => payments.push(p) });
    for (const query of ['a', 'b', 'c', 'd']) results.push(await paid.callTool({ name: 'search', arguments: { query } }));

    cleanups.push(() => client.close());
    expect(results.map(textOf)).toEqual(['a', 'b', 'c', 'd'].map((q) => [{ type: 'text', text: `results for ${q}` }]));
    expect(payments).toHaveLength(4);
    for (const p of payments) {
      expect(p).toMatchObject({ origin: expect.stringMatching(/^mcp:search\/1\.0\.0#\d+$/), scope: 'tool:search', method: 'pow', calls: 1, price: { method: 'pow', calls: 1 } });
      expect(p.price.seconds).toBeGreaterThan(0);
      expect(p.cpuSeconds).toBeGreaterThan(0);
    }
  });

  it('over Streamable HTTP: the same, paying per call', async () => {
    const url = await startHttpExample();
    const payments: PaymentInfo[] = [];
    const results: unknown[] = [];
    // The agent:
    const client = new Client({ name: 'agent', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(url)));
    const paid = wrapMcpClientWithPowgate(client, { maxSecondsPerCall: 5, onPayment: (p) => payments.push(p) });
    for (const query of ['a', 'b', 'c', 'd']) results.push(await paid.callTool({ name: 'search', arguments: { query } }));

    cleanups.push(() => client.close());
    expect(results.map(textOf)).toEqual(['a', 'b', 'c', 'd'].map((q) => [{ type: 'text', text: `results for ${q}` }]));
    expect(payments.map((p) => [p.method, p.calls, p.scope])).toEqual(Array(4).fill(['pow', 1, 'tool:search']));
  });
});

describe.each(['stdio', 'http'] as const)("the README's MCP example over %s", (kind) => {
  let client: Client;
  let wire: ReturnType<typeof record>;
  beforeAll(async () => {
    client = await connect(kind);
    wire = record(client);
  });

  /** A wrapper on the shared connection with a fixed hash rate (no measuring), recording payments and progress. */
  function agent(options: PowgateMcpOptions = {}) {
    const payments: PaymentInfo[] = [];
    const progress: ClientProgress[] = [];
    const paid = wrapMcpClientWithPowgate(client, { hashRate: HASH_RATE, onPayment: (p) => payments.push(p), onProgress: (p) => progress.push(p), ...options });
    return { paid, payments, progress };
  }

  it("pays each call once, at the example's price: one solve and one redeem per call, nothing presented twice", async () => {
    const { paid, payments } = agent();
    const before = wire.sent.length;
    for (let i = 0; i < 3; i++) expect(textOf(await paid.callTool({ name: 'search', arguments: { query: `q${i}` } }))).toEqual([{ type: 'text', text: `results for q${i}` }]);
    const sent = wire.sent.slice(before);
    expect(payments).toHaveLength(3);
    for (const p of payments) expectExamplePrice(p, HASH_RATE);
    // Each call: refused, redeemed, called again with the token in powgate_token (the tool declares it).
    expect(sent.map((s) => s.name)).toEqual(Array(3).fill(['search', 'powgate_verify', 'search']).flat());
    expect(sent.filter((s) => s.name === 'search' && s.presented !== undefined).map((s) => s.arguments.powgate_token)).toEqual([
      expect.stringMatching(/^pgt2\./),
      expect.stringMatching(/^pgt2\./),
      expect.stringMatching(/^pgt2\./),
    ]);
    expect(wire.refusedWithCredential(before)).toEqual([]);
  });

  it('buys bundles through powgate_challenge: N calls a payment, presented N times, then buys again', async () => {
    const { paid, payments } = agent({ calls: 3 });
    const before = wire.sent.length;
    for (let i = 0; i < 7; i++) expect((await paid.callTool({ name: 'search', arguments: { query: 'b' } })).isError).toBeFalsy();
    const sent = wire.sent.slice(before);
    expect(payments.map((p) => p.calls)).toEqual([3, 3, 3]);
    for (const p of payments) expectExamplePrice(p, HASH_RATE);
    expect(sent.filter((s) => s.name === 'powgate_challenge').map((s) => s.arguments)).toEqual(Array(3).fill({ scope: 'tool:search', calls: 3 }));
    expect(sent.filter((s) => s.name === 'powgate_verify')).toHaveLength(3);
    // 7 calls through, and a refusal without a credential for each purchase: none presented an exhausted token.
    expect(sent.filter((s) => s.name === 'search')).toHaveLength(10);
    expect(sent.filter((s) => s.name === 'search' && s.presented !== undefined && !s.result?.isError)).toHaveLength(7);
    expect(wire.refusedWithCredential(before)).toEqual([]);
  });

  it('buys again when the server says token_exhausted, whatever the client believed', async () => {
    const { paid, payments } = agent({ server: `readme-${kind}` });
    expect((await paid.callTool({ name: 'search', arguments: { query: 'x' } })).isError).toBeFalsy();
    // The client is told its spent token has calls left: the server knows better.
    const key = credentialKey(`mcp:readme-${kind}`, 'tool:search');
    const { remaining, ...cached } = paid.powgate.credentials.peek(key)!;
    expect(remaining).toBe(0);
    paid.powgate.credentials.put(key, { ...cached, calls: 5 });
    const before = wire.sent.length;
    expect(textOf(await paid.callTool({ name: 'search', arguments: { query: 'y' } }))).toEqual([{ type: 'text', text: 'results for y' }]);
    const sent = wire.sent.slice(before);
    expect(sent.map((s) => s.name)).toEqual(['search', 'powgate_verify', 'search']);
    const refusal = sent[0]!.result!._meta!['powgate/refusal'] as { cause: { reason: string } };
    expect(refusal.cause.reason).toBe('token_exhausted');
    expect(sent[0]!.presented).toBe((cached.credential as { token: string }).token);
    expect(payments).toHaveLength(2);
  });

  it('shares purchases among concurrent calls and never presents more calls than were bought', async () => {
    const { paid, payments } = agent({ calls: 4 });
    const before = wire.sent.length;
    const queries = Array.from({ length: 8 }, (_, i) => `c${i}`);
    const results = await Promise.all(queries.map((query) => paid.callTool({ name: 'search', arguments: { query } })));
    expect(results.map(textOf)).toEqual(queries.map((q) => [{ type: 'text', text: `results for ${q}` }]));
    const sent = wire.sent.slice(before);
    // Two purchases of four calls for eight calls; every credential presented went through.
    expect(payments.map((p) => p.calls)).toEqual([4, 4]);
    expect(sent.filter((s) => s.name === 'powgate_verify')).toHaveLength(2);
    const served = sent.filter((s) => s.name === 'search' && s.presented !== undefined);
    expect(served).toHaveLength(8);
    expect(served.every((s) => !s.result?.isError)).toBe(true);
    // Each token presented exactly as many times as the calls it bought.
    const uses = new Map<unknown, number>();
    for (const s of served) uses.set(s.presented, (uses.get(s.presented) ?? 0) + 1);
    expect([...uses.values()]).toEqual([4, 4]);
    expect(wire.refusedWithCredential(before)).toEqual([]);
  });

  it('refuses a price over budget before any work: nothing solved, redeemed or spent', async () => {
    const { paid, progress } = agent({ hashRate: 1 });
    const before = wire.sent.length;
    const error = await errorOf(paid.callTool({ name: 'search', arguments: { query: 'x' } }));
    expect(error).toMatchObject({ code: 'ERR_BUDGET_EXCEEDED', price: { method: 'pow', calls: 1 } });
    expect(error.price!.seconds).toBeGreaterThanOrEqual(2 ** 18);
    expect(wire.sent.slice(before).map((s) => s.name)).toEqual(['search']);
    expect(progress).toEqual([]);
    expect(paid.powgate.budget.spent()).toEqual({ seconds: 0, sats: 0 });
  });

  it("stops on the call's AbortSignal: ERR_ABORTED, nothing solved or redeemed", async () => {
    const controller = new AbortController();
    // Aborted while the purchase is being approved: after the refusal, before any work.
    const { paid, progress } = agent({ approve: () => (controller.abort(), true) });
    const before = wire.sent.length;
    const error = await errorOf(paid.callTool({ name: 'search', arguments: { query: 'x' } }, undefined, { signal: controller.signal }));
    expect(error.code).toBe('ERR_ABORTED');
    expect(wire.sent.slice(before).map((s) => s.name)).toEqual(['search']);
    expect(progress).toEqual([]);
  });

  it('answers a refusal it cannot pay with a clear error after one call, never a loop', async () => {
    const { paid } = agent({ prefer: ['l402'] });
    const before = wire.sent.length;
    const error = await errorOf(paid.callTool({ name: 'search', arguments: { query: 'x' } }));
    expect(error.code).toBe('ERR_UNSUPPORTED_CHALLENGE');
    expect(error.message).toMatch(/offers pow, none of which this client may use \(prefer: l402\)/);
    expect(wire.sent.slice(before).map((s) => s.name)).toEqual(['search']);
  });

  it('passes every other result through untouched', async () => {
    const { paid, payments } = agent();
    const lists = wire.lists();
    const direct = await client.callTool({ name: 'no_such_tool', arguments: {} }).then(
      (result) => ({ result }),
      (error: Error) => ({ error: error.message }),
    );
    const wrapped = await paid.callTool({ name: 'no_such_tool', arguments: {} }).then(
      (result) => ({ result }),
      (error: Error) => ({ error: error.message }),
    );
    expect(wrapped).toEqual(direct);
    // A tool that is not gated: as the SDK client returns it.
    expect(payments).toEqual([]);
    expect(wire.lists()).toBe(lists);
  });
});

describe.each(['stdio', 'http'] as const)('the Lightning door over %s (fixture server, stand-in node)', (kind) => {
  let node: StandInNode;
  let mcp: Connected;
  let bundle: string | undefined;
  let wire: ReturnType<typeof record>;
  let closeHttp: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    node = await startStandInNode();
    const nodeEnv = { POWGATE_LND_URL: node.url, POWGATE_LND_MACAROON: node.lndMacaroonHex };
    if (kind === 'stdio') {
      bundle = await bundleFixture('mcp-stdio-server.ts');
      mcp = await connectStdio(bundle, [], { POWGATE_SECRET: FIXTURE_SECRET, POWGATE_TEST_CALLS: '2', ...nodeEnv });
    } else {
      const gate = new Gate({
        secret: FIXTURE_SECRET,
        difficulty: 8,
        calls: 2,
        tokenTtlMs: 60_000,
        lightning: { backend: new LndRestBackend({ url: node.url, macaroon: node.lndMacaroonHex }), satsPerCall: 2 },
      });
      const http = await serveHttp(() => buildApp(gate));
      closeHttp = http.close;
      mcp = await connectHttp(http.url);
    }
    wire = record(mcp.client);
  });
  afterAll(async () => {
    await mcp?.close();
    await closeHttp?.();
    if (bundle) rmSync(bundle, { force: true });
    await node?.close();
  });

  function agent(options: PowgateMcpOptions = {}) {
    const payments: PaymentInfo[] = [];
    const invoices: string[] = [];
    const wallet = callbackWallet(async (invoice) => (invoices.push(invoice), node.pay(invoice)));
    const paid = wrapMcpClientWithPowgate(mcp.client, { prefer: ['l402'], maxSatsPerCall: 2, wallet, hashRate: HASH_RATE, onPayment: (p) => payments.push(p), ...options });
    return { paid, payments, invoices };
  }

  it('pays invoices through a callback wallet and presents L402 <macaroon>:<preimage> in powgate_token, call by call', async () => {
    const { paid, payments, invoices } = agent();
    const before = wire.sent.length;
    for (const query of ['a', 'b', 'c', 'd', 'e']) {
      const result = await paid.callTool({ name: 'search', arguments: { query } });
      expect(result.structuredContent).toEqual({ results: [`result for ${query}`] });
    }
    expect(invoices).toHaveLength(3);
    expect(payments.map((p) => [p.method, p.sats, p.calls, p.price.sats])).toEqual(Array(3).fill(['l402', 4, 2, 4]));
    const sent = wire.sent.slice(before);
    expect(sent.filter((s) => s.name !== 'search')).toEqual([]); // no redeem: the credential is presented as is
    const presented = sent.filter((s) => s.presented !== undefined);
    expect(presented).toHaveLength(5);
    for (const s of presented) expect(s.arguments.powgate_token).toMatch(/^L402 [A-Za-z0-9+/=]+:[0-9a-f]{64}$/);
    expect(wire.refusedWithCredential(before)).toEqual([]);
    expect(paid.powgate.budget.spent().sats).toBe(12);
  });

  it('with redeemL402, redeems each paid invoice with powgate_verify and presents the token', async () => {
    const { paid, payments, invoices } = agent({ redeemL402: true });
    const before = wire.sent.length;
    for (let i = 0; i < 3; i++) expect((await paid.callTool({ name: 'ping', arguments: {} })).content).toEqual([{ type: 'text', text: 'pong true' }]);
    const sent = wire.sent.slice(before);
    expect(invoices).toHaveLength(2);
    expect(payments.map((p) => [p.method, p.calls])).toEqual([
      ['l402', 2],
      ['l402', 2],
    ]);
    const redeems = sent.filter((s) => s.name === 'powgate_verify');
    expect(redeems.map((s) => Object.keys(s.arguments).sort())).toEqual(Array(2).fill(['macaroon', 'method', 'preimage']));
    expect(redeems.every((s) => s.arguments.method === 'l402' && !s.result?.isError)).toBe(true);
    for (const s of sent.filter((s) => s.name === 'ping' && s.presented !== undefined)) expect(s.presented).toMatch(/^pgt2\./);
    expect(wire.refusedWithCredential(before)).toEqual([]);
  });

  it('prefers the cheaper proof of work when sats are allowed but work comes first', async () => {
    const { paid, payments, invoices } = agent({ prefer: undefined });
    expect((await paid.callTool({ name: 'echo', arguments: { text: 'hi' } })).content).toEqual([{ type: 'text', text: JSON.stringify({ text: 'hi' }) }]);
    expect(invoices).toEqual([]);
    expect(payments.map((p) => [p.method, p.calls])).toEqual([['pow', 2]]);
  });
});
