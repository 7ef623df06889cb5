// The `powgate` command as a user runs it: a subprocess, its output, its exit codes.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySolution, verifyToken, type Challenge } from '../src/index.js';
import { RedisReplayStore } from '../src/storage/redis.js';
import { loadNativeAddon } from '../src/backend/native.js';
import { CLI, CLI_SECRET, expectUsageError, runCli } from './helpers/cli.js';
import { redisServerPath, startRedis, type RedisServer } from './helpers/redis-server.js';

const dir = mkdtempSync(join(tmpdir(), 'powgate-cli-'));
const file = (name: string, text: string | Buffer) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const COMMANDS = ['bench', 'calibrate', 'solve', 'issue', 'verify'];
const nativeLoads = (() => {
  try {
    loadNativeAddon();
    return true;
  } catch {
    return false; // the CI leg with the addon removed
  }
})();

describe('powgate (no command, help, version)', () => {
  it('without a command prints the usage and exits 2', async () => {
    const result = await runCli([]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^powgate: missing command\n\nUsage: powgate <command>/);
    for (const name of COMMANDS) expect(result.stderr).toContain(`  ${name} `);
  });

  it('refuses an unknown command with exit code 2', async () => {
    const result = await runCli(['frobnicate']);
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')[0]).toBe("powgate: unknown command 'frobnicate'");
  });

  it('prints its version', async () => {
    const result = await runCli(['--version']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it.each(COMMANDS)('%s --help prints the usage on stdout and exits 0', async (name) => {
    for (const args of [
      [name, '--help'],
      [name, '-h'],
      ['help', name],
    ]) {
      const result = await runCli(args);
      expect(result).toMatchObject({ code: 0, stderr: '' });
      expect(result.stdout).toMatch(new RegExp(`^Usage: powgate ${name}`));
      expect(result.stdout).toContain('--help');
    }
  });

  it.each(COMMANDS)('%s refuses an unknown flag: one line, the usage, exit code 2', async (name) => {
    expectUsageError(await runCli([name, '--no-such-flag']), new RegExp(`^powgate ${name}: Unknown option '--no-such-flag'$`));
  });
});

describe('powgate issue', () => {
  it('prints a challenge that verifies with the same secret', async () => {
    const result = await runCli(['issue', '--difficulty', '3.25', '--sub-puzzles', '2', '--scope', 'tool:x', '--ttl', '90s']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const challenge = JSON.parse(result.stdout) as Challenge;
    expect(challenge).toMatchObject({ v: 2, difficulty: 3.25, subPuzzles: 2, calls: 1, price: 4.25, scope: 'tool:x' });
    expect(challenge.expiresAt - challenge.issuedAt).toBe(90_000);
    const solution = JSON.parse((await runCli(['solve', '--threads', '1'], { input: result.stdout })).stdout);
    expect(await verifySolution(challenge, solution, { secret: CLI_SECRET, scope: 'tool:x' })).toMatchObject({ ok: true });
  });

  it('takes the secret from --secret-file (one trailing newline dropped) and the key id from --kid', async () => {
    const secretFile = file('secret', `${CLI_SECRET}\n`);
    const result = await runCli(['issue', '--difficulty', '1', '--secret-file', secretFile, '--kid', 'k2026'], { env: { POWGATE_SECRET: undefined } });
    const challenge = JSON.parse(result.stdout) as Challenge;
    expect(challenge.kid).toBe('k2026');
    const solution = JSON.parse((await runCli(['solve'], { input: result.stdout })).stdout);
    expect(await verifySolution(challenge, solution, { keys: [{ kid: 'k2026', secret: CLI_SECRET }] })).toMatchObject({ ok: true });
  });

  it.each([
    [['issue'], /--difficulty is required/],
    [['issue', '--difficulty', 'hard'], /expected a number from 1 to 64 for --difficulty but received 'hard'/],
    [['issue', '--difficulty', '65'], /for --difficulty but received '65'/],
    [['issue', '--difficulty', '8', '--sub-puzzles', '0'], /expected an integer from 1 to 64 for --sub-puzzles/],
    [['issue', '--difficulty', '8', '--ttl', '5 weeks'], /expected a duration such as 5s.* for --ttl/],
    [['issue', '--difficulty', '8', '--scope', 'tab\there'], /scope/],
    [['issue', '--difficulty', '8', 'extra'], /unexpected argument 'extra'/],
  ])('refuses %j with exit code 2', async (args, message) => {
    expectUsageError(await runCli(args), message);
  });

  it('reads a binary --secret-file as bytes, not text', async () => {
    const kidOf = async (bytes: Buffer) => (JSON.parse((await runCli(['issue', '--difficulty', '1', '--secret-file', file('binary', bytes)])).stdout) as Challenge).kid;
    // As UTF-8 text 11 bytes of 0xff would be 11 replacement characters: 33 bytes.
    expectUsageError(await runCli(['issue', '--difficulty', '1', '--secret-file', file('ff', Buffer.alloc(11, 0xff))]), /at least 32 bytes/);
    // A file's trailing line break is trimmed: random secrets here must not end in one.
    const secret32 = (): Buffer => {
      const bytes = randomBytes(32);
      return bytes[31] === 0x0a || bytes[31] === 0x0d ? secret32() : bytes;
    };
    const a = secret32();
    const b = secret32();
    expect(await kidOf(a)).not.toBe(await kidOf(b));
    expect(await kidOf(Buffer.concat([a, Buffer.from('\r\n')]))).toBe(await kidOf(a));
  });

  it('never takes the secret from the command line', async () => {
    for (const args of [['--secret', CLI_SECRET], [`--secret=${CLI_SECRET}`]]) {
      const result = await runCli(['issue', '--difficulty', '8', ...args]);
      expectUsageError(result, /never read from the command line.*POWGATE_SECRET/);
      expect(result.stderr).not.toContain(CLI_SECRET);
    }
  });

  it('needs a secret of 32 bytes or more, and never prints it', async () => {
    expectUsageError(await runCli(['issue', '--difficulty', '8'], { env: { POWGATE_SECRET: undefined } }), /no secret: set POWGATE_SECRET/);
    const short = await runCli(['issue', '--difficulty', '8'], { env: { POWGATE_SECRET: 'short-secret-xyz' } });
    expectUsageError(short, /at least 32 bytes/);
    expect(short.stderr).not.toContain('short-secret-xyz');
    expectUsageError(await runCli(['issue', '--difficulty', '8', '--secret-file', join(dir, 'missing')]), /cannot read --secret-file .*ENOENT/);
  });

  // Issue 16: one key per CLI meant a rotation invalidated every outstanding challenge and token.
  it('takes several keys from --keys-file: signs with the first, verifies with every one', async () => {
    const oldKey = randomBytes(32).toString('base64url');
    const newKey = randomBytes(32).toString('base64url');
    const before = file('keys-before', `# rotation\nk2025 ${oldKey}\n`);
    const after = file('keys-after', `k2026 ${newKey}\n\nk2025 ${oldKey}\n`);
    const old = JSON.parse((await runCli(['issue', '--difficulty', '1', '--keys-file', before], { env: { POWGATE_SECRET: undefined } })).stdout) as Challenge;
    expect(old.kid).toBe('k2025');
    const fresh = JSON.parse((await runCli(['issue', '--difficulty', '1', '--keys-file', after])).stdout) as Challenge;
    expect(fresh.kid).toBe('k2026');
    for (const challenge of [old, fresh]) {
      const solution = JSON.parse((await runCli(['solve', '--threads', '1'], { input: JSON.stringify(challenge) })).stdout);
      const verified = await runCli(['verify', '--keys-file', after], { input: JSON.stringify({ challenge, solution }) });
      expect([verified.code, JSON.parse(verified.stdout).ok]).toEqual([0, true]);
    }
    const bad = await runCli(['issue', '--difficulty', '1', '--keys-file', file('keys-bad', 'only-a-kid\n')]);
    expectUsageError(bad, /line 1: expected "<kid> <secret> \[derivation=1\]"/);
    expectUsageError(await runCli(['issue', '--difficulty', '1', '--keys-file', after, '--kid', 'x']), /does not go with/);
    const weak = await runCli(['issue', '--difficulty', '1', '--keys-file', file('keys-weak', 'k1 changeme-changeme-changeme-changeme\n')]);
    expectUsageError(weak, /keys\[0\]\.secret.*guessable/);
    expect(weak.stderr).not.toContain('changeme-changeme');
  });

  // Issue 16, key derivation 2: a key that signed under derivation 1 is marked as such in the file.
  it('--keys-file: "derivation=1" verifies what an old key signed before the upgrade, and only then', async () => {
    const secret = randomBytes(32).toString('base64url');
    const issued = JSON.parse((await runCli(['issue', '--difficulty', '1', '--keys-file', file('keys-v1', `old ${secret} derivation=1\n`)])).stdout) as Challenge;
    const solution = JSON.parse((await runCli(['solve', '--threads', '1'], { input: JSON.stringify(issued) })).stdout);
    const verdict = async (keys: string) =>
      JSON.parse((await runCli(['verify', '--keys-file', file('keys-check', keys)], { input: JSON.stringify({ challenge: issued, solution }) })).stdout);
    expect(await verdict(`new ${randomBytes(32).toString('base64url')}\nold ${secret} derivation=1\n`)).toMatchObject({ ok: true });
    expect(await verdict(`old ${secret}\n`)).toMatchObject({ ok: false, reason: 'bad_signature' });
  });

  // Issue 16: a changeme-... secret was recovered from one challenge's kid with a 16-word dictionary.
  it('refuses a guessable secret and says how to make one; powgate secret prints one', async () => {
    const weak = 'changeme-changeme-changeme-changeme';
    const refused = await runCli(['issue', '--difficulty', '8'], { env: { POWGATE_SECRET: weak } });
    expectUsageError(refused, /looks guessable.*powgate secret/);
    expect(refused.stderr).not.toContain(weak);
    const made = await runCli(['secret']);
    expect(made).toMatchObject({ code: 0, stderr: '' });
    expect(made.stdout).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
    expect((await runCli(['secret'])).stdout).not.toBe(made.stdout);
    expect((await runCli(['secret', '--bytes', '64'])).stdout.trim()).toHaveLength(86);
    expectUsageError(await runCli(['secret', '--bytes', '16']), /--bytes/);
    const issued = await runCli(['issue', '--difficulty', '1'], { env: { POWGATE_SECRET: made.stdout.trim() } });
    expect(issued.code).toBe(0);
  });
});

describe('powgate solve', () => {
  let challengeText: string;
  beforeAll(async () => {
    challengeText = (await runCli(['issue', '--difficulty', '10', '--sub-puzzles', '3'])).stdout;
  });

  it('reads a challenge from a file or stdin and prints a solution; quiet on stderr when it is not a terminal', async () => {
    const path = file('challenge.json', challengeText);
    for (const [args, input] of [
      [['solve', path], ''],
      [['solve'], challengeText],
      [['solve', '-', '--threads', '2'], challengeText],
    ] as const) {
      const result = await runCli(args, { input });
      expect(result).toMatchObject({ code: 0, stderr: '' });
      const solution = JSON.parse(result.stdout);
      expect(solution.nonces).toHaveLength(3);
      expect(await verifySolution(JSON.parse(challengeText), solution, { secret: CLI_SECRET, store: undefined, now: JSON.parse(challengeText).issuedAt })).toMatchObject({
        ok: expect.any(Boolean),
      });
    }
  });

  it('solves on each backend', async () => {
    for (const backend of ['native', 'wasm', 'js']) {
      const result = await runCli(['solve', '--backend', backend, '--threads', '1'], { input: challengeText });
      if (backend === 'native' && !nativeLoads) {
        expect(result.stderr).toMatch(/could not load the native backend/);
        continue;
      }
      expect(result.code, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout).nonces).toHaveLength(3);
    }
  });

  it('draws progress with --progress, and on a terminal', async () => {
    const hard = (await runCli(['issue', '--difficulty', '44'])).stdout; // cannot be solved by chance before the timeout
    const result = await runCli(['solve', '--progress', '--threads', '1', '--timeout', '700ms', '--max-difficulty', '64'], { input: hard });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/solving \[[#.]+\] \d+% of expected work {2}[\d.]+ [kMG]?H\/s {2}[\d.]+ ms/);
    expect(result.stderr).toMatch(/powgate solve: .*timeoutMs of 700\n$/);
    expect(result.stdout).toBe('');
  });

  it('refuses a challenge over --max-difficulty (default 40 bits in all) before any work', async () => {
    const hostile = (await runCli(['issue', '--difficulty', '44'])).stdout;
    const refused = await runCli(['solve', '--threads', '1'], { input: hostile });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/44\.00 bits of work.*over maxDifficulty 40/);
    expectUsageError(await runCli(['solve', '--max-difficulty', '0'], { input: hostile }), /--max-difficulty/);
  });

  it.skipIf(!existsSync('/usr/bin/script'))('draws progress by default when stderr is a terminal', async () => {
    const hard = file('hard.json', (await runCli(['issue', '--difficulty', '44'])).stdout);
    // script(1) runs the command on a pseudo-terminal and copies what it writes.
    const command = `${process.execPath} ${CLI} solve ${hard} --threads 1 --timeout 600ms --max-difficulty 64`;
    const result = spawnSync('/usr/bin/script', ['-qec', command, '/dev/null'], { env: { ...process.env, POWGATE_SECRET: CLI_SECRET }, encoding: 'utf8' });
    expect(result.stdout).toMatch(/\rsolving \[[#.]+\] \d+% of expected work/);
    expect(result.stdout).toMatch(/timeoutMs of 600/);
  });

  it('stops cleanly on Ctrl-C (SIGINT) with exit code 130', async () => {
    const hard = (await runCli(['issue', '--difficulty', '40'])).stdout;
    const sentAt = { ms: 0 };
    // Ctrl-C once the solve is under way: its first progress line says so.
    const result = await runCli(['solve', '--progress'], {
      input: hard,
      started: (child) => child.stderr!.once('data', () => ((sentAt.ms = performance.now()), child.kill('SIGINT'))),
    });
    expect(performance.now() - sentAt.ms).toBeLessThan(2_000);
    expect(result).toMatchObject({ code: 130, signal: null, stdout: '' });
    expect(result.stderr).toMatch(/\r\x1b\[Kpowgate solve: cancelled\n$/);
  });

  it.each([
    [['solve'], '{"v":1,', /expected a challenge as JSON in stdin/],
    [['solve'], '{"v":1}', /expected a powgate challenge/],
    [['solve', '/no/such/file.json'], '', /cannot read a challenge from \/no\/such\/file.json/],
    [['solve', '--threads', '0'], '', /expected an integer from 1 to 256 for --threads but received '0'/],
    [['solve', '--timeout', '0s'], '', /for --timeout but received '0s'/],
    [['solve', '--timeout', '-1s'], '', /Option '--timeout' argument is ambiguous/],
    [['solve', '--backend', 'gpu'], '', /expected one of native, wasm, js for --backend but received 'gpu'/],
    [['solve', '--backend', 'wasm', '--isa', 'avx2'], '', /--isa applies only to --backend native/],
  ])('refuses %j (input %j) with exit code 2', async (args, input, message) => {
    expectUsageError(await runCli(args, { input }), message);
  });

  it('refuses an input bigger than 1 MiB without reading it all', async () => {
    expectUsageError(await runCli(['solve'], { input: ' '.repeat((1 << 20) + 1) }), /more than 1048576 bytes/);
  });
});

describe('powgate verify', () => {
  let challenge: Challenge;
  let solution: { nonces: string[] };
  let other: Challenge;
  beforeAll(async () => {
    challenge = JSON.parse((await runCli(['issue', '--difficulty', '8', '--scope', 'tool:y'])).stdout);
    other = JSON.parse((await runCli(['issue', '--difficulty', '8', '--scope', 'tool:y'])).stdout);
    solution = JSON.parse((await runCli(['solve'], { input: JSON.stringify(challenge) })).stdout);
  });

  it('accepts a good pair (exit 0) and can issue a token for it', async () => {
    const result = await runCli(['verify', '--scope', 'tool:y', '--token-ttl', '1m'], { input: JSON.stringify({ challenge, solution }) });
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const verdict = JSON.parse(result.stdout);
    expect(verdict).toMatchObject({ ok: true, id: challenge.id, scope: 'tool:y', difficulty: 8 });
    expect(verifyToken(verdict.token, { secret: CLI_SECRET, scope: 'tool:y' })).toMatchObject({ valid: true, method: 'pow', scope: 'tool:y' });
  });

  it('takes the challenge from --challenge and the solution from stdin', async () => {
    const result = await runCli(['verify', '--challenge', file('c.json', JSON.stringify(challenge))], { input: JSON.stringify(solution) });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: true });
  });

  it.each([
    ['a tampered challenge', () => ({ challenge: { ...challenge, scope: 'tool:z' }, solution }), [], 'bad_signature'],
    ['the solution of another challenge', () => ({ challenge: other, solution }), [], 'bad_solution'],
    ['another scope', () => ({ challenge, solution }), ['--scope', 'tool:other'], 'scope_mismatch'],
    ['a harder floor', () => ({ challenge, solution }), ['--min-difficulty', '9'], 'difficulty_out_of_range'],
    ['a malformed solution', () => ({ challenge, solution: 42 }), [], 'malformed'],
  ] as const)('refuses %s with its reason and exit code 1', async (_, pair, args, reason) => {
    const result = await runCli(['verify', ...args], { input: JSON.stringify(pair()) });
    expect(result).toMatchObject({ code: 1, stderr: '' });
    expect(JSON.parse(result.stdout)).toEqual({ ok: false, reason });
  });

  it('refuses a challenge signed with another secret', async () => {
    const result = await runCli(['verify'], { input: JSON.stringify({ challenge, solution }), env: { POWGATE_SECRET: 'a different secret, also 32 bytes long' } });
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toEqual({ ok: false, reason: 'unknown_key' });
  });

  it.each([
    ['{"challenge":1}', [], /expected a JSON object with "challenge" and "solution"/],
    ['not json', [], /expected a \{"challenge", "solution"\} pair as JSON in stdin/],
    ['{}', ['--challenge', '-'], /only one of the challenge and the solution can come from stdin/],
    ['{}', ['--skew', 'soon'], /for --skew but received 'soon'/],
  ] as const)('refuses input %j %j with exit code 2', async (input, args, message) => {
    expectUsageError(await runCli(['verify', ...args], { input }), message);
  });

  describe.skipIf(!redisServerPath())('with --redis', () => {
    let redis: RedisServer;
    beforeAll(async () => {
      redis = await startRedis();
      // A fresh Redis marks its epoch at first use: before the challenge, as a running gate does.
      const store = new RedisReplayStore({ url: redis.url });
      await store.epoch();
      await store.close();
    });
    afterAll(() => redis?.stop());

    it('spends a challenge once across separate runs', async () => {
      const fresh = JSON.parse((await runCli(['issue', '--difficulty', '4'])).stdout);
      const pair = JSON.stringify({ challenge: fresh, solution: JSON.parse((await runCli(['solve'], { input: JSON.stringify(fresh) })).stdout) });
      const first = await runCli(['verify', '--redis', redis.url], { input: pair });
      const second = await runCli(['verify', '--redis', redis.url], { input: pair });
      expect([first.code, JSON.parse(first.stdout).ok]).toEqual([0, true]);
      expect([second.code, JSON.parse(second.stdout)]).toEqual([1, { ok: false, reason: 'replayed' }]);
    });
  });
});
