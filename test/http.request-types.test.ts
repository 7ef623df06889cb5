// `req.powgate` for TypeScript users, as they compile against the built package (dist/*.d.ts,
// `npm test` builds it first): typed on Express's and Fastify's requests by declaration merging,
// and harmless where neither is installed. Each consumer is a project of its own, strict, with
// skipLibCheck off, so that powgate's declaration files are checked as a user's compiler does.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.join(__dirname, '..');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** What powgate's declaration files import: installed with it. */
const DEPENDENCIES = ['@types/node', 'pino', 'prom-client', 'ioredis'];

/**
 * A consumer project with powgate (its package.json and declaration files, copied: a link would
 * let the compiler find this repository's own node_modules from them), its dependencies and
 * `packages` installed; tsc's output and exit code.
 */
function compile(packages: readonly string[], source: string): { code: number | null; output: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'powgate-types-'));
  made.push(dir);
  const modules = path.join(dir, 'node_modules');
  const dist = path.join(modules, 'powgate', 'dist');
  mkdirSync(dist, { recursive: true });
  mkdirSync(path.join(modules, '@types'), { recursive: true });
  copyFileSync(path.join(root, 'package.json'), path.join(modules, 'powgate', 'package.json'));
  for (const file of readdirSync(path.join(root, 'dist'))) if (/\.d\.c?ts$/.test(file)) copyFileSync(path.join(root, 'dist', file), path.join(dist, file));
  for (const name of [...DEPENDENCIES, ...packages]) symlinkSync(path.join(root, 'node_modules', name), path.join(modules, name), 'dir');
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  const compilerOptions = { strict: true, skipLibCheck: false, noEmit: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022' };
  writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['main.ts'] }));
  writeFileSync(path.join(dir, 'main.ts'), source);
  const run = spawnSync(process.execPath, [tsc, '-p', dir], { encoding: 'utf8' });
  return { code: run.status, output: `${run.stdout}${run.stderr}` };
}

const GATE = `import { Gate } from 'powgate';\nconst gate = new Gate({ secret: 'a consumer secret that is at least 32 bytes long' });\n`;

describe('req.powgate for TypeScript users', () => {
  it('compiles for a user of node:http with neither Express nor Fastify installed', () => {
    const source = `${GATE}
import { createServer } from 'node:http';
import { powgateMiddleware, type PowgateRequest } from 'powgate/http';
const guard = powgateMiddleware(gate, { scope: 'search' });
createServer((req, res) => guard(req, res, () => res.end(String((req as PowgateRequest).powgate?.calls))));
`;
    const { code, output } = compile([], source);
    expect(output).toBe('');
    expect(code).toBe(0);
  });

  it('types request.powgate on Express and on Fastify, and catches a wrong use of it', () => {
    const source = `${GATE}
import express from 'express';
import fastify from 'fastify';
import { powgateFastify, powgateMiddleware, type PowgateGrant } from 'powgate/http';

const app = express();
app.get('/search', powgateMiddleware(gate, { scope: 'search' }), (req, res) => {
  const grant: PowgateGrant | undefined = req.powgate;
  res.json({ left: grant && grant.used !== undefined ? grant.calls - grant.used : null });
});

const server = fastify();
await server.register(powgateFastify, { gate, scope: 'search' });
server.get('/search', async (request) => {
  const grant: PowgateGrant | null = request.powgate;
  return { scope: grant?.scope ?? null };
});

// @ts-expect-error a grant is not a string
export const wrong: string = app.request.powgate;
// @ts-expect-error Fastify's is null until the gate passes the request, never undefined
export const absent: undefined = (null as unknown as import('fastify').FastifyRequest).powgate;
`;
    const { code, output } = compile(
      [
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
        'fastify',
      ],
      source,
    );
    expect(output).toBe('');
    expect(code).toBe(0);
  });
});
