import { access, constants, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { packageInfo } from '../../package-info.js';
import { createChallenge } from '../../protocol/challenge.js';
import { erlangCdf, predictSolveSeconds, quantileInterval, type SolveTimePrediction } from '../../solver/calibration-model.js';
import { DIFFICULTY_STEPS, PROTOCOL_MAX_DIFFICULTY, expectedHashes } from '../../protocol/difficulty.js';
import { MAX_CALLS, log2Steps, priceSteps } from '../../protocol/price.js';
import { MemoryReplayStore } from '../../storage/memory.js';
import { verifySolution } from '../../protocol/verify.js';
import { calibrate, solverOf, type Calibration } from '../../solver/calibrate.js';
import { measureHashRate } from '../../solver/measure.js';
import { solve } from '../../solver/solve.js';
import { UsageError, optional, parseDuration, parseInteger, parseNumber, stringFlag } from '../args.js';
import { println, type Command, type Io } from '../command.js';
import { formatRate, formatSeconds, formatTable } from '../format.js';
import { describeMachine, machineFacts, type MachineFacts } from '../machine.js';
import { renderSolveTimePlot } from '../plot.js';
import { REFERENCE_SOLVERS } from '../reference-solvers.js';
import { BACKEND_OPTIONS, BACKEND_USAGE, chosenBackend } from './solve.js';

const SHOWN = [50, 90, 99] as const;

/** Predicted mean and p50/p90/p99 in seconds, as the JSON report carries them. */
interface Predicted {
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

interface Verification {
  solves: number;
  secondsEach: number[];
  confidence: number;
  percentiles: { percentile: number; predicted: number; measured: number; lower: number | null; upper: number | null; coverage: number; inside: boolean }[];
  pass: boolean;
}

export const calibrateCommand: Command = {
  name: 'calibrate',
  summary: 'recommend the difficulty that costs a caller a chosen time',
  usage: `Usage: powgate calibrate --target DURATION [options]

Measures this machine's solver and recommends the difficulty (and threshold) at which
the chosen percentile of solve times equals the target, with predicted p50, p90 and p99.
The target is the price of one call. One puzzle's solve time is geometric (wide); k
sub-puzzles sum k of them (narrower): both are shown. Also shows what that difficulty
costs other solvers: this machine's WebAssembly backend (measured) and reference classes
(docs/SOLVERS.md), and the most calls a minute each can pay for (a runaway loop's ceiling).

Options:
  --target DURATION     the solve time wanted, e.g. 5s or 500ms (required)
  --percentile P        which percentile of solve times equals the target; default 90
  --threads N           solver threads, as callers will solve; default: all (${availableParallelism()} here)
  --sub-puzzles K       sub-puzzles per challenge, 1 to 64; default 8
  --calls N             calls a token buys (the challenge costs N calls' work); default 1
${BACKEND_USAGE}
  --duration DURATION   how long to measure the hash rate (up to five parts, the
                        median taken); default 3s
  --verify N            then solve N real challenges at that difficulty and print each
                        measured percentile with its 95% confidence interval; exit code 1
                        when a prediction falls outside its interval
  --plot FILE.svg       write the predicted solve-time CDF (with measured points) as SVG
  --json                print one JSON object (docs/CLI.md) instead of text
  -h, --help            this text`,
  options: {
    target: { type: 'string' },
    percentile: { type: 'string' },
    threads: { type: 'string' },
    'sub-puzzles': { type: 'string' },
    calls: { type: 'string' },
    duration: { type: 'string' },
    verify: { type: 'string' },
    plot: { type: 'string' },
    json: { type: 'boolean' },
    ...BACKEND_OPTIONS,
  },
  maxPositionals: 0,
  async run(parsed, io) {
    const target = stringFlag(parsed, 'target');
    if (target === undefined) throw new UsageError('--target is required, e.g. --target 5s');
    const targetSeconds = parseDuration(target, 'target');
    const percentile = optional(stringFlag(parsed, 'percentile'), (text) => parseNumber(text, 'percentile', 0.1, 99.9)) ?? 90;
    const threads = optional(stringFlag(parsed, 'threads'), (text) => parseInteger(text, 'threads', 1, 256)) ?? availableParallelism();
    const subPuzzles = optional(stringFlag(parsed, 'sub-puzzles'), (text) => parseInteger(text, 'sub-puzzles', 1, 64)) ?? 8;
    const calls = optional(stringFlag(parsed, 'calls'), (text) => parseInteger(text, 'calls', 1, MAX_CALLS)) ?? 1;
    const durationMs = optional(stringFlag(parsed, 'duration'), (text) => Math.round(parseDuration(text, 'duration') * 1000)) ?? 3_000;
    if (durationMs < 1_000 || durationMs > 600_000) throw new UsageError(`expected a duration from 1s to 10m for --duration but received '${stringFlag(parsed, 'duration')}'`);
    const verifyCount = optional(stringFlag(parsed, 'verify'), (text) => parseInteger(text, 'verify', 1, 100_000));
    const plotFile = stringFlag(parsed, 'plot');
    if (plotFile !== undefined) await checkWritable(plotFile);
    const json = parsed.values.json === true;
    const backend = await chosenBackend(parsed);

    const machine = machineFacts();
    const status = statusLine(io, json);
    status(`measuring the ${backend?.name ?? machine.serving.backend} solver for ${durationMs / 1000} s`);
    const calibration = await calibrate({
      targetSeconds, percentile, threads, subPuzzles, durationMs, signal: io.signal,
      backend: backend?.name, isa: backend?.name === 'native' ? (backend.isa as never) : undefined,
    });
    status('measuring this machine\'s WebAssembly solver');
    const others = await otherSolvers(calibration, threads, io.signal);
    const verification = verifyCount === undefined ? null : await verifyPrediction(calibration, verifyCount, threads, io, status);
    status('');
    if (plotFile !== undefined) await writePlot(plotFile, calibration, verification);

    const report = toReport(machine, calibration, calls, durationMs / 1000, others, verification, plotFile ?? null);
    if (json) println(io.stdout, JSON.stringify(report, null, 2));
    else printReport(io, report);
    return verification && !verification.pass ? 1 : 0;
  },
};

/** A transient status line on a terminal; nothing otherwise (and nothing in --json mode). */
function statusLine(io: Io, json: boolean): (text: string) => void {
  const shown = io.stderr.isTTY === true && !json;
  return (text) => shown && io.stderr.write(`\r${text}\x1b[K`);
}

function predicted(p: SolveTimePrediction): Predicted {
  return { mean: p.mean, p50: p.percentiles[50]!, p90: p.percentiles[90]!, p99: p.percentiles[99]! };
}

/** What the recommended challenge costs solvers other than the one measured. */
async function otherSolvers(c: Calibration, threads: number, signal: AbortSignal): Promise<CalibrateReport['otherSolvers']> {
  const model = { threshold: BigInt(c.threshold), subPuzzles: c.subPuzzles };
  const rows: CalibrateReport['otherSolvers'] = [];
  if (c.rate.backend !== 'wasm') {
    const wasm = await measureHashRate({ backend: 'wasm', threads, durationMs: 1_000, signal });
    rows.push({
      name: `this machine, WebAssembly (${wasm.isa}, ${threads} threads)`,
      hashesPerSecond: wasm.hashesPerSecond,
      measured: true,
      source: null,
      predicted: predicted(predictSolveSeconds({ ...model, hashesPerSecond: wasm.hashesPerSecond })),
    });
  }
  for (const solver of REFERENCE_SOLVERS) {
    rows.push({ name: solver.name, hashesPerSecond: solver.hashesPerSecond, measured: false, source: solver.source, predicted: predicted(predictSolveSeconds({ ...model, hashesPerSecond: solver.hashesPerSecond })) });
  }
  return rows;
}

/**
 * Solves `count` fresh challenges at the recommended difficulty, one after another as a
 * caller would, timing each from the call to the solution (each is also verified), and
 * sets every predicted percentile against the measured one's 95% confidence interval.
 */
async function verifyPrediction(c: Calibration, count: number, threads: number, io: Io, status: (text: string) => void): Promise<Verification> {
  const secret = randomBytes(32);
  const store = new MemoryReplayStore();
  const seconds: number[] = [];
  for (let i = 0; i < count; i++) {
    status(`verifying: solve ${i + 1} of ${count}`);
    const challenge = createChallenge({ secret, difficulty: c.difficulty, subPuzzles: c.subPuzzles, maxDifficulty: 64, ttlMs: 86_400_000 });
    const started = performance.now();
    const solution = await solve(challenge, { threads, signal: io.signal, backend: await solverOf(c.rate) });
    seconds.push((performance.now() - started) / 1000);
    const verdict = await verifySolution(challenge, solution, { secret, store, maxDifficulty: 64 });
    if (!verdict.ok) throw new Error(`a solution of the solver was refused (${verdict.reason}): the solver is broken`);
  }
  const percentiles = SHOWN.map((percentile) => {
    const interval = quantileInterval(seconds, percentile, 0.95);
    const prediction = c.predicted.percentiles[percentile]!;
    return {
      percentile,
      predicted: prediction,
      measured: interval.estimate,
      // JSON has no Infinity: an unbounded side is null.
      lower: Number.isFinite(interval.lower) ? interval.lower : null,
      upper: Number.isFinite(interval.upper) ? interval.upper : null,
      coverage: interval.confidence,
      inside: interval.lower <= prediction && prediction <= interval.upper,
    };
  });
  return { solves: count, secondsEach: seconds, confidence: 0.95, percentiles, pass: percentiles.every((p) => p.inside) };
}

/** Finds out before the measuring, not after it, that a plot could not be written. */
async function checkWritable(file: string): Promise<void> {
  try {
    await access(dirname(file), constants.W_OK);
  } catch (error) {
    throw new UsageError(`cannot write --plot ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

async function writePlot(file: string, c: Calibration, verification: Verification | null): Promise<void> {
  const unit = expectedHashes(BigInt(c.threshold)) / c.rate.hashesPerSecond; // seconds a sub-puzzle, on average
  const svg = renderSolveTimePlot({
    title: `powgate: solve time at difficulty ${c.difficulty.toFixed(4)} x ${c.subPuzzles} (${c.rate.backend}/${c.rate.isa}, ${c.rate.threads} threads)`,
    cdf: (t) => (t <= c.overheadSeconds ? 0 : erlangCdf(c.subPuzzles, (t - c.overheadSeconds) / unit)),
    measuredSeconds: verification?.secondsEach,
    targetSeconds: c.targetSeconds,
    percentile: c.percentile,
  });
  try {
    await writeFile(file, svg);
  } catch (error) {
    throw new UsageError(`cannot write --plot ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** The per-call view: a call's price, a bundle's difficulty, and each solver's ceiling in calls a minute (one after another, as a loop pays). */
function perCall(c: Calibration, calls: number, others: CalibrateReport['otherSolvers']): PerCall {
  const steps = Math.round(c.difficulty * DIFFICULTY_STEPS);
  const ceiling = (name: string, mean: number) => ({ name, meanSecondsPerCall: mean, callsPerMinute: 60 / mean });
  return {
    calls,
    priceBits: priceSteps(steps, c.subPuzzles, 1) / DIFFICULTY_STEPS,
    challengeDifficulty: Math.min(PROTOCOL_MAX_DIFFICULTY, (steps + log2Steps(calls)) / DIFFICULTY_STEPS),
    ceilings: [
      ceiling(`this machine, ${c.rate.backend}/${c.rate.isa} (${c.rate.threads} threads)`, c.predicted.mean),
      ...others.map((o) => ceiling(o.name, o.predicted.mean)),
    ],
  };
}

function toReport(
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
    solver: { backend: c.rate.backend, isa: c.rate.isa, threads: c.rate.threads, hashesPerSecond: c.rate.hashesPerSecond, durationSeconds, measuredSeconds: c.rate.seconds, overheadSeconds: c.overheadSeconds },
    recommendation: { difficulty: c.difficulty, threshold: c.thresholdHex, subPuzzles: c.subPuzzles, expectedHashesPerSubPuzzle: c.expectedHashes, predicted: predicted(c.predicted), clamped: c.clamped ?? null },
    onePuzzle: { difficulty: c.onePuzzle.difficulty, threshold: c.onePuzzle.thresholdHex, predicted: predicted(c.onePuzzle.predicted), clamped: c.onePuzzle.clamped ?? null },
    otherSolvers: others,
    verification,
    plot,
  };
}

function printReport(io: Io, r: CalibrateReport): void {
  const out = (line = '') => println(io.stdout, line);
  const s = r.solver;
  const rec = r.recommendation;
  const times = (p: Predicted) => [formatSeconds(p.p50), formatSeconds(p.p90), formatSeconds(p.p99), formatSeconds(p.mean)];
  for (const line of describeMachine(r.machine)) out(line);
  out(`solver   ${s.backend}/${s.isa} on ${s.threads} threads: ${formatRate(s.hashesPerSecond)} (the median of up to five measurements in ${s.durationSeconds} s); start-up ${formatSeconds(s.overheadSeconds)} a solve`);
  out();
  out(`Recommended: difficulty ${rec.difficulty} x ${rec.subPuzzles} sub-puzzle${rec.subPuzzles > 1 ? 's' : ''} (threshold ${rec.threshold}),`);
  out(`so that p${r.target.percentile} of solve times on this solver is ${formatSeconds(r.target.seconds)}.`);
  if (rec.clamped) out(`WARNING: the target cannot be met: even difficulty ${rec.clamped === 'min' ? '1 takes longer' : '64 is faster'}; this is the protocol's ${rec.clamped}imum.`);
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
  if (rec.subPuzzles > 1) out(`  (one puzzle's time is geometric; ${rec.subPuzzles} sub-puzzles sum ${rec.subPuzzles} of them, so the spread narrows by about ${Math.sqrt(rec.subPuzzles).toFixed(1)}x)`);
  else out('  (one puzzle\'s time is geometric: p99 is about 6.6x p50; --sub-puzzles K narrows the spread)');
  out();
  out('The same challenge for other solvers (docs/SOLVERS.md):');
  const others = [['', 'rate', 'p50', 'p90', 'p99', 'mean'], ...r.otherSolvers.map((o) => [o.name + (o.measured ? ' (measured)' : ''), formatRate(o.hashesPerSecond), ...times(o.predicted)])];
  for (const line of formatTable(others)) out(`  ${line}`);
  out();
  out('A runaway loop\'s ceiling at this price, paying for every call (calls a minute, from the mean time a call costs):');
  const ceilings = [['', 'mean a call', 'calls a minute'], ...call.ceilings.map((c) => [c.name, formatSeconds(c.meanSecondsPerCall), c.callsPerMinute >= 100 ? c.callsPerMinute.toFixed(0) : c.callsPerMinute.toPrecision(3)])];
  for (const line of formatTable(ceilings)) out(`  ${line}`);
  if (r.verification) {
    const v = r.verification;
    out();
    out(`Verification: ${v.solves} real solves at this difficulty (95% distribution-free confidence intervals):`);
    const bound = (x: number | null, side: number) => (x === null ? (side < 0 ? '-∞' : '∞') : formatSeconds(x));
    const table = [['', 'predicted', 'measured', '95% interval', ''], ...v.percentiles.map((p) => [
      `p${p.percentile}`, formatSeconds(p.predicted), formatSeconds(p.measured), `${p.lower === null ? '(' : '['}${bound(p.lower, -1)}, ${bound(p.upper, 1)}${p.upper === null ? ')' : ']'}`, p.inside ? 'ok' : 'OUTSIDE',
    ])];
    for (const line of formatTable(table)) out(`  ${line}`);
    out(v.pass ? 'Every prediction is inside its interval.' : 'A prediction falls outside its interval: the model or the measured rate does not hold here (exit code 1).');
  }
  if (r.plot) out(`\nPlot written to ${r.plot}`);
}
