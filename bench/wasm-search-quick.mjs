// Quick single-thread measure: our WebAssembly SIMD nonce-search kernel (WasmNonceSearcher)
// against the naive hash-wasm loop (init/update/digest per nonce), same process, same
// 48-byte prefix. Both must agree on a solution before anything is timed; rounds are
// interleaved; medians (and min/max) over ROUNDS rounds. Usage:
//   node bench/wasm-search-quick.mjs [rounds]
// It bundles src/backend/wasm-search.ts with esbuild on the fly, so no build step is needed.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { createSHA256 } from 'hash-wasm';
import { median } from './stats.mjs';

const ROUNDS = Number(process.argv[2] ?? 9);
const NAIVE_NONCES = 1 << 18;
const KERNEL_CALL = 1 << 20; // nonces per search() call
const KERNEL_CALLS = 8;

const root = fileURLToPath(new URL('..', import.meta.url));
const tmp = mkdtempSync(join(os.tmpdir(), 'powgate-bench-'));
let WasmNonceSearcher;
try {
  const outfile = join(tmp, 'wasm-search.mjs');
  await build({ entryPoints: [join(root, 'src/backend/wasm-search.ts')], bundle: true, format: 'esm', platform: 'node', outfile, logLevel: 'error' });
  ({ WasmNonceSearcher } = await import(pathToFileURL(outfile).href));
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

const prefix = createHash('sha256').update('powgate bench prefix').digest().subarray(0, 32);
const prefix40 = new Uint8Array(40);
prefix40.set(Buffer.from('PGW1'));
prefix40.set(prefix, 4); // bytes 36..39 (sub-puzzle index) stay 0

const hasher = await createSHA256();
const message = new Uint8Array(48);
message.set(prefix40);
const view = new DataView(message.buffer);

/** The naive loop: one init/update/digest per nonce; returns the first low word below thHi:thLo (or -1). */
function naive(hi, lo, count, thHi, thLo) {
  view.setUint32(40, hi);
  for (let i = 0; i < count; i++) {
    view.setUint32(44, lo + i);
    hasher.init();
    hasher.update(message);
    const d = hasher.digest('binary');
    const h0 = ((d[0] << 24) | (d[1] << 16) | (d[2] << 8) | d[3]) >>> 0;
    const h1 = ((d[4] << 24) | (d[5] << 16) | (d[6] << 8) | d[7]) >>> 0;
    if (h0 < thHi || (h0 === thHi && h1 < thLo)) return lo + i;
  }
  return -1;
}

const searcher = await WasmNonceSearcher.create();
searcher.setPrefix(prefix40);

// Agreement first: the same first 12-bit solution from both, from a few starting points.
for (const lo of [0, 12345, 2 ** 32 - 50000]) {
  const a = naive(1, lo, 50000, 1 << 20, 0);
  const b = searcher.search(1, lo, 50000, 1 << 20, 0);
  if (a !== b) throw new Error(`disagree from lo=${lo}: naive ${a}, kernel ${b}`);
}

function timeNaive(round) {
  const t0 = process.hrtime.bigint();
  const r = naive(2, round * NAIVE_NONCES, NAIVE_NONCES, 0, 1); // threshold 1: never hits (p = 2^-64)
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r !== -1) throw new Error('unexpected hit');
  return NAIVE_NONCES / s;
}

function timeKernel(round) {
  const t0 = process.hrtime.bigint();
  for (let c = 0; c < KERNEL_CALLS; c++) {
    if (searcher.search(3, (round * KERNEL_CALLS + c) * KERNEL_CALL, KERNEL_CALL, 0, 1) !== -1) throw new Error('unexpected hit');
  }
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  return (KERNEL_CALLS * KERNEL_CALL) / s;
}

timeNaive(0); // warm-up
timeKernel(0);
const naiveRates = [];
const kernelRates = [];
for (let r = 1; r <= ROUNDS; r++) {
  naiveRates.push(timeNaive(r));
  kernelRates.push(timeKernel(r));
}

const m = (x) => (x / 1e6).toFixed(2);
const cpu = os.cpus()[0]?.model ?? 'unknown';
console.log(`${cpu}, ${os.cpus().length} logical CPUs, Node ${process.version}, load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log(`rounds: ${ROUNDS} (interleaved, after one warm-up each); naive ${NAIVE_NONCES} nonces/round, kernel ${KERNEL_CALLS} x ${KERNEL_CALL}`);
console.log(`naive hash-wasm  : median ${m(median(naiveRates))} M nonces/s (min ${m(Math.min(...naiveRates))}, max ${m(Math.max(...naiveRates))})`);
console.log(`WasmNonceSearcher: median ${m(median(kernelRates))} M nonces/s (min ${m(Math.min(...kernelRates))}, max ${m(Math.max(...kernelRates))})`);
console.log(`ratio of medians: ${(median(kernelRates) / median(naiveRates)).toFixed(2)}x`);
