// The README's agent examples run as written (from files inside the package, so that
// 'powgate/client' is this package), against the README's own Express and MCP examples:
// only the Express example's port and the MCP example's file name change.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, expect, it } from 'vitest';
import { CLI_SECRET } from './helpers/cli.js';

const root = path.join(__dirname, '..');
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
const dir = path.join(root, 'build', 'readme-examples');
mkdirSync(dir, { recursive: true });
const stops: (() => unknown)[] = [];
afterAll(() => stops.forEach((stop) => stop()));
const env = { ...process.env, POWGATE_SECRET: CLI_SECRET };

/** The README block between <!-- example:NAME --> and its end marker, edited, as a file in the package. */
function example(name: string, edit: (code: string) => string = (code) => code): { file: string; code: string } {
  const code = new RegExp(`<!-- example:${name} -->\\n\`\`\`js\\n([\\s\\S]*?)\`\`\`\\n<!-- /example:${name} -->`).exec(readme)?.[1];
  expect(code, `the README has an example:${name} block`).toBeDefined();
  const file = path.join(dir, `readme-agent-${name}.mjs`);
  writeFileSync(file, edit(code!));
  return { file, code: code! };
}

/** The agent's lines: everything but imports and blank lines. */
const agentLines = (code: string) => code.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('import ')).length;

function run(file: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [file], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

it('the fetch agent gets through the Express example, paying per call', async () => {
  const server = example('express', (code) => code.replace('app.listen(3000)', 'app.listen(0, function () { console.log(this.address().port); })'));
  const child = spawn(process.execPath, [server.file], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  stops.push(() => child.kill());
  const port = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the example exited with code ${code}`)));
  });
  const agent = example('agent', (code) => code.replace('http://localhost:3000', `http://127.0.0.1:${port}`));
  expect(agentLines(agent.code)).toBeLessThanOrEqual(5);
  const result = await run(agent.file);
  expect(result.stderr).toBe('');
  expect(result.stdout).toBe("200 { results: [], paidBy: 'pow' }\n".repeat(2));
});

it('the MCP agent gets through the MCP example (stdio), call after call', async () => {
  const server = example('mcp');
  const agent = example('agent-mcp', (code) => code.replace("args: ['server.mjs']", `args: [${JSON.stringify(server.file)}]`));
  expect(agentLines(agent.code)).toBeLessThanOrEqual(5);
  const result = await run(agent.file);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  for (const query of ['cats', 'dogs']) expect(result.stdout).toContain(`text: 'results for ${query}'`);
});
