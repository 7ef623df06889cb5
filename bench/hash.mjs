#!/usr/bin/env node
/**
 * `npm run bench`: SHA-256 batch hashing rates of every powgate backend,
 * judged against the shared yardstick measured in the same run.
 *
 *   1. print machine facts;
 *   2. check that every backend agrees with node:crypto (exit 1 if not);
 *   3. run interleaved benny rounds (all cases once per round), with the
 *      yardstick before the first, after the middle and after the last round;
 *   4. report median/min/max across rounds, write bench/results/*.json.
 *
 * Env: BENCH_ROUNDS (default 5), BENCH_QUICK=1 (2 short rounds),
 *      POWGATE_YARDSTICK (path to the probe), POWGATE_ISA (which native ISA counts as best).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import b from 'benny';
import { checkAgreement } from './agreement.mjs';
import { buildCases, loadBackends } from './cases.mjs';
import { describeMachine, loadAverage, machineFacts } from './machine.mjs';
import { caseResult, formatTable, formatYardstick, targetVerdict, writeJson } from './report.mjs';
import { runYardstick, yardstickMedian, yardstickPath, yardstickSchedule } from './yardstick.mjs';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS_DIR = path.join(REPO_ROOT, 'bench', 'results');

/**
 * Rounds and benchmark.js timing per case. Full mode: ~1 s per case per round,
 * which keeps 5 rounds of ~15 cases plus 3 yardstick runs near 2.5 minutes.
 */
function settings(env = process.env) {
  const quick = env.BENCH_QUICK === '1';
  const rounds = env.BENCH_ROUNDS ? Number(env.BENCH_ROUNDS) : quick ? 2 : 5;
  if (!Number.isInteger(rounds) || rounds < 1) {
    console.error(`bench: BENCH_ROUNDS must be a positive integer, got "${env.BENCH_ROUNDS}"`);
    process.exit(1);
  }
  const timing = quick ? { minTime: 0.05, maxTime: 0.25, minSamples: 3 } : { minTime: 0.1, maxTime: 1, minSamples: 5 };
  return { mode: quick ? 'quick' : 'full', rounds, timing };
}

/** The built package; a clear hint instead of a stack trace when it is missing. */
async function importPowgate() {
  const entry = path.join(REPO_ROOT, 'dist', 'index.js');
  if (!existsSync(entry)) {
    console.error(`bench: ${entry} is missing; run \`npm run build\` first.`);
    process.exit(1);
  }
  return import(pathToFileURL(entry).href);
}

/** Tiny warm-up so JIT, page faults and CPU frequency settle before round 1. */
function warmUp(cases, ms = 100) {
  for (const c of cases) {
    const end = performance.now() + ms;
    while (performance.now() < end) c.run();
  }
}

/**
 * One benny suite with every case; the starting case rotates each round so no
 * case is always first (or last) after the yardstick. Returns ops/s by case id.
 */
async function runRound(cases, index, total, timing) {
  const order = [...cases.slice(index % cases.length), ...cases.slice(0, index % cases.length)];
  const summary = await b.suite(
    `round ${index + 1}/${total}`,
    ...order.map((c) => b.add(c.id, c.run)),
    b.cycle((result) => {
      console.log(`  ${result.name.padEnd(48)} ${result.ops.toFixed(1).padStart(12)} ops/s  ±${result.margin}%`);
    }),
    b.complete(() => {}),
    b.configure({ cases: timing, minDisplayPrecision: 2 }),
  );
  return new Map(summary.results.map((r) => [r.name, r.ops]));
}

/** Runs the yardstick for every schedule slot equal to `position` (rounds done so far). */
async function yardstickAt(position, schedule, probe, runs) {
  for (const slot of schedule) {
    if (slot !== position) continue;
    const label = position === 0 ? 'before round 1' : `after round ${position}`;
    console.log(`yardstick (${label}) ...`);
    const result = await runYardstick(probe, label);
    console.log(result.ok ? `  avx512_16 ${result.values.avx512_16}, shani_best ${result.values.shani_best}` : `  ${result.error}`);
    runs.push(result);
  }
}

/** Rounds with the yardstick interleaved; returns ops/s per case per round and the yardstick runs. */
async function measure(cases, { rounds, timing }, probe) {
  const schedule = yardstickSchedule(rounds);
  const yardRuns = [];
  const opsByCase = new Map(cases.map((c) => [c.id, []]));
  await yardstickAt(0, schedule, probe, yardRuns);
  for (let r = 0; r < rounds; r++) {
    const ops = await runRound(cases, r, rounds, timing);
    for (const [id, value] of ops) opsByCase.get(id).push(value);
    await yardstickAt(r + 1, schedule, probe, yardRuns);
  }
  return { opsByCase, yardRuns };
}

/** Fails loudly (exit 1) if any implementation disagrees with node:crypto. */
function requireAgreement(cases, backends) {
  const agreement = checkAgreement({ cases, backends: [...backends.native, backends.wasm].filter(Boolean), oracle: backends.js });
  if (agreement.mismatches.length) {
    console.error('bench: implementations DISAGREE with node:crypto; nothing was timed.');
    for (const m of agreement.mismatches) console.error(`  ${m.backend} on ${m.input}: ${m.error ?? `first wrong digest at message ${m.message}`}`);
    process.exit(1);
  }
  console.log(`agreement: ${agreement.checked} (backend, input) pairs match node:crypto`);
  return { checked: agreement.checked, ok: true };
}

/** One line per target case: median ratio, slowest-round ratio, PASS/FAIL. */
function printVerdict(verdict) {
  for (const row of verdict.rows) {
    const state = row.pass === null ? 'UNKNOWN (no yardstick)' : row.pass ? 'PASS' : 'FAIL';
    const ratios = row.ratio === null ? '-' : `${row.ratio.toFixed(3)}x (slowest round ${row.worstRoundRatio.toFixed(3)}x)`;
    console.log(`target: ${row.id}: ${ratios} ${verdict.against}, need >= ${verdict.minRatio}: ${state}`);
  }
  if (!verdict.rows.length) console.log('target: no AVX-512 case on this machine; not applicable');
}

async function main() {
  const startedAt = new Date().toISOString();
  const config = settings();
  const powgate = await importPowgate();
  const info = powgate.backendInfo();
  const machine = machineFacts({ backendInfo: info, version: info.version });
  console.log(describeMachine(machine).join('\n'));

  const backends = await loadBackends(powgate.loadBackend);
  for (const s of backends.skipped) console.log(`skipped ${s.backend}${s.isa ? `/${s.isa}` : ''}: ${s.code}: ${s.reason}`);
  const cases = buildCases(backends);
  const agreement = requireAgreement(cases, backends);

  console.log(`\n${config.mode} mode: ${config.rounds} rounds x ${cases.length} cases, benny maxTime ${config.timing.maxTime}s per case`);
  console.log('note: a 64-byte message costs TWO SHA-256 compressions (padding spills into a second block); 40 bytes cost one.\n');
  warmUp(cases, config.mode === 'quick' ? 30 : 100);
  const probe = yardstickPath(REPO_ROOT);
  const { opsByCase, yardRuns } = await measure(cases, config, probe);

  const yard = yardstickMedian(yardRuns);
  const results = cases.map((c) => caseResult(c, opsByCase.get(c.id), yard.median));
  const verdict = targetVerdict(results);
  console.log(`\n${formatYardstick({ runs: yardRuns, ...yard }).join('\n')}\n`);
  console.log(formatTable(results));
  console.log('\nsingle-threaded: measured rates are per core. Ratios use medians across rounds and yardstick runs.');
  printVerdict(verdict);

  const loadAverageAtEnd = loadAverage();
  console.log(`load average at end ${loadAverageAtEnd.map((l) => l.toFixed(2)).join(' ')} (${machine.threads} threads)`);

  const report = {
    schema: 1,
    startedAt,
    finishedAt: new Date().toISOString(),
    mode: config.mode,
    rounds: config.rounds,
    benny: config.timing,
    machine: { ...machine, loadAverageAtEnd },
    skipped: backends.skipped,
    agreement,
    yardstick: { path: probe, runs: yardRuns, median: yard.median, note: yard.note },
    cases: results,
    target: verdict,
  };
  const files = writeJson(RESULTS_DIR, report);
  console.log(`\nwrote ${files.map((f) => path.relative(REPO_ROOT, f)).join(', ')}`);
}

await main();
