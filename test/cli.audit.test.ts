// `powgate audit` as a user runs it (the built dist/cli.js, a subprocess) against the README's
// own examples, run as written (Express; MCP over stdio, and over Streamable HTTP with only its
// transport line swapped), and against a deliberately leaky deployment: an Express app with
// one route left ungated, an MCP server with one tool left ungated, a hand-made 402 without
// its on-ramp. The servers are real processes; the audit speaks to them as a scanner would.
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_MCP_ANSWER_BYTES } from '../src/cli/audit/bounded-fetch.js';
import { minimalArguments } from '../src/cli/audit/minimal-arguments.js';
import type { AuditReport } from '../src/cli/audit/report.js';
import { Gate } from '../src/gate/gate.js';
import { HttpGate, powgateMiddleware } from '../src/http/index.js';
import { LndRestBackend } from '../src/lightning/index.js';
import { close, listen } from './helpers/http.js';
import { startStandInNode } from './helpers/lightning-node.js';
import { CLI_SECRET, expectUsageError, runCli } from './helpers/cli.js';
import { startReadmeExpress } from './helpers/readme-express.js';
import { readmeMcpExample } from './helpers/readme-mcp.js';

const root = path.join(__dirname, '..');
// Inside the package (so that 'powgate' is the package itself, built in dist/), files of their own.
const dir = path.join(root, 'build', 'readme-examples');
mkdirSync(dir, { recursive: true });
const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A file in the package for this run; removed at the end. */
function file(name: string, code: string): string {
  const at = path.join(dir, `cli-audit-${name}-${process.pid}.mjs`);
  writeFileSync(at, code);
  cleanups.push(() => rmSync(at, { force: true }));
  return at;
}

/** Runs `node <script>`, which prints its port on its first line; its base URL. */
async function startServer(script: string): Promise<string> {
  const child = spawn(process.execPath, [script], { env: { ...process.env, POWGATE_SECRET: CLI_SECRET }, stdio: ['ignore', 'pipe', 'inherit'] });
  cleanups.push(() => child.kill());
  const port = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`${path.basename(script)} exited with code ${code}`)));
  });
  return `http://127.0.0.1:${port}`;
}

/** An Express app with the gate on /search, and mistakes beside it. */
const LEAKY_EXPRESS = `import express from 'express';
import { Gate } from 'powgate';
import { PowgateService, powgateMiddleware } from 'powgate/http';

const gate = new Gate({ secret: process.env.POWGATE_SECRET, difficulty: 18 });
const app = express();
app.use(new PowgateService(gate).handle);
app.use('/search', powgateMiddleware(gate, { scope: 'search' }));
app.get('/search', (req, res) => res.json({ results: [] }));
app.get('/export', (req, res) => res.json({ rows: ['everything'] })); // the gate forgotten
app.get('/paywall', (req, res) => res.status(402).json({ error: 'payment_required' })); // a 402 made by hand, no way through
app.get('/denied', (req, res) => res.status(401).send('log in'));
app.get('/broken', () => { throw new Error('boom'); });
app.get('/moved', (req, res) => res.redirect('/search'));
app.listen(0, function () { console.log(this.address().port); });
`;

/** An MCP server with a gated tool and, beside it, one left ungated. */
const LEAKY_MCP = `import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';
import { Gate } from 'powgate';
import { registerGatedTool } from 'powgate/mcp';

const gate = new Gate({ secret: process.env.POWGATE_SECRET, difficulty: 18 });
const server = new McpServer({ name: 'leaky', version: '1.0.0' });
registerGatedTool(server, gate, 'search', { inputSchema: { query: z.string() } }, async ({ query }) => ({ content: [{ type: 'text', text: query }] }));
server.registerTool('export', { description: 'the gate forgotten', inputSchema: { table: z.string(), limit: z.number().int().min(1) } },
  async ({ table }) => ({ content: [{ type: 'text', text: 'all of ' + table }] }));
await server.connect(new StdioServerTransport());
`;

function reportOf(stdout: string): AuditReport {
  return JSON.parse(stdout) as AuditReport;
}

describe('the README examples pass the audit', () => {
  let express: { base: string; stop: () => void };
  beforeAll(async () => {
    express = await startReadmeExpress('cli-audit-express');
    cleanups.push(express.stop);
  });

  it('Express: every probe of GET /search is a 402 with a complete envelope; the token service is free (exit 0)', async () => {
    const run = await runCli(['audit', express.base, '--route', 'GET:/search', '--free', 'POST:/api/challenge', '--free', 'POST:/api/verify', '--free', 'GET:/healthz']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^http +GET \/search +no body +402 +token_required +complete +pass$/m);
    expect(run.stdout).toMatch(/^http +GET \/search +bogus token +402 +malformed +complete +pass$/m);
    expect(run.stdout).toMatch(/^audit: OK, 16 probes: 4 passed, 0 failed, 0 warned, 12 free, 0 on-ramp$/m);

    const json = await runCli(['audit', `${express.base}/search`, '--json']);
    expect(json.code).toBe(0);
    const report = reportOf(json.stdout);
    expect(report).toMatchObject({ version: 1, ok: true, strict: false, failures: [], counts: { probes: 4, passed: 4, failed: 0 } });
    // The token service serves the discovery document; the README's middleware names no resource, so it lists none.
    expect(report.discovery).toMatchObject({ status: 200, routes: 0 });
    expect(report.probes.map((p) => [p.door, p.target, p.probe, p.status, p.complete, p.verdict])).toEqual([
      ['http', 'GET /search', 'no body', '402', true, 'pass'],
      ['http', 'GET /search', '{} body', '402', true, 'pass'],
      ['http', 'GET /search', 'Accept: text/html', '402', true, 'pass'],
      ['http', 'GET /search', 'bogus token', '402', true, 'pass'],
    ]);
    // Never a token or a secret: not the bogus one sent, not the server's.
    expect(json.stdout + run.stdout).not.toMatch(/pgt2\.|a command-line test secret/);
  });

  it('MCP over stdio: search refuses {} and minimal arguments with its on-ramp; the powgate tools are the on-ramp (exit 0)', async () => {
    const server = file('readme-mcp-stdio', readmeMcpExample('stdio'));
    const run = await runCli(['audit', '--', process.execPath, server]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^mcp-stdio +search +\{\} +refused +token_required +complete +pass$/m);
    expect(run.stdout).toMatch(/^mcp-stdio +search +minimal args +refused +token_required +complete +pass$/m);
    for (const tool of ['powgate_challenge', 'powgate_verify', 'powgate_status']) expect(run.stdout).toMatch(new RegExp(`^mcp-stdio +${tool} +.* on-ramp$`, 'm'));
    expect(run.stdout).toMatch(/^audit: OK, 5 probes: 2 passed, 0 failed, 0 warned, 0 free, 3 on-ramp$/m);
  });

  it('MCP over Streamable HTTP: the same verdicts through --mcp URL (exit 0)', async () => {
    const base = await startServer(file('readme-mcp-http', readmeMcpExample('http')));
    const run = await runCli(['audit', '--mcp', `${base}/mcp`, '--json']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const report = reportOf(run.stdout);
    expect(report.ok).toBe(true);
    expect(report.discovery).toBeNull();
    expect(report.probes.filter((p) => p.target === 'search').map((p) => [p.door, p.probe, p.status, p.reason, p.complete, p.verdict])).toEqual([
      ['mcp-http', '{}', 'refused', 'token_required', true, 'pass'],
      ['mcp-http', 'minimal args', 'refused', 'token_required', true, 'pass'],
    ]);
    expect(report.counts).toMatchObject({ probes: 5, passed: 2, onRamp: 3, failed: 0 });
  });
});

describe('a leaky deployment fails the audit, naming what leaks', () => {
  let base = '';
  let mcp = '';
  beforeAll(async () => {
    base = await startServer(file('leaky-express', LEAKY_EXPRESS));
    mcp = file('leaky-mcp', LEAKY_MCP);
  });

  it('one ungated HTTP route and one ungated MCP tool: exit 1, both named in the table and in --json', async () => {
    const args = ['audit', base, '--route', 'GET:/search', '--route', 'GET:/export', '--', process.execPath, mcp];
    const run = await runCli(args);
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.stdout).toMatch(/^http +GET \/export +no body +200 +- +- +FAIL: answers without payment$/m);
    expect(run.stdout).toMatch(/^mcp-stdio +export +minimal args +answered +- +- +FAIL: answers without payment$/m);
    // A cold {} gets the SDK's input error, not a way through: a refusal without its on-ramp.
    expect(run.stdout).toMatch(/^mcp-stdio +export +\{\} +error +- +- +FAIL: refuses without its on-ramp: MCP error -32602: Input validation error/m);
    expect(run.stdout).toMatch(/^http +GET \/search +no body +402 +token_required +complete +pass$/m);
    expect(run.stdout).toMatch(/^mcp-stdio +search +\{\} +refused +token_required +complete +pass$/m);
    expect(run.stdout).toMatch(/^FAIL http GET \/export: answers without payment$/m);
    expect(run.stdout).toMatch(/^FAIL mcp-stdio export: /m);
    expect(run.stdout).toMatch(/^audit: FAILED, 2 targets /m);

    const json = await runCli([...args.slice(0, 6), '--json', ...args.slice(6)]);
    expect(json.code).toBe(1);
    const report = reportOf(json.stdout);
    expect(report.ok).toBe(false);
    expect(report.failures.map((f) => [f.door, f.target])).toEqual([
      ['http', 'GET /export'],
      ['mcp-stdio', 'export'],
    ]);
  });

  it('marked --free, the same leaks pass: exit 0', async () => {
    const run = await runCli(['audit', base, '--route', 'GET:/search', '--free', 'GET:/export', '--free', 'export', '--', process.execPath, mcp]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^http +GET \/export +no body +200 +- +- +free$/m);
    expect(run.stdout).toMatch(/^mcp-stdio +export +minimal args +answered +- +- +free$/m);
  });

  it('a 402 without its on-ramp, a plain 401 and a crash: exit 1, each said why', async () => {
    const run = await runCli(['audit', base, '--route', 'GET:/search', '--route', 'GET:/paywall', '--route', 'GET:/denied', '--route', 'GET:/broken', '--json']);
    expect(run.code, run.stdout + run.stderr).toBe(1);
    const report = reportOf(run.stdout);
    const first = (target: string) => report.probes.find((p) => p.target === target)!;
    expect(first('GET /paywall')).toMatchObject({ status: '402', complete: false, verdict: 'fail' });
    expect(first('GET /paywall').note).toMatch(/^malformed envelope: .*accepts/);
    expect(first('GET /denied')).toMatchObject({ status: '401', complete: false, verdict: 'fail', note: 'refuses without its on-ramp' });
    expect(first('GET /broken')).toMatchObject({ status: '500', verdict: 'fail', note: 'crashes (500)' });
    expect(report.failures.map((f) => f.target)).toEqual(['GET /paywall', 'GET /denied', 'GET /broken']);
    expect(report.probes.filter((p) => p.target === 'GET /search').every((p) => p.verdict === 'pass')).toBe(true);
  });

  it('no route given and no discovery document: a usage error (exit 2), not a pass', async () => {
    expectUsageError(
      await runCli(['audit', base]),
      /^powgate audit: no route to probe: give --route METHOD:\/path \(no discovery document at \/\.well-known\/l402\.json lists any\)$/,
    );
  });

  it('a redirect is a warning: exit 0, and exit 1 with --strict', async () => {
    const run = await runCli(['audit', base, '--route', 'GET:/moved']);
    expect(run.code, run.stdout).toBe(0);
    expect(run.stdout).toMatch(/^http +GET \/moved +no body +302 +- +- +WARN: redirects \(to \/search\): audit that route$/m);
    expect(run.stdout).toMatch(/^audit: OK, 4 probes: 0 passed, 0 failed, 4 warned, 0 free, 0 on-ramp$/m);
    const strict = await runCli(['audit', base, '--route', 'GET:/moved', '--strict', '--json']);
    expect(strict.code).toBe(1);
    expect(reportOf(strict.stdout)).toMatchObject({
      ok: false,
      strict: true,
      failures: [{ door: 'http', target: 'GET /moved', note: 'redirects (to /search): audit that route' }],
    });
  });

  it("a hostile server's tool names and error texts never reach the terminal as control characters", async () => {
    const hostile = file(
      'hostile-mcp',
      `import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
const server = new McpServer({ name: 'hostile', version: '1.0.0' });
server.registerTool('evil\\u001b[2J\\u009b31m', { description: 'x' }, async () => ({ isError: true, content: [{ type: 'text', text: '\\u001b]0;pwned\\u0007' + 'x'.repeat(500) }] }));
await server.connect(new StdioServerTransport());
`,
    );
    for (const json of [false, true]) {
      const run = await runCli(['audit', ...(json ? ['--json'] : []), '--', process.execPath, hostile]);
      expect(run.code, run.stdout + run.stderr).toBe(1);
      expect(run.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
      expect(run.stdout).toContain(json ? '"target": "evil?[2J?31m"' : 'FAIL mcp-stdio evil?[2J?31m: refuses without its on-ramp: ?]0;pwned?xxx');
    }
  });

  it('an MCP server whose answer never ends is a failure, read no further than the cap', async () => {
    let written = -1;
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const server = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"jsonrpc":"2.0","id":0,"result":"');
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
      res.on('close', () => {
        written = req.socket.bytesWritten;
      });
    });
    const base = await listen(server);
    cleanups.push(() => close(server));
    const run = await runCli(['audit', '--mcp', `${base}/mcp`, '--timeout', '20s']);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`FAIL: cannot connect: the answer passed ${MAX_MCP_ANSWER_BYTES} bytes`);
    // What the server got out before the audit hung up: the cap, and what the sockets buffer (unbounded, it is gigabytes).
    await expect.poll(() => written).toBeGreaterThan(MAX_MCP_ANSWER_BYTES);
    expect(written).toBeLessThan(MAX_MCP_ANSWER_BYTES + 32 * 1024 * 1024);
  });

  it('a server that does not answer is a failure, not a pass', async () => {
    const run = await runCli(['audit', 'http://127.0.0.1:9/x', '--timeout', '2s']);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^http +GET \/x +no body +no answer .*FAIL: no answer \(ECONNREFUSED\)$/m);
  });
});

it('reads the routes of a discovery document (/.well-known/l402.json), its path templates filled in', async () => {
  const gate = new Gate({ secret: CLI_SECRET, difficulty: 8 });
  const gated = powgateMiddleware(gate, { scope: 'items' });
  const seen: string[] = [];
  const document = {
    version: '1.0',
    services: [
      { name: 'items', resources: [{ method: 'POST', path: '/items/{id}' }, { path: '/items' }, { tool: 'search' }] },
      { name: 'open', resources: [{ method: 'GET', path: '/open/:slug' }, 'nonsense', { path: 'no-slash' }] },
      // Paths that would aim the probes at another host: skipped.
      { name: 'elsewhere', resources: [{ path: '//169.254.169.254/latest' }, { path: '/\\169.254.169.254/latest' }, { path: '/\\\\10.0.0.5/admin' }] },
    ],
  };
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    if (req.url === '/.well-known/l402.json') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(document));
    if (req.url?.startsWith('/open/')) return void res.writeHead(200).end('{}');
    gated(req, res, () => res.writeHead(200).end('{}'));
  });
  cleanups.push(() => server.close());
  const base = await listen(server);
  const run = await runCli(['audit', base, '--json']);
  expect(run.code, run.stdout).toBe(1);
  const report = reportOf(run.stdout);
  expect(report.discovery).toMatchObject({ url: `${base}/.well-known/l402.json`, status: 200, routes: 3 });
  expect([...new Set(report.probes.map((p) => p.target))]).toEqual(['POST /items/audit', 'GET /items', 'GET /open/audit']);
  expect(report.failures).toEqual([{ door: 'http', target: 'GET /open/audit', note: 'answers without payment' }]);
  expect(seen).toContain('POST /items/audit');
});

it('with a Lightning door: complete when the header and the body both offer it, incomplete when the header drops it', async () => {
  const node = await startStandInNode();
  cleanups.push(() => node.close());
  const gate = new Gate({ secret: CLI_SECRET, difficulty: 8, lightning: { backend: new LndRestBackend({ url: node.url, macaroon: node.lndMacaroonHex }), satsPerCall: 2 } });
  const whole = powgateMiddleware(gate, { scope: 'paid' });
  const http = new HttpGate(gate, { scope: 'paid' });
  const server = createServer((req, res) => {
    if (req.url === '/paid') return whole(req, res, () => res.writeHead(200).end('{}'));
    // The same refusal with the WWW-Authenticate header cut to its PowGate challenge: L402 clients see no invoice.
    void http.check(req).then((checked) => {
      if (checked.ok) return void res.writeHead(200).end('{}');
      const header = checked.refusal.headers['www-authenticate']!.split(', L402 ')[0]!;
      res.writeHead(checked.refusal.status, { 'content-type': 'application/json', 'www-authenticate': header }).end(JSON.stringify(checked.refusal.body));
    });
  });
  cleanups.push(() => server.close());
  const base = await listen(server);
  const run = await runCli(['audit', base, '--route', 'GET:/paid', '--route', 'GET:/cut', '--json']);
  expect(run.code, run.stdout).toBe(1);
  const report = reportOf(run.stdout);
  for (const p of report.probes.filter((p) => p.target === 'GET /paid')) expect(p).toMatchObject({ status: '402', complete: true, verdict: 'pass' });
  for (const p of report.probes.filter((p) => p.target === 'GET /cut')) {
    expect(p).toMatchObject({ status: '402', complete: false, verdict: 'fail', note: "incomplete envelope: the body's Lightning door is missing from WWW-Authenticate" });
  }
  expect(node.invoicesCreated()).toBeGreaterThan(0);
});

it('makes the smallest arguments a JSON Schema accepts', () => {
  const schema = {
    type: 'object',
    required: ['q', 'n', 'k', 'tags', 'mode', 'opts', 'flag', 'either'],
    properties: {
      q: { type: 'string' },
      n: { type: 'integer', minimum: 3 },
      k: { type: 'number', exclusiveMinimum: 0.5 },
      tags: { type: 'array', items: { type: 'string', minLength: 8 }, minItems: 1 },
      mode: { enum: ['fast', 'slow'] },
      opts: { type: 'object', required: ['depth'], properties: { depth: { type: 'integer', default: 2 }, extra: { type: 'string' } } },
      flag: { type: 'boolean' },
      either: { anyOf: [{ type: 'null' }, { type: 'string' }] },
      optional: { type: 'string' },
    },
  };
  expect(minimalArguments(schema)).toEqual({ q: 'audit', n: 3, k: 1.5, tags: ['aaaaaaaa'], mode: 'fast', opts: { depth: 2 }, flag: false, either: null });
  expect(minimalArguments({ type: 'object' })).toEqual({});
  // Nesting deeper than any real schema: bounded, never a stack overflow.
  let deep: Record<string, unknown> = { type: 'string' };
  for (let i = 0; i < 10_000; i++) deep = { anyOf: [{ type: 'array', minItems: 1, items: deep }] };
  expect(JSON.stringify(minimalArguments({ type: 'object', required: ['d'], properties: { d: deep } })).length).toBeLessThan(200);
  expect(minimalArguments('not a schema')).toEqual({});
  // A hostile server's small schema whose arrays multiply (64 items of 64 items of ...): bounded.
  let wide: Record<string, unknown> = { type: 'string', minLength: 64 };
  for (let i = 0; i < 6; i++) wide = { type: 'array', minItems: 64, items: wide };
  const required = Array.from({ length: 50 }, (_, i) => `p${i}`);
  const hostile = { type: 'object', required, properties: Object.fromEntries(required.map((name) => [name, wide])) };
  expect(JSON.stringify(minimalArguments(hostile)).length).toBeLessThan(100_000);
});

it('Ctrl-C stops an audit stuck on a server that never answers: exit 130, no verdict', async () => {
  const server = createServer(() => undefined); // takes every request, answers none
  cleanups.push(() => server.closeAllConnections());
  cleanups.push(() => server.close());
  const base = await listen(server);
  const run = await runCli(['audit', base, '--route', 'GET:/slow', '--timeout', '60s'], {
    started: (child) => setTimeout(() => child.kill('SIGINT'), 1_000),
  });
  expect(run.code, run.stderr).toBe(130);
  expect(run.stderr).toMatch(/^powgate audit: cancelled$/m);
  // No partial table: a cancelled audit says nothing about the rest. (Not cancelled, it would wait out the test's own timeout.)
  expect(run.stdout).toBe('');
});

describe('mistakes on the command line: exit 2', () => {
  it.each([
    [[], /nothing to audit/],
    [['ftp://example.com'], /expected an http or https URL for URL/],
    [['--route', 'GET:/x'], /(nothing to audit|--route needs the server's URL)/],
    [['--mcp', 'http://127.0.0.1:9/mcp', '--route', 'GET:/x'], /--route needs the server's URL/],
    [['http://127.0.0.1:9', '--route', 'search'], /expected METHOD:\/path/],
    [['http://127.0.0.1:9', '--timeout', 'soon'], /expected a duration/],
    [['--'], /expected a command after --/],
    [['http://127.0.0.1:9', '--bogus'], /Unknown option '--bogus'/],
  ])('powgate audit %j', async (args, message) => {
    expectUsageError(await runCli(['audit', ...args]), new RegExp(`^powgate audit: ${message.source}`));
  });
});
