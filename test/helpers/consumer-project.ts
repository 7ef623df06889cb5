// A TypeScript consumer of the built package (dist/*.d.ts, which `npm test` builds first), as a
// user's compiler sees it: a project of its own, strict, with skipLibCheck off.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';

const root = path.join(__dirname, '..', '..');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** tsc over a consumer with skipLibCheck off reads every declaration it installs: slow on a busy machine. */
export const COMPILE_TIMEOUT_MS = 180_000;

/** Optional peers whose types powgate/http's and powgate/mcp's declarations name. */
export const HTTP_PEERS = ['pino', 'prom-client'];

/** Express and the type packages its declarations import. */
export const EXPRESS_TYPES = [
  'express',
  '@types/express',
  '@types/express-serve-static-core',
  '@types/serve-static',
  '@types/qs',
  '@types/range-parser',
  '@types/body-parser',
  '@types/connect',
  '@types/send',
  '@types/http-errors',
];

/**
 * Compiles `sources` (file name to TypeScript) in a consumer project with powgate (its
 * package.json and declaration files, copied: a link would let the compiler find this
 * repository's own node_modules from them), Node's types and `packages` installed, and nothing
 * else; returns tsc's output and exit code.
 */
export function compileConsumer(packages: readonly string[], sources: Record<string, string>): { code: number | null; output: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'powgate-types-'));
  made.push(dir);
  const modules = path.join(dir, 'node_modules');
  const dist = path.join(modules, 'powgate', 'dist');
  mkdirSync(dist, { recursive: true });
  copyFileSync(path.join(root, 'package.json'), path.join(modules, 'powgate', 'package.json'));
  for (const file of readdirSync(path.join(root, 'dist'))) if (/\.d\.c?ts$/.test(file)) copyFileSync(path.join(root, 'dist', file), path.join(dist, file));
  for (const name of ['@types/node', ...packages]) {
    mkdirSync(path.dirname(path.join(modules, name)), { recursive: true });
    symlinkSync(path.join(root, 'node_modules', name), path.join(modules, name), 'dir');
  }
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  const compilerOptions = { strict: true, skipLibCheck: false, noEmit: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022' };
  writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: Object.keys(sources) }));
  for (const [name, source] of Object.entries(sources)) writeFileSync(path.join(dir, name), source);
  const run = spawnSync(process.execPath, [tsc, '-p', dir], { encoding: 'utf8' });
  return { code: run.status, output: `${run.stdout}${run.stderr}` };
}
