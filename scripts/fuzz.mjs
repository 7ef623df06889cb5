// npm run fuzz: builds native/fuzz/sha256_batch_fuzz.cc with clang's libFuzzer,
// ASan and UBSan, and runs it for POWGATE_FUZZ_SECONDS (default 60).
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const out = path.join(root, 'build-fuzz');
const seconds = process.env.POWGATE_FUZZ_SECONDS ?? '60';
mkdirSync(path.join(out, 'corpus'), { recursive: true });

// Each kernel with its own flags, as binding.gyp builds it.
const sources = {
  'sha256_shani.cc': ['-mssse3', '-msse4.1', '-msha'],
  'sha256_avx2.cc': ['-mavx2'],
  'sha256_avx512.cc': ['-mavx512f', '-mavx512bw', '-mavx512vl'],
  'sha256_scalar.cc': [],
  'sha256_batch.cc': [],
  'cpu_features.cc': [],
  'fuzz/sha256_batch_fuzz.cc': [],
};
const common = ['-std=c++17', '-O1', '-g', '-fno-sanitize-recover=all'];

function run(command, args) {
  const result = spawnSync(command, args, { stdio: 'inherit', cwd: out });
  if (result.error) throw new Error(`${command}: ${result.error.message} (install clang: apt-get install -y clang)`);
  if (result.status !== 0) process.exit(result.status ?? 1);
}

const objects = Object.entries(sources).map(([file, flags]) => {
  const object = path.join(out, `${path.basename(file, '.cc')}.o`);
  run('clang++', [...common, '-fsanitize=fuzzer-no-link,address,undefined', ...flags, '-c', path.join(root, 'native', file), '-o', object]);
  return object;
});
run('clang++', [...common, '-fsanitize=fuzzer,address,undefined', ...objects, '-o', path.join(out, 'sha256_batch_fuzz')]);
run(path.join(out, 'sha256_batch_fuzz'), [`-max_total_time=${seconds}`, '-max_len=4096', '-print_final_stats=1', path.join(out, 'corpus')]);
