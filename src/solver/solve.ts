import { availableParallelism } from 'node:os';
import { getBackend, readyBackend } from '../backend/loader.js';
import type { SearchEngine } from '../backend/search-engine.js';
import type { Sha256Backend } from '../backend/types.js';
import { PowgateError } from '../errors.js';
import { parseChallenge, type Challenge } from '../protocol/challenge.js';
import type { Solution } from '../protocol/solution.js';
import { nonceHex, workPrefix } from '../protocol/work.js';
import { checkInteger, describe, invalid } from '../validate.js';
import { workerEngine } from './worker-engine.js';

/** What `onProgress` receives, at most about ten times a second. */
export interface SolveProgress {
  /** Hashes tried so far, all threads and sub-puzzles together. */
  hashes: number;
  /** Hashes per second since the start. */
  hashesPerSecond: number;
  elapsedMs: number;
}

/** Options of {@link solve}. */
export interface SolveOptions {
  /** Solver threads. Default: os.availableParallelism(). */
  threads?: number;
  /** Cancels the solve: it rejects with `ERR_ABORTED`. */
  signal?: AbortSignal;
  /** Rejects with `ERR_TIMEOUT` after this many ms, from 0 to 2^31 - 1. Default 300,000 (5 minutes). */
  timeoutMs?: number;
  /**
   * Most work accepted, in bits: the challenge's difficulty plus log2 of its sub-puzzles
   * (log2 of the hashes expected in all). A harder challenge is refused with
   * `ERR_DIFFICULTY_TOO_HIGH` before any work. From 1 to 70. Default 40, the verifiers' default highest difficulty.
   */
  maxDifficulty?: number;
  /** Called with progress, at most about ten times a second. */
  onProgress?: (progress: SolveProgress) => void;
  /** Solve with this backend (from `loadBackend`). Default: the serving backend. */
  backend?: Sha256Backend;
}

const PROGRESS_INTERVAL_MS = 100;
// Defaults that keep a hostile challenge from pinning every core for long.
export const DEFAULT_SOLVE_TIMEOUT_MS = 300_000;
const DEFAULT_SOLVE_MAX_DIFFICULTY = 40;
const MAX_THREADS = 256;

/**
 * Finds one nonce per sub-puzzle, on the native solver threads or, for the
 * wasm and js backends, on worker threads; the event loop stays free.
 * Throws `ERR_MALFORMED_CHALLENGE` for a challenge that is not the protocol's,
 * `ERR_DIFFICULTY_TOO_HIGH` for one over `maxDifficulty`, `ERR_ABORTED` or `ERR_TIMEOUT` when stopped.
 */
export async function solve(challenge: Challenge, options: SolveOptions = {}): Promise<Solution> {
  const parsed = parseChallenge(challenge);
  if (!parsed) throw new PowgateError('ERR_MALFORMED_CHALLENGE', 'expected a powgate challenge (docs/PROTOCOL.md) but received something else');
  const threads = checkInteger(options.threads ?? availableParallelism(), 'threads', 1, MAX_THREADS);
  const timeoutMs = checkInteger(options.timeoutMs ?? DEFAULT_SOLVE_TIMEOUT_MS, 'timeoutMs', 0, 2 ** 31 - 1);
  const maxDifficulty = options.maxDifficulty ?? DEFAULT_SOLVE_MAX_DIFFICULTY;
  if (typeof maxDifficulty !== 'number' || !(maxDifficulty >= 1 && maxDifficulty <= 70)) throw invalid('a number from 1 to 70', 'maxDifficulty', maxDifficulty);
  const work = parsed.json.difficulty + Math.log2(parsed.json.subPuzzles);
  if (work > maxDifficulty) {
    throw new PowgateError(
      'ERR_DIFFICULTY_TOO_HIGH',
      `the challenge asks for ${work.toFixed(2)} bits of work (difficulty ${parsed.json.difficulty}, ${parsed.json.subPuzzles} sub-puzzles), over maxDifficulty ${maxDifficulty}`,
    );
  }
  const { signal, onProgress } = options;
  if (onProgress !== undefined && typeof onProgress !== 'function') {
    throw new PowgateError('ERR_INVALID_ARGUMENT', `expected a function for onProgress but received ${describe(onProgress)}`);
  }
  const engine = engineFor(options.backend ?? readyBackend() ?? (await getBackend()));
  if (signal?.aborted) throw aborted(signal);

  const started = performance.now();
  const prefixes = Array.from({ length: parsed.json.subPuzzles }, (_, j) => workPrefix(parsed.signature, j));
  return new Promise<Solution>((resolve, reject) => {
    let settled = false;
    let running: { cancel(): void } | undefined;
    let lastReport = started;
    const settle = (error?: PowgateError, nonces?: bigint[]) => {
      if (settled) return;
      settled = true;
      running?.cancel();
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (error) return reject(error);
      resolve({ v: 1, id: parsed.json.id, nonces: nonces!.map(nonceHex), elapsedMs: Math.round(performance.now() - started) });
    };
    const onAbort = () => settle(aborted(signal!));
    signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => settle(new PowgateError('ERR_TIMEOUT', `solve() ran past its timeoutMs of ${timeoutMs}`)), timeoutMs);

    engine(
      { prefixes, threshold: parsed.threshold, threads },
      {
        onHashes: (hashes) => {
          const now = performance.now();
          if (settled || !onProgress || now - lastReport < PROGRESS_INTERVAL_MS * 0.9) return;
          lastReport = now;
          const elapsedMs = now - started;
          onProgress({ hashes, hashesPerSecond: (hashes / elapsedMs) * 1000, elapsedMs });
        },
        onDone: (nonces) => settle(undefined, nonces),
        onError: (error) => settle(error),
      },
    ).then(
      (search) => (settled ? search.cancel() : (running = search)),
      (error: Error) => settle(new PowgateError('ERR_SOLVER_FAILED', `the solver did not start: ${error.message}`, { cause: error })),
    );
  });
}

/** The backend's own solver threads when it has them (native), else worker threads running its kernel. */
export function engineFor(backend: Sha256Backend): SearchEngine {
  if (typeof backend !== 'object' || backend === null) throw notABackend(backend);
  if (typeof backend.createSearchEngine === 'function') return backend.createSearchEngine();
  if (backend.name === 'wasm' || backend.name === 'js') return workerEngine({ name: backend.name });
  throw notABackend(backend);
}

function notABackend(backend: unknown): PowgateError {
  return new PowgateError('ERR_INVALID_ARGUMENT', `expected a backend from loadBackend() for backend but received ${describe(backend)}`);
}

function aborted(signal: AbortSignal): PowgateError {
  return new PowgateError('ERR_ABORTED', 'solve() was aborted', { cause: signal.reason });
}
