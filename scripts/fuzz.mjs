// npm run fuzz: builds each libFuzzer target in native/fuzz/ with clang, ASan
// and UBSan, and runs each for POWGATE_FUZZ_SECONDS (default 30).
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const out = path.join(root, 'build-fuzz');
const seconds = process.env.POWGATE_FUZZ_SECONDS ?? '30';
mkdirSync(out, { recursive: true });

// Each kernel with its own flags, as binding.gyp builds it.
const library = {
  'sha256_shani.cc': ['-mssse3', '-msse4.1', '-msha'],
  'nonce_shani.cc': ['-mssse3', '-msse4.1', '-msha'],
  'nonce_shani_zen.cc': ['-mssse3', '-msse4.1', '-msha'],
  'check_shani.cc': ['-mssse3', '-msse4.1', '-msha'],
  'sha256_avx2.cc': ['-mavx2'],
  'nonce_avx2.cc': ['-mavx2'],
  'check_avx2.cc': ['-mavx2'],
  'sha256_avx512.cc': ['-mavx512f', '-mavx512bw', '-mavx512vl'],
  'nonce_avx512.cc': ['-mavx512f', '-mavx512bw', '-mavx512vl'],
  'nonce_avx512_zen.cc': ['-mavx512f', '-mavx512bw', '-mavx512vl'],
  'check_avx512.cc': ['-mavx512f', '-mavx512bw', '-mavx512vl'],
  'sha256_scalar.cc': [],
  'sha256_batch.cc': [],
  'nonce_search.cc': [],
  'check.cc': [],
  'cpu_features.cc': [],
  'text_decode.cc': [],
};
const targets = ['sha256_batch_fuzz', 'nonce_search_fuzz', 'check_fuzz', 'text_decode_fuzz', 'arg_sizes_fuzz'];
// Every ISA library is built here, so dispatch may offer each (native/cpu_features.h).
const common = ['-std=c++17', '-O1', '-g', '-fno-sanitize-recover=all', '-DPOWGATE_HAVE_SHANI', '-DPOWGATE_HAVE_AVX2', '-DPOWGATE_HAVE_AVX512'];

function run(command, args) {
  const result = spawnSync(command, args, { stdio: 'inherit', cwd: out });
  if (result.error) throw new Error(`${command}: ${result.error.message} (install clang: apt-get install -y clang)`);
  if (result.status !== 0) process.exit(result.status ?? 1);
}

function compile(source, flags) {
  const object = path.join(out, `${path.basename(source, '.cc')}.o`);
  run('clang++', [...common, '-fsanitize=fuzzer-no-link,address,undefined', ...flags, '-c', path.join(root, 'native', source), '-o', object]);
  return object;
}

const objects = Object.entries(library).map(([file, flags]) => compile(file, flags));
for (const target of targets) {
  const corpus = path.join(out, `${target}-corpus`);
  mkdirSync(corpus, { recursive: true });
  const binary = path.join(out, target);
  run('clang++', [...common, '-fsanitize=fuzzer,address,undefined', ...objects, compile(`fuzz/${target}.cc`, []), '-o', binary]);
  run(binary, [`-max_total_time=${seconds}`, '-max_len=4096', '-print_final_stats=1', corpus]);
}
