// Calibration maths: how long a challenge takes a solver of a known hash rate, which
// difficulty makes a chosen percentile of that time equal a target, and how sure a set of
// measured solve times lets one be about a percentile. Pure functions: no I/O, no clocks.
//
// The model. One sub-puzzle with threshold T is a run of independent hashes, each a success
// with probability p = T / 2^64, so its hash count is geometric with mean 1/p =
// expectedHashes(T); over a rate of R hashes per second its time is very nearly exponential
// with mean 1/(pR). A challenge of k sub-puzzles costs the sum of k such times: Gamma(k, 1)
// ("Erlang") in units of that mean, whose relative spread is 1/sqrt(k). A fixed per-solve
// overhead (the solver's start-up latency) is added on top.
//
// Numerics: Poisson and binomial probabilities use Loader's saddle-point form (Stirling's
// error term plus a cancellation-free "bd0" deviance), so that every tail is a short sum of
// positive terms and nothing cancels. Quantiles are solved by Newton's method in u = ln x on
// the log of the smaller tail: ln P(k, e^u) is concave and ln Q(k, e^u) too (ln G has a
// log-concave density), so from a start on the right side of the root Newton cannot overshoot.
import { checkInteger, invalid } from '../validate.js';
import { MAX_SUB_PUZZLES } from '../wire.js';
import { DIFFICULTY_STEPS, PROTOCOL_MAX_DIFFICULTY, PROTOCOL_MIN_DIFFICULTY, expectedHashes, thresholdForSteps, thresholdHex } from '../protocol/difficulty.js';

/** The largest Erlang shape (number of sub-puzzles) that {@link erlangCdf} and {@link erlangQuantile} accept: 2^24. */
export const MAX_ERLANG_SHAPE = 2 ** 24;

/** The percentiles that {@link predictSolveSeconds} reports by default. */
const DEFAULT_PERCENTILES: readonly number[] = Object.freeze([50, 90, 99]);

// ---------------------------------------------------------------------------------------------
// Erlang (Gamma with an integer shape) distribution

/**
 * P(G <= x) for G ~ Gamma(k, 1) with integer shape k >= 1 (the Erlang distribution: the sum of
 * k independent unit exponentials), i.e. 1 - e^-x * sum_{i<k} x^i / i!.
 *
 * Both tails are summed directly (never as 1 minus the other), so a lower tail of 1e-200
 * keeps its digits, and no result is NaN, negative or above 1. Relative error: about 1e-15 in
 * the body and up to ~1e-13 in deep tails (1e-200) for k up to a few thousand, growing to
 * ~1e-11 toward k = 2^24 (the rounding of x itself is then amplified by sqrt(k)).
 * Returns 0 for x <= 0 and 1 for x = Infinity.
 *
 * @param k the shape, an integer from 1 to {@link MAX_ERLANG_SHAPE} (the number of sub-puzzles)
 * @param x where to evaluate, in units of one sub-puzzle's mean time; any number but NaN
 * @throws PowgateError `ERR_INVALID_ARGUMENT` for a bad k or a NaN x
 */
export function erlangCdf(k: number, x: number): number {
  checkInteger(k, 'k', 1, MAX_ERLANG_SHAPE);
  if (typeof x !== 'number' || Number.isNaN(x)) throw invalid('a number', 'x', x);
  if (x <= 0) return 0;
  if (x === Infinity) return 1;
  if (x < k) return Math.exp(logLowerSeries(k, x));
  return -Math.expm1(logUpperSum(k, x));
}

/**
 * The q-quantile of Gamma(k, 1) with integer shape k >= 1: the x with
 * {@link erlangCdf}(k, x) = q. For k = 1 it is -ln(1 - q).
 *
 * Solved by safeguarded Newton iteration for any q strictly between 0 and 1 (5e-324 and
 * 1 - 2^-53 included), to better than 1e-12 relative for k up to a few thousand (checked
 * against exact rational arithmetic), limited only by the accuracy of {@link erlangCdf}.
 * The upper half (q > 0.5) is solved on 1 - q, which is exact, so p99.9999 keeps its digits.
 *
 * @param k the shape, an integer from 1 to {@link MAX_ERLANG_SHAPE}
 * @param q the probability, a number strictly between 0 and 1
 * @throws PowgateError `ERR_INVALID_ARGUMENT` for a bad k or q
 */
export function erlangQuantile(k: number, q: number): number {
  checkInteger(k, 'k', 1, MAX_ERLANG_SHAPE);
  checkOpenUnit(q, 'q');
  return q > 0.5 ? solveUpperTail(k, Math.log1p(-q)) : solveLowerTail(k, Math.log(q));
}

// ---------------------------------------------------------------------------------------------
// Geometric distribution

/**
 * The q-quantile of N ~ Geometric(p) on {1, 2, ...} (the number of hashes up to and including
 * the first success): the smallest integer n >= 1 with P(N <= n) = 1 - (1 - p)^n >= q.
 *
 * Computed as ceil(ln(1 - q) / ln(1 - p)) with log1p on both sides (so p = 2^-64 is not lost
 * to 1 - p rounding to 1). When that ratio is within rounding of an integer m, so that floating
 * point cannot tell m from m + 1 (q exactly on a step of the distribution, as in p = 0.5,
 * q = 0.75), the inequality (1 - p)^m <= 1 - q is decided in exact rational arithmetic on the
 * doubles p and q, as long as that takes at most 2^17 bits; beyond, n is right to within
 * rounding. Results above 2^53 are the nearest double (Infinity beyond the largest one, for p
 * near 5e-324). p = 1 gives 1.
 *
 * @param p the success probability per trial, a number greater than 0 and at most 1
 *   (for a threshold T, p = T / 2^64)
 * @param q the probability, a number strictly between 0 and 1
 * @throws PowgateError `ERR_INVALID_ARGUMENT` for a bad p or q
 */
export function geometricQuantile(p: number, q: number): number {
  if (typeof p !== 'number' || !(p > 0 && p <= 1)) throw invalid('a number greater than 0 and at most 1', 'p', p);
  checkOpenUnit(q, 'q');
  if (p === 1) return 1;
  const ratio = Math.log1p(-q) / Math.log1p(-p); // ln(1 - q) / ln(1 - p) > 0
  const m = Math.round(ratio);
  if (m >= 1 && Math.abs(ratio - m) <= 1e-12 * ratio) {
    const reached = survivalAtMost(p, m, q);
    if (reached !== undefined) return reached ? m : m + 1;
  }
  return Math.max(1, Math.ceil(ratio));
}

// ---------------------------------------------------------------------------------------------
// Solve-time prediction

/** The work and the solver of {@link predictSolveSeconds}. */
export interface SolveTimeModel {
  /** The threshold of every sub-puzzle: a bigint from 1n to 2n ** 64n (see `thresholdForSteps`). */
  threshold: bigint;
  /** The number of sub-puzzles k, an integer from 1 to 64. Default 1. */
  subPuzzles?: number;
  /** The solver's hash rate over all its threads, in hashes per second: a finite number > 0. */
  hashesPerSecond: number;
  /** Fixed seconds added to every solve (start-up latency): a finite number >= 0. Default 0. */
  overheadSeconds?: number;
}

/** Predicted solve times in seconds. */
export interface SolveTimePrediction {
  /** The mean: overheadSeconds + k * expectedHashes(threshold) / hashesPerSecond (exact for geometric hash counts). */
  mean: number;
  /**
   * Each requested percentile's solve time, keyed by the percentile as given:
   * `percentiles[50]`, `percentiles[99.9]`.
   */
  percentiles: Record<number, number>;
}

/**
 * Predicts how long a challenge takes a solver: the mean and the requested percentiles of
 * overheadSeconds + (sum of k sub-puzzles' hash counts) / hashesPerSecond.
 *
 * Percentiles use the Erlang model: overheadSeconds + erlangQuantile(k, P / 100) *
 * expectedHashes(threshold) / hashesPerSecond. Against exact geometric hash counts its
 * relative error is of the order of p = threshold / 2^64: about 0.1% at difficulty 10, halving
 * with each further bit.
 *
 * @param model the threshold, sub-puzzles (default 1), hash rate and overhead (default 0)
 * @param percentiles which percentiles to report, each a number strictly between 0 and 100;
 *   default `[50, 90, 99]`
 * @returns `{ mean, percentiles: { 50: s, 90: s, 99: s } }`, all in seconds
 * @throws PowgateError `ERR_INVALID_ARGUMENT` for a bad option or percentile
 */
export function predictSolveSeconds(model: SolveTimeModel, percentiles: readonly number[] = DEFAULT_PERCENTILES): SolveTimePrediction {
  checkObject(model, 'model');
  const threshold = model.threshold;
  if (typeof threshold !== 'bigint' || threshold < 1n || threshold > 1n << 64n) {
    throw invalid('a bigint from 1n to 2n ** 64n', 'threshold', threshold);
  }
  const k = checkInteger(model.subPuzzles ?? 1, 'subPuzzles', 1, MAX_SUB_PUZZLES);
  const rate = checkPositive(model.hashesPerSecond, 'hashesPerSecond');
  const overhead = checkNonNegative(model.overheadSeconds ?? 0, 'overheadSeconds');
  if (!Array.isArray(percentiles)) throw invalid('an array of percentiles', 'percentiles', percentiles);
  percentiles.forEach((p, i) => checkPercentile(p, `percentiles[${i}]`));
  return predict(threshold, k, rate, overhead, percentiles);
}

function predict(threshold: bigint, k: number, rate: number, overhead: number, percentiles: readonly number[]): SolveTimePrediction {
  const unit = expectedHashes(threshold) / rate; // seconds per sub-puzzle, on average
  const out: Record<number, number> = {};
  for (const p of percentiles) out[p] = overhead + erlangQuantile(k, p / 100) * unit;
  return { mean: overhead + k * unit, percentiles: out };
}

// ---------------------------------------------------------------------------------------------
// Difficulty recommendation

/** Options of {@link recommendDifficulty}. */
export interface RecommendDifficultyOptions {
  /** The solver's hash rate over all its threads, in hashes per second: a finite number > 0. */
  hashesPerSecond: number;
  /** The solve time wanted at `percentile`, in seconds: a finite number > 0. */
  targetSeconds: number;
  /** Which percentile of solve time should equal the target: strictly between 0 and 100. Default 50 (the median). */
  percentile?: number;
  /** Sub-puzzles per challenge, an integer from 1 to 64. Default 1. */
  subPuzzles?: number;
  /** Fixed seconds added to every solve (start-up latency): a finite number >= 0. Default 0. */
  overheadSeconds?: number;
}

/** The answer of {@link recommendDifficulty}. */
export interface DifficultyRecommendation {
  /** Bits per sub-puzzle, a multiple of 1/65536 from 1 to 64: pass it to `createChallenge`. */
  difficulty: number;
  /** The threshold for that difficulty (`thresholdForSteps(difficulty * 65536)`). */
  threshold: bigint;
  /** The same threshold as 16 lowercase hex digits, as challenges carry it. */
  thresholdHex: string;
  /** Expected hashes per sub-puzzle: 2^64 / threshold. */
  expectedHashes: number;
  /** Predicted solve times for this (quantised) threshold: mean and percentiles 50, 90, 99 and the one asked for. */
  predicted: SolveTimePrediction;
  /**
   * Set when the target cannot be met within the protocol's bounds: `'min'` when even difficulty
   * 1 takes longer (including every target <= overheadSeconds), `'max'` when even difficulty 64
   * is faster. The difficulty is then that bound.
   */
  clamped: 'min' | 'max' | undefined;
}

/**
 * The difficulty at which the chosen percentile of solve time equals targetSeconds for a
 * solver of the given rate: of all the protocol's difficulties (multiples of 1/65536 bit from
 * 1 to 64), the one whose predicted percentile ({@link predictSolveSeconds}, with the exact
 * integer threshold) is closest to the target; ties go to the harder one. Between two adjacent
 * steps the prediction changes by a factor 2^(1/65536), about 1.06e-5.
 *
 * @param options the hash rate, the target, the percentile (default 50), the sub-puzzles
 *   (default 1) and the overhead (default 0)
 * @returns `{ difficulty, threshold, thresholdHex, expectedHashes, predicted, clamped }`
 * @throws PowgateError `ERR_INVALID_ARGUMENT` for a bad option
 */
export function recommendDifficulty(options: RecommendDifficultyOptions): DifficultyRecommendation {
  checkObject(options, 'options');
  const rate = checkPositive(options.hashesPerSecond, 'hashesPerSecond');
  const target = checkPositive(options.targetSeconds, 'targetSeconds');
  const percentile = checkPercentile(options.percentile ?? 50, 'percentile');
  const k = checkInteger(options.subPuzzles ?? 1, 'subPuzzles', 1, MAX_SUB_PUZZLES);
  const overhead = checkNonNegative(options.overheadSeconds ?? 0, 'overheadSeconds');

  const quantile = erlangQuantile(k, percentile / 100);
  // the same expression as predict(), so that the reported prediction is the one compared here
  const secondsAt = (steps: number): number => overhead + quantile * (expectedHashes(thresholdForSteps(steps)) / rate);
  const minSteps = PROTOCOL_MIN_DIFFICULTY * DIFFICULTY_STEPS;
  const maxSteps = PROTOCOL_MAX_DIFFICULTY * DIFFICULTY_STEPS;

  let steps: number;
  let clamped: 'min' | 'max' | undefined;
  if (target < secondsAt(minSteps)) {
    steps = minSteps;
    clamped = 'min';
  } else if (target > secondsAt(maxSteps)) {
    steps = maxSteps;
    clamped = 'max';
  } else {
    // secondsAt never falls as steps rise (the threshold never rises): find the first step at
    // or above the target, then take the step below if it is closer.
    let lo = minSteps;
    let hi = maxSteps;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (secondsAt(mid) >= target) hi = mid;
      else lo = mid + 1;
    }
    steps = lo;
    if (steps > minSteps && target - secondsAt(steps - 1) < secondsAt(steps) - target) steps -= 1;
  }

  const threshold = thresholdForSteps(steps);
  const reported = DEFAULT_PERCENTILES.includes(percentile) ? DEFAULT_PERCENTILES : [...DEFAULT_PERCENTILES, percentile].sort((a, b) => a - b);
  return {
    difficulty: steps / DIFFICULTY_STEPS,
    threshold,
    thresholdHex: thresholdHex(threshold),
    expectedHashes: expectedHashes(threshold),
    predicted: predict(threshold, k, rate, overhead, reported),
    clamped,
  };
}

// ---------------------------------------------------------------------------------------------
// Percentiles of measured solve times

/** The answer of {@link quantileInterval}. */
export interface QuantileInterval {
  /** The sample quantile (linear interpolation, type 7). */
  estimate: number;
  /** The lower bound: an order statistic, or -Infinity when no finite bound reaches the confidence. */
  lower: number;
  /** The upper bound: an order statistic, or Infinity when no finite bound reaches the confidence. */
  upper: number;
  /**
   * The exact coverage P(lower <= true quantile <= upper) of these ranks for a continuous
   * distribution: at least the confidence asked for (up to rounding, 1e-12 relative of 1 - confidence).
   */
  confidence: number;
  /** The number of samples. */
  n: number;
}

/**
 * A percentile of a sample, with a distribution-free confidence interval for the true one.
 *
 * The estimate is the linear-interpolation sample quantile (Hyndman and Fan's type 7, the
 * default of R and NumPy): with the samples sorted as x_1 <= ... <= x_n and h = (n - 1) q,
 * x_{floor(h)+1} + (h - floor(h)) (x_{floor(h)+2} - x_{floor(h)+1}).
 *
 * The interval is [x_l, x_u] for ranks l < u, with x_0 = -Infinity and x_{n+1} = Infinity.
 * For any continuous distribution its coverage is P(l <= B <= u - 1) with B ~ Binomial(n, q),
 * whatever the distribution (for a discrete one it is at least that). Of all rank pairs whose
 * coverage reaches `confidence`, it takes the narrowest (smallest u - l), then the one whose two
 * tail probabilities are closest to equal, then the one with the higher coverage, then the lower
 * ranks. When the sample is too small for a finite bound on a side (for example p99 of 100
 * samples at 95%: P(B = 100) = 0.366 alone exceeds 5%), that side is -Infinity or Infinity.
 *
 * @param samples the measurements: a non-empty array (or typed array) of finite numbers, in any
 *   order; it is copied, never mutated
 * @param percentile which percentile, a number strictly between 0 and 100
 * @param confidence the coverage wanted, strictly between 0 and 1; default 0.95
 * @returns `{ estimate, lower, upper, confidence, n }`
 * @throws PowgateError `ERR_INVALID_ARGUMENT` for bad samples, percentile or confidence
 */
export function quantileInterval(samples: ArrayLike<number>, percentile: number, confidence = 0.95): QuantileInterval {
  const isList = Array.isArray(samples) || (ArrayBuffer.isView(samples) && !(samples instanceof DataView));
  if (!isList || samples.length === 0) throw invalid('a non-empty array of numbers', 'samples', samples);
  const n = samples.length;
  const sorted = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const value = samples[i];
    if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid('a finite number', `samples[${i}]`, value);
    sorted[i] = value;
  }
  sorted.sort();
  const q = checkPercentile(percentile, 'percentile') / 100;
  checkOpenUnit(confidence, 'confidence');

  const h = (n - 1) * q;
  const below = Math.floor(h);
  const estimate = below + 1 < n ? sorted[below]! + (h - below) * (sorted[below + 1]! - sorted[below]!) : sorted[n - 1]!;

  // lowTail[l] = P(B < l), highTail[u] = P(B >= u), each summed from its own end.
  const pmf = new Float64Array(n + 1);
  for (let i = 0; i <= n; i++) pmf[i] = binomialPmf(i, n, q);
  const lowTail = new Float64Array(n + 2);
  for (let l = 1; l <= n + 1; l++) lowTail[l] = lowTail[l - 1]! + pmf[l - 1]!;
  const highTail = new Float64Array(n + 2);
  for (let u = n; u >= 0; u--) highTail[u] = highTail[u + 1]! + pmf[u]!;

  // 1 - confidence, plus a little for rounding, so that a coverage exactly equal to the
  // confidence (one sample, p10, 90%) counts as reaching it
  const alpha = (1 - confidence) * (1 + 1e-12);
  let best = { l: 0, u: n + 1, width: n + 1, imbalance: 0, miss: 0 };
  let u = 1;
  for (let l = 0; l <= n && lowTail[l]! <= alpha; l++) {
    if (u < l + 1) u = l + 1;
    while (highTail[u]! > alpha - lowTail[l]!) u++; // ends by n + 1, where highTail is 0
    const width = u - l;
    const imbalance = Math.abs(lowTail[l]! - highTail[u]!);
    const miss = lowTail[l]! + highTail[u]!;
    if (width < best.width || (width === best.width && (imbalance < best.imbalance || (imbalance === best.imbalance && miss < best.miss)))) {
      best = { l, u, width, imbalance, miss };
    }
  }
  return {
    estimate,
    lower: best.l === 0 ? -Infinity : sorted[best.l - 1]!,
    upper: best.u === n + 1 ? Infinity : sorted[best.u - 1]!,
    confidence: 1 - best.miss,
    n,
  };
}

// ---------------------------------------------------------------------------------------------
// Private: tails and quantile iterations

/** ln P(k, x) for 0 < x < k: pois(k; x) * sum_{m>=0} x^m / ((k+1)...(k+m)); every term positive, ratios < 1. */
function logLowerSeries(k: number, x: number): number {
  let term = 1;
  let sum = 1;
  for (let m = 1; ; m++) {
    term *= x / (k + m);
    const next = sum + term;
    if (next === sum) break;
    sum = next;
  }
  return logPoisson(k, x) + Math.log(sum);
}

/** ln Q(k, x) for x >= k > 0: pois(k-1; x) * sum_{m=0}^{k-1} (k-1)...(k-m) / x^m; every term positive, ratios < 1. */
function logUpperSum(k: number, x: number): number {
  let term = 1;
  let sum = 1;
  for (let m = 1; m < k; m++) {
    term *= (k - m) / x;
    const next = sum + term;
    if (next === sum) break;
    sum = next;
  }
  return logPoisson(k - 1, x) + Math.log(sum);
}

/** [ln P(k, x), ln Q(k, x)] for a finite x > 0: the tail on x's side of k summed, the other its complement (>= 0.36). */
function logTails(k: number, x: number): [number, number] {
  if (x < k) {
    const lower = logLowerSeries(k, x);
    return [lower, Math.log1p(-Math.exp(lower))];
  }
  const upper = logUpperSum(k, x);
  return [Math.log1p(-Math.exp(upper)), upper];
}

/**
 * The x > 0 with ln P(k, x) = logTarget (logTarget <= ln 0.5). u -> ln P(k, e^u) is concave
 * and increasing, so Newton's method in u started left of the root climbs to it without
 * overshooting. The start (q k!)^(1/k) is left of the root because P(k, x) <= x^k / k!.
 */
function solveLowerTail(k: number, logTarget: number): number {
  const start = Math.exp((logTarget + logFactorial(k)) / k);
  return newtonInLogX(k, start, (x) => {
    const [lower] = logTails(k, x);
    return [lower - logTarget, lower];
  });
}

/**
 * The x > 0 with ln Q(k, x) = logTarget (logTarget < ln 0.5). u -> -ln Q(k, e^u) is convex
 * and increasing, so Newton's method in u started right of the root descends to it without
 * overshooting. The start is right of the root by the Chernoff bound
 * Q(k, k r) <= exp(-k (r - 1 - ln r)), with r - 1 - ln r >= c for r = 1 + c + sqrt(c^2 + 2c).
 */
function solveUpperTail(k: number, logTarget: number): number {
  const c = -logTarget / k;
  const start = k * (1 + c + Math.sqrt(c * c + 2 * c));
  return newtonInLogX(k, start, (x) => {
    const [, upper] = logTails(k, x);
    return [logTarget - upper, upper];
  });
}

/**
 * Newton's method on an increasing f(ln x), whose slope is x * density(x) / tail(x), kept
 * inside the bracket it has seen (bisecting in log x when a step would leave it).
 * `evaluate` returns [f, ln tail].
 */
function newtonInLogX(k: number, start: number, evaluate: (x: number) => [number, number]): number {
  let x = start;
  let lo = 0;
  let hi = Infinity;
  for (let iteration = 0; iteration < 200; iteration++) {
    const [f, logTail] = evaluate(x);
    if (f === 0) return x;
    if (f < 0) lo = x;
    else hi = x;
    const slope = Math.exp(Math.log(x) + logPoisson(k - 1, x) - logTail);
    const step = -f / slope;
    let next = x * Math.exp(step);
    if (!(next > lo && next < hi)) {
      if (hi === Infinity) next = lo * 2;
      else if (lo === 0) next = hi / 2;
      else next = Math.sqrt(lo) * Math.sqrt(hi);
      if (!(next > lo && next < hi)) return x; // the bracket is two adjacent doubles
    } else if (Math.abs(step) <= 1e-15) {
      return next;
    }
    x = next;
  }
  return x;
}

// ---------------------------------------------------------------------------------------------
// Private: Poisson and binomial probabilities (Loader, "Fast and accurate computation of
// binomial probabilities", 2000)

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/** stirlerr(n) = ln(n!) - ln(sqrt(2 pi n) (n/e)^n) for n = 0..15 (n = 0 is unused). */
const STIRLING_ERRORS = [
  0, 0.081061466795327258219670264, 0.041340695955409294093822081, 0.0276779256849983391487892927, 0.020790672103765093111522771, 0.0166446911898211921631948653,
  0.013876128823070747998745727, 0.0118967099458917700950557241, 0.010411265261972096497478567, 0.0092554621827127329177286366, 0.008330563433362871256469318,
  0.0075736754879518407949720242, 0.006942840107209529865664152, 0.006408994188004207068439631, 0.005951370112758847735624416, 0.0055547335519628013710386899,
];

/** ln(n!) - ln(sqrt(2 pi n) (n/e)^n) for an integer n >= 1. */
function stirlingError(n: number): number {
  if (n <= 15) return STIRLING_ERRORS[n]!;
  const nn = n * n;
  const s0 = 1 / 12;
  const s1 = 1 / 360;
  const s2 = 1 / 1260;
  const s3 = 1 / 1680;
  const s4 = 1 / 1188;
  if (n > 500) return (s0 - s1 / nn) / n;
  if (n > 80) return (s0 - (s1 - s2 / nn) / nn) / n;
  if (n > 35) return (s0 - (s1 - (s2 - s3 / nn) / nn) / nn) / n;
  return (s0 - (s1 - (s2 - (s3 - s4 / nn) / nn) / nn) / nn) / n;
}

/** x ln(x / m) + m - x, the deviance term, without cancellation when x is near m (x, m > 0). */
function deviance(x: number, m: number): number {
  if (Math.abs(x - m) < 0.1 * (x + m)) {
    let v = (x - m) / (x + m);
    let sum = (x - m) * v;
    let term = 2 * x * v;
    v *= v;
    for (let j = 1; j < 1000; j++) {
      term *= v;
      const next = sum + term / (2 * j + 1);
      if (next === sum) break;
      sum = next;
    }
    return sum;
  }
  const ratio = x / m;
  const logRatio = ratio > 0 && ratio < Infinity ? Math.log(ratio) : Math.log(x) - Math.log(m);
  return x * logRatio + m - x;
}

/** ln(n!) for an integer n >= 1. */
function logFactorial(n: number): number {
  return stirlingError(n) + LOG_SQRT_2PI + 0.5 * Math.log(n) + n * Math.log(n) - n;
}

/** ln(e^-lambda lambda^n / n!) for an integer n >= 0 and a finite lambda > 0. */
function logPoisson(n: number, lambda: number): number {
  if (n === 0) return -lambda;
  return -stirlingError(n) - deviance(n, lambda) - LOG_SQRT_2PI - 0.5 * Math.log(n);
}

/** P(B = x) for B ~ Binomial(n, p), 0 < p < 1, an integer x from 0 to n. */
function binomialPmf(x: number, n: number, p: number): number {
  if (x === 0) return Math.exp(n * Math.log1p(-p));
  if (x === n) return Math.exp(n * Math.log(p));
  const q = 1 - p;
  const lc = stirlingError(n) - stirlingError(x) - stirlingError(n - x) - deviance(x, n * p) - deviance(n - x, n * q);
  return Math.exp(lc) * Math.sqrt(n / (2 * Math.PI * x * (n - x)));
}

// ---------------------------------------------------------------------------------------------
// Private: exact arithmetic for geometric ties

/**
 * Whether (1 - p)^n <= 1 - q exactly, for the exact values of the doubles p and q in (0, 1);
 * undefined when that would take more than 2^17-bit integers.
 */
function survivalAtMost(p: number, n: number, q: number): boolean | undefined {
  const [pn, pBits] = dyadic(p);
  const [qn, qBits] = dyadic(q);
  if (pBits * n > 2 ** 17) return undefined;
  const one = 1n << BigInt(pBits);
  // (2^e - a)^n / 2^(e n) <= (2^f - b) / 2^f  <=>  (2^e - a)^n * 2^f <= (2^f - b) * 2^(e n)
  return ((one - pn) ** BigInt(n)) << BigInt(qBits) <= ((1n << BigInt(qBits)) - qn) << BigInt(pBits * n);
}

/** A finite double x > 0 as its exact value a / 2^e: [a, e]. */
function dyadic(x: number): [bigint, number] {
  let e = 0;
  while (!Number.isInteger(x)) {
    x *= 2; // exact: only the exponent changes
    e++;
  }
  return [BigInt(x), e];
}

// ---------------------------------------------------------------------------------------------
// Private: option checks

function checkObject(value: unknown, what: string): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid('an object', what, value);
}

function checkOpenUnit(value: unknown, what: string): number {
  if (typeof value !== 'number' || !(value > 0 && value < 1)) throw invalid('a number strictly between 0 and 1', what, value);
  return value;
}

function checkPercentile(value: unknown, what: string): number {
  if (typeof value !== 'number' || !(value > 0 && value < 100)) throw invalid('a number strictly between 0 and 100', what, value);
  return value;
}

function checkPositive(value: unknown, what: string): number {
  if (typeof value !== 'number' || !(value > 0 && value < Infinity)) throw invalid('a finite number greater than 0', what, value);
  return value;
}

function checkNonNegative(value: unknown, what: string): number {
  if (typeof value !== 'number' || !(value >= 0 && value < Infinity)) throw invalid('a finite number >= 0', what, value);
  return value;
}
