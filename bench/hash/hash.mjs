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
 * Env: BENCH_ROUNDS (default 5), BENCH_QUICK=1 (2 short rounds), BENCH_WAIT_IDLE (seconds to wait for an idle machine),
 *      POWGATE_YARDSTICK (path to the probe), POWGATE_ISA (which native ISA counts as best).
 */
import path from 'node:path';
import { checkAgreement } from '../lib/agreement.mjs';
import { buildCases, loadBackends } from '../lib/cases.mjs';
import { loadAverage, roundWarnings } from '../lib/machine.mjs';
import { caseResult, formatTable, formatYardstick, targetVerdict, writeJson } from '../lib/report.mjs';
import { measureRounds, warmUp } from '../lib/rounds.mjs';
import { REPO_ROOT, RESULTS_DIR, startBench } from '../lib/settings.mjs';
import { yardstickMedian, yardstickPath } from '../lib/yardstick.mjs';

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
  const { startedAt, config, powgate, machine, cpuLoadAtStart } = await startBench();

  const backends = await loadBackends(powgate.loadBackend);
  for (const s of backends.skipped) console.log(`skipped ${s.backend}${s.isa ? `/${s.isa}` : ''}: ${s.code}: ${s.reason}`);
  const cases = buildCases(backends);
  const agreement = requireAgreement(cases, backends);

  console.log(`\n${config.mode} mode: ${config.rounds} rounds x ${cases.length} cases, benny maxTime ${config.timing.maxTime}s per case`);
  console.log('note: a 64-byte message costs TWO SHA-256 compressions (padding spills into a second block); 40 bytes cost one.\n');
  await warmUp(cases, config.quick ? 30 : 100);
  const probe = yardstickPath(REPO_ROOT);
  const { opsByCase, yardRuns, roundLoads } = await measureRounds(cases, config, probe);

  const yard = yardstickMedian(yardRuns);
  const results = cases.map((c) => caseResult(c, opsByCase.get(c.id), yard.median));
  const verdict = targetVerdict(results);
  console.log(`\n${formatYardstick({ runs: yardRuns, ...yard }).join('\n')}\n`);
  console.log(formatTable(results));
  console.log('\nsingle-threaded: measured rates are per core. Ratios use medians across rounds and yardstick runs.');
  printVerdict(verdict);

  const loadAverageAtEnd = loadAverage();
  console.log(`load average at end ${loadAverageAtEnd.map((l) => l.toFixed(2)).join(' ')} (${machine.threads} threads)`);
  for (const warning of roundWarnings(roundLoads)) console.log(warning);

  const report = {
    schema: 1,
    startedAt,
    finishedAt: new Date().toISOString(),
    mode: config.mode,
    rounds: config.rounds,
    benny: config.timing,
    machine: { ...machine, loadAverageAtEnd, cpuLoadAtStart, cpuLoadPerRound: roundLoads },
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
