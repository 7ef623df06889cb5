// The hash rates prices are computed from: measured once, lazily, on the solver that will run.
import { backendInfo } from '../backend/loader.js';
import { measureHashRate } from '../solver/measure.js';
import { measureApertureRate } from './aperture-pow.js';

/**
 * How long the first pricing measures the solver, in ms. The native solver reports progress
 * every 100 ms, so measureHashRate's least (200 ms) often sees too few reports to time.
 */
const MEASURE_MS = 500;

const powRates = new Map<string, Promise<number>>();
let apertureRate: Promise<number> | undefined;

/** Forgets a failed measurement, so that the next pricing tries again. */
function cached(map: Map<string, Promise<number>>, key: string, measure: () => Promise<number>): Promise<number> {
  let rate = map.get(key);
  if (!rate) {
    rate = measure();
    map.set(key, rate);
    rate.catch(() => map.delete(key));
  }
  return rate;
}

/**
 * Hashes per second of one thread of the solver `solve()` uses (the serving backend), on
 * `threads` threads: measured once per backend and thread count in this process (about
 * 0.5 s, all threads busy), then cached. Rejects as measureHashRate does.
 */
export function solverRatePerThread(threads: number): Promise<number> {
  const backend = backendInfo().backend;
  return cached(powRates, `${backend}:${threads}`, async () => {
    // Once more, longer, if the solver reported too little progress to time (a loaded machine).
    const measured = await measureHashRate({ backend, threads, durationMs: MEASURE_MS }).catch(() => measureHashRate({ backend, threads, durationMs: 2 * MEASURE_MS }));
    return measured.hashesPerSecond / threads;
  });
}

/** Hashes per second of Aperture's dialect on one thread: measured once in this process (about 0.1 s), then cached. */
export function apertureRatePerThread(): Promise<number> {
  if (!apertureRate) {
    apertureRate = measureApertureRate();
    apertureRate.catch(() => (apertureRate = undefined));
  }
  return apertureRate;
}
