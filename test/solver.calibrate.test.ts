// measureHashRate() and calibrate() as library calls: shapes, cancellation, refusals. No speed is asserted.
import { describe, expect, it } from 'vitest';
import { calibrate, measureHashRate, predictSolveSeconds } from '../src/index.js';
import { loadNativeAddon } from '../src/backend/native.js';
import { expectedHashes, thresholdForSteps } from '../src/protocol/difficulty.js';

const native = (() => {
  try {
    loadNativeAddon();
    return true;
  } catch {
    return false;
  }
})();

describe('measureHashRate', () => {
  it.each([['wasm', undefined, 'wasm-simd128'], ['js', undefined, 'node:crypto'], ...(native ? [['native', 'scalar', 'scalar'] as const] : [])] as const)(
    'times the %s solver',
    async (backend, isa, kernel) => {
      const rate = await measureHashRate({ backend, isa, threads: 1, durationMs: 600 });
      expect(rate).toMatchObject({ backend, isa: kernel, threads: 1 });
      expect(rate.hashes).toBeGreaterThan(0);
      expect(rate.seconds).toBeGreaterThan(0);
      expect(rate.seconds).toBeLessThan(0.6);
      expect(rate.hashesPerSecond).toBe(rate.hashes / rate.seconds);
    },
  );

  it('rejects with ERR_ABORTED when aborted, before or during', async () => {
    await expect(measureHashRate({ signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    const started = performance.now();
    await expect(measureHashRate({ backend: 'wasm', durationMs: 60_000, signal: AbortSignal.timeout(300) })).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it.each([
    [{ threads: 0 }, /threads/],
    [{ durationMs: 100 }, /durationMs/],
    [{ backend: 'gpu' }, /backend/],
    [{ backend: 'wasm', isa: 'avx2' }, /isa applies only to the native backend/],
  ])('refuses %j with ERR_INVALID_ARGUMENT', async (options, message) => {
    await expect(measureHashRate(options as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringMatching(message) });
  });
});

describe('calibrate', () => {
  it('recommends the difficulty whose predicted percentile is the target, for the measured rate', async () => {
    const c = await calibrate({ targetSeconds: 0.02, percentile: 99, subPuzzles: 3, backend: 'wasm', threads: 1, durationMs: 1_000 });
    expect(c).toMatchObject({ targetSeconds: 0.02, percentile: 99, subPuzzles: 3, rate: { backend: 'wasm', threads: 1 } });
    expect(BigInt(c.threshold)).toBe(thresholdForSteps(c.difficulty * 65536));
    expect(c.expectedHashes).toBe(expectedHashes(BigInt(c.threshold)));
    // The prediction is the model's for this rate and overhead: recomputed independently here.
    const again = predictSolveSeconds({ threshold: BigInt(c.threshold), subPuzzles: 3, hashesPerSecond: c.rate.hashesPerSecond, overheadSeconds: c.overheadSeconds }, [50, 90, 99]);
    expect(c.predicted.percentiles).toEqual(again.percentiles);
    expect(c.predicted.percentiles[99]).toBeCloseTo(0.02, 4);
    expect(c.overheadSeconds).toBeGreaterThan(0);
    expect(c.onePuzzle.predicted.percentiles[99]).toBeCloseTo(0.02, 4);
    // Plain JSON: nothing is lost (or thrown, as a bigint would) in a round trip.
    expect(JSON.parse(JSON.stringify(c))).toEqual(c);
  });

  it.each([
    [{ targetSeconds: 0 }, /targetSeconds/],
    [{ targetSeconds: NaN }, /targetSeconds/],
    [{ targetSeconds: 1, percentile: 100 }, /percentile/],
    [{ targetSeconds: 1, subPuzzles: 65 }, /subPuzzles/],
    [{ targetSeconds: 1, threads: 1.5 }, /threads/],
  ])('refuses %j with ERR_INVALID_ARGUMENT before measuring', async (options, message) => {
    const started = performance.now();
    await expect(calibrate(options as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringMatching(message) });
    expect(performance.now() - started).toBeLessThan(1_000); // measuring takes 2 s
  });
});
