/**
 * The solving bench's figures: hashes per second per row with its ratios (yardstick,
 * naive baselines, thread scaling), the latency tables, and the pass/fail targets.
 */
import { fmt, formatColumns, ratio } from '../lib/report.mjs';
import { mapSummary, median, summarize } from '../lib/stats.mjs';

/** The targets, stated once; docs/BENCHMARKS.md quotes them. */
export const SOLVE_TARGETS = {
  avx512VsYardstick: 1.3, // native/avx512 on one thread, × yardstick avx512_16
  shaniMHashPerSec: 50, // native/shani on one thread, M hashes/s ...
  shaniVsYardstick: 1.5, // ... and × yardstick shani_best
  threadScaling: 1.9, // all threads ÷ one thread, per native ISA
  // Issue 17, on AMD Zen 4/5 (the Zen tuning): each against the same run's yardstick.
  zenAvx512VsYardstick: 1.25,
  zenShaniVsYardstick: 1.3,
  zenThreadScaling: 1.95,
  wasmVsNaive: 4, // wasm kernel ÷ naive hash-wasm loop, one thread each
  wasmAimVsNaive: 8,
  trivialSolveMicros: 100, // median solve() of a difficulty-1 challenge, native, warm
  abortMs: 10, // median abort() -> rejection and abort() -> threads quiet
};

/**
 * One row per case: hashes/s (median/min/max over rounds), per core (÷ threads), and
 * ratios of the per-core median to the yardstick (M compressions/s per core: a hash of
 * the 48-byte message is one block, and the midstate kernels do a little less than a full
 * compression per hash), to the two naive loops (also per core), and for all-thread rows
 * the scaling over the same ISA on one thread: the median over rounds of (all threads ÷ one
 * thread) within the round, which pairs runs made seconds apart, so the VM's slow drift
 * cancels out better than in a ratio of medians.
 */
export function solveRows(cases, opsByCase, yard) {
  const base = cases.map((c) => {
    const ops = summarize(opsByCase.get(c.id));
    const hashesPerSec = mapSummary(ops, (o) => o * c.hashesPerCall);
    return {
      id: c.id,
      kind: c.kind,
      isa: c.isa ?? null,
      threads: c.threads,
      tuning: c.tuning ?? null,
      reference: c.reference ?? null,
      hashesPerCall: c.hashesPerCall,
      ...(c.message ? { message: c.message } : {}),
      opsPerRound: opsByCase.get(c.id),
      hashesPerSec,
      perCoreHashesPerSec: mapSummary(hashesPerSec, (h) => h / c.threads),
    };
  });
  const referenceMedian = (name) => base.find((r) => r.reference === name)?.perCoreHashesPerSec.median ?? null;
  const oneThread = (isa) => base.find((r) => r.kind === 'native' && r.isa === isa && r.threads === 1 && !r.tuning);
  const scaling = (r) => {
    const one = r.threads > 1 && r.isa ? oneThread(r.isa) : null;
    if (!one) return null;
    return median(r.opsPerRound.map((ops, i) => (ops * r.hashesPerCall) / (one.opsPerRound[i] * one.hashesPerCall)));
  };
  return base.map((r) => {
    const perCore = r.perCoreHashesPerSec.median;
    return {
      ...r,
      ratio: {
        avx512_16: ratio(perCore / 1e6, yard?.avx512_16),
        shani_best: ratio(perCore / 1e6, yard?.shani_best),
        hashWasmLoop: ratio(perCore, referenceMedian('hashWasmLoop')),
        cryptoLoop: ratio(perCore, referenceMedian('cryptoLoop')),
      },
      scaling: scaling(r),
    };
  });
}

const mega = (v) => (v === null ? null : v / 1e6);

/** The throughput table: M hashes/s, per core, and every ratio. */
export function formatSolveTable(rows) {
  const header = ['row', 'M hash/s med', 'min', 'max', 'per core', 'x avx512_16', 'x shani_best', 'x hash-wasm loop', 'x node:crypto', 'scaling'];
  const body = rows.map((r) => [
    r.id,
    fmt(mega(r.hashesPerSec.median), 3),
    fmt(mega(r.hashesPerSec.min), 3),
    fmt(mega(r.hashesPerSec.max), 3),
    fmt(mega(r.perCoreHashesPerSec.median), 3),
    fmt(r.ratio.avx512_16, 3),
    fmt(r.ratio.shani_best, 3),
    fmt(r.ratio.hashWasmLoop, 1),
    fmt(r.ratio.cryptoLoop, 1),
    r.scaling === null ? '' : `${fmt(r.scaling, 2)}x`,
  ]);
  return formatColumns(header, body);
}

/** The latency tables: trivial solves in µs, aborts in µs and ms. */
export function formatLatency(latency) {
  const trivial = formatColumns(
    ['solve() of a trivial challenge', 'samples', 'median µs', 'p90 µs', 'min µs', 'max µs'],
    latency.trivial.map((t) => [t.label, String(t.samples), fmt(t.median, 1), fmt(t.p90, 1), fmt(t.min, 1), fmt(t.max, 1)]),
  );
  const abort = formatColumns(
    ['abort() of a running solve()', 'samples', 'to rejection µs med', 'p90', 'to quiet ms med', 'p90', 'max', 'CPU ms in next 50 ms', 'busy cores before'],
    latency.abort.map((a) => [
      a.label,
      String(a.rejectMicros.samples),
      fmt(a.rejectMicros.median, 1),
      fmt(a.rejectMicros.p90, 1),
      fmt(a.quietMs.median, 2),
      fmt(a.quietMs.p90, 2),
      fmt(a.quietMs.max, 2),
      fmt(a.cpuMsNext.median, 2),
      fmt(a.busyCoresBefore.median, 2),
    ]),
  );
  return `${trivial}\n\n${abort}`;
}

/** A verdict line's record: `pass` is null when it cannot be judged (no yardstick, no such row). */
const verdict = (target, measured, pass, note = null) => ({ target, measured, pass, ...(note ? { note } : {}) });

/** The row of the kernel variant this CPU chooses (rows with a forced tuning are extra). */
const nativeRow = (rows, isa, one = true) => rows.find((r) => r.kind === 'native' && r.isa === isa && (r.threads === 1) === one && !r.tuning);

function avx512Verdict(rows, yard) {
  const target = `AVX-512, 1 thread: >= ${SOLVE_TARGETS.avx512VsYardstick}x yardstick avx512_16`;
  const row = nativeRow(rows, 'avx512');
  if (!row) return verdict(target, 'no AVX-512 on this machine', null);
  const r = row.ratio.avx512_16;
  const measured = `${fmt(mega(row.hashesPerSec.median))} MH/s = ${fmt(r, 3)}x avx512_16 (${fmt(yard?.avx512_16, 1)} M compr/s)`;
  return verdict(target, measured, r === null ? null : r >= SOLVE_TARGETS.avx512VsYardstick);
}

function shaniVerdict(rows, yard) {
  const target = `SHA-NI, 1 thread: >= ${SOLVE_TARGETS.shaniMHashPerSec} MH/s and >= ${SOLVE_TARGETS.shaniVsYardstick}x yardstick shani_best`;
  const row = nativeRow(rows, 'shani');
  if (!row) return verdict(target, 'no SHA-NI on this machine', null);
  const mhs = mega(row.hashesPerSec.median);
  const r = row.ratio.shani_best;
  const measured = `${fmt(mhs)} MH/s = ${fmt(r, 3)}x shani_best (${fmt(yard?.shani_best, 1)} M compr/s)`;
  const pass = r === null ? null : mhs >= SOLVE_TARGETS.shaniMHashPerSec && r >= SOLVE_TARGETS.shaniVsYardstick;
  const note = yard?.shani_best
    ? `this core's SHA-NI ceiling is ${fmt(yard.shani_best, 1)} M compressions/s (yardstick); ${SOLVE_TARGETS.shaniMHashPerSec} MH/s would be ` +
      `${fmt(SOLVE_TARGETS.shaniMHashPerSec / yard.shani_best, 2)}x it, while a midstate kernel saves at most about a fifth of the 64 rounds`
    : null;
  return verdict(target, measured, pass, note);
}

function scalingVerdicts(rows, defaultIsa) {
  return rows
    .filter((r) => r.kind === 'native' && r.threads > 1)
    .map((r) =>
      verdict(
        `all threads >= ${SOLVE_TARGETS.threadScaling}x one thread (native/${r.isa}${r.isa === defaultIsa ? ", solve()'s default" : ''}, ${r.threads} threads)`,
        `${fmt(r.scaling, 3)}x, median of per-round ratios (medians ${fmt(mega(r.hashesPerSec.median))} vs ${fmt(mega(nativeRow(rows, r.isa).hashesPerSec.median))} MH/s)`,
        r.scaling === null ? null : r.scaling >= SOLVE_TARGETS.threadScaling,
      ),
    );
}

function wasmVerdict(rows) {
  const target = `WASM kernel, 1 thread: >= ${SOLVE_TARGETS.wasmVsNaive}x the naive hash-wasm loop (aim ${SOLVE_TARGETS.wasmAimVsNaive}x)`;
  const row = rows.find((r) => r.kind === 'wasm');
  if (!row) return verdict(target, 'the wasm kernel did not load', null);
  const r = row.ratio.hashWasmLoop;
  const aim = r >= SOLVE_TARGETS.wasmAimVsNaive ? 'aim met' : 'aim not met';
  return verdict(target, `${fmt(mega(row.hashesPerSec.median))} MH/s = ${fmt(r, 2)}x (${aim})`, r === null ? null : r >= SOLVE_TARGETS.wasmVsNaive);
}

function latencyVerdicts(latency) {
  const out = [];
  const trivial = latency.trivial.find((t) => t.target);
  const trivialTarget = `trivial solve() median < ${SOLVE_TARGETS.trivialSolveMicros} µs (${trivial?.label ?? 'native'})`;
  out.push(
    trivial
      ? verdict(trivialTarget, `${fmt(trivial.median, 1)} µs (p90 ${fmt(trivial.p90, 1)})`, trivial.median < SOLVE_TARGETS.trivialSolveMicros)
      : verdict(trivialTarget, 'native backend unavailable', null),
  );
  for (const a of latency.abort) {
    const worst = Math.max(a.rejectMicros.median / 1000, a.quietMs.median);
    out.push(
      verdict(
        `abort latency < ${SOLVE_TARGETS.abortMs} ms (${a.label})`,
        `rejection ${fmt(a.rejectMicros.median, 0)} µs, threads quiet ${fmt(a.quietMs.median, 2)} ms (p90 ${fmt(a.quietMs.p90, 2)}), ` +
          `then ${fmt(a.cpuMsNext.median, 2)} CPU ms in 50 ms`,
        worst < SOLVE_TARGETS.abortMs,
      ),
    );
  }
  return out;
}

/**
 * Every target with its measured figures and PASS/FAIL (or null when it cannot be judged).
 * `defaultIsa` (the native ISA solve() uses) is marked in the scaling lines.
 */
/** Issue 17's targets, judged only where the Zen tuning serves (AMD Zen 4/5). */
function zenVerdicts(rows, yard, tuning) {
  const where = 'AMD Zen 4/5';
  const judge = (target, row, ratio, goal, what) => {
    if (tuning !== 'zen') return verdict(`${where}: ${target}`, `this CPU runs the ${tuning ?? 'unknown'} tuning`, null);
    if (!row) return verdict(`${where}: ${target}`, 'no such row', null);
    return verdict(`${where}: ${target}`, `${fmt(mega(row.hashesPerSec.median))} MH/s = ${fmt(ratio, 3)}x ${what}`, ratio === null ? null : ratio >= goal);
  };
  const avx512 = nativeRow(rows, 'avx512');
  const shani = nativeRow(rows, 'shani');
  const all = nativeRow(rows, 'avx512', false);
  return [
    judge(
      `AVX-512, 1 thread >= ${SOLVE_TARGETS.zenAvx512VsYardstick}x avx512_16`,
      avx512,
      avx512?.ratio.avx512_16 ?? null,
      SOLVE_TARGETS.zenAvx512VsYardstick,
      `avx512_16 (${fmt(yard?.avx512_16, 1)})`,
    ),
    judge(
      `SHA-NI, 1 thread >= ${SOLVE_TARGETS.zenShaniVsYardstick}x shani_best`,
      shani,
      shani?.ratio.shani_best ?? null,
      SOLVE_TARGETS.zenShaniVsYardstick,
      `shani_best (${fmt(yard?.shani_best, 1)})`,
    ),
    judge(
      `AVX-512, all threads >= ${SOLVE_TARGETS.zenThreadScaling}x one thread`,
      all,
      all?.scaling ?? null,
      SOLVE_TARGETS.zenThreadScaling,
      'one thread (median of per-round ratios)',
    ),
  ];
}

export function solveVerdicts(rows, latency, yard, defaultIsa = null, tuning = null) {
  return [
    avx512Verdict(rows, yard),
    shaniVerdict(rows, yard),
    ...scalingVerdicts(rows, defaultIsa),
    ...zenVerdicts(rows, yard, tuning),
    wasmVerdict(rows),
    ...latencyVerdicts(latency),
  ];
}

/** `target: ...: PASS` lines, with the note under a verdict that has one. */
export function formatVerdicts(verdicts) {
  return verdicts.flatMap((v) => {
    const state = v.pass === null ? 'N/A' : v.pass ? 'PASS' : 'FAIL';
    return [`target: ${v.target}: ${v.measured}: ${state}`, ...(v.note ? [`        note: ${v.note}`] : [])];
  });
}
