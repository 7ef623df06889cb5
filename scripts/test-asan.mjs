// npm run test:asan: builds the addon with AddressSanitizer and UBSan in
// build-asan/ (the release build stays as it is) and runs the native test legs
// against it. Node itself is not instrumented, so libasan is preloaded.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, copyFileSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const dir = path.join(root, 'build-asan');
mkdirSync(dir, { recursive: true });
copyFileSync(path.join(root, 'binding.gyp'), path.join(dir, 'binding.gyp'));
if (!existsSync(path.join(dir, 'native'))) symlinkSync(path.join(root, 'native'), path.join(dir, 'native'));

// Under npm, npm_config_node_gyp names npm's own node-gyp; otherwise use PATH.
const gyp = process.env.npm_config_node_gyp ? [process.execPath, process.env.npm_config_node_gyp] : ['node-gyp'];
const build = spawnSync(gyp[0], [...gyp.slice(1), 'rebuild'], {
  cwd: dir,
  stdio: 'inherit',
  env: { ...process.env, POWGATE_SANITIZE: '1', POWGATE_WERROR: '1' },
});
if (build.status !== 0) process.exit(build.status ?? 1);

const libasan = execFileSync('g++', ['-print-file-name=libasan.so'], { encoding: 'utf8' }).trim();
// Hashing, batch checks and verification, the kernels' contract, and the solver threads (C++ pool, thread-safe function).
const tests = [
  'test/backend.sha256-nist.test.ts',
  'test/backend.sha256-differential.test.ts',
  'test/backend.arguments.test.ts',
  'test/backend.check.test.ts',
  'test/protocol.verify-batch.test.ts',
  'test/backend.nonce-search.test.ts',
  'test/solver.native.test.ts',
  'test/solver.solve.test.ts',
  'test/backend.native-wire.test.ts',
];
// One file at a time: instrumented code is slow, and the solver's timing tests need a free core.
const run = spawnSync(process.execPath, [path.join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--no-file-parallelism', ...tests], {
  cwd: root,
  stdio: 'inherit',
  env: {
    ...process.env,
    LD_PRELOAD: libasan,
    // Node's own allocations are not ours to judge at exit.
    ASAN_OPTIONS: 'detect_leaks=0:abort_on_error=1:halt_on_error=1',
    UBSAN_OPTIONS: 'halt_on_error=1:print_stacktrace=1',
    POWGATE_NATIVE_PATH: path.join(dir, 'build', 'Release', 'powgate.node'),
    POWGATE_TEST_BACKENDS: 'native',
  },
});
process.exit(run.status ?? 1);
