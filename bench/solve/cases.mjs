/**
 * The solving throughput cases: one unit of work each (a fixed number of hashes over
 * powgate's 48-byte work message, or one ALTCHA solve of a known length), sized to take
 * about 50-150 ms, so benny times whole calls and per-call overhead is negligible.
 */
import { altchaV1Solver, altchaV2Solver } from './altcha.mjs';
import { NEVER, nativeSearch } from '../lib/nonce-search.mjs';

/** Nonces per call on one thread for each native ISA: about 40-210 ms on the machines of docs/BENCHMARKS.md. */
export const NATIVE_NONCES = { scalar: 2 ** 18, shani: 2 ** 22, avx2: 2 ** 21, avx512: 2 ** 23 };
/** Nonces per call for the single-threaded JS-side searchers, and ALTCHA solve lengths. */
export const CALL_SIZES = { wasmKernel: 2 ** 20, cryptoLoop: 2 ** 14, hashWasmLoop: 2 ** 16, altchaV2: 2 ** 14, altchaV1: 2 ** 11 };

/** Row kinds, which decide the ratios a row gets. */
export const KIND = { native: 'native', wasm: 'wasm', baseline: 'baseline', altcha: 'altcha' };

const threadsLabel = (n) => `${n} thread${n === 1 ? '' : 's'}`;

/**
 * `native.startSearch` with the never-met threshold and a limit: every call is exactly
 * `limit` hashes on `threads` native threads. All-thread calls search `threads` times as
 * many nonces, so they take about as long as one-thread calls.
 */
function nativeCase(native, isa, prefix, threads, tuning = null) {
  const limit = NATIVE_NONCES[isa] * threads;
  return {
    id: `native/${isa} startSearch, ${threadsLabel(threads)}${tuning ? `, ${tuning} tuning` : ''}`,
    kind: KIND.native,
    isa,
    threads,
    tuning,
    hashesPerCall: limit,
    async: true,
    run: () => nativeSearch(native, isa, prefix, { ...NEVER, threads, limit, tuning }),
  };
}

/** The kernels that come in variants per microarchitecture (native/cpu_features.h). */
const TUNED_ISAS = ['shani', 'avx512'];
const TUNINGS = ['intel', 'zen'];

/**
 * A synchronous searcher over `count` nonces of one high word, never finding anything.
 * `reference` names a baseline that other rows are compared with.
 */
function searcherCase(searcher, kind, count, reference = null) {
  return {
    id: `${searcher.name}, 1 thread`,
    kind,
    reference,
    threads: 1,
    hashesPerCall: count,
    async: false,
    run: () => searcher.search(9, 0, count, NEVER.thHi, NEVER.thLo),
  };
}

/** An ALTCHA solver; each call is one whole solve of a known number of hashes. */
function altchaCase(solver) {
  return { id: `${solver.name}, 1 thread`, kind: KIND.altcha, threads: 1, hashesPerCall: solver.hashes, async: true, run: solver.solve, message: solver.message };
}

/**
 * Every case: native per ISA on 1 and on all threads (and the other tuning's SHA-NI and
 * AVX-512 kernels on 1 thread), the wasm kernel, the two naive loops
 * and ALTCHA's two solvers. `searchers` holds what loaded (`native` may be null, `wasm` too).
 */
export async function buildSolveCases({ native, isas, prefix, threads, searchers }) {
  const cases = [];
  for (const isa of native ? isas : []) {
    cases.push(nativeCase(native, isa, prefix, 1));
    if (threads > 1) cases.push(nativeCase(native, isa, prefix, threads));
  }
  // The variant this CPU does not choose, on one thread, to show what the tuning gives here.
  const chosen = native?.cpuFeatures().tuning;
  for (const isa of chosen ? isas.filter((i) => TUNED_ISAS.includes(i)) : []) {
    for (const tuning of TUNINGS.filter((t) => t !== chosen)) cases.push(nativeCase(native, isa, prefix, 1, tuning));
  }
  if (searchers.wasm) cases.push(searcherCase(searchers.wasm, KIND.wasm, CALL_SIZES.wasmKernel));
  cases.push(searcherCase(searchers.hashWasmLoop, KIND.baseline, CALL_SIZES.hashWasmLoop, 'hashWasmLoop'));
  cases.push(searcherCase(searchers.cryptoLoop, KIND.baseline, CALL_SIZES.cryptoLoop, 'cryptoLoop'));
  cases.push(altchaCase(await altchaV2Solver(CALL_SIZES.altchaV2)));
  cases.push(altchaCase(altchaV1Solver(CALL_SIZES.altchaV1)));
  return cases;
}
