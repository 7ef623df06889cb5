// The README's two deployment examples run as written, from a file inside the package (so
// 'powgate' resolves to this package itself), and an agent gets through each gate.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, expect, it } from 'vitest';
import { solve, type Challenge } from '../src/index.js';
import { CLI_SECRET } from './helpers/cli.js';
import { request } from './helpers/http.js';
import { asResult, connectStdio } from './helpers/mcp.js';

const root = path.join(__dirname, '..');
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
// Inside the package but outside node_modules: there, 'powgate' is the package itself.
const dir = path.join(root, 'build', 'readme-examples');
mkdirSync(dir, { recursive: true });
const stops: (() => unknown)[] = [];
afterAll(() => Promise.all(stops.map((stop) => stop())));

/** The README block between <!-- example:NAME --> and its end marker, as a file in the package. */
function example(name: string, edit: (code: string) => string = (code) => code): string {
  const code = new RegExp(`<!-- example:${name} -->\\n\`\`\`js\\n([\\s\\S]*?)\`\`\`\\n<!-- /example:${name} -->`).exec(readme)?.[1];
  expect(code, `the README has an example:${name} block`).toBeDefined();
  expect(code!.trim().split('\n').length).toBeLessThan(20);
  const file = path.join(dir, `readme-${name}.mjs`);
  writeFileSync(file, edit(code!));
  return file;
}

it('the Express example: 402 with a challenge, then a token from /api/verify opens /search', async () => {
  // Only the port changes: 0 (any free one), printed for the test.
  const file = example('express', (code) => code.replace('app.listen(3000)', 'app.listen(0, function () { console.log(this.address().port); })'));
  const child = spawn(process.execPath, [file], { env: { ...process.env, POWGATE_SECRET: CLI_SECRET }, stdio: ['ignore', 'pipe', 'inherit'] });
  stops.push(() => child.kill());
  const port = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the example exited with code ${code}`)));
  });
  const base = `http://127.0.0.1:${port}`;

  const refused = await request(base, '/search');
  expect(refused.status).toBe(402);
  expect(refused.headers['www-authenticate']).toMatch(/^PowGate .*scope="search"/);
  const [accept] = refused.json.accepts;
  const challenge = accept.challenge as Challenge;
  const redeemed = await request(base, accept.redeem.url, { method: 'POST', body: { challenge, solution: await solve(challenge) } });
  expect(redeemed.status).toBe(200);
  const opened = await request(base, '/search', { headers: { authorization: `Bearer ${redeemed.json.token}` } });
  expect([opened.status, opened.json]).toEqual([200, { results: [], paidBy: 'pow' }]);
});

it('the MCP example: a refusal with a challenge, powgate_verify, then the tool runs with powgate_token', async () => {
  const mcp = await connectStdio(example('mcp'), []);
  stops.push(() => mcp.close());
  const names = (await mcp.client.listTools()).tools.map((t) => t.name);
  expect(names).toEqual(expect.arrayContaining(['search', 'powgate_verify']));

  const refused = asResult(await mcp.client.callTool({ name: 'search', arguments: { query: 'x' } }));
  expect(refused.isError).toBe(true);
  const envelope = refused.structuredContent as { cause: { reason: string }; accepts: { challenge: Challenge; redeem: { tool: string } }[] };
  expect(envelope.cause.reason).toBe('token_required');
  const { challenge, redeem } = envelope.accepts[0]!;
  const verified = asResult(await mcp.client.callTool({ name: redeem.tool, arguments: { challenge, solution: await solve(challenge) } }));
  const token = (verified.structuredContent as { token: string }).token;
  const ran = asResult(await mcp.client.callTool({ name: 'search', arguments: { query: 'x', powgate_token: token } }));
  expect(ran.isError).toBeFalsy();
  expect(ran.content).toEqual([{ type: 'text', text: 'results for x' }]);
});
