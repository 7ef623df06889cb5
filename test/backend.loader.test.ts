// The loader, seen from outside: fresh processes importing the built package
// (dist/, built by `pretest`) with different environments.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadNativeAddon } from '../src/backend/native.js';

const root = path.join(__dirname, '..');
const cjs = path.join(root, 'dist', 'index.cjs');
const esm = path.join(root, 'dist', 'index.js');

let nativeLoads = true;
try {
  loadNativeAddon();
} catch {
  nativeLoads = false;
}

/** Runs a CommonJS snippet with `powgate` in scope; returns its JSON output or its error. */
function run(code: string, env: Record<string, string> = {}): { out?: unknown; error?: { name: string; code: string; message: string } } {
  const script = `
    const powgate = require(${JSON.stringify(cjs)});
    (async () => { ${code} })().then(
      (out) => process.stdout.write(JSON.stringify({ out })),
      (e) => process.stdout.write(JSON.stringify({ error: { name: e.name, code: e.code, message: e.message } })));`;
  const clean = { ...process.env };
  for (const key of ['POWGATE_BACKEND', 'POWGATE_ISA', 'POWGATE_NATIVE_PATH']) delete clean[key];
  const child = spawnSync(process.execPath, ['-e', script], { env: { ...clean, ...env }, encoding: 'utf8' });
  expect(child.stderr).toBe('');
  return JSON.parse(child.stdout);
}

const ABC_HEX = 'Buffer.from((await powgate.getBackend()).hashBatch([Buffer.from("abc")])).toString("hex")';
const HASH_ABC = `return ${ABC_HEX}`;
const INFO_AND_ABC = `return [powgate.backendInfo().backend, powgate.backendInfo().isa, ${ABC_HEX}]`;
const ABC = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';

describe('loader', () => {
  it('loads nothing native at import time, only on first use', () => {
    const mapped = 'require("fs").readFileSync("/proc/self/maps", "utf8").includes("powgate.node")';
    const { out } = run(`const before = ${mapped}; powgate.backendInfo(); return [before, ${mapped}];`);
    expect(out).toEqual([false, nativeLoads]);
  });

  it('serves native when it loads, otherwise WebAssembly, and says which', () => {
    const { out } = run('return powgate.backendInfo()');
    expect(out).toMatchObject({ backend: nativeLoads ? 'native' : 'wasm', version: expect.any(String) });
    expect((out as { threads: number }).threads).toBeGreaterThan(0);
  });

  it('falls back to WebAssembly when the addon is missing, and still hashes', () => {
    const env = { POWGATE_NATIVE_PATH: '/nonexistent/powgate.node' };
    expect(run('return powgate.backendInfo()', env).out).toMatchObject({
      backend: 'wasm',
      isa: 'hash-wasm',
      nativeError: expect.stringContaining('Cannot find module'),
    });
    expect(run(HASH_ABC, env).out).toBe(ABC);
  });

  it('refuses a forced native backend that cannot load, with every attempt and what to do', () => {
    const { error } = run(HASH_ABC, { POWGATE_BACKEND: 'native', POWGATE_NATIVE_PATH: '/nonexistent/powgate.node' });
    expect(error).toMatchObject({ name: 'PowgateError', code: 'ERR_BACKEND_UNAVAILABLE' });
    expect(error!.message).toMatch(/forced by POWGATE_BACKEND[\s\S]*Attempts:[\s\S]*native: .*Cannot find module[\s\S]*What to do:/);
  });

  it('honours POWGATE_BACKEND=wasm and =js', () => {
    expect(run(INFO_AND_ABC, { POWGATE_BACKEND: 'wasm' }).out).toEqual(['wasm', 'hash-wasm', ABC]);
    expect(run(INFO_AND_ABC, { POWGATE_BACKEND: 'js' }).out).toEqual(['js', 'node:crypto', ABC]);
  });

  it('refuses unknown POWGATE_BACKEND and POWGATE_ISA values', () => {
    expect(run('return powgate.backendInfo()', { POWGATE_BACKEND: 'gpu' }).error).toMatchObject({
      code: 'ERR_INVALID_ENV',
      message: expect.stringContaining('POWGATE_BACKEND but received "gpu"'),
    });
    if (nativeLoads) {
      expect(run('return powgate.backendInfo()', { POWGATE_ISA: 'avx9' }).error).toMatchObject({ code: 'ERR_INVALID_ENV' });
    }
  });

  it.skipIf(!nativeLoads)('forces each kernel the CPU has with POWGATE_ISA', () => {
    for (const isa of ['scalar', 'shani', 'avx2', 'avx512']) {
      const result = run(INFO_AND_ABC, { POWGATE_ISA: isa });
      if (result.error) expect(result.error.code, isa).toBe('ERR_ISA_UNSUPPORTED');
      else expect(result.out, isa).toEqual(['native', isa, ABC]);
    }
  });

  it('works from both entry points: require and import', () => {
    const child = spawnSync(
      process.execPath,
      ['--input-type=module', '-e', `import { backendInfo, PowgateError } from ${JSON.stringify(esm)}; console.log(typeof backendInfo, typeof PowgateError);`],
      { encoding: 'utf8' },
    );
    expect(child.stdout.trim()).toBe('function function');
    expect(run('return [typeof powgate.backendInfo, typeof powgate.loadBackend]').out).toEqual(['function', 'function']);
  });
});

describe('install', () => {
  it('does not fail when the addon cannot compile, and says the WASM backend will serve', () => {
    const bin = mkdtempSync(path.join(tmpdir(), 'powgate-no-compiler-'));
    const fake = path.join(bin, 'node-gyp');
    writeFileSync(fake, '#!/bin/sh\necho "gyp ERR! no C++ compiler" >&2\nexit 1\n');
    chmodSync(fake, 0o755);
    // POWGATE_BUILD_NATIVE=1 compiles even though a build is here; without npm's node-gyp, PATH's (the fake) runs.
    const { npm_config_node_gyp: _npmGyp, ...env } = process.env;
    const child = spawnSync(process.execPath, [path.join(root, 'scripts', 'build-native.mjs')], {
      env: { ...env, POWGATE_BUILD_NATIVE: '1', PATH: `${bin}${path.delimiter}${process.env.PATH}` },
      encoding: 'utf8',
    });
    expect(child.status).toBe(0);
    const notices = child.stderr.split('\n').filter((line) => line.startsWith('powgate: '));
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(/could not be installed .*compiling failed: node-gyp exited with 1.*the WebAssembly backend .* will serve instead/);
  });
});
