// `powgate mcp` as an MCP host runs it: the SDK's own Client over stdio, spawning the built CLI.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryReplayStore, solve, verifySolution, verifyToken, type Challenge } from '../src/index.js';
import { Readable, Writable } from 'node:stream';
import { run } from '../src/cli/run.js';
import { CLI_SECRET, expectUsageError, runCli, type CliResult } from './helpers/cli.js';
import { anotherSolution } from './helpers/protocol.js';
import { asResult, connectCli, textJson, type Connected } from './helpers/mcp.js';
import { redisServerPath, startRedis, type RedisServer } from './helpers/redis-server.js';

describe('powgate mcp over stdio', () => {
  let mcp: Connected;
  beforeAll(async () => {
    mcp = await connectCli(['--difficulty', '8', '--scope', 'tool:search']);
  });
  afterAll(async () => {
    await mcp?.close();
  });

  async function call(name: string, args: Record<string, unknown>) {
    const result = asResult(await mcp.client.callTool({ name, arguments: args }));
    // The text content mirrors the structured content.
    if (result.structuredContent) expect(textJson(result)).toEqual(result.structuredContent);
    return result;
  }

  async function challenge(args: Record<string, unknown> = {}): Promise<Challenge> {
    const result = await call('challenge', args);
    expect(result.isError).toBeFalsy();
    return (result.structuredContent as { challenge: Challenge }).challenge;
  }

  it('lists challenge, verify and status, each with an input and an output schema', async () => {
    const { tools } = await mcp.client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['challenge', 'status', 'verify']);
    for (const tool of tools) {
      expect(tool.inputSchema.type).toBe('object');
      expect(tool.outputSchema?.type, tool.name).toBe('object');
      expect(tool.description, tool.name).toBeTruthy();
    }
    const verify = tools.find((t) => t.name === 'verify')!;
    // Either pair may be sent ({ challenge, solution } or { method: 'l402', macaroon, preimage }): the tool says which is missing.
    expect(verify.inputSchema.required).toBeUndefined();
    expect(Object.keys(verify.inputSchema.properties!)).toEqual(['challenge', 'solution', 'method', 'macaroon', 'preimage']);
    expect(Object.keys(verify.outputSchema!.properties!)).toEqual(expect.arrayContaining(['ok', 'token', 'scope', 'expires_at', 'reason']));
  });

  it('challenge -> solve -> verify gives a token for the scope', async () => {
    const ch = await challenge({ scope: 'tool:search' });
    expect(ch).toMatchObject({ v: 2, scope: 'tool:search', difficulty: 8, subPuzzles: 1, calls: 1, price: 8 });
    const solution = await solve(ch);
    const result = await call('verify', { challenge: ch, solution });
    expect(result.isError).toBeFalsy();
    const out = result.structuredContent as { ok: boolean; token: string; scope: string; expires_at: number };
    expect(out).toMatchObject({ ok: true, scope: 'tool:search' });
    expect(out.expires_at).toBeGreaterThan(Date.now());
    // The token is the server's: it checks with the same secret and scope.
    expect(verifyToken(out.token, { secret: CLI_SECRET, scope: 'tool:search' })).toMatchObject({ valid: true, method: 'pow' });
  });

  it('accepts the challenge and solution as JSON text (as LLMs sometimes send them)', async () => {
    const ch = await challenge();
    const solution = await solve(ch);
    const result = await call('verify', { challenge: JSON.stringify(ch), solution: JSON.stringify(solution) });
    expect(result.structuredContent).toMatchObject({ ok: true, scope: '' });
  });

  it('refuses a bad solution, a replay and a tampered challenge, structured with reasons', async () => {
    const ch = await challenge();
    const solution = await solve(ch);
    // A nonce that misses the threshold, found locally (at difficulty 8, one in 256 meets it).
    let bad = solution;
    for (let n = 0n; ; n++) {
      bad = { ...solution, nonces: [n.toString(16).padStart(16, '0')] };
      const local = await verifySolution(ch, bad, { secret: CLI_SECRET, store: new MemoryReplayStore() });
      if (!local.ok && local.reason === 'bad_solution') break;
    }
    const wrong = await call('verify', { challenge: ch, solution: bad });
    expect(wrong.isError).toBe(true);
    expect(wrong.structuredContent).toMatchObject({ ok: false, reason: 'bad_solution' });
    expect((wrong.structuredContent as { detail: string }).detail).toBeTruthy();
    const first = (await call('verify', { challenge: ch, solution })).structuredContent;
    expect(first).toMatchObject({ ok: true });
    // The same solution again: the same token (idempotent); another solution of it: a replay.
    expect((await call('verify', { challenge: ch, solution })).structuredContent).toEqual(first);
    const replay = await call('verify', { challenge: ch, solution: await anotherSolution(ch, solution, CLI_SECRET) });
    expect(replay.isError).toBe(true);
    expect(replay.structuredContent).toMatchObject({ ok: false, reason: 'replayed' });
    const other = await challenge({ scope: 'tool:search' });
    const forged = await call('verify', { challenge: { ...other, scope: 'b' }, solution: await solve(other) });
    expect(forged.structuredContent).toMatchObject({ ok: false, reason: 'bad_signature' });
  });

  it('refuses malformed arguments with a structured reason, not a protocol error', async () => {
    const ch = await challenge();
    const cases: Record<string, unknown>[] = [
      {},
      { challenge: ch },
      { challenge: 42, solution: 'x' },
      { challenge: ch, solution: { v: 1, id: ch.id, nonces: ['zz'] } },
      { challenge: { ...ch, extra: 1 }, solution: { v: 1, id: ch.id, nonces: ['0000000000000000'] } },
      { challenge: 'not json', solution: '{' },
    ];
    for (const args of cases) {
      const result = await call('verify', args);
      expect(result.isError, JSON.stringify(args)).toBe(true);
      expect(result.structuredContent, JSON.stringify(args)).toMatchObject({ ok: false, reason: 'malformed' });
    }
    expect((await call('challenge', { scope: 7 })).structuredContent).toMatchObject({ ok: false, reason: 'malformed' });
    expect((await call('challenge', { scope: 'é' })).structuredContent).toMatchObject({ ok: false, reason: 'malformed' });
    expect((await call('challenge', { difficulty: 'hard' })).structuredContent).toMatchObject({ ok: false, reason: 'malformed' });
    // A fixed difficulty of 8: nothing else is on offer.
    expect((await call('challenge', { difficulty: 9 })).structuredContent).toMatchObject({ ok: false, reason: 'difficulty_out_of_range' });
  });

  it('status reports the backend, its kernel and the price', async () => {
    const result = await call('status', {});
    expect(result.isError).toBeFalsy();
    const status = result.structuredContent as { version: string; backend: { ok: boolean; name: string; isa: string }; gate: Record<string, unknown> };
    expect(status.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(status.backend.ok).toBe(true);
    expect(['native', 'wasm', 'js']).toContain(status.backend.name);
    expect(status.backend.isa).toBeTruthy();
    expect(status.gate).toMatchObject({ difficulty: { base: 8, min: 8, max: 8 }, sub_puzzles: 1, store: 'memory', fail_open: false });
    expect(JSON.stringify(status)).not.toContain(CLI_SECRET);
  });

  it('logs to stderr only', () => {
    expect(mcp.stderr()).toMatch(/^powgate mcp: serving on stdio \(difficulty 8, 1 sub-puzzle, store memory\)/);
  });
});

describe('powgate mcp where the native addon cannot load', () => {
  it('starts, lists its tools, issues challenges, and reports the failure in status and verify', async () => {
    const mcp = await connectCli(['--difficulty', '8'], { POWGATE_BACKEND: 'native', POWGATE_NATIVE_PATH: '/nonexistent/powgate.node' });
    try {
      const { tools } = await mcp.client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(['challenge', 'status', 'verify']);
      const status = asResult(await mcp.client.callTool({ name: 'status', arguments: {} }));
      expect(status.isError).toBeFalsy();
      expect(status.structuredContent).toMatchObject({ backend: { ok: false } });
      // Issue 16: the addon's path is the operator's (the log), not the client's.
      expect((status.structuredContent as { backend: { error: string } }).backend.error).toMatch(/native.*<path>/);
      expect(JSON.stringify(status.structuredContent)).not.toContain('nonexistent');
      expect(mcp.stderr()).toMatch(/\/nonexistent\/powgate\.node/);
      const issued = asResult(await mcp.client.callTool({ name: 'challenge', arguments: {} }));
      const ch = (issued.structuredContent as { challenge: Challenge }).challenge;
      expect(ch.v).toBe(2);
      const solution = await solve(ch); // solved here, in the test process, where the addon loads
      const verify = asResult(await mcp.client.callTool({ name: 'verify', arguments: { challenge: ch, solution } }));
      expect(verify.isError).toBe(true);
      expect(verify.structuredContent).toMatchObject({ ok: false, reason: 'backend_unavailable' });
      expect(JSON.stringify(verify.structuredContent)).not.toContain('nonexistent');
      expect(mcp.stderr()).toMatch(/backend unavailable/);
    } finally {
      await mcp.close();
    }
  });

  it('falls back to WebAssembly when the addon is not forced', async () => {
    const mcp = await connectCli(['--difficulty', '8'], { POWGATE_BACKEND: undefined, POWGATE_NATIVE_PATH: '/nonexistent/powgate.node' });
    try {
      const ch = (asResult(await mcp.client.callTool({ name: 'challenge', arguments: {} })).structuredContent as { challenge: Challenge }).challenge;
      const verify = asResult(await mcp.client.callTool({ name: 'verify', arguments: { challenge: ch, solution: await solve(ch) } }));
      expect(verify.structuredContent).toMatchObject({ ok: true });
      const status = asResult(await mcp.client.callTool({ name: 'status', arguments: {} }));
      expect(status.structuredContent).toMatchObject({ backend: { ok: true, name: 'wasm' } });
      expect((status.structuredContent as { backend: { native_error: string } }).backend.native_error).toMatch(/<path>/);
      expect(JSON.stringify(status.structuredContent)).not.toContain('nonexistent');
      expect(mcp.stderr()).toMatch(/native addon not loaded: .*\/nonexistent\/powgate\.node/);
    } finally {
      await mcp.close();
    }
  });
});

/** `run()` of the CLI in this process, with captured output: the same code path as the binary, without a process start. */
async function runInProcess(argv: string[], env: Record<string, string>): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const sink = (append: (text: string) => void) => new Writable({ write: (chunk, _encoding, done) => (append(String(chunk)), done()) });
  const io = {
    stdout: sink((t) => (stdout += t)),
    stderr: sink((t) => (stderr += t)),
    stdin: Readable.from([]),
    env: { POWGATE_SECRET: CLI_SECRET, ...env },
    signal: new AbortController().signal,
  };
  const code = await run(argv, io);
  return { code, signal: null, stdout, stderr };
}

describe('powgate mcp command line', () => {
  it('--help prints the usage and exits 0', async () => {
    const result = await runCli(['mcp', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: powgate mcp/);
    for (const flag of ['--difficulty', '--min-difficulty', '--max-difficulty', '--sub-puzzles', '--token-ttl', '--redis', '--secret-file']) {
      expect(result.stdout).toContain(flag);
    }
  });

  it('user errors exit 2 with one line and the usage (the binary)', async () => {
    const results = await Promise.all([runCli(['mcp'], { env: { POWGATE_SECRET: undefined } }), runCli(['mcp', '--secret', 'abc'])]);
    expectUsageError(results[0]!, /no secret/);
    expectUsageError(results[1]!, /never read from the command line/);
  });

  it.each([
    [['--difficulty', 'x'], {}, /--difficulty/],
    [[], { POWGATE_SECRET: 'short' }, /secret/],
    [['--difficulty', '8', '--max-difficulty', '20'], {}, /cannot be combined/],
    [['--min-difficulty', '20', '--max-difficulty', '10'], {}, /--min-difficulty 20 is above --max-difficulty 10/],
    [['--base-difficulty', '20', '--max-difficulty', '19'], {}, /--base-difficulty 20 is outside \[min, 19\]/],
    [['--sub-puzzles', '65'], {}, /--sub-puzzles/],
    [['--token-ttl', 'soon'], {}, /--token-ttl/],
    [['--redis', 'localhost:6379'], {}, /--redis/],
    [['--frobnicate'], {}, /frobnicate/],
    [['extra'], {}, /unexpected argument 'extra'/],
  ] as [string[], Record<string, string>, RegExp][])('mcp %j is a user error (exit 2)', async (args, env, message) => {
    expectUsageError(await runInProcess(['mcp', ...args], env), message);
  });

  it('exits 0 when its client closes stdin', async () => {
    const result = await runCli(['mcp'], { input: '' });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('');
  });
});

describe.skipIf(!redisServerPath())('powgate mcp --redis', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(() => redis?.stop());

  it('spends a challenge once across two instances, and refuses with store_unavailable while Redis is down', async () => {
    const [a, b] = await Promise.all([connectCli(['--difficulty', '8', '--redis', redis.url]), connectCli(['--difficulty', '8', '--redis', redis.url])]);
    try {
      const status = asResult(await a.client.callTool({ name: 'status', arguments: {} }));
      expect(status.structuredContent).toMatchObject({ gate: { store: 'redis' } });
      const issue = async () => (asResult(await a.client.callTool({ name: 'challenge', arguments: {} })).structuredContent as { challenge: Challenge }).challenge;
      const ch = await issue();
      const solution = await solve(ch);
      const first = asResult(await a.client.callTool({ name: 'verify', arguments: { challenge: ch, solution } }));
      expect(first.structuredContent).toMatchObject({ ok: true });
      const again = asResult(await b.client.callTool({ name: 'verify', arguments: { challenge: ch, solution } }));
      expect(again.structuredContent).toEqual(first.structuredContent);
      const second = asResult(await b.client.callTool({ name: 'verify', arguments: { challenge: ch, solution: await anotherSolution(ch, solution, CLI_SECRET) } }));
      expect(second.structuredContent).toMatchObject({ ok: false, reason: 'replayed' });
      const other = await issue();
      await redis.stop();
      const down = asResult(await b.client.callTool({ name: 'verify', arguments: { challenge: other, solution: await solve(other) } }));
      expect(down.isError).toBe(true);
      expect(down.structuredContent).toMatchObject({ ok: false, reason: 'store_unavailable' });
      // Requests are counted in Redis too: no price, no challenge (fail closed).
      const refused = asResult(await a.client.callTool({ name: 'challenge', arguments: {} }));
      expect(refused.structuredContent).toMatchObject({ ok: false, reason: 'store_unavailable' });
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
