/**
 * A class of solver whose hash rate comes from a published figure, not from this machine.
 * `powgate calibrate` divides a difficulty's expected hashes by `hashesPerSecond` to show what the
 * difficulty costs that class. docs/SOLVERS.md gives each figure's source, what was measured, and
 * the arithmetic behind the derived rates.
 */
export interface ReferenceSolver {
  /** Short label for the calibrate output. It says whether the rate is for one core or the whole device. */
  name: string;
  /** SHA-256 attempts per second. Each attempt hashes one block, as powgate's 48-byte work message does. */
  hashesPerSecond: number;
  /** A short citation and the URL of the figure. */
  source: string;
  /** What was measured, how the rate was derived, and what to keep in mind when reading it. */
  note: string;
}

// Cap.js benchmarks solve 50 challenges of difficulty 4: 4 hex digits = 16 bits, so 2^16 expected
// hashes each, and 50 * 65,536 = 3,276,800 in all. The rate is that total divided by the mean time.
const CAP_BENCHMARK_HASHES = '3,276,800 expected hashes (50 challenges x 2^16)';
const CAP_OLD =
  'Cap.js benchmark, widget 0.1.25 / WASM 0.0.6 (table as of 2025-09-12) — https://github.com/tiagozip/cap/blob/ee1c9b2fe92c1f5d2569024891393d00cc14083c/docs/guide/benchmark.md';
const CAP_NEW = 'Cap.js benchmark, WASM 0.0.7 (undated) — https://github.com/tiagozip/cap/blob/04e990b377ff4862995cd2ebba57d1db2b90a958/docs/guide/benchmark.md';
const CAP_CAVEAT = 'The timing includes network round trips and worker start-up, so the rate is a lower bound.';

/**
 * Published SHA-256 proof-of-work rates for solvers other than this machine's native one, slowest
 * first. docs/SOLVERS.md explains every figure, its source and its caveats; keep the two in step.
 * Bitcoin ASICs have no entry: they compute double SHA-256 of an 80-byte header and cannot search
 * powgate's message (docs/SOLVERS.md says why).
 */
export const REFERENCE_SOLVERS: readonly ReferenceSolver[] = Object.freeze(
  [
    {
      name: 'desktop browser, WebCrypto (ALTCHA widget on a MacBook Pro M3 Pro)',
      hashesPerSecond: 303_000,
      source: 'ALTCHA docs, "Complexity", Performance Benchmarks (undated) — https://altcha.org/docs/complexity/',
      note: 'A challenge of complexity 100,000 took 0.33 s, so 100,000 / 0.33 s. The worker count is not stated. If the 0.33 s was for the mean 50,000 attempts, the rate is half this.',
    },
    {
      name: 'low-end phone browser (Samsung Galaxy A11, Chrome, Cap.js WASM, whole device)',
      hashesPerSecond: 715_000,
      source: CAP_OLD,
      note: `${CAP_BENCHMARK_HASHES} in 4.583 s. ${CAP_CAVEAT}`,
    },
    {
      name: 'desktop browser, one core (pure-JS SHA-256 in one Web Worker, Apple M4 Pro, Safari 26)',
      hashesPerSecond: 1_310_000,
      source: 'BaseSecrete/active_hashcash PR #16 (2026-03-26) — https://github.com/BaseSecrete/active_hashcash/pull/16',
      note: 'Measured about 1,314,655 hashes/s in one worker at 20 bits. The same PR measured about 1,073,236 for hash-wasm (WASM) and about 748,208 for batched WebCrypto.',
    },
    {
      name: 'low-end phone browser (Samsung Galaxy A34, Cap.js WASM, whole device)',
      hashesPerSecond: 4_120_000,
      source: CAP_NEW,
      note: `${CAP_BENCHMARK_HASHES} in 0.795 s. The browser is not named. ${CAP_CAVEAT}`,
    },
    {
      name: 'mid-range phone browser (Google Pixel 7, Cap.js WASM, whole device)',
      hashesPerSecond: 7_750_000,
      source: CAP_NEW,
      note: `${CAP_BENCHMARK_HASHES} in 0.423 s. The browser is not named. ${CAP_CAVEAT}`,
    },
    {
      name: 'laptop browser (Apple M3 MacBook, Cap.js WASM, whole device)',
      hashesPerSecond: 15_500_000,
      source: CAP_NEW,
      note: `${CAP_BENCHMARK_HASHES} in 0.212 s. The browser is not named. ${CAP_CAVEAT}`,
    },
    {
      name: 'consumer GPU (NVIDIA RTX 3090, hashcat -m 1400)',
      hashesPerSecond: 9_941_000_000,
      source: 'hashcat 6.1.1 -b, siseci/hashcat-benchmark-comparison issue #3 (2020-10-23) — https://github.com/siseci/hashcat-benchmark-comparison/issues/3',
      note: 'SHA2-256 of short passwords with the optimized kernel (OpenCL, one card, no overclock): 9941.0 MH/s. That is one compression per candidate, the same work as one powgate attempt.',
    },
    {
      name: 'consumer GPU (NVIDIA RTX 4090, hashcat -m 1400)',
      hashesPerSecond: 21_539_300_000,
      source: 'hashcat -b on an RTX 4090, PHCS-gh/Hashcat-benchmark — https://github.com/PHCS-gh/Hashcat-benchmark/blob/main/NVIDIA/Nvidia%20RTX%204090%2024%20GB%2C%20128MCU',
      note: 'SHA2-256 at 21539.3 MH/s (hashcat 6.2.3, driver 545.92, CUDA 12.3, stock clocks, -O -w 4). That is one compression per candidate, the same work as one powgate attempt.',
    },
  ].map((solver) => Object.freeze(solver)),
);
