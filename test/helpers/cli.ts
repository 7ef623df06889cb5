// Runs the built `powgate` command (dist/cli.js, built by `pretest`) as a subprocess.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
export const CLI_SECRET = 'a command-line test secret of 32 bytes or more';

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  input?: string;
  env?: Record<string, string | undefined>;
  /** Called once the process has started, e.g. to send it a signal. */
  started?: (child: ChildProcess) => void;
  /** Options for node itself, before the script (e.g. `--import` a loader hook). */
  nodeOptions?: readonly string[];
}

/** Runs `node dist/cli.js ...args`, with POWGATE_SECRET set unless `env` overrides it. */
export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  const env: Record<string, string | undefined> = { ...process.env, POWGATE_SECRET: CLI_SECRET, ...options.env };
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete env[key];
  const child = spawn(process.execPath, [...(options.nodeOptions ?? []), CLI, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin.on('error', () => {}); // a command that exits before reading its input
  child.stdin.end(options.input ?? '');
  options.started?.(child);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** A user error: exit code 2, one message line, then the usage; no stack trace. */
export function expectUsageError(result: CliResult, message: RegExp): void {
  const [first, blank, usage] = result.stderr.split('\n');
  expect(result.code, result.stderr).toBe(2);
  expect(first).toMatch(message);
  expect(blank).toBe('');
  expect(usage).toMatch(/^Usage: powgate/);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  expect(result.stdout).toBe('');
}
