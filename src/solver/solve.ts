import { availableParallelism } from 'node:os';
import { backendInfo } from '../backend/loader.js';
import type { NativeIsa, Sha256Backend } from '../backend/types.js';
import { PowgateError } from '../errors.js';
import { parseChallenge, type Challenge } from '../protocol/challenge.js';
import type { Solution } from '../protocol/solution.js';
import { nonceHex, workPrefix } from '../protocol/work.js';
import { checkInteger, describe } from '../validate.js';
import type { BackendSpec, WorkerReply } from './messages.js';
import { SolverPool } from './pool.js';

/** What `onProgress` receives, at most about ten times a second. */
export interface SolveProgress {
  /** Hashes tried so far, all threads and sub-puzzles together. */
  hashes: number;
  /** Hashes per second since the start. */
  hashesPerSecond: number;
  elapsedMs: number;
  /** Sub-puzzles solved so far. */
  solved: number;
}

/** Options of {@link solve}. */
export interface SolveOptions {
  /** Solver threads. Default: os.availableParallelism(). */
  threads?: number;
  /** Cancels the solve: it rejects with `ERR_ABORTED`. */
  signal?: AbortSignal;
  /** Rejects with `ERR_TIMEOUT` after this many ms. Default: no limit. */
  timeoutMs?: number;
  /** Called with progress, at most about ten times a second. */
  onProgress?: (progress: SolveProgress) => void;
  /** Hash with this backend (from `loadBackend`). Default: the serving backend. */
  backend?: Pick<Sha256Backend, 'name' | 'isa'>;
}

const PROGRESS_INTERVAL_MS = 100;
const MAX_THREADS = 256;
let pool: SolverPool | undefined;

/**
 * Finds one nonce per sub-puzzle on worker threads; the event loop stays free.
 * Throws `ERR_MALFORMED_CHALLENGE` for a challenge that is not the protocol's,
 * `ERR_ABORTED` or `ERR_TIMEOUT` when stopped.
 */
export async function solve(challenge: Challenge, options: SolveOptions = {}): Promise<Solution> {
  const parsed = parseChallenge(challenge);
  if (!parsed) throw new PowgateError('ERR_MALFORMED_CHALLENGE', 'expected a powgate challenge (docs/PROTOCOL.md) but received something else');
  const threads = checkInteger(options.threads ?? availableParallelism(), 'threads', 1, MAX_THREADS);
  if (options.timeoutMs !== undefined) checkInteger(options.timeoutMs, 'timeoutMs', 0, 2 ** 31 - 1);
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') {
    throw new PowgateError('ERR_INVALID_ARGUMENT', `expected a function for onProgress but received ${describe(options.onProgress)}`);
  }
  const { signal } = options;
  if (signal?.aborted) throw aborted(signal);

  const spec = backendSpec(options.backend);
  pool ??= new SolverPool();
  const started = performance.now();
  await pool.prepare(spec, threads);
  const active = pool;
  const nonces: bigint[] = [];
  let chunk = 0;

  return new Promise<Solution>((resolve, reject) => {
    let exhausted = 0;
    const finish = (error?: Error) => {
      active.stop();
      clearInterval(progressTimer);
      clearTimeout(timeoutTimer);
      signal?.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve({ v: 1, id: parsed.json.id, nonces: nonces.map(nonceHex), elapsedMs: Math.round(performance.now() - started) });
    };
    const onAbort = () => finish(aborted(signal!));
    signal?.addEventListener('abort', onAbort, { once: true });
    const timeoutTimer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => finish(new PowgateError('ERR_TIMEOUT', `solve() ran past its timeoutMs of ${options.timeoutMs}`)), options.timeoutMs);
    let hashesBefore = 0;
    const progress = () => {
      const elapsedMs = performance.now() - started;
      const hashes = hashesBefore + active.chunksDone() * chunk;
      options.onProgress?.({ hashes, hashesPerSecond: elapsedMs > 0 ? (hashes / elapsedMs) * 1000 : 0, elapsedMs, solved: nonces.length });
    };
    const progressTimer = options.onProgress ? setInterval(progress, PROGRESS_INTERVAL_MS) : undefined;

    const next = () => {
      if (nonces.length === parsed.json.subPuzzles) return finish();
      hashesBefore += active.chunksDone() * chunk;
      exhausted = 0;
      active.start(
        {
          prefix: workPrefix(parsed.signature, nonces.length),
          thresholdHi: Number(parsed.threshold >> 32n),
          thresholdLo: Number(parsed.threshold & 0xffffffffn),
        },
        onReply,
        (error) => finish(new PowgateError('ERR_SOLVER_FAILED', `a solver thread failed: ${error.message}`, { cause: error })),
      );
    };
    const onReply = (reply: WorkerReply) => {
      if (reply.type === 'found') {
        active.stop();
        nonces.push((BigInt(reply.hi) << 32n) | BigInt(reply.lo));
        next();
      } else if (reply.type === 'exhausted' && ++exhausted === threads) {
        finish(new PowgateError('ERR_SOLVER_FAILED', 'the 64-bit nonce space was searched without a solution'));
      } else if (reply.type === 'error') {
        finish(new PowgateError('ERR_SOLVER_FAILED', `a solver thread failed: ${reply.message}`));
      }
    };
    chunk = active.chunk;
    next();
  });
}

function backendSpec(backend: SolveOptions['backend']): BackendSpec {
  if (backend === undefined) {
    const info = backendInfo();
    return info.backend === 'native' ? { name: 'native', isa: info.isa as NativeIsa } : { name: info.backend };
  }
  if (typeof backend !== 'object' || backend === null || !['native', 'wasm', 'js'].includes(backend.name)) {
    throw new PowgateError('ERR_INVALID_ARGUMENT', `expected a backend from loadBackend() for backend but received ${describe(backend)}`);
  }
  return backend.name === 'native' ? { name: 'native', isa: backend.isa as NativeIsa } : { name: backend.name };
}

function aborted(signal: AbortSignal): PowgateError {
  return new PowgateError('ERR_ABORTED', 'solve() was aborted', { cause: signal.reason });
}
