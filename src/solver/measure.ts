import { availableParallelism } from 'node:os';
import { randomBytes } from 'node:crypto';
import { backendInfo, loadBackend } from '../backend/loader.js';
import type { BackendName, NativeIsa, Sha256Backend } from '../backend/types.js';
import { PowgateError } from '../errors.js';
import { checkInteger, describe } from '../validate.js';
import { WORKER_KERNELS } from '../backend/nonce-searcher.js';
import { engineFor } from './solve.js';

/** Options of {@link measureHashRate}. */
export interface MeasureHashRateOptions {
  /** Which solver to time. Default: the serving backend (see backendInfo()). */
  backend?: BackendName;
  /** For `native`, the kernel. Default: `POWGATE_ISA`, else the CPU's best. */
  isa?: NativeIsa;
  /** Solver threads. Default: os.availableParallelism(). */
  threads?: number;
  /** How long to hash, in ms from 200 to 600,000, counted from the first hashes (start-up excluded). Default 1,000. */
  durationMs?: number;
  /** Stops the measurement: it rejects with `ERR_ABORTED`. */
  signal?: AbortSignal;
}

/** A measured hash rate. */
export interface HashRate {
  /** SHA-256 nonce trials per second, all threads together. */
  hashesPerSecond: number;
  /** Hashes counted over the timed span. */
  hashes: number;
  /** The timed span: from a tenth of the duration after the first hashes were counted to the end. */
  seconds: number;
  threads: number;
  backend: BackendName;
  /** The kernel: a native ISA, `wasm-simd128` or `node:crypto`. */
  isa: string;
}

/** Below this threshold a hash qualifies with probability 2^-64: the search never ends by itself. */
const UNREACHABLE_THRESHOLD = 1n;
/** Solver threads or workers that count nothing for this long are broken. */
const STARTUP_LIMIT_MS = 10_000;

/**
 * Times the solver itself (the same engine and threads `solve()` uses) on a
 * search that cannot succeed, from its own progress counts: so the rate is
 * what a real solve gets, pool and threads included.
 */
export async function measureHashRate(options: MeasureHashRateOptions = {}): Promise<HashRate> {
  if (typeof options !== 'object' || options === null) {
    throw new PowgateError('ERR_INVALID_ARGUMENT', `expected an options object but received ${describe(options)}`);
  }
  const threads = checkInteger(options.threads ?? availableParallelism(), 'threads', 1, 256);
  const durationMs = checkInteger(options.durationMs ?? 1_000, 'durationMs', 200, 600_000);
  const solver = await solverBackend(options);
  return measureWith(solver, threads, durationMs, options.signal);
}

/** measureHashRate() on a loaded backend. */
export async function measureWith(solver: Sha256Backend, threads: number, durationMs: number, signal: AbortSignal | undefined): Promise<HashRate> {
  checkInteger(threads, 'threads', 1, 256);
  checkInteger(durationMs, 'durationMs', 200, 600_000);
  if (signal?.aborted) return Promise.reject(new PowgateError('ERR_ABORTED', 'measureHashRate() was aborted', { cause: signal.reason }));

  const samples: { at: number; hashes: number }[] = [];
  return new Promise<HashRate>((resolve, reject) => {
    let running: { cancel(): void } | undefined;
    let settled = false;
    const settle = (error?: PowgateError) => {
      if (settled) return;
      settled = true;
      running?.cancel();
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (error) return reject(error);
      try {
        resolve({ ...rateFrom(samples, durationMs / 10), threads, backend: solver.name, isa: kernelName(solver) });
      } catch (failure) {
        reject(failure);
      }
    };
    const onAbort = () => settle(new PowgateError('ERR_ABORTED', 'measureHashRate() was aborted', { cause: signal!.reason }));
    signal?.addEventListener('abort', onAbort, { once: true });
    // The clock starts at the first hashes counted: thread or worker start-up is not hashing.
    let timer = setTimeout(() => settle(new PowgateError('ERR_SOLVER_FAILED', `the solver counted no hashes in ${STARTUP_LIMIT_MS} ms`)), STARTUP_LIMIT_MS);
    engineFor(solver)(
      { prefixes: [randomBytes(40)], threshold: UNREACHABLE_THRESHOLD, threads },
      {
        onHashes: (hashes) => {
          // Counts move a chunk at a time: a repeated count carries no new timing.
          if (hashes === 0 || hashes === samples.at(-1)?.hashes) return;
          if (samples.length === 0) {
            clearTimeout(timer);
            timer = setTimeout(() => settle(), durationMs);
          }
          samples.push({ at: performance.now(), hashes });
        },
        onDone: () => settle(new PowgateError('ERR_SOLVER_FAILED', 'a hash met a threshold of 1: the solver is broken')),
        onError: (error) => settle(error),
      },
    ).then(
      (search) => (settled ? search.cancel() : (running = search)),
      (error: Error) => settle(new PowgateError('ERR_SOLVER_FAILED', `the solver did not start: ${error.message}`, { cause: error })),
    );
  });
}

/** The backend `options` name (checked; default the serving one), loaded: for native, with the kernel `isa`. */
export async function solverBackend(options: Pick<MeasureHashRateOptions, 'backend' | 'isa'>): Promise<Sha256Backend> {
  const { backend, isa } = options;
  if (backend !== undefined && !['native', 'wasm', 'js'].includes(backend)) {
    throw new PowgateError('ERR_INVALID_ARGUMENT', `expected native, wasm or js for backend but received ${describe(backend)}`);
  }
  const name = backend ?? backendInfo().backend;
  if (isa !== undefined && name !== 'native') {
    throw new PowgateError('ERR_INVALID_ARGUMENT', `an isa applies only to the native backend, not to ${name}`);
  }
  // loadBackend checks the kernel against this CPU (ERR_ISA_UNSUPPORTED).
  return loadBackend(name, { isa });
}

/** The kernel that searches nonces: the backend's own when it has solver threads, else the workers'. */
function kernelName(solver: Sha256Backend): string {
  return typeof solver.createSearchEngine === 'function' ? solver.isa : WORKER_KERNELS[solver.name as keyof typeof WORKER_KERNELS];
}

/** The rate between the first progress count after the warm-up (ms after the first count) and the last one. */
function rateFrom(samples: readonly { at: number; hashes: number }[], warmUpMs: number): Pick<HashRate, 'hashesPerSecond' | 'hashes' | 'seconds'> {
  const first = samples.find((s) => s.at >= samples[0]!.at + warmUpMs);
  const last = samples.at(-1);
  if (!first || !last || last.at - first.at <= 0) {
    throw new PowgateError('ERR_SOLVER_FAILED', 'the solver reported too little progress to time: try a longer durationMs');
  }
  const seconds = (last.at - first.at) / 1000;
  const hashes = last.hashes - first.hashes;
  return { hashesPerSecond: hashes / seconds, hashes, seconds };
}
