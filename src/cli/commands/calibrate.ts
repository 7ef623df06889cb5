import { access, constants, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { createChallenge } from '../../protocol/challenge.js';
import { erlangCdf, predictSolveSeconds, quantileInterval } from '../../solver/calibration-model.js';
import { expectedHashes } from '../../protocol/difficulty.js';
import { MAX_CALLS } from '../../protocol/price.js';
import { MemoryReplayStore } from '../../storage/memory.js';
import { verifySolution } from '../../protocol/verify.js';
import { calibrate, solverOf, type Calibration } from '../../solver/calibrate.js';
import { measureHashRate } from '../../solver/measure.js';
import { solve } from '../../solver/solve.js';
import { UsageError, optional, parseDuration, parseInteger, parseNumber, stringFlag } from '../args.js';
import { SHOWN, predicted, printReport, toReport, type CalibrateReport, type Verification } from '../calibrate-report.js';
import { println, type Command, type Io } from '../command.js';
import { machineFacts } from '../machine.js';
import { renderSolveTimePlot } from '../plot.js';
import { REFERENCE_SOLVERS } from '../reference-solvers.js';
import { BACKEND_OPTIONS, BACKEND_USAGE, chosenBackend } from './solve.js';

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
      targetSeconds,
      percentile,
      threads,
      subPuzzles,
      durationMs,
      signal: io.signal,
      backend: backend?.name,
      isa: backend?.name === 'native' ? (backend.isa as never) : undefined,
    });
    status("measuring this machine's WebAssembly solver");
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
    rows.push({
      name: solver.name,
      hashesPerSecond: solver.hashesPerSecond,
      measured: false,
      source: solver.source,
      predicted: predicted(predictSolveSeconds({ ...model, hashesPerSecond: solver.hashesPerSecond })),
    });
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
