// The optional peers (the MCP SDK, zod, pino, prom-client), hidden from the built package by a
// resolve hook: the core entry and the commands that need none still work; the commands that need
// some stop at start with ERR_PEER_MISSING's message, naming them and the install command.
// (`npm run check:install` shows the same on a real install of the packed tarball.)
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';

const NO_PEERS = fileURLToPath(new URL('./fixtures/no-peers.mjs', import.meta.url));
const INDEX = fileURLToPath(new URL('../dist/index.js', import.meta.url));

describe('without the optional peers', () => {
  it('the core entry imports, solves and verifies', () => {
    const script = `
      const { createChallenge, solve, verifySolution } = await import(${JSON.stringify(INDEX)});
      const secret = 'a peers test secret that is long enough';
      const challenge = createChallenge({ secret, difficulty: 8 });
      const verdict = await verifySolution(challenge, await solve(challenge, { threads: 1 }), { secret });
      process.stdout.write(JSON.stringify(verdict.ok));`;
    const child = spawnSync(process.execPath, ['--import', NO_PEERS, '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(child.stderr).toBe('');
    expect(child.stdout).toBe('true');
  });

  it('the hook hides them: importing powgate/http fails, naming prom-client', () => {
    const http = fileURLToPath(new URL('../dist/http.js', import.meta.url));
    const child = spawnSync(process.execPath, ['--import', NO_PEERS, '--input-type=module', '-e', `await import(${JSON.stringify(http)})`], { encoding: 'utf8' });
    expect(child.status).toBe(1);
    expect(child.stderr).toMatch(/Cannot find package 'prom-client'/);
  });

  it('powgate calibrate runs', async () => {
    const result = await runCli(['calibrate', '--target', '200ms', '--duration', '1s', '--json'], { nodeOptions: ['--import', NO_PEERS] });
    expect(result.code, result.stderr).toBe(0);
    expect(typeof JSON.parse(result.stdout).perCall.challengeDifficulty).toBe('number');
  }, 30_000);

  it('serve, mcp and an MCP audit stop at start, exit 1, naming what to install', async () => {
    const cases = [
      [['serve', '--port', '0'], 'powgate serve: powgate serve needs pino and prom-client (optional peer dependencies of powgate): npm install pino prom-client'],
      [['mcp'], 'powgate mcp: powgate mcp needs @modelcontextprotocol/sdk and zod (optional peer dependencies of powgate): npm install @modelcontextprotocol/sdk zod'],
      [
        ['audit', '--', 'node', 'server.js'],
        'powgate audit: powgate audit (an MCP server) needs @modelcontextprotocol/sdk (optional peer dependency of powgate): npm install @modelcontextprotocol/sdk',
      ],
    ] as const;
    for (const [args, message] of cases) {
      const result = await runCli(args, { nodeOptions: ['--import', NO_PEERS] });
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr).toBe(`${message}\n`);
      expect(result.stdout).toBe('');
    }
  });
});
