import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { loadBackend } from '../backend/loader.js';
import type { BackendName, NativeIsa, Sha256Backend } from '../backend/types.js';
import { PowgateError } from '../errors.js';
import { createChallenge } from '../protocol/challenge.js';
import { recommendDifficulty, type DifficultyRecommendation } from './calibration-model.js';
import { checkInteger, describe } from '../validate.js';
import { measureWith, solverBackend, type HashRate } from './measure.js';
import { solve } from './solve.js';

/** Options of {@link calibrate}. */
export interface CalibrateOptions {
  /** The solve time wanted at `percentile`, in seconds (> 0). */
  targetSeconds: number;
  /** Which percentile of solve time should equal the target, strictly between 0 and 100. Default 90 (a bound on the tail, not the middle). */
  percentile?: number;
  /** Solver threads, as the caller will solve. Default: os.availableParallelism(). */
  threads?: number;
  /** Sub-puzzles per challenge, 1 to 64: more narrow the spread of solve times. Default 8 (p99 about 1.4x p90). */
  subPuzzles?: number;
  /** The solver to measure. Default: the serving backend. */
  backend?: BackendName;
  /** For `native`, the kernel. Default: `POWGATE_ISA`, else the CPU's best. */
  isa?: NativeIsa;
  /** How long to measure the hash rate, in ms: up to five measurements of at least 600 ms, the median taken. Default 3,000. */
  durationMs?: number;
  /** Stops the measurement: it rejects with `ERR_ABORTED`. */
  signal?: AbortSignal;
}

/**
 * A {@link DifficultyRecommendation} as plain JSON: `threshold` is the threshold's decimal
 * digits (`BigInt(threshold)` gives it back), since JSON has no bigint.
 */
export interface CalibratedDifficulty extends Omit<DifficultyRecommendation, 'threshold'> {
  /** The threshold for the difficulty, in decimal digits: `BigInt(threshold) === thresholdForSteps(difficulty * 65536)`. */
  threshold: string;
}

/** What {@link calibrate} measured and recommends: plain JSON (`JSON.stringify` gives it all). */
export interface Calibration extends CalibratedDifficulty {
  targetSeconds: number;
  percentile: number;
  subPuzzles: number;
  /** The solver's measured rate. */
  rate: HashRate;
  /** The median time of a trivial solve (difficulty 1): the solver's fixed start-up cost, in seconds. */
  overheadSeconds: number;
  /** The same target met with one puzzle: its difficulty and its (wider) spread of solve times. */
  onePuzzle: CalibratedDifficulty;
}

function plain(recommendation: DifficultyRecommendation): CalibratedDifficulty {
  return { ...recommendation, threshold: recommendation.threshold.toString() };
}

/** Trivial solves timed for the start-up cost: their median ignores a slow first one. */
const OVERHEAD_SOLVES = 7;

/**
 * Measures this machine's solver and recommends the difficulty at which the chosen
 * percentile of solve times equals `targetSeconds`, with predicted p50, p90 and p99
 * (see `recommendDifficulty` for the model). Throws `ERR_INVALID_ARGUMENT` on bad options.
 */
export async function calibrate(options: CalibrateOptions): Promise<Calibration> {
  if (typeof options !== 'object' || options === null) {
    throw new PowgateError('ERR_INVALID_ARGUMENT', `expected an options object but received ${describe(options)}`);
  }
  const { targetSeconds, percentile = 90, backend, isa, signal } = options;
  const subPuzzles = checkInteger(options.subPuzzles ?? 8, 'subPuzzles', 1, 64);
  const threads = checkInteger(options.threads ?? availableParallelism(), 'threads', 1, 256);
  // Checks the target and percentile before spending seconds measuring.
  recommendDifficulty({ hashesPerSecond: 1, targetSeconds, percentile, subPuzzles });

  const solver = await solverBackend({ backend, isa });
  const rate = await medianRate(solver, threads, options.durationMs ?? 3_000, signal);
  const overheadSeconds = await solveOverhead({ solver, threads, subPuzzles, signal });
  const model = { hashesPerSecond: rate.hashesPerSecond, targetSeconds, percentile, overheadSeconds };
  return {
    ...plain(recommendDifficulty({ ...model, subPuzzles })),
    targetSeconds,
    percentile,
    subPuzzles,
    rate,
    overheadSeconds,
    onePuzzle: plain(recommendDifficulty({ ...model, subPuzzles: 1 })),
  };
}

/** The median of up to five measurements, each at least 600 ms: it shrugs off a moment when the machine was busy. */
async function medianRate(solver: Sha256Backend, threads: number, durationMs: number, signal: AbortSignal | undefined): Promise<HashRate> {
  const count = Math.min(5, Math.max(1, Math.floor(durationMs / 600)));
  const rates: HashRate[] = [];
  for (let i = 0; i < count; i++) rates.push(await measureWith(solver, threads, Math.round(durationMs / count), signal));
  rates.sort((a, b) => a.hashesPerSecond - b.hashesPerSecond);
  return rates[count >> 1]!;
}

const solvers = new WeakMap<HashRate, Promise<Sha256Backend>>();

/** The backend a rate was measured on (for native, its kernel), loaded once per rate, as `solve()` takes it. */
export function solverOf(rate: HashRate): Promise<Sha256Backend> {
  let solver = solvers.get(rate);
  // loadBackend reads `isa` for native only: a worker kernel's name is ignored.
  if (!solver) solvers.set(rate, (solver = loadBackend(rate.backend, { isa: rate.isa as NativeIsa })));
  return solver;
}

/** The median wall time of trivial solves, from the call to the solution: what every solve pays besides hashing. */
async function solveOverhead(options: { solver: Sha256Backend; threads: number; subPuzzles: number; signal?: AbortSignal }): Promise<number> {
  const secret = randomBytes(32);
  const times: number[] = [];
  for (let i = 0; i < OVERHEAD_SOLVES; i++) {
    const challenge = createChallenge({ secret, difficulty: 1, subPuzzles: options.subPuzzles });
    const started = performance.now();
    await solve(challenge, { threads: options.threads, signal: options.signal, backend: options.solver });
    times.push((performance.now() - started) / 1000);
  }
  times.sort((a, b) => a - b);
  return times[OVERHEAD_SOLVES >> 1]!;
}
