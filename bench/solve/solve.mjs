#!/usr/bin/env node
/**
 * `npm run bench:solve`: how fast powgate solves, judged against the shared yardstick
 * and against naive solvers, in one process run.
 *
 *   1. print machine facts and how busy the CPU is;
 *   2. check that every nonce searcher (native kernels per ISA, native startSearch on 1
 *      and all threads, our wasm kernel, the node:crypto and hash-wasm loops) finds the
 *      same first nonce over the same ranges (exit 1 if not);
 *   3. run interleaved benny rounds of fixed units of work (hashes/s), with the yardstick
 *      before the first, after the middle and after the last round;
 *   4. time solve() directly: a trivial challenge with a warm pool, and abort latency;
 *   5. print the table, ratios and targets, write bench/results/solve-*.json.
 *
 * Env: BENCH_ROUNDS (default 5), BENCH_QUICK=1 (2 short rounds, fewer latency samples),
 *      BENCH_WAIT_IDLE (seconds to wait for an idle machine), POWGATE_YARDSTICK (the probe).
 */
import os from 'node:os';
import path from 'node:path';
import { EASY, SEARCH_RANGES, checkNativeSearch, checkSearchAgreement } from '../lib/agreement.mjs';
import { abortLatency, trivialSolveLatency } from './latency.mjs';
import { busyWarning, cpuLoadBetween, cpuSnapshot, describeCpuLoad, loadAverage, roundWarnings } from '../lib/machine.mjs';
import { addonFacts, benchPrefix, cryptoLoopSearcher, hashWasmLoopSearcher, loadAddon, nativeIsas, nativeKernelSearcher, wasmKernelSearcher } from '../lib/nonce-search.mjs';
import { formatYardstick, writeJson } from '../lib/report.mjs';
import { measureRounds, warmUp } from '../lib/rounds.mjs';
import { REPO_ROOT, RESULTS_DIR, fail, startBench } from '../lib/settings.mjs';
import { buildSolveCases } from './cases.mjs';
import { formatLatency, formatSolveTable, formatVerdicts, solveRows, solveVerdicts } from './report.mjs';
import { yardstickMedian, yardstickPath } from '../lib/yardstick.mjs';

/** Latency samples: many in full mode, enough to see the shape in quick mode. */
const LATENCY_SAMPLES = {
  full: { trivial: 2000, trivialWarmup: 200, abort: 40 },
  quick: { trivial: 300, trivialWarmup: 50, abort: 10 },
};

/** Runs `load`; a failure becomes a `skipped` record and null. */
async function optional(what, load, skipped) {
  try {
    return await load();
  } catch (error) {
    skipped.push({ what, reason: error.message });
    console.log(`skipped ${what}: ${error.message}`);
    return null;
  }
}

/** The addon (and which build it is), its ISAs and every synchronous searcher over the same prefix. */
async function loadSearchers(prefix, skipped) {
  const native = await optional('native addon', () => loadAddon(REPO_ROOT), skipped);
  const isas = native ? nativeIsas(native) : [];
  const addon = native ? { ...addonFacts(REPO_ROOT), tuning: native.cpuFeatures().tuning } : null;
  if (native) {
    const missing = ['shani', 'avx2', 'avx512'].filter((isa) => !isas.includes(isa));
    for (const isa of missing) skipped.push({ what: `native/${isa}`, reason: 'this CPU (or its OS) does not support it' });
    console.log(`addon     ${addon.path}, built ${addon.builtAt}, sha256 ${addon.sha256.slice(0, 16)}...`);
    console.log(`native ISAs: ${isas.join(', ')}${missing.length ? ` (not on this CPU: ${missing.join(', ')})` : ''}; kernel tuning: ${addon.tuning}`);
  }
  return {
    native,
    addon,
    isas,
    searchers: {
      nativeKernels: isas.map((isa) => nativeKernelSearcher(native, isa, prefix)),
      wasm: await optional('wasm kernel', () => wasmKernelSearcher(REPO_ROOT, prefix), skipped),
      hashWasmLoop: await hashWasmLoopSearcher(prefix),
      cryptoLoop: cryptoLoopSearcher(prefix),
    },
  };
}

/** One line per disagreement. */
const describeMismatch = (m) => `  ${m.searcher}, ${m.range}: ${m.error ?? `expected ${m.expected}, got ${m.got}${m.status ? ` (${m.status})` : ''}`}`;

/**
 * Exits 1, timing nothing, unless every searcher finds node:crypto's first nonce and the
 * timed native calls do exactly the work they claim. Defects that cannot touch the timed
 * figures are printed loudly and kept in the JSON.
 */
async function requireAgreement({ native, isas, searchers }, prefix, threads) {
  const others = [...searchers.nativeKernels, searchers.wasm, searchers.hashWasmLoop].filter(Boolean);
  const sync = checkSearchAgreement({ searchers: others, oracle: searchers.cryptoLoop });
  const range = SEARCH_RANGES[0];
  const first = sync.expected[0].first;
  const started = native ? await checkNativeSearch({ native, isas, prefix, range, first, threads }) : { checked: 0, mismatches: [], defects: [] };
  const mismatches = [...sync.mismatches, ...started.mismatches];
  if (mismatches.length) {
    console.error('bench: nonce searchers DISAGREE with the node:crypto loop; nothing was timed.');
    for (const m of mismatches) console.error(describeMismatch(m));
    process.exit(1);
  }
  const checked = sync.checked + started.checked;
  console.log(`agreement: ${checked} checks pass; first nonces ${sync.expected.map((e) => e.first).join(', ')} (threshold ${EASY.thHi}:${EASY.thLo}, and never-met)`);
  for (const d of started.defects) console.log(`DEFECT (not fatal: timed calls never hit): ${describeMismatch(d).trim()}`);
  return { ok: true, checked, expected: sync.expected, defects: started.defects };
}

/**
 * How a solve() row is named. The wasm backend's isa is `hash-wasm` (its batch hashing),
 * but its solver threads search with our wasm kernel.
 */
function solverLabel(backend, threads) {
  const solver = backend.name === 'native' ? `native/${backend.isa}` : `${backend.name} (our kernel on worker threads)`;
  return `${solver}, ${threads} thread${threads === 1 ? '' : 's'}`;
}

/** solve() latency rows: trivial challenges, then aborts; the native all-thread row is the target. */
async function measureLatency(powgate, samples, threads, skipped) {
  const native = await optional('native backend for solve()', () => powgate.loadBackend('native'), skipped);
  const wasm = await optional('wasm backend for solve()', () => powgate.loadBackend('wasm'), skipped);
  const trivial = [];
  const abort = [];
  const plan = [native && { backend: native, threads, target: true }, native && threads > 1 && { backend: native, threads: 1 }, wasm && { backend: wasm, threads }].filter(Boolean);
  for (const { backend, threads: n, target = false } of plan) {
    const label = solverLabel(backend, n);
    const result = await trivialSolveLatency(powgate, { backend, threads: n, samples: samples.trivial, warmup: samples.trivialWarmup });
    trivial.push({ label, backend: backend.name, isa: backend.isa, threads: n, target, ...result });
    console.log(`  trivial solve() ${label}: median ${result.median.toFixed(1)} µs`);
  }
  for (const backend of [native, wasm].filter(Boolean)) {
    const label = solverLabel(backend, threads);
    const result = await abortLatency(powgate, { backend, threads, samples: samples.abort });
    abort.push({ label, backend: backend.name, isa: backend.isa, threads, ...result });
    console.log(`  abort ${label}: rejection ${result.rejectMicros.median.toFixed(0)} µs, quiet ${result.quietMs.median.toFixed(2)} ms`);
  }
  return { trivial, abort };
}

/** Which wasm kernel was measured (its size and SHA-256), or null when it did not load. */
const wasmKernelFacts = (kernel) => (kernel ? { bytes: kernel.bytes, sha256: kernel.sha256 } : null);

/** Prints the busy-machine warnings for the start, each round and the latency phase; returns them. */
function collectWarnings(loads) {
  const warnings = [busyWarning(loads.atStart, 'before the run'), ...roundWarnings(loads.perRound), busyWarning(loads.latency, 'during the latency runs')];
  return warnings.filter(Boolean);
}

async function main() {
  const { startedAt, config, powgate, info, machine, cpuLoadAtStart } = await startBench();
  const threads = os.availableParallelism();

  const skipped = [];
  const prefix = benchPrefix();
  const loaded = await loadSearchers(prefix, skipped);
  const agreement = await requireAgreement(loaded, prefix, threads);
  const cases = await buildSolveCases({ ...loaded, prefix, threads });

  console.log(`\n${config.mode} mode: ${config.rounds} rounds x ${cases.length} cases, benny maxTime ${config.timing.maxTime}s per case`);
  console.log('every hash is of one 48-byte message (one SHA-256 block); ALTCHA rows hash their own one-block messages.\n');
  await warmUp(cases, config.quick ? 100 : 300);
  const probe = yardstickPath(REPO_ROOT);
  const { opsByCase, yardRuns, roundLoads } = await measureRounds(cases, config, probe);

  console.log('\nlatency of solve() ...');
  const latencyStart = cpuSnapshot();
  const latency = await measureLatency(powgate, LATENCY_SAMPLES[config.mode], threads, skipped);
  const cpuLoadLatency = cpuLoadBetween(latencyStart, cpuSnapshot());

  const yard = yardstickMedian(yardRuns);
  const rows = solveRows(cases, opsByCase, yard.median);
  const verdicts = solveVerdicts(rows, latency, yard.median, info.backend === 'native' ? info.isa : null, loaded.addon?.tuning ?? null);
  console.log(`\n${formatYardstick({ runs: yardRuns, ...yard }).join('\n')}\n`);
  console.log(formatSolveTable(rows));
  console.log('\nper core = hashes/s ÷ threads; every ratio uses per-core medians; scaling = median over rounds of all threads ÷ 1 thread.\n');
  console.log(formatLatency(latency));
  console.log('');
  console.log(formatVerdicts(verdicts).join('\n'));

  const loadAverageAtEnd = loadAverage();
  console.log(`\nload average at start ${machine.loadAverageAtStart.map((l) => l.toFixed(2)).join(' ')}, at end ${loadAverageAtEnd.map((l) => l.toFixed(2)).join(' ')}`);
  roundLoads.forEach((load, i) => console.log(`round ${i + 1}: ${describeCpuLoad(load)}`));
  console.log(`latency runs: ${describeCpuLoad(cpuLoadLatency)}`);
  const warnings = collectWarnings({ atStart: cpuLoadAtStart, perRound: roundLoads, latency: cpuLoadLatency });
  for (const warning of warnings) console.log(warning);

  const report = {
    schema: 1,
    startedAt,
    finishedAt: new Date().toISOString(),
    mode: config.mode,
    rounds: config.rounds,
    benny: config.timing,
    machine: {
      ...machine,
      addon: loaded.addon,
      wasmKernel: wasmKernelFacts(loaded.searchers.wasm),
      loadAverageAtEnd,
      cpuLoadAtStart,
      cpuLoadPerRound: roundLoads,
      cpuLoadLatency,
      warnings,
    },
    skipped,
    agreement,
    yardstick: { path: probe, runs: yardRuns, median: yard.median, note: yard.note },
    rows,
    latency,
    targets: verdicts,
  };
  const files = writeJson(RESULTS_DIR, report, 'solve');
  console.log(`\nwrote ${files.map((f) => path.relative(REPO_ROOT, f)).join(', ')}`);
}

main().catch((error) => fail(error.stack ?? String(error)));
