// `powgate calibrate`'s report: the JSON one (docs/CLI.md) and the text one, from a calibration.
import type { SolveTimePrediction } from '../solver/calibration-model.js';
import { DIFFICULTY_STEPS, PROTOCOL_MAX_DIFFICULTY } from '../protocol/difficulty.js';
import { log2Steps, priceSteps } from '../protocol/price.js';
import type { Calibration } from '../solver/calibrate.js';
import { packageInfo } from '../package-info.js';
import { println, type Io } from './command.js';
import { formatRate, formatSeconds, formatTable } from './format.js';
import { describeMachine, type MachineFacts } from './machine.js';

/** The percentiles reported. */
export const SHOWN = [50, 90, 99] as const;

/** Predicted mean and p50/p90/p99 in seconds, as the JSON report carries them. */
export interface Predicted {
  mean: number;
  p50: number;
  p90: number;
  p99: number;
}

/** `powgate calibrate --json`, documented in docs/CLI.md. */
export interface CalibrateReport {
  powgate: string;
  machine: MachineFacts;
  target: { seconds: number; percentile: number };
  /** The target is the price of one call; a token of `calls` calls costs that many times the work. */
  perCall: PerCall;
  solver: { backend: string; isa: string; threads: number; hashesPerSecond: number; durationSeconds: number; measuredSeconds: number; overheadSeconds: number };
  recommendation: { difficulty: number; threshold: string; subPuzzles: number; expectedHashesPerSubPuzzle: number; predicted: Predicted; clamped: 'min' | 'max' | null };
  onePuzzle: { difficulty: number; threshold: string; predicted: Predicted; clamped: 'min' | 'max' | null };
  otherSolvers: { name: string; hashesPerSecond: number; measured: boolean; source: string | null; predicted: Predicted }[];
  verification: Verification | null;
  plot: string | null;
}

/** What a call costs, and the most calls a minute each solver can pay for, at the recommendation. */
interface PerCall {
  calls: number;
  /** log2 of the expected hashes a call costs. */
  priceBits: number;
  /** The challenge's difficulty for a token of `calls` calls. */
  challengeDifficulty: number;
  ceilings: { name: string; meanSecondsPerCall: number; callsPerMinute: number }[];
}

/** `--verify`: the measured percentiles set against the predicted ones. */
export interface Verification {
  solves: number;
  secondsEach: number[];
  confidence: number;
  percentiles: { percentile: number; predicted: number; measured: number; lower: number | null; upper: number | null; coverage: number; inside: boolean }[];
  pass: boolean;
}

/** A prediction as the report carries it. */
export function predicted(p: SolveTimePrediction): Predicted {
  return { mean: p.mean, p50: p.percentiles[50]!, p90: p.percentiles[90]!, p99: p.percentiles[99]! };
}

/** The per-call view: a call's price, a bundle's difficulty, and each solver's ceiling in calls a minute (one after another, as a loop pays). */
function perCall(c: Calibration, calls: number, others: CalibrateReport['otherSolvers']): PerCall {
  const steps = Math.round(c.difficulty * DIFFICULTY_STEPS);
  const ceiling = (name: string, mean: number) => ({ name, meanSecondsPerCall: mean, callsPerMinute: 60 / mean });
  return {
    calls,
    priceBits: priceSteps(steps, c.subPuzzles, 1) / DIFFICULTY_STEPS,
    challengeDifficulty: Math.min(PROTOCOL_MAX_DIFFICULTY, (steps + log2Steps(calls)) / DIFFICULTY_STEPS),
    ceilings: [ceiling(`this machine, ${c.rate.backend}/${c.rate.isa} (${c.rate.threads} threads)`, c.predicted.mean), ...others.map((o) => ceiling(o.name, o.predicted.mean))],
  };
}

/** The JSON report. */
export function toReport(
  machine: MachineFacts,
  c: Calibration,
  calls: number,
  durationSeconds: number,
  others: CalibrateReport['otherSolvers'],
  verification: Verification | null,
  plot: string | null,
): CalibrateReport {
  return {
    powgate: packageInfo().version,
    machine,
    target: { seconds: c.targetSeconds, percentile: c.percentile },
    perCall: perCall(c, calls, others),
    solver: {
      backend: c.rate.backend,
      isa: c.rate.isa,
      threads: c.rate.threads,
      hashesPerSecond: c.rate.hashesPerSecond,
      durationSeconds,
      measuredSeconds: c.rate.seconds,
      overheadSeconds: c.overheadSeconds,
    },
    recommendation: {
      difficulty: c.difficulty,
      threshold: c.thresholdHex,
      subPuzzles: c.subPuzzles,
      expectedHashesPerSubPuzzle: c.expectedHashes,
      predicted: predicted(c.predicted),
      clamped: c.clamped ?? null,
    },
    onePuzzle: { difficulty: c.onePuzzle.difficulty, threshold: c.onePuzzle.thresholdHex, predicted: predicted(c.onePuzzle.predicted), clamped: c.onePuzzle.clamped ?? null },
    otherSolvers: others,
    verification,
    plot,
  };
}

/** The report as text, on stdout. */
export function printReport(io: Io, r: CalibrateReport): void {
  const out = (line = '') => println(io.stdout, line);
  const s = r.solver;
  const rec = r.recommendation;
  const times = (p: Predicted) => [formatSeconds(p.p50), formatSeconds(p.p90), formatSeconds(p.p99), formatSeconds(p.mean)];
  for (const line of describeMachine(r.machine)) out(line);
  out(
    `solver   ${s.backend}/${s.isa} on ${s.threads} threads: ${formatRate(s.hashesPerSecond)} (the median of up to five measurements in ${s.durationSeconds} s); start-up ${formatSeconds(s.overheadSeconds)} a solve`,
  );
  out();
  out(`Recommended: difficulty ${rec.difficulty} x ${rec.subPuzzles} sub-puzzle${rec.subPuzzles > 1 ? 's' : ''} (threshold ${rec.threshold}),`);
  out(`so that p${r.target.percentile} of solve times on this solver is ${formatSeconds(r.target.seconds)}.`);
  if (rec.clamped)
    out(`WARNING: the target cannot be met: even difficulty ${rec.clamped === 'min' ? '1 takes longer' : '64 is faster'}; this is the protocol's ${rec.clamped}imum.`);
  const call = r.perCall;
  out(`That is the price of one call: ${call.priceBits.toFixed(2)} bits of work (log2 of the hashes a call costs).`);
  out(`  powgate serve --difficulty ${rec.difficulty} --sub-puzzles ${rec.subPuzzles}${call.calls > 1 ? ` --calls ${call.calls}` : ''}`);
  out(`  new Gate({ secret, difficulty: ${rec.difficulty}, subPuzzles: ${rec.subPuzzles}${call.calls > 1 ? `, calls: ${call.calls}` : ''} })`);
  if (call.calls > 1) out(`  (a token of ${call.calls} calls: its challenge is difficulty ${call.challengeDifficulty.toFixed(4)}, ${call.calls} times one call's work)`);
  out();
  out('Predicted solve times on this machine:');
  const rows = [
    ['', 'p50', 'p90', 'p99', 'mean'],
    [`${rec.subPuzzles} sub-puzzle${rec.subPuzzles > 1 ? 's' : ''} at ${rec.difficulty.toFixed(4)}`, ...times(rec.predicted)],
  ];
  if (rec.subPuzzles > 1) rows.push([`1 puzzle at ${r.onePuzzle.difficulty.toFixed(4)}`, ...times(r.onePuzzle.predicted)]);
  for (const line of formatTable(rows)) out(`  ${line}`);
  if (rec.subPuzzles > 1)
    out(`  (one puzzle's time is geometric; ${rec.subPuzzles} sub-puzzles sum ${rec.subPuzzles} of them, so the spread narrows by about ${Math.sqrt(rec.subPuzzles).toFixed(1)}x)`);
  else out("  (one puzzle's time is geometric: p99 is about 6.6x p50; --sub-puzzles K narrows the spread)");
  out();
  out('The same challenge for other solvers (docs/SOLVERS.md):');
  const others = [
    ['', 'rate', 'p50', 'p90', 'p99', 'mean'],
    ...r.otherSolvers.map((o) => [o.name + (o.measured ? ' (measured)' : ''), formatRate(o.hashesPerSecond), ...times(o.predicted)]),
  ];
  for (const line of formatTable(others)) out(`  ${line}`);
  out();
  out("A runaway loop's ceiling at this price, paying for every call (calls a minute, from the mean time a call costs):");
  const ceilings = [
    ['', 'mean a call', 'calls a minute'],
    ...call.ceilings.map((c) => [c.name, formatSeconds(c.meanSecondsPerCall), c.callsPerMinute >= 100 ? c.callsPerMinute.toFixed(0) : c.callsPerMinute.toPrecision(3)]),
  ];
  for (const line of formatTable(ceilings)) out(`  ${line}`);
  if (r.verification) {
    const v = r.verification;
    out();
    out(`Verification: ${v.solves} real solves at this difficulty (95% distribution-free confidence intervals):`);
    const bound = (x: number | null, side: number) => (x === null ? (side < 0 ? '-∞' : '∞') : formatSeconds(x));
    const table = [
      ['', 'predicted', 'measured', '95% interval', ''],
      ...v.percentiles.map((p) => [
        `p${p.percentile}`,
        formatSeconds(p.predicted),
        formatSeconds(p.measured),
        `${p.lower === null ? '(' : '['}${bound(p.lower, -1)}, ${bound(p.upper, 1)}${p.upper === null ? ')' : ']'}`,
        p.inside ? 'ok' : 'OUTSIDE',
      ]),
    ];
    for (const line of formatTable(table)) out(`  ${line}`);
    out(v.pass ? 'Every prediction is inside its interval.' : 'A prediction falls outside its interval: the model or the measured rate does not hold here (exit code 1).');
  }
  if (r.plot) out(`\nPlot written to ${r.plot}`);
}
