// Calibration maths: the Erlang and geometric distributions against closed forms and an exact
// rational reference, the difficulty recommendation against its own prediction, and the
// predictions and confidence intervals against seeded simulation.
import { describe, expect, it } from 'vitest';
import {
  MAX_ERLANG_SHAPE,
  erlangCdf,
  erlangQuantile,
  geometricQuantile,
  predictSolveSeconds,
  quantileInterval,
  recommendDifficulty,
  type RecommendDifficultyOptions,
} from '../src/solver/calibration-model.js';
import { DIFFICULTY_STEPS, difficultySteps, expectedHashes, thresholdForSteps, thresholdHex } from '../src/protocol/difficulty.js';
import { expectCode } from './helpers/errors.js';
import { SEED, rng } from './helpers/random.js';

console.info(`calibration tests: seed ${SEED} (POWGATE_TEST_SEED=${SEED} replays)`);

// --- exact references ------------------------------------------------------------------------

/** A double as an exact fraction num / 2^m. */
function dyadic(x: number): [bigint, bigint] {
  let m = 0;
  let v = x;
  while (!Number.isInteger(v)) {
    v *= 2;
    m++;
  }
  return [BigInt(v), 1n << BigInt(m)];
}

/** a / b as the nearest double or so (0 < a <= b), also when it is far below 2^-1022 * b. */
function ratio(a: bigint, b: bigint): number {
  if (a === 0n) return 0;
  const shift = 64 + b.toString(2).length - a.toString(2).length;
  const r = Number((a << BigInt(shift)) / b);
  return r * 2 ** -Math.min(shift, 1000) * 2 ** -Math.max(shift - 1000, 0);
}

/**
 * P(Gamma(k) <= x) and P(Gamma(k) > x) as P(Poisson(x) >= k) and P(Poisson(x) < k): the
 * terms x^i / i! in 1100-bit fixed point, x exact; no exp, no log, no gamma function.
 */
function referenceTails(k: number, x: number): { lower: number; upper: number } {
  const [num, den] = dyadic(x);
  let term = 1n << 1100n;
  let below = 0n;
  let above = 0n;
  for (let i = 0; ; i++) {
    if (i > 0) term = (term * num) / (den * BigInt(i));
    if (i < k) below += term;
    else above += term;
    // past 2x the ratio of terms is below 1/2, so the rest sums to less than this term
    if ((i >= k && i > 2 * x && term < above >> 64n) || term === 0n) break;
  }
  return { lower: ratio(above, below + above), upper: ratio(below, below + above) };
}

function relativeError(got: number, want: number): number {
  return want === 0 ? Math.abs(got) : Math.abs(got - want) / Math.abs(want);
}

const Q_GRID = [5e-324, 1e-300, 1e-100, 1e-20, 1e-8, 1e-3, 0.01, 0.05, 0.1, 0.25, 0.5, 0.5000001, 0.75, 0.9, 0.99, 0.999, 1 - 1e-6, 1 - 1e-12, 1 - 2 ** -53];

// --- Erlang ----------------------------------------------------------------------------------

describe('erlangCdf and erlangQuantile', () => {
  it('k = 1 is the exponential distribution: cdf 1 - e^-x, quantile -ln(1 - q)', () => {
    for (const x of [1e-300, 1e-12, 1e-3, 0.1, 0.5, 1, 2, 10, 36, 700]) {
      // a tail of 1e-300 is exp() of a log near -690, whose rounding is a few hundred ulp
      expect(relativeError(erlangCdf(1, x), -Math.expm1(-x)), `x = ${x}`).toBeLessThan(x < 1e-10 ? 1e-13 : 1e-14);
    }
    for (const q of Q_GRID) {
      if (q < 1e-300) continue; // -log1p(-q) is exact there too, but the check below would divide by ~0
      expect(relativeError(erlangQuantile(1, q), -Math.log1p(-q)), `q = ${q}`).toBeLessThan(1e-13);
    }
  });

  it('k = 2 is 1 - e^-x (1 + x), including its small-x series x^2/2 - x^3/3 + x^4/8', () => {
    for (const x of [0.5, 1, 1.5, 2, 3, 5, 10, 20, 30]) {
      expect(Math.abs(erlangCdf(2, x) - (1 - Math.exp(-x) * (1 + x))), `x = ${x}`).toBeLessThan(3e-16);
    }
    for (const x of [1e-150, 1e-8, 1e-4]) {
      const series = (x * x) / 2 - (x * x * x) / 3 + (x * x * x * x) / 8;
      expect(relativeError(erlangCdf(2, x), series), `x = ${x}`).toBeLessThan(1e-12);
    }
  });

  it('agrees with an exact rational reference in the body and far into the lower tail', () => {
    for (const k of [1, 2, 8, 64, 1000]) {
      for (const f of [0.3, 0.5, 0.8, 0.95, 1, 1.05, 1.2, 1.5, 2, 4]) {
        const x = k * f;
        const { lower } = referenceTails(k, x);
        if (lower < 1e-300) continue;
        // the tails carry exp() of logs as large as ~700, whose rounding is ~700 ulp
        const tolerance = lower > 1e-10 ? 1e-13 : 3e-13;
        expect(relativeError(erlangCdf(k, x), lower), `k = ${k}, x = ${x}`).toBeLessThan(tolerance);
      }
    }
  });

  it("gives the reference's quantiles to 1e-12 relative (the reference brackets q at x(1 -+ 1e-12))", () => {
    const cases: Array<[number, number]> = [];
    for (const k of [1, 2, 8, 64, 1000]) for (const q of [1e-300, 1e-20, 0.01, 0.1, 0.5, 0.9, 0.99, 1 - 1e-9, 1 - 2 ** -53]) cases.push([k, q]);
    for (const [k, q] of cases) {
      const x = erlangQuantile(k, q);
      const below = referenceTails(k, x * (1 - 1e-12));
      const above = referenceTails(k, x * (1 + 1e-12));
      if (q <= 0.5) {
        expect(below.lower < q && q < above.lower, `k = ${k}, q = ${q}: P(${x}) brackets`).toBe(true);
      } else {
        // the upper tail, 1 - q, which is exact for q >= 1/2
        expect(below.upper > 1 - q && 1 - q > above.upper, `k = ${k}, q = ${q}: Q(${x}) brackets`).toBe(true);
      }
    }
  });

  it('cdf(quantile(q)) = q on a grid, for k from 1 to 2^20', () => {
    for (const k of [1, 2, 3, 8, 17, 64, 1000, 1024, 2 ** 20]) {
      // large k loses ~sqrt(k) ulp to the rounding of x itself
      const tolerance = k <= 1024 ? 3e-13 : 3e-11;
      for (const q of Q_GRID) {
        const x = erlangQuantile(k, q);
        expect(x > 0 && Number.isFinite(x), `k = ${k}, q = ${q}`).toBe(true);
        const back = erlangCdf(k, x);
        const error = q <= 0.5 ? relativeError(back, q) : Math.abs(back - q) / Math.max(1 - q, 2 ** -52);
        expect(error, `k = ${k}, q = ${q}, x = ${x}`).toBeLessThan(tolerance);
      }
    }
  });

  it('quantiles rise with q and with k; the median is near k - 1/3', () => {
    for (const k of [1, 8, 64, 1024]) {
      let previous = 0;
      for (const q of Q_GRID) {
        const x = erlangQuantile(k, q);
        expect(x, `k = ${k}, q = ${q}`).toBeGreaterThan(previous);
        previous = x;
      }
      expect(erlangQuantile(k + 1, 0.9)).toBeGreaterThan(erlangQuantile(k, 0.9));
      if (k >= 8) expect(Math.abs(erlangQuantile(k, 0.5) - (k - 1 / 3))).toBeLessThan(0.01);
    }
  });

  it('stays in [0, 1], never falls, and has no NaN in the far tails', () => {
    expect(erlangCdf(5, 0)).toBe(0);
    expect(erlangCdf(5, -3)).toBe(0);
    expect(erlangCdf(5, -Infinity)).toBe(0);
    expect(erlangCdf(5, Infinity)).toBe(1);
    expect(erlangCdf(1, 1e300)).toBe(1);
    expect(erlangCdf(1, 5e-324)).toBe(5e-324);
    for (const k of [1, 2, 64, 1024, MAX_ERLANG_SHAPE]) {
      let previous = 0;
      for (let e = -300; e <= 300; e += 2) {
        const x = k * 10 ** (e / 100);
        const p = erlangCdf(k, x);
        expect(p >= 0 && p <= 1, `k = ${k}, x = ${x}: ${p}`).toBe(true);
        expect(p, `k = ${k}, x = ${x}`).toBeGreaterThanOrEqual(previous);
        previous = p;
      }
      expect(previous).toBe(1);
    }
  });

  it('refuses a bad k, x or q with ERR_INVALID_ARGUMENT', () => {
    for (const k of [0, -1, 1.5, NaN, Infinity, MAX_ERLANG_SHAPE + 1, '2' as unknown as number]) {
      expectCode(() => erlangCdf(k, 1), 'ERR_INVALID_ARGUMENT', /^expected an integer from 1 to 16777216 for k but received /);
      expectCode(() => erlangQuantile(k, 0.5), 'ERR_INVALID_ARGUMENT', /for k but received/);
    }
    for (const x of [NaN, '1' as unknown as number, undefined as unknown as number]) {
      expectCode(() => erlangCdf(2, x), 'ERR_INVALID_ARGUMENT', /^expected a number for x but received /);
    }
    for (const q of [0, 1, -0.5, 1.5, NaN, '0.5' as unknown as number]) {
      expectCode(() => erlangQuantile(2, q), 'ERR_INVALID_ARGUMENT', /^expected a number strictly between 0 and 1 for q but received /);
    }
  });
});

// --- geometric -------------------------------------------------------------------------------

describe('geometricQuantile', () => {
  /** P(N <= n) >= q, decided exactly: (1 - p)^n <= 1 - q over the doubles' exact fractions. */
  function reaches(p: number, q: number, n: number): boolean {
    const [pn, pd] = dyadic(p);
    const [qn, qd] = dyadic(q);
    return (pd - pn) ** BigInt(n) * qd <= (qd - qn) * pd ** BigInt(n);
  }

  it('is the smallest n with P(N <= n) >= q, decided in exact rational arithmetic', () => {
    const next = rng(SEED ^ 0x6e0);
    for (const p of [0.9, 0.7, 0.5, 1 / 3, 0.3, 0.1, 0.05]) {
      const qs = [1e-9, 0.01, 0.1, 0.5, 0.9, 0.99, 0.999, ...Array.from({ length: 20 }, () => next() || 0.5)];
      // q exactly on a step: P(N <= n) = q, so n itself must be the answer
      if (p === 0.5) qs.push(0.5, 0.75, 0.875, 1 - 2 ** -10, 1 - 2 ** -40);
      for (const q of qs) {
        const n = geometricQuantile(p, q);
        expect(Number.isInteger(n) && n >= 1, `p = ${p}, q = ${q}`).toBe(true);
        expect(reaches(p, q, n), `p = ${p}, q = ${q}: n = ${n} reaches q`).toBe(true);
        if (n > 1) expect(reaches(p, q, n - 1), `p = ${p}, q = ${q}: n - 1 = ${n - 1} does not`).toBe(false);
      }
    }
    // q exactly on a step for many n, where ln(1 - q) / ln(1 - p) rounds to either side of n
    for (const survival of [0.5, 0.25, 0.75, 0.125, 0.875, 0.5 + 2 ** -10]) {
      const p = 1 - survival;
      const [odd] = dyadic(survival);
      let power = 1;
      for (let n = 1; n <= 80; n++) {
        power *= survival;
        const q = 1 - power;
        // skip steps that are not doubles: survival^n inexact, or 1 - q rounded
        if (odd ** BigInt(n) >= 2n ** 53n || !(q < 1) || 1 - q !== power) continue;
        expect(geometricQuantile(p, q), `p = ${p}, q = 1 - ${survival}^${n}`).toBe(n);
        const above = q + 2 ** -53; // the next double or so
        if (above < 1) expect(geometricQuantile(p, above), `p = ${p}, just above 1 - ${survival}^${n}`).toBe(n + 1);
      }
    }
    expect(geometricQuantile(0.5, 0.75)).toBe(2);
    expect(geometricQuantile(0.5, 0.875)).toBe(3);
    expect(geometricQuantile(0.5, 0.5)).toBe(1);
  });

  it('matches direct summation of the pmf', () => {
    const next = rng(SEED ^ 0x6e1);
    for (const p of [0.2, 0.01, 0.001]) {
      for (let trial = 0; trial < 20; trial++) {
        const q = 0.001 + 0.998 * next();
        let n = 1;
        let cdf = p;
        let mass = p;
        while (cdf < q) {
          mass *= 1 - p;
          cdf += mass;
          n++;
        }
        expect(geometricQuantile(p, q), `p = ${p}, q = ${q}`).toBe(n);
      }
    }
  });

  it('for tiny p is the exponential limit ceil(-ln(1 - q) / p), where 1 - p rounds to 1', () => {
    for (const p of [1e-9, 1e-12, 2 ** -40, 2 ** -53, 2 ** -64]) {
      for (const q of [1e-6, 0.1, 0.5, 0.9, 0.99, 1 - 1e-9]) {
        const n = geometricQuantile(p, q);
        expect(Number.isFinite(n), `p = ${p}, q = ${q}`).toBe(true);
        // ln(1 - p) = -p (1 + p/2 + ...): within p of the limit, before rounding up
        const limit = -Math.log1p(-q) / p;
        expect(n, `p = ${p}, q = ${q}`).toBeGreaterThanOrEqual(limit * (1 - 1e-8));
        expect(n, `p = ${p}, q = ${q}`).toBeLessThan(limit * (1 + 1e-8) + 1);
      }
    }
    expect(geometricQuantile(2 ** -64, 0.5)).toBe(Math.LN2 * 2 ** 64);
  });

  it('p = 1 always gives 1, and so does a small q', () => {
    for (const q of [1e-300, 0.5, 1 - 2 ** -53]) expect(geometricQuantile(1, q)).toBe(1);
    expect(geometricQuantile(0.5, 1e-9)).toBe(1);
  });

  it('refuses a bad p or q with ERR_INVALID_ARGUMENT', () => {
    for (const p of [0, -0.1, 1.0000001, NaN, '0.5' as unknown as number]) {
      expectCode(() => geometricQuantile(p, 0.5), 'ERR_INVALID_ARGUMENT', /^expected a number greater than 0 and at most 1 for p but received /);
    }
    for (const q of [0, 1, NaN]) expectCode(() => geometricQuantile(0.5, q), 'ERR_INVALID_ARGUMENT', /for q but received/);
  });
});

// --- predictions -----------------------------------------------------------------------------

describe('predictSolveSeconds', () => {
  it('matches the closed forms: mean k 2^d / R, exponential percentiles for k = 1', () => {
    const threshold = thresholdForSteps(20 * DIFFICULTY_STEPS); // 2^44: 2^20 hashes on average
    const one = predictSolveSeconds({ threshold, hashesPerSecond: 1e6, overheadSeconds: 0.25 });
    expect(one.mean).toBeCloseTo(0.25 + 2 ** 20 / 1e6, 12);
    expect(Object.keys(one.percentiles).sort()).toEqual(['50', '90', '99']);
    for (const p of [50, 90, 99]) expect(relativeError(one.percentiles[p]!, 0.25 + (-Math.log1p(-p / 100) * 2 ** 20) / 1e6)).toBeLessThan(1e-14);

    const eight = predictSolveSeconds({ threshold, subPuzzles: 8, hashesPerSecond: 1e6 }, [25, 99.9]);
    expect(eight.mean).toBeCloseTo((8 * 2 ** 20) / 1e6, 12);
    expect(Object.keys(eight.percentiles).sort()).toEqual(['25', '99.9']);
    expect(relativeError(eight.percentiles[99.9]!, (erlangQuantile(8, 99.9 / 100) * 2 ** 20) / 1e6)).toBeLessThan(1e-15);
    expect(eight.percentiles[25]).toBeLessThan(eight.mean);
    // with k, the spread relative to the mean narrows as 1/sqrt(k)
    const wide = predictSolveSeconds({ threshold, hashesPerSecond: 1e6 }, [10, 90]);
    const narrow = predictSolveSeconds({ threshold, subPuzzles: 64, hashesPerSecond: 1e6 }, [10, 90]);
    const spread = (r: typeof wide): number => (r.percentiles[90]! - r.percentiles[10]!) / r.mean;
    expect(spread(narrow)).toBeLessThan(spread(wide) / 4);
  });

  it('refuses bad options with ERR_INVALID_ARGUMENT', () => {
    const good = { threshold: 1n << 40n, hashesPerSecond: 1e6 };
    expectCode(() => predictSolveSeconds(null as never), 'ERR_INVALID_ARGUMENT', /^expected an object for model but received null$/);
    for (const threshold of [0n, (1n << 64n) + 1n, 5 as unknown as bigint, undefined as unknown as bigint]) {
      expectCode(() => predictSolveSeconds({ ...good, threshold }), 'ERR_INVALID_ARGUMENT', /^expected a bigint from 1n to 2n \*\* 64n for threshold but received /);
    }
    for (const subPuzzles of [0, 65, 1.5, NaN]) {
      expectCode(() => predictSolveSeconds({ ...good, subPuzzles }), 'ERR_INVALID_ARGUMENT', /^expected an integer from 1 to 64 for subPuzzles but received /);
    }
    for (const hashesPerSecond of [0, -1, NaN, Infinity]) {
      expectCode(() => predictSolveSeconds({ ...good, hashesPerSecond }), 'ERR_INVALID_ARGUMENT', /^expected a finite number greater than 0 for hashesPerSecond/);
    }
    for (const overheadSeconds of [-0.001, NaN, Infinity]) {
      expectCode(() => predictSolveSeconds({ ...good, overheadSeconds }), 'ERR_INVALID_ARGUMENT', /^expected a finite number >= 0 for overheadSeconds/);
    }
    for (const p of [0, 100, NaN, -5]) {
      expectCode(() => predictSolveSeconds(good, [50, p]), 'ERR_INVALID_ARGUMENT', /^expected a number strictly between 0 and 100 for percentiles\[1\] but received /);
    }
    expectCode(() => predictSolveSeconds(good, 50 as never), 'ERR_INVALID_ARGUMENT', /for percentiles but received the number 50/);
  });
});

// --- recommendation --------------------------------------------------------------------------

describe('recommendDifficulty', () => {
  function predictedAt(steps: number, options: RecommendDifficultyOptions): number {
    const percentile = options.percentile ?? 50;
    const { percentiles } = predictSolveSeconds({ ...options, threshold: thresholdForSteps(steps) }, [percentile]);
    return percentiles[percentile]!;
  }

  it('puts the chosen percentile on the target, to within half a 1/65536-bit step, and no neighbour step is closer', () => {
    let checked = 0;
    let clamped = 0;
    for (const hashesPerSecond of [1e3, 5e6, 3.2e9]) {
      for (const targetSeconds of [0.05, 2, 30, 600]) {
        for (const percentile of [12.5, 50, 90, 99]) {
          for (const subPuzzles of [1, 4, 64]) {
            for (const overheadSeconds of [0, 0.01]) {
              const options = { hashesPerSecond, targetSeconds, percentile, subPuzzles, overheadSeconds };
              const r = recommendDifficulty(options);
              const where = JSON.stringify(options);
              if (r.clamped !== undefined) {
                // 64 sub-puzzles at 1,000 hashes per second: even difficulty 1 is slower than 50 ms
                expect(r, where).toMatchObject({ clamped: 'min', difficulty: 1 });
                expect(predictedAt(DIFFICULTY_STEPS, options), where).toBeGreaterThan(targetSeconds);
                clamped++;
                continue;
              }
              const steps = r.difficulty * DIFFICULTY_STEPS;
              expect(Number.isInteger(steps), where).toBe(true);
              expect(difficultySteps(r.difficulty)).toBe(steps);
              expect(r.threshold).toBe(thresholdForSteps(steps));
              expect(r.thresholdHex).toBe(thresholdHex(r.threshold));
              expect(r.expectedHashes).toBe(expectedHashes(r.threshold));
              const got = r.predicted.percentiles[percentile]!;
              expect(got).toBe(predictedAt(steps, options));
              // one step changes the time by 2^(1/65536) - 1 = 1.06e-5 (of its work part)
              expect(relativeError(got, targetSeconds), where).toBeLessThan(5.3e-6);
              expect(Math.abs(got - targetSeconds)).toBeLessThanOrEqual(Math.abs(predictedAt(steps - 1, options) - targetSeconds));
              expect(Math.abs(got - targetSeconds)).toBeLessThanOrEqual(Math.abs(predictedAt(steps + 1, options) - targetSeconds));
              expect(
                Object.keys(r.predicted.percentiles)
                  .map(Number)
                  .sort((a, b) => a - b),
              ).toEqual([...new Set([50, 90, 99, percentile])].sort((a, b) => a - b));
              checked++;
            }
          }
        }
      }
    }
    expect(checked + clamped).toBe(288);
    expect(clamped).toBeLessThan(10);
  });

  it('for k = 1 at the median is log2(target R / ln 2)', () => {
    for (const [hashesPerSecond, targetSeconds] of [
      [1e6, 1],
      [2.5e7, 5],
      [4e9, 0.3],
    ] as const) {
      const r = recommendDifficulty({ hashesPerSecond, targetSeconds });
      expect(Math.abs(r.difficulty - Math.log2((targetSeconds * hashesPerSecond) / Math.LN2))).toBeLessThanOrEqual(0.5 / DIFFICULTY_STEPS + 1e-12);
    }
    // a higher percentile for the same target means less work; more sub-puzzles at the same
    // median mean about log2(k) fewer bits each
    const median = recommendDifficulty({ hashesPerSecond: 1e7, targetSeconds: 10 });
    expect(recommendDifficulty({ hashesPerSecond: 1e7, targetSeconds: 10, percentile: 99 }).difficulty).toBeLessThan(median.difficulty);
    // 16 sub-puzzles with the same median: each needs 1/x16 of the time, x16 = 15.67 the Erlang median
    const k16 = recommendDifficulty({ hashesPerSecond: 1e7, targetSeconds: 10, subPuzzles: 16 });
    expect(Math.abs(median.difficulty - k16.difficulty - Math.log2(erlangQuantile(16, 0.5) / Math.LN2))).toBeLessThanOrEqual(1 / DIFFICULTY_STEPS);
  });

  it('clamps to difficulty 1 and 64 and says so', () => {
    const low = recommendDifficulty({ hashesPerSecond: 1e6, targetSeconds: 1e-9 });
    expect(low).toMatchObject({ difficulty: 1, threshold: 1n << 63n, thresholdHex: '8000000000000000', expectedHashes: 2, clamped: 'min' });
    for (const targetSeconds of [0.5, 0.4999]) {
      expect(recommendDifficulty({ hashesPerSecond: 1e9, targetSeconds, overheadSeconds: 0.5 }).clamped, `target ${targetSeconds} <= overhead`).toBe('min');
    }
    const high = recommendDifficulty({ hashesPerSecond: 1e12, targetSeconds: 1e9 });
    expect(high).toMatchObject({ difficulty: 64, threshold: 1n, thresholdHex: '0000000000000001', clamped: 'max' });
    expect(high.predicted.percentiles[50]).toBeLessThan(1e9);
    // exactly on a bound: met, so not clamped
    const atOne = predictSolveSeconds({ threshold: 1n << 63n, hashesPerSecond: 1e6 }, [50]).percentiles[50]!;
    expect(recommendDifficulty({ hashesPerSecond: 1e6, targetSeconds: atOne })).toMatchObject({ difficulty: 1, clamped: undefined });
    expect(recommendDifficulty({ hashesPerSecond: 1e6, targetSeconds: atOne * 0.999 }).clamped).toBe('min');
    expect(recommendDifficulty({ hashesPerSecond: 1e6, targetSeconds: 1 }).clamped).toBeUndefined();
  });

  it('refuses bad options with ERR_INVALID_ARGUMENT', () => {
    const good = { hashesPerSecond: 1e6, targetSeconds: 5 };
    expectCode(() => recommendDifficulty(undefined as never), 'ERR_INVALID_ARGUMENT', /^expected an object for options but received undefined$/);
    for (const value of [NaN, -1, 0, Infinity, '5' as unknown as number]) {
      expectCode(
        () => recommendDifficulty({ ...good, hashesPerSecond: value }),
        'ERR_INVALID_ARGUMENT',
        /^expected a finite number greater than 0 for hashesPerSecond but received /,
      );
      expectCode(() => recommendDifficulty({ ...good, targetSeconds: value }), 'ERR_INVALID_ARGUMENT', /^expected a finite number greater than 0 for targetSeconds but received /);
    }
    for (const percentile of [0, 100, -1, 150, NaN]) {
      expectCode(() => recommendDifficulty({ ...good, percentile }), 'ERR_INVALID_ARGUMENT', /^expected a number strictly between 0 and 100 for percentile but received /);
    }
    for (const subPuzzles of [0, -1, 1.5, 65, NaN, '2' as unknown as number]) {
      expectCode(() => recommendDifficulty({ ...good, subPuzzles }), 'ERR_INVALID_ARGUMENT', /^expected an integer from 1 to 64 for subPuzzles but received /);
    }
    for (const overheadSeconds of [-1, NaN, Infinity]) {
      expectCode(() => recommendDifficulty({ ...good, overheadSeconds }), 'ERR_INVALID_ARGUMENT', /^expected a finite number >= 0 for overheadSeconds but received /);
    }
  });
});

// --- simulation ------------------------------------------------------------------------------

describe('predictions against seeded simulation', () => {
  it('the empirical p50/p90/p99 and mean of 20,000 simulated solves match, for k = 1 and k = 8', () => {
    const steps = difficultySteps(12.3456); // a fractional difficulty
    const threshold = thresholdForSteps(steps);
    const p = Number(threshold) / 2 ** 64;
    const perTrial = Math.log1p(-p);
    const draws = 20_000;
    for (const [subPuzzles, overheadSeconds] of [
      [1, 0],
      [8, 0.003],
    ] as const) {
      const hashesPerSecond = 2.5e6;
      const predicted = predictSolveSeconds({ threshold, subPuzzles, hashesPerSecond, overheadSeconds });
      const next = rng(SEED + subPuzzles);
      const times = new Float64Array(draws);
      for (let i = 0; i < draws; i++) {
        let hashes = 0;
        for (let j = 0; j < subPuzzles; j++) {
          // inverse transform: the geometric count is exactly ceil(ln U / ln(1 - p)), U in (0, 1]
          hashes += Math.max(1, Math.ceil(Math.log(1 - next()) / perTrial));
        }
        times[i] = overheadSeconds + hashes / hashesPerSecond;
      }
      const where = `k = ${subPuzzles}, seed ${SEED}`;
      for (const percentile of [50, 90, 99]) {
        const q = percentile / 100;
        const atOrBelow = times.filter((t) => t <= predicted.percentiles[percentile]!).length / draws;
        // the count at or below the true quantile is Binomial(n, q): allow 5 standard errors
        expect(Math.abs(atOrBelow - q), `${where}, p${percentile}`).toBeLessThan(5 * Math.sqrt((q * (1 - q)) / draws));
      }
      const mean = times.reduce((a, b) => a + b, 0) / draws;
      const sd = Math.sqrt(subPuzzles * (1 - p)) / p / hashesPerSecond; // of a sum of k geometric counts
      expect(Math.abs(mean - predicted.mean), `${where}, mean`).toBeLessThan((5 * sd) / Math.sqrt(draws));
    }
  });
});

// --- confidence intervals --------------------------------------------------------------------

describe('quantileInterval', () => {
  function shuffled(n: number, next: () => number): number[] {
    const values = Array.from({ length: n }, (_, i) => i + 1);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [values[i], values[j]] = [values[j]!, values[i]!];
    }
    return values;
  }

  it('estimates by linear interpolation (type 7), from a copy of the samples in any order', () => {
    expect(quantileInterval([5, 1, 4, 2, 3], 50).estimate).toBe(3);
    expect(quantileInterval([5, 1, 4, 2, 3], 25).estimate).toBe(2);
    expect(quantileInterval([5, 1, 4, 2, 3], 10).estimate).toBeCloseTo(1.4, 14);
    expect(quantileInterval([4, 3, 2, 1], 50).estimate).toBe(2.5);
    expect(quantileInterval([10, 1, 9, 2, 8, 3, 7, 4, 6, 5], 90).estimate).toBeCloseTo(9.1, 14);
    expect(quantileInterval([42], 50)).toEqual({ estimate: 42, lower: -Infinity, upper: Infinity, confidence: 1, n: 1 });
    // one sample is below the true p99 with probability 0.99
    expect(quantileInterval([42], 99)).toEqual({ estimate: 42, lower: 42, upper: Infinity, confidence: 0.99, n: 1 });
    const samples = [3, -1, 2.5, 10, 0];
    const copy = [...samples];
    const fromArray = quantileInterval(samples, 60, 0.8);
    expect(samples).toEqual(copy);
    expect(quantileInterval(Float64Array.from(samples), 60, 0.8)).toEqual(fromArray);
    expect(
      quantileInterval(
        [...samples].sort((a, b) => a - b),
        60,
        0.8,
      ),
    ).toEqual(fromArray);
  });

  it('takes the narrowest rank pair that reaches the confidence, then the best-balanced one, and reports its exact coverage', () => {
    const next = rng(SEED ^ 0x9a1);
    for (const n of [1, 2, 5, 6, 10, 20, 37, 100]) {
      for (const percentile of [10, 50, 90, 99]) {
        const [a, d] = dyadic(percentile / 100);
        // exact Binomial(n, a/d) masses, over the common denominator d^n
        const mass: bigint[] = [];
        let choose = 1n;
        for (let i = 0; i <= n; i++) {
          if (i > 0) choose = (choose * BigInt(n - i + 1)) / BigInt(i);
          mass.push(choose * a ** BigInt(i) * (d - a) ** BigInt(n - i));
        }
        const total = d ** BigInt(n);
        const prefix = [0n]; // prefix[l] = sum of mass[i < l]
        for (const m of mass) prefix.push(prefix[prefix.length - 1]! + m);
        // P(B < l) and P(B >= u), each rounded once from the exact sums
        const below = prefix.map((sum) => ratio(sum, total));
        const atOrAbove = prefix.map((sum) => ratio(total - sum, total));
        const imbalanceOf = (l: number, u: number): number => Math.abs(below[l]! - atOrAbove[u]!);
        for (const confidence of [0.9, 0.95, 0.99]) {
          const r = quantileInterval(shuffled(n, next), percentile, confidence);
          const l = r.lower === -Infinity ? 0 : r.lower;
          const u = r.upper === Infinity ? n + 1 : r.upper;
          const where = `n = ${n}, p${percentile}, ${confidence}: [${r.lower}, ${r.upper}]`;
          const coverage = 1 - below[l]! - atOrAbove[u]!; // P(l <= B <= u - 1)
          // a coverage equal to the confidence (n = 1, p10, 90%) reaches it, give or take rounding
          const reaches = (c: number): boolean => c >= confidence - 1e-12 * (1 - confidence);
          expect(reaches(coverage), `${where}: ${coverage}`).toBe(true);
          expect(Math.abs(r.confidence - coverage), where).toBeLessThan(1e-12);
          let narrowest = Infinity;
          let bestImbalance = Infinity;
          for (let lo = 0; lo <= n; lo++) {
            for (let hi = lo + 1; hi <= n + 1; hi++) {
              if (!reaches(1 - below[lo]! - atOrAbove[hi]!)) continue;
              const imbalance = imbalanceOf(lo, hi);
              if (hi - lo < narrowest) [narrowest, bestImbalance] = [hi - lo, imbalance];
              else if (hi - lo === narrowest) bestImbalance = Math.min(bestImbalance, imbalance);
            }
          }
          expect(u - l, where).toBe(narrowest);
          expect(imbalanceOf(l, u), where).toBeLessThanOrEqual(bestImbalance + 1e-12);
        }
      }
    }
  });

  it('has no finite upper side for p99 of 100 samples, nor any finite side for tiny samples', () => {
    const r = quantileInterval(
      Array.from({ length: 100 }, (_, i) => i + 1),
      99,
    );
    expect(r.upper).toBe(Infinity);
    expect(r.lower).toBe(97); // P(B >= 97) = 0.9816 for B ~ Binomial(100, 0.99)
    expect(r.confidence).toBeCloseTo(0.98162596, 7);
    expect(quantileInterval([1, 2, 3, 4, 5], 50)).toEqual({ estimate: 3, lower: -Infinity, upper: 5, confidence: 31 / 32, n: 5 });
    expect(quantileInterval([1, 2, 3, 4, 5, 6], 50)).toEqual({ estimate: 3.5, lower: 1, upper: 6, confidence: 62 / 64, n: 6 });
    expect(quantileInterval([7, 7], 50)).toMatchObject({ lower: -Infinity, upper: Infinity, confidence: 1 });
    // ties are allowed (the interval is then conservative)
    expect(
      quantileInterval(
        Array.from({ length: 50 }, () => 3),
        50,
      ),
    ).toMatchObject({ estimate: 3, lower: 3, upper: 3 });
  });

  it('covers the true p50 and p90 in about its stated share of 2,000 simulated experiments', () => {
    const next = rng(SEED ^ 0xc0e);
    const experiments = 2000;
    const n = 100;
    for (const percentile of [50, 90]) {
      const q = percentile / 100;
      const truth = -Math.log1p(-q); // unit exponential
      let covered = 0;
      let stated = 0;
      for (let e = 0; e < experiments; e++) {
        const samples = Array.from({ length: n }, () => -Math.log(1 - next()));
        const r = quantileInterval(samples, percentile);
        stated = r.confidence;
        if (r.lower <= truth && truth <= r.upper) covered++;
      }
      const share = covered / experiments;
      const where = `p${percentile}, seed ${SEED}: ${covered} of ${experiments}, stated ${stated}`;
      expect(share, where).toBeGreaterThanOrEqual(0.93);
      expect(share, where).toBeLessThanOrEqual(0.99);
      expect(Math.abs(share - stated), where).toBeLessThan(5 * Math.sqrt((stated * (1 - stated)) / experiments));
    }
  });

  it('handles a large sample: the interval is tight and its coverage just reaches the confidence', () => {
    const next = rng(SEED ^ 0x1a9);
    const r = quantileInterval(
      Array.from({ length: 100_000 }, () => next()),
      50,
      0.95,
    );
    expect(r.confidence).toBeGreaterThanOrEqual(0.95);
    expect(r.confidence).toBeLessThan(0.952);
    expect(r.upper - r.lower).toBeLessThan(0.01); // +-1.96 sqrt(n q (1 - q)) ranks of 100,000
    expect(r.lower).toBeLessThanOrEqual(r.estimate);
    expect(r.upper).toBeGreaterThanOrEqual(r.estimate);
  });

  it('refuses bad samples, percentile or confidence with ERR_INVALID_ARGUMENT', () => {
    expectCode(() => quantileInterval([], 50), 'ERR_INVALID_ARGUMENT', /^expected a non-empty array of numbers for samples but received an array of length 0$/);
    expectCode(() => quantileInterval('123' as never, 50), 'ERR_INVALID_ARGUMENT', /for samples but received a string/);
    expectCode(() => quantileInterval({ length: 1, 0: 1 } as never, 50), 'ERR_INVALID_ARGUMENT', /for samples but received an object/);
    expectCode(() => quantileInterval([1, NaN, 3], 50), 'ERR_INVALID_ARGUMENT', /^expected a finite number for samples\[1\] but received NaN$/);
    expectCode(() => quantileInterval([1, 2, Infinity], 50), 'ERR_INVALID_ARGUMENT', /for samples\[2\]/);
    expectCode(() => quantileInterval([1, 2, '3' as never], 50), 'ERR_INVALID_ARGUMENT', /for samples\[2\] but received a string/);
    for (const percentile of [0, 100, NaN]) expectCode(() => quantileInterval([1, 2], percentile), 'ERR_INVALID_ARGUMENT', /for percentile but received/);
    for (const confidence of [0, 1, NaN, 95]) {
      expectCode(() => quantileInterval([1, 2], 50, confidence), 'ERR_INVALID_ARGUMENT', /^expected a number strictly between 0 and 1 for confidence but received /);
    }
  });
});
