// `powgate fetch` as a user runs it (the built dist/cli.js, a subprocess) against the README's
// own Express example and against small gates served here: the body on stdout, what it paid on
// stderr, refusals before any work, unsupported 402s, --json, the LND wallet from the environment.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Gate, type GateOptions } from '../src/gate/gate.js';
import { powgateMiddleware, type PowgateRequest } from '../src/http/index.js';
import { PowgateService } from '../src/http/service.js';
import { LndRestBackend } from '../src/lightning/index.js';
import { CLI_SECRET, expectUsageError, runCli, type CliResult } from './helpers/cli.js';
import { close, listen } from './helpers/http.js';
import { startStandInNode, type StandInNode } from './helpers/lightning-node.js';
import { startReadmeExpress } from './helpers/readme-express.js';

const dir = mkdtempSync(path.join(tmpdir(), 'powgate-fetch-'));
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map(close));
});

async function start(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  return listen(server);
}

function bodyOf(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk)).on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

/**
 * The token service and a gated route in one server: the route echoes the request it let
 * through; `redeems` counts the solutions posted to /api/verify (work done and handed in).
 */
async function gated(options: Partial<GateOptions> = {}) {
  const gate = new Gate({ secret: CLI_SECRET, difficulty: 8, ...options });
  const service = new PowgateService(gate);
  const guard = powgateMiddleware(gate, { scope: 'echo' });
  const seen = { redeems: 0, refusals: 0, passes: 0 };
  const url = await start((req, res) => {
    if (req.url?.startsWith('/api/')) {
      if (req.url === '/api/verify') seen.redeems++;
      return service.handle(req, res);
    }
    const end = res.end.bind(res);
    res.end = ((...args: Parameters<ServerResponse['end']>) => {
      if (res.statusCode === 402) seen.refusals++;
      return end(...args);
    }) as ServerResponse['end'];
    guard(req, res, async () => {
      seen.passes++;
      const body = await bodyOf(req);
      res.setHeader('content-type', 'application/json');
      end(
        JSON.stringify({
          method: req.method,
          path: req.url,
          body,
          contentType: req.headers['content-type'] ?? null,
          extra: req.headers['x-extra'] ?? null,
          paidBy: (req as PowgateRequest).powgate?.method,
        }),
      );
    });
  });
  return { url, seen };
}

/** One line of stderr that says what was paid. */
const PAID_POW = /^powgate fetch: paid [0-9.e-]+ CPU-seconds \(pow, in [^)]+\) for 1 call of scope "(search|echo)" at http:\/\/127\.0\.0\.1:\d+\n$/;

describe("against the README's Express example (a gated route with the token service beside it)", () => {
  let base = '';
  let stop: () => void = () => undefined;
  beforeAll(async () => {
    ({ base, stop } = await startReadmeExpress('cli-fetch-express'));
  });
  afterAll(() => stop());

  it('exits 0 with the body on stdout and what it paid on stderr, call after call', async () => {
    for (let i = 0; i < 2; i++) {
      const result = await runCli(['fetch', `${base}/search?q=${i}`, '--threads', '1']);
      expect(result.code, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout)).toEqual({ results: [], paidBy: 'pow' });
      expect(result.stderr).toMatch(PAID_POW);
    }
  });

  it('--json: one line on stderr with the status, the headers and what was paid', async () => {
    const result = await runCli(['fetch', `${base}/search`, '--json', '--threads', '1']);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ results: [], paidBy: 'pow' });
    expect(result.stderr.endsWith('\n') && result.stderr.split('\n')).toHaveLength(2);
    const report = JSON.parse(result.stderr);
    expect(Object.keys(report).sort()).toEqual(['elapsedMs', 'headers', 'method', 'paid', 'spent', 'status', 'statusText', 'url']);
    expect(report).toMatchObject({ url: `${base}/search`, method: 'GET', status: 200, statusText: 'OK' });
    expect(report.headers['content-type']).toMatch(/^application\/json/);
    expect(report.headers['powgate-calls-remaining']).toBe('0');
    expect(report.paid).toHaveLength(1);
    const [paid] = report.paid;
    expect(Object.keys(paid).sort()).toEqual(['calls', 'cpuSeconds', 'elapsedMs', 'expiresAt', 'method', 'origin', 'price', 'sats', 'scope']);
    expect(paid).toMatchObject({ method: 'pow', origin: base, scope: 'search', calls: 1, sats: null, price: { method: 'pow', calls: 1 } });
    expect(paid.cpuSeconds).toBeGreaterThan(0);
    expect(paid.price.seconds).toBeGreaterThan(0);
    expect(paid.expiresAt).toBeGreaterThan(Date.now());
    expect(report.spent).toEqual({ cpuSeconds: paid.cpuSeconds, sats: 0 });
  });

  it('refuses a price over --max-seconds: exit 1, the code and the price, nothing on stdout', async () => {
    const result = await runCli(['fetch', `${base}/search`, '--max-seconds', '0']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(
      /^powgate fetch: ERR_BUDGET_EXCEEDED: the price, about \S+ CPU-seconds for 1 call \(pow\), is over maxSecondsPerCall \(0\): nothing was solved or paid \(see --max-seconds\)\n$/,
    );
  });
});

describe('against a gate served here', () => {
  it('refuses over budget before any work: no solution is handed in, the route never runs', async () => {
    const { url, seen } = await gated({ difficulty: 20 });
    const result = await runCli(['fetch', `${url}/echo`, '--max-seconds', '0.000001', '--json']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    const report = JSON.parse(result.stderr);
    expect(report).toMatchObject({ status: null, paid: [], spent: { cpuSeconds: 0, sats: 0 }, error: { code: 'ERR_BUDGET_EXCEEDED', price: { method: 'pow', calls: 1 } } });
    expect(report.error.price.seconds).toBeGreaterThan(0.000001);
    expect(report.error.message).toContain('nothing was solved or paid');
    expect(seen).toEqual({ redeems: 0, refusals: 1, passes: 0 });
  });

  it('sends the method, headers and body again after paying (-X, -H, -d, --data-file)', async () => {
    const { url, seen } = await gated();
    const data = await runCli(['fetch', `${url}/echo?x=1`, '-X', 'put', '-H', 'X-Extra: yes: really', '-H', 'content-type: text/plain', '-d', 'hello=world', '--threads', '1']);
    expect(data.code, data.stderr).toBe(0);
    expect(JSON.parse(data.stdout)).toEqual({ method: 'PUT', path: '/echo?x=1', body: 'hello=world', contentType: 'text/plain', extra: 'yes: really', paidBy: 'pow' });
    expect(data.stderr).toMatch(PAID_POW);

    const file = path.join(dir, 'body.bin');
    writeFileSync(file, 'from a file');
    const fromFile = await runCli(['fetch', `${url}/echo`, '--data-file', file, '--threads', '1']);
    expect(JSON.parse(fromFile.stdout)).toMatchObject({ method: 'POST', body: 'from a file', contentType: 'application/x-www-form-urlencoded' });
    const fromStdin = await runCli(['fetch', `${url}/echo`, '--data-file', '-', '-H', 'Content-Type: application/json', '--threads', '1'], { input: '{"a":1}' });
    expect(JSON.parse(fromStdin.stdout)).toMatchObject({ method: 'POST', body: '{"a":1}', contentType: 'application/json' });
    expect(seen.passes).toBe(3);
  });

  it('buys --calls N calls where the server lets the client choose', async () => {
    const { url } = await gated();
    const result = await runCli(['fetch', `${url}/echo`, '--calls', '3', '--json', '--threads', '1']);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stderr);
    expect(report.paid).toMatchObject([{ method: 'pow', calls: 3, price: { calls: 3 } }]);
    expect(report.headers['powgate-calls-remaining']).toBe('2');
  });

  it('pays nothing for an answer that needs nothing, and says nothing on stderr', async () => {
    const url = await start((_req, res) => res.end('free'));
    const result = await runCli(['fetch', `${url}/`]);
    expect(result).toMatchObject({ code: 0, stdout: 'free', stderr: '' });
  });

  it('a 4xx or 5xx answer: its body on stdout, one line on stderr, exit 1; a 3xx is an answer (exit 0) unless -L', async () => {
    const url = await start((req, res) => {
      if (req.url === '/moved') return void res.writeHead(302, { location: '/there' }).end('see /there');
      if (req.url === '/there') return void res.end('here');
      res.writeHead(503, { 'content-type': 'text/plain' }).end('busy');
    });
    expect(await runCli(['fetch', `${url}/busy`])).toMatchObject({ code: 1, stdout: 'busy', stderr: 'powgate fetch: the server answered 503 Service Unavailable\n' });
    const busy = await runCli(['fetch', `${url}/busy`, '--json']);
    expect(busy.code).toBe(1);
    expect(JSON.parse(busy.stderr)).toMatchObject({ status: 503, paid: [] });
    expect(JSON.parse(busy.stderr)).not.toHaveProperty('error');
    expect(await runCli(['fetch', `${url}/moved`])).toMatchObject({ code: 0, stdout: 'see /there', stderr: '' });
    expect(await runCli(['fetch', `${url}/moved`, '-L'])).toMatchObject({ code: 0, stdout: 'here', stderr: '' });
  });

  it('an unsupported 402: ERR_UNSUPPORTED_CHALLENGE after one request, never a loop', async () => {
    let hits = 0;
    const url = await start((_req, res) => {
      hits++;
      res.writeHead(402, { 'www-authenticate': 'Payment realm="x", id="abc"', 'content-type': 'text/html' }).end('<h1>Pay us</h1>');
    });
    const result = await runCli(['fetch', `${url}/paid`]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^powgate fetch: ERR_UNSUPPORTED_CHALLENGE: a 402 in a format this client does not pay \(WWW-Authenticate: Payment\): nothing was paid\n$/);
    expect(hits).toBe(1);
    const json = JSON.parse((await runCli(['fetch', `${url}/paid`, '--json'])).stderr);
    expect(json).toMatchObject({ status: null, paid: [], error: { code: 'ERR_UNSUPPORTED_CHALLENGE', price: null } });
  });

  it('a network error: one line, exit 1', async () => {
    const url = await start(() => undefined);
    await close(servers.pop()!); // a port nobody listens on any more
    const result = await runCli(['fetch', `${url}/`]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^powgate fetch: cannot reach http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED\n$/);
  });

  it('--timeout gives up (exit 1, ERR_TIMEOUT)', async () => {
    const url = await start(() => undefined); // never answers
    const result = await runCli(['fetch', `${url}/`, '--timeout', '300ms']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('powgate fetch: ERR_TIMEOUT: no answer within --timeout (300 ms)\n');
  });

  it('Ctrl-C cancels a solve: exit 130, nothing handed in', async () => {
    const { url, seen } = await gated({ difficulty: 34 }); // hours on one thread
    const result = await runCli(['fetch', `${url}/echo`, '--threads', '1', '--max-seconds', '1000000000'], {
      started: (child) => setTimeout(() => child.kill('SIGINT'), 1_500),
    });
    expect(result.code).toBe(130);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe('powgate fetch: cancelled\n');
    expect(seen).toMatchObject({ redeems: 0, passes: 0 });
  });

  it("--progress draws the solver's progress on stderr and clears it before the paid line", async () => {
    // 16 sub-puzzles: the work is the sum of 16 searches, so it never ends before the first reports.
    const { url } = await gated({ difficulty: 22, subPuzzles: 16 });
    const result = await runCli(['fetch', `${url}/echo`, '--progress', '--threads', '1', '--max-seconds', '1000']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/^\rsolving \[[#.]+\] \d+% of expected work {2}\S+ \S+H\/s {2}\S+ \S+\x1b\[K/);
    const lines = result.stderr.split('\r\x1b[K');
    expect(lines.at(-1)).toMatch(PAID_POW);
    // Not drawn without --progress when stderr is not a terminal.
    const quiet = await runCli(['fetch', `${url}/echo`, '--threads', '1', '--max-seconds', '1000']);
    expect(quiet.stderr).toMatch(PAID_POW);
  });
});

describe('the Lightning door, through an LND wallet named in the environment', () => {
  let node: StandInNode;
  beforeAll(async () => {
    node = await startStandInNode();
  });
  afterAll(() => node.close());

  /** A stand-in for the agent's LND: SendPaymentSync pays through the stand-in node, with this macaroon only. */
  async function walletNode(macaroonHex: string) {
    const paid: string[] = [];
    const url = await start(async (req, res) => {
      const body = JSON.parse(await bodyOf(req));
      if (req.method !== 'POST' || req.url !== '/v1/channels/transactions' || req.headers['grpc-metadata-macaroon'] !== macaroonHex) {
        return void res.writeHead(403).end('{}');
      }
      paid.push(body.payment_request);
      const preimage = Buffer.from(node.pay(body.payment_request), 'hex').toString('base64');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ payment_error: '', payment_preimage: preimage }));
    });
    return { url, paid };
  }

  const lightningGate = () => gated({ lightning: { backend: new LndRestBackend({ url: node.url, macaroon: node.lndMacaroonHex }), satsPerCall: 2 } });

  it('pays the invoice with --max-sats (macaroon from a file), says so on stderr, never shows the macaroon', async () => {
    const macaroon = Buffer.from('a wallet macaroon that can spend, as LND writes it');
    const hex = macaroon.toString('hex');
    const file = path.join(dir, 'admin.macaroon');
    writeFileSync(file, macaroon);
    const wallet = await walletNode(hex);
    const { url, seen } = await lightningGate();
    const env = { POWGATE_WALLET_LND_URL: wallet.url, POWGATE_WALLET_LND_MACAROON_FILE: file };
    const result = await runCli(['fetch', `${url}/echo`, '--prefer', 'l402', '--max-sats', '2'], { env });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ paidBy: 'l402' });
    expect(result.stderr).toMatch(/^powgate fetch: paid 2 sats \(l402, in [^)]+\) for 1 call of scope "echo" at http:\/\/127\.0\.0\.1:\d+\n$/);
    expect(wallet.paid).toHaveLength(1);
    expect(seen.redeems).toBe(0); // no work was handed in

    const json = await runCli(['fetch', `${url}/echo`, '--prefer', 'l402', '--max-sats', '2', '--json'], { env });
    const report = JSON.parse(json.stderr);
    expect(report.paid).toMatchObject([{ method: 'l402', sats: 2, cpuSeconds: null, calls: 1, price: { method: 'l402', sats: 2, calls: 1 } }]);
    expect(report.spent).toEqual({ cpuSeconds: 0, sats: 2 });
    for (const r of [result, json]) expect(r.stdout + r.stderr).not.toContain(hex);
  });

  it('uses no sats without --max-sats, nor over it; --max-sats without a wallet is a usage error', async () => {
    const wallet = await walletNode('ab'.repeat(20));
    const { url } = await lightningGate();
    const env = { POWGATE_WALLET_LND_URL: wallet.url, POWGATE_WALLET_LND_MACAROON: 'ab'.repeat(20) };
    const none = await runCli(['fetch', `${url}/echo`, '--prefer', 'l402'], { env });
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^powgate fetch: ERR_UNSUPPORTED_CHALLENGE: .*Lightning needs a wallet.*\(see --max-sats\)\n$/);
    const over = await runCli(['fetch', `${url}/echo`, '--prefer', 'l402', '--max-sats', '1'], { env });
    expect(over.code).toBe(1);
    expect(over.stderr).toMatch(/^powgate fetch: ERR_BUDGET_EXCEEDED: the price, 2 sats for 1 call \(l402\), is over maxSatsPerCall \(1\).*\(see --max-sats\)\n$/);
    expect(wallet.paid).toEqual([]);

    expectUsageError(await runCli(['fetch', `${url}/echo`, '--max-sats', '2']), /^powgate fetch: --max-sats pays through a wallet: set POWGATE_WALLET_LND_URL/);
    const secret = 'not-hex-but-a-secret-all-the-same';
    const bad = await runCli(['fetch', `${url}/echo`, '--max-sats', '2'], { env: { POWGATE_WALLET_LND_URL: wallet.url, POWGATE_WALLET_LND_MACAROON: secret } });
    expectUsageError(bad, /^powgate fetch: expected a macaroon as hex .* for POWGATE_WALLET_LND_MACAROON but received a string of length \d+$/);
    expect(bad.stderr).not.toContain(secret);
  });
});

describe('the command line', () => {
  it('--help prints the usage on stdout; the command is listed', async () => {
    for (const args of [
      ['fetch', '--help'],
      ['fetch', '-h'],
      ['help', 'fetch'],
    ]) {
      const result = await runCli(args);
      expect(result).toMatchObject({ code: 0, stderr: '' });
      expect(result.stdout).toMatch(/^Usage: powgate fetch URL \[options\]/);
      for (const flag of ['--method', '--header', '--data', '--data-file', '--max-seconds', '--max-sats', '--threads', '--calls', '--json', '--help'])
        expect(result.stdout).toContain(flag);
    }
    expect((await runCli(['--help'])).stdout).toMatch(/\n {2}fetch {6}\S/);
  });

  it.each([
    [['fetch', 'http://127.0.0.1:9/', '--no-such-flag'], /^powgate fetch: Unknown option '--no-such-flag'$/],
    [['fetch'], /^powgate fetch: missing URL$/],
    [['fetch', 'ftp://127.0.0.1/x'], /^powgate fetch: expected an http or https URL but received 'ftp:\/\/127\.0\.0\.1\/x'$/],
    [['fetch', 'http://u:p@127.0.0.1/'], /without a user or password/],
    [['fetch', 'http://127.0.0.1:9/', 'http://127.0.0.1:9/'], /^powgate fetch: unexpected argument/],
    [['fetch', 'http://127.0.0.1:9/', '--max-seconds', 'lots'], /^powgate fetch: expected a number from 0 to 1000000000 for --max-seconds but received 'lots'$/],
    [['fetch', 'http://127.0.0.1:9/', '--max-sats', '-1'], /--max-sats/],
    [['fetch', 'http://127.0.0.1:9/', '--threads', '0'], /--threads/],
    [['fetch', 'http://127.0.0.1:9/', '--calls', '0'], /--calls/],
    [['fetch', 'http://127.0.0.1:9/', '--prefer', 'pow,cash'], /for --prefer but received 'pow,cash'$/],
    [['fetch', 'http://127.0.0.1:9/', '-H', 'no colon'], /for --header but received 'no colon'$/],
    [['fetch', 'http://127.0.0.1:9/', '-d', 'x', '--data-file', '-'], /--data and --data-file both give the body/],
    [['fetch', 'http://127.0.0.1:9/', '-X', 'GET', '-d', 'x'], /a GET request cannot have a body/],
    [['fetch', 'http://127.0.0.1:9/', '--data-file', path.join(tmpdir(), 'powgate-no-such-file')], /cannot read --data-file .*: ENOENT$/],
    [['fetch', 'http://127.0.0.1:9/', '--timeout', 'soon'], /--timeout/],
  ])('%j is a usage error (exit 2)', async (args, message) => {
    const result: CliResult = await runCli(args);
    expectUsageError(result, message);
  });
});
