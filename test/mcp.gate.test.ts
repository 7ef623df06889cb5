// A user's own MCP server with gated tools (test/fixtures/mcp-app.ts), reached through the SDK's
// own Client over stdio (a subprocess) and over Streamable HTTP on loopback.
import { rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import * as z from 'zod';
import * as z3 from 'zod/v3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gate, PowgateError, issueToken, solve, type Challenge, type PaymentRequired } from '../src/index.js';
import { anotherSolution } from './helpers/protocol.js';
import {
  addressClientKey,
  createPowgateMcpServer,
  gateTool,
  markClientAddress,
  mcpClientKey,
  registerGatedTool,
  registerPowgateTools,
  withTokenArgument,
  type ToolExtra,
} from '../src/mcp/index.js';
import { FIXTURE_SECRET, buildApp } from './fixtures/mcp-app.js';
import { asResult, bundleFixture, textOf, connectHttp, connectStdio, serveHttp, textJson, type Connected, type HttpApp } from './helpers/mcp.js';

const newGate = () => new Gate({ secret: FIXTURE_SECRET, difficulty: 8, tokenTtlMs: 60_000 });

describe.each(['stdio', 'http'] as const)('a gated tool over %s', (kind) => {
  let mcp: Connected;
  let http: HttpApp | undefined;
  let bundle: string | undefined;
  beforeAll(async () => {
    if (kind === 'stdio') {
      bundle = await bundleFixture('mcp-stdio-server.ts');
      mcp = await connectStdio(bundle, [], { POWGATE_SECRET: FIXTURE_SECRET });
    } else {
      const gate = newGate(); // one gate (one replay store) behind every request's server
      http = await serveHttp(() => buildApp(gate));
      mcp = await connectHttp(http.url);
    }
  });
  afterAll(async () => {
    await mcp?.close();
    await http?.close();
    if (bundle) rmSync(bundle, { force: true });
  });

  const call = async (name: string, args: Record<string, unknown>, meta?: Record<string, unknown>) =>
    asResult(await mcp.client.callTool({ name, arguments: args, ...(meta ? { _meta: meta } : {}) }));

  /** The refusal's envelope, checked to be the same in the text mirror and in _meta. */
  function envelope(result: Awaited<ReturnType<typeof call>>): PaymentRequired {
    expect(result.isError).toBe(true);
    const body = result._meta?.['powgate/refusal'] as PaymentRequired;
    expect(body).toBeDefined();
    expect(textJson(result)).toEqual(body);
    return body;
  }

  async function tokenFor(tool: string, args: Record<string, unknown>): Promise<string> {
    const refusal = envelope(await call(tool, args));
    const { challenge, redeem } = refusal.accepts[0]!;
    const verified = await call(redeem.tool as string, { challenge, solution: await solve(challenge) });
    expect(verified.structuredContent).toMatchObject({ ok: true, scope: challenge.scope });
    return (verified.structuredContent as { token: string }).token;
  }

  it('lists the gated tools with an optional powgate_token argument, their own schemas intact, and the powgate tools', async () => {
    const { tools } = await mcp.client.listTools();
    const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
    expect(Object.keys(byName).sort()).toEqual(['echo', 'free', 'ping', 'powgate_challenge', 'powgate_status', 'powgate_verify', 'reports', 'search']);
    const search = byName.search!;
    expect(search.inputSchema.properties).toMatchObject({ query: { type: 'string' }, powgate_token: { type: 'string' } });
    expect(search.inputSchema.required).toEqual(['query']);
    expect(search.outputSchema?.properties).toEqual({ results: { type: 'array', items: { type: 'string' } } });
    expect(search.description).toMatch(/^Searches the fixture index\.\n\nCosts proof of work of about 2\^[0-9.]+ SHA-256 hashes per call: .*powgate_verify.*powgate_token/);
    expect(Object.keys(byName.ping!.inputSchema.properties ?? {})).toEqual(['powgate_token']);
    expect(Object.keys(byName.echo!.inputSchema.properties ?? {})).toEqual(['text', 'powgate_token']);
    expect(byName.free!.inputSchema.properties ?? {}).not.toHaveProperty('powgate_token');
  });

  it('refuses a call without a token with a challenge and the way through; the outputSchema does not break it', async () => {
    // The SDK's Client validates structuredContent against the tool's outputSchema even on
    // isError results: the refusal of `search` carries its envelope in text and _meta only.
    const result = await call('search', { query: 'q' });
    expect(result.structuredContent).toBeUndefined();
    const body = envelope(result);
    expect(body).toMatchObject({ error: 'payment_required', cause: { reason: 'token_required' } });
    expect(body.cause.detail).toMatch(/token/);
    expect(body.accepts).toHaveLength(1);
    const [accept] = body.accepts;
    expect(accept).toMatchObject({ method: 'pow', challenge: { v: 2, scope: 'tool:search', difficulty: 8 } });
    expect(accept!.redeem).toMatchObject({ tool: 'powgate_verify', present: { argument: 'powgate_token', meta: 'powgate/token' } });
    expect(accept!.redeem.then).toMatch(/call search again .*powgate_token/);
    expect(Object.keys(accept!.redeem.arguments as object)).toEqual(['challenge', 'solution']);
    // Only HTTP has headers to carry a token.
    expect((accept!.redeem.present as Record<string, string>).header).toBe(kind === 'http' ? 'Authorization: Bearer <token>' : undefined);
  });

  it('puts the envelope in structuredContent for a tool without an outputSchema', async () => {
    const result = await call('ping', {});
    const body = envelope(result);
    expect(result.structuredContent).toEqual(body);
    expect(body.accepts[0]!.challenge.scope).toBe('tool:ping');
  });

  it('solve, redeem with powgate_verify, call again with the token: the tool runs once per call bought', async () => {
    const token = await tokenFor('search', { query: 'q' });
    const result = await call('search', { query: 'first', powgate_token: token });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toEqual({ results: ['result for first'] });
    // One call bought, one served: the next is refused with a fresh challenge.
    const again = envelope(await call('search', { query: 'second', powgate_token: token }));
    expect(again.cause.reason).toBe('token_exhausted');
    // A bundle from the challenge tool: two calls for twice the work.
    const issued = (await call('powgate_challenge', { scope: 'tool:search', calls: 2 })).structuredContent as { challenge: Challenge };
    expect(issued.challenge).toMatchObject({ calls: 2, difficulty: 9, price: 8 });
    const verified = await call('powgate_verify', { challenge: issued.challenge, solution: await solve(issued.challenge) });
    expect(verified.structuredContent).toMatchObject({ ok: true, calls: 2, price: 8 });
    const bundle = (verified.structuredContent as { token: string }).token;
    for (const query of ['a', 'b']) expect((await call('search', { query, powgate_token: bundle })).structuredContent).toEqual({ results: [`result for ${query}`] });
    expect(envelope(await call('search', { query: 'c', powgate_token: bundle })).cause.reason).toBe('token_exhausted');
  });

  it('takes the token from _meta["powgate/token"] too, and hands the handler its arguments without the token', async () => {
    const token = await tokenFor('echo', { text: 'x' });
    const viaArgument = await call('echo', { text: 'hi', powgate_token: token });
    expect(textJson(viaArgument)).toEqual({ text: 'hi' });
    const viaMeta = await call('echo', { text: 'ho' }, { 'powgate/token': await tokenFor('echo', { text: 'x' }) });
    expect(viaMeta.isError).toBeFalsy();
    expect(textJson(viaMeta)).toEqual({ text: 'ho' });
    const ping = await call('ping', {}, { 'powgate/token': await tokenFor('ping', {}) });
    expect(ping.content[0]).toEqual({ type: 'text', text: 'pong true' });
  });

  it('accepts a token redeemed through Gate.redeem (tokens are stateless: any process with the secret)', async () => {
    const other = newGate(); // made before the challenge: a store made after it refuses it (see the store's epoch)
    const { challenge } = envelope(await call('search', { query: 'q' })).accepts[0]!;
    const redeemed = await other.redeem(challenge, await solve(challenge));
    expect(redeemed.ok).toBe(true);
    const result = await call('search', { query: 'r', powgate_token: (redeemed as { token: string }).token });
    expect(result.structuredContent).toEqual({ results: ['result for r'] });
  });

  it('refuses a token for another scope, an expired, a garbage, a tampered and a foreign token, each with its reason', async () => {
    const echoToken = await tokenFor('echo', { text: 'x' });
    const now = Date.now();
    const cases: [unknown, string][] = [
      [echoToken, 'scope_mismatch'],
      [issueToken({ secret: FIXTURE_SECRET, scope: 'tool:search', now: now - 3_600_000, ttlMs: 60_000 }), 'expired'],
      ['pgt2.garbage', 'malformed'],
      ['pgt1.garbage', 'unsupported_version'],
      [issueToken({ secret: FIXTURE_SECRET, scope: 'tool:search', price: 7 }), 'price_too_low'],
      [42, 'malformed'],
      [`${echoToken.slice(0, -2)}${echoToken.endsWith('AA') ? 'BB' : 'AA'}`, 'bad_signature'],
      [issueToken({ keys: [{ kid: 'elsewhere', secret: 'another server secret of 32 bytes or more' }], scope: 'tool:search' }), 'unknown_key'],
    ];
    for (const [token, reason] of cases) {
      const body = envelope(await call('search', { query: 'q', powgate_token: token }));
      expect(body.cause.reason, String(token)).toBe(reason);
      expect(body.accepts[0]!.challenge.scope).toBe('tool:search'); // a fresh way through, every time
    }
    // A tampered token for the right scope fails its MAC, also through _meta.
    const tampered = `${echoToken.slice(0, -2)}${echoToken.endsWith('AA') ? 'BB' : 'AA'}`;
    expect(envelope(await call('echo', { text: 'x' }, { 'powgate/token': tampered })).cause.reason).toBe('bad_signature');
  });

  it('shares one scope between tools when told to, and leaves ungated tools alone', async () => {
    const token = await tokenFor('reports', { year: 2025 });
    expect((await call('reports', { year: 2026, powgate_token: token })).content[0]).toEqual({ type: 'text', text: 'report 2026' });
    expect(envelope(await call('search', { query: 'q', powgate_token: token })).cause.reason).toBe('scope_mismatch');
    expect((await call('free', {})).content[0]).toEqual({ type: 'text', text: 'free' });
  });

  it('answers verify refusals in structure', async () => {
    const { challenge } = envelope(await call('search', { query: 'q' })).accepts[0]!;
    const solution = await solve(challenge);
    const first = await call('powgate_verify', { challenge, solution });
    expect(first.structuredContent).toMatchObject({ ok: true });
    // The same solution again gets the same token; another solution of the challenge is a replay.
    expect((await call('powgate_verify', { challenge, solution })).structuredContent).toEqual(first.structuredContent);
    const other = await anotherSolution(challenge, solution, FIXTURE_SECRET);
    const replay = await call('powgate_verify', { challenge, solution: other });
    expect(replay.isError).toBe(true);
    expect(replay.structuredContent).toMatchObject({ ok: false, reason: 'replayed' });
  });
});

describe('a gated tool over Streamable HTTP: the Authorization header', () => {
  let http: HttpApp;
  const gate = newGate();
  beforeAll(async () => {
    http = await serveHttp(() => buildApp(gate));
  });
  afterAll(async () => {
    await http.close();
  });

  async function token(scope: string): Promise<string> {
    gate.door(scope); // the app's tools declare it too, but only once a session builds it
    const issued = await gate.challenge('test', { scope });
    const challenge = (issued as { challenge: Challenge }).challenge;
    const redeemed = await gate.redeem(challenge, await solve(challenge));
    return (redeemed as { token: string }).token;
  }

  it('accepts `Authorization: Bearer <powgate token>`', async () => {
    const mcp = await connectHttp(http.url, { Authorization: `Bearer ${await token('tool:search')}` });
    try {
      const result = asResult(await mcp.client.callTool({ name: 'search', arguments: { query: 'h' } }));
      expect(result.structuredContent).toEqual({ results: ['result for h'] });
      // The header's token is for tool:search only.
      const echo = asResult(await mcp.client.callTool({ name: 'echo', arguments: { text: 'x' } }));
      expect((echo.structuredContent as unknown as PaymentRequired).cause.reason).toBe('scope_mismatch');
    } finally {
      await mcp.close();
    }
  });

  it('ignores a Bearer value that is not a powgate token (an OAuth access token is not ours)', async () => {
    const mcp = await connectHttp(http.url, { Authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig' });
    try {
      const echo = asResult(await mcp.client.callTool({ name: 'echo', arguments: { text: 'x' } }));
      expect((echo.structuredContent as unknown as PaymentRequired).cause.reason).toBe('token_required');
    } finally {
      await mcp.close();
    }
  });
});

describe('gating in process (InMemoryTransport)', () => {
  async function pair(setup: (server: McpServer) => void): Promise<{ client: Client; close: () => Promise<void> }> {
    const server = new McpServer({ name: 't', version: '1' });
    setup(server);
    const [a, b] = InMemoryTransport.createLinkedPair();
    const client = new Client({ name: 'c', version: '1' });
    await Promise.all([server.connect(a), client.connect(b)]);
    return {
      client,
      close: async () => {
        await client.close();
        await server.close();
      },
    };
  }

  it('gateTool + withTokenArgument on a plain registerTool, naming the verify tool', async () => {
    const gate = newGate();
    const { client, close } = await pair((server) => {
      registerPowgateTools(server, gate, { prefix: 'pay_' });
      server.registerTool(
        'weather',
        { inputSchema: withTokenArgument({ city: z.string() }) },
        gateTool(gate, async (args: { city: string }) => ({ content: [{ type: 'text', text: `sunny in ${args.city}` }] }), {
          scope: 'weather',
          toolName: 'weather',
          verifyTool: 'pay_verify',
        }),
      );
    });
    try {
      const refused = asResult(await client.callTool({ name: 'weather', arguments: { city: 'Oslo' } }));
      const body = refused.structuredContent as unknown as PaymentRequired;
      expect(body.accepts[0]!.redeem.tool).toBe('pay_verify');
      const { challenge } = body.accepts[0]!;
      const verified = asResult(await client.callTool({ name: 'pay_verify', arguments: { challenge, solution: await solve(challenge) } }));
      const token = (verified.structuredContent as { token: string }).token;
      const ok = asResult(await client.callTool({ name: 'weather', arguments: { city: 'Oslo', powgate_token: token } }));
      expect(ok.content[0]).toEqual({ type: 'text', text: 'sunny in Oslo' });
    } finally {
      await close();
    }
  });

  it('never hands the token to the wrapped handler, whether it came as an argument or in _meta', async () => {
    const gate = newGate();
    const seen: unknown[] = [];
    const { client, close } = await pair((server) => {
      registerGatedTool(server, gate, 'peek', { inputSchema: { n: z.number() } }, async (args, extra) => {
        seen.push(JSON.stringify({ args, meta: extra._meta ?? null }));
        return { content: [{ type: 'text', text: 'ok' }] };
      });
    });
    try {
      const token = issueToken({ secret: FIXTURE_SECRET, scope: 'tool:peek', calls: 2, price: 8 });
      await client.callTool({ name: 'peek', arguments: { n: 1, powgate_token: token } });
      await client.callTool({ name: 'peek', arguments: { n: 2 }, _meta: { 'powgate/token': token, other: 1 } });
      expect(seen).toHaveLength(2);
      for (const text of seen) expect(text).not.toContain(token);
      expect(seen[1]).toContain('"other":1');
    } finally {
      await close();
    }
  });

  it('adds the token argument to zod 3 shapes and to zod 4 object schemas, keeping strictness', async () => {
    const gate = newGate();
    const { client, close } = await pair((server) => {
      registerGatedTool(server, gate, 'v3', { inputSchema: { n: z3.number() } }, async ({ n }) => ({ content: [{ type: 'text', text: `n=${n}` }] }));
      registerGatedTool(server, gate, 'strict', { inputSchema: z.strictObject({ n: z.number() }) }, async ({ n }) => ({ content: [{ type: 'text', text: `n=${n}` }] }));
    });
    try {
      const { tools } = await client.listTools();
      for (const name of ['v3', 'strict']) {
        expect(Object.keys(tools.find((t) => t.name === name)!.inputSchema.properties ?? {})).toEqual(['n', 'powgate_token']);
      }
      for (const name of ['v3', 'strict']) {
        const scope = `tool:${name}`;
        const issued = await gate.challenge('t', { scope });
        const challenge = (issued as { challenge: Challenge }).challenge;
        const token = ((await gate.redeem(challenge, await solve(challenge))) as { token: string }).token;
        const ok = asResult(await client.callTool({ name, arguments: { n: 3, powgate_token: token } }));
        expect(ok.content[0], name).toEqual({ type: 'text', text: 'n=3' });
      }
      // Still strict: with a token, another unknown argument is refused by the SDK's input validation.
      const issued = await gate.challenge('t', { scope: 'tool:strict' });
      const challenge = (issued as { challenge: Challenge }).challenge;
      const token = ((await gate.redeem(challenge, await solve(challenge))) as { token: string }).token;
      const extra = asResult(await client.callTool({ name: 'strict', arguments: { n: 3, other: 1, powgate_token: token } }));
      expect(extra.isError).toBe(true);
      expect(textOf(extra)).toMatch(/Input validation error/);
    } finally {
      await close();
    }
  });

  it('answers a cold call with wrong or missing arguments with the on-ramp; checks them, as the SDK does, before a call is spent', async () => {
    const gate = newGate();
    const ran: unknown[] = [];
    const { client, close } = await pair((server) => {
      registerGatedTool(server, gate, 'search', { inputSchema: { query: z.string(), limit: z.number().default(10) } }, async (args) => {
        ran.push(args);
        return { content: [{ type: 'text', text: `results for ${args.query}` }] };
      });
      registerGatedTool(server, gate, 'v3', { inputSchema: { n: z3.number() } }, async ({ n }) => ({ content: [{ type: 'text', text: `n=${n}` }] }));
    });
    try {
      // Listed as written: the required argument is still required.
      const listed = (await client.listTools()).tools.find((t) => t.name === 'search')!;
      expect(listed.inputSchema.required).toEqual(['query']);
      for (const [name, args] of [
        ['search', {}],
        ['search', { query: 7 }],
        ['v3', {}],
        ['v3', { n: 'x' }],
      ] as const) {
        const cold = asResult(await client.callTool({ name, arguments: args }));
        expect(cold.isError, `${name} ${JSON.stringify(args)}`).toBe(true);
        expect((cold.structuredContent as unknown as PaymentRequired).cause.reason).toBe('token_required');
        expect((cold.structuredContent as unknown as PaymentRequired).accepts[0]!.method).toBe('pow');
      }
      // With a token (of 1 call): the SDK's own input error, and the call is not spent.
      const issued = await gate.challenge('t', { scope: 'tool:search' });
      const challenge = (issued as { challenge: Challenge }).challenge;
      const token = ((await gate.redeem(challenge, await solve(challenge))) as { token: string }).token;
      const wrong = asResult(await client.callTool({ name: 'search', arguments: { powgate_token: token } }));
      expect(wrong.isError).toBe(true);
      expect(textOf(wrong)).toMatch(/^MCP error -32602: Input validation error: Invalid arguments for tool search: .*query/);
      const ok = asResult(await client.callTool({ name: 'search', arguments: { query: 'x', powgate_token: token } }));
      expect(ok.content[0]).toEqual({ type: 'text', text: 'results for x' });
      // The handler got the parsed arguments (the default filled in), without the token.
      expect(ran).toEqual([{ query: 'x', limit: 10 }]);
      const spent = asResult(await client.callTool({ name: 'search', arguments: { query: 'x', powgate_token: token } }));
      expect((spent.structuredContent as unknown as PaymentRequired).cause.reason).toBe('token_exhausted');
    } finally {
      await close();
    }
  });

  it('prices each client by its key: the session, the OAuth client, or the transport', () => {
    const extra = (over: Partial<ToolExtra>) => over as ToolExtra;
    expect(mcpClientKey(extra({}))).toBe('mcp:stdio');
    expect(mcpClientKey(extra({ requestInfo: { headers: {} } }))).toBe('mcp:http');
    expect(mcpClientKey(extra({ requestInfo: { headers: {} }, sessionId: 's1' }))).toBe('session:s1');
    expect(mcpClientKey(extra({ sessionId: 's1', authInfo: { token: 't', clientId: 'app', scopes: [] } }))).toBe('oauth:app');
  });

  it('keys clients by the address the server marked, never by the header a client sends', async () => {
    const gate = new Gate({ secret: FIXTURE_SECRET, difficulty: { base: 8, max: 20, freeRequests: 1 } });
    const keys: string[] = [];
    const server = createServer((req, res) => {
      markClientAddress(req);
      const mcp = new McpServer({ name: 'marked', version: '1.0.0' });
      registerGatedTool(mcp, gate, 'x', {}, async () => ({ content: [{ type: 'text', text: 'x' }] }), {
        clientKey: (extra) => {
          keys.push(addressClientKey(extra));
          return addressClientKey(extra);
        },
      });
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      res.on('close', () => void transport.close());
      void mcp.connect(transport).then(() => transport.handleRequest(req, res));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`);
    const mcp = await connectHttp(url, { 'powgate-client-address': 'someone-else' });
    try {
      const difficulty = async () =>
        (asResult(await mcp.client.callTool({ name: 'x', arguments: {} })).structuredContent as unknown as PaymentRequired).accepts[0]!.challenge.difficulty;
      const seen = [];
      for (let i = 0; i < 4; i++) seen.push(await difficulty());
      expect([seen[0], seen[3]]).toEqual([8, 10]); // 4 calls asked for, 1 free: 2 more bits
      expect(new Set(keys)).toEqual(new Set(['addr:127.0.0.1']));
      expect(await gate.priceFor('addr:someone-else', 'tool:x')).toMatchObject({ difficulty: 8 });
    } finally {
      await mcp.close();
      await new Promise((resolve) => server.close(resolve));
    }
    // Without the mark, the usual key: a client's own header is not read.
    expect(addressClientKey({ requestInfo: { headers: {} } } as ToolExtra)).toBe('mcp:http');
  });

  it('prices a pooled key (stateless HTTP) by paid calls only, and any other key by the calls it asks for', async () => {
    const gate = new Gate({ secret: FIXTURE_SECRET, difficulty: { base: 8, max: 20, freeRequests: 2 } });
    let key = 'mcp:http';
    const { client, close } = await pair((server) => {
      registerGatedTool(server, gate, 'x', {}, async () => ({ content: [{ type: 'text', text: 'x' }] }), { clientKey: () => key });
    });
    try {
      const refusal = async () => asResult(await client.callTool({ name: 'x', arguments: {} }))._meta!['powgate/refusal'] as PaymentRequired;
      // Pooled: token-less calls are free and raise no one's price...
      for (let i = 0; i < 20; i++) expect((await refusal()).accepts[0]!.challenge.difficulty).toBe(8);
      // ...paid calls do: a bundle of 8 redeemed through powgate_verify.
      const issued = asResult(await client.callTool({ name: 'powgate_challenge', arguments: { scope: 'tool:x', calls: 8 } }));
      const challenge = (issued.structuredContent as { challenge: Challenge }).challenge;
      expect(challenge.difficulty).toBe(11);
      const verified = asResult(await client.callTool({ name: 'powgate_verify', arguments: { challenge, solution: await solve(challenge) } }));
      expect(verified.structuredContent).toMatchObject({ ok: true, calls: 8 });
      expect((await refusal()).accepts[0]!.challenge.difficulty).toBe(10); // 8 paid, 2 free: log2(8 / 2) = 2 more bits
      // A key of its own: every call asked for counts.
      key = 'session:a';
      const seen = [];
      for (let i = 0; i < 8; i++) seen.push((await refusal()).accepts[0]!.challenge.difficulty);
      expect([seen[0], seen[7]]).toEqual([8, 10]);
      key = 'session:b';
      expect((await refusal()).accepts[0]!.challenge.difficulty).toBe(8);
    } finally {
      await close();
    }
  });
});

describe('registration checks its gate', () => {
  const notGates: [string, unknown][] = [
    ['undefined', undefined],
    ['null', null],
    ['an empty object', {}],
    ['a gate-like object that cannot refuse', { door: () => {}, useToken: async () => ({ ok: true }) }],
    ['the class instead of an instance', Gate],
  ];

  it.each(notGates)('refuses %s with a PowgateError at registration, and registers nothing', (_, gate) => {
    const server = new McpServer({ name: 'app', version: '1.0.0' });
    const attempts: (() => unknown)[] = [
      () => registerGatedTool(server, gate as Gate, 'search', { description: 'search' }, () => ({ content: [] })),
      () => gateTool(gate as Gate, () => ({ content: [] }), { scope: 'search' }),
      () => registerPowgateTools(server, gate as Gate),
      () => createPowgateMcpServer(gate as Gate),
    ];
    for (const attempt of attempts) {
      let thrown: unknown;
      try {
        attempt();
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(PowgateError);
      expect(thrown).toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringMatching(/^expected a Gate for gate but received /) });
    }
    // Nothing half-registered: the same server takes the real gate's tools afterwards.
    expect(() => registerGatedTool(server, newGate(), 'search', { description: 'search' }, () => ({ content: [] }))).not.toThrow();
  });
});
