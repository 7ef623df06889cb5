import { PowgateError } from '../errors.js';
import type { SearchEngine } from '../backend/search-engine.js';
import type { BackendSpec, WorkerReply } from './messages.js';
import { SolverPool } from './pool.js';

const PROGRESS_POLL_MS = 100;
let pool: SolverPool | undefined;
// The pool serves one solve at a time; others wait their turn here.
let queue: Promise<void> = Promise.resolve();

function takeTurn(): Promise<() => void> {
  let release!: () => void;
  const turn = new Promise<void>((resolve) => (release = resolve));
  const ahead = queue;
  queue = ahead.then(() => turn);
  return ahead.then(() => release);
}

/** Worker threads (wasm and js backends): sub-puzzles one after another, every thread on each. */
export function workerEngine(spec: BackendSpec): SearchEngine {
  return async ({ prefixes, threshold, threads }, events) => {
    const release = await takeTurn();
    pool ??= new SolverPool();
    try {
      await pool.prepare(spec, threads);
    } catch (error) {
      release();
      throw error;
    }
    const active = pool;
    const nonces: bigint[] = [];
    let hashesBefore = 0;
    let exhausted = 0;
    let stopped = false;
    let started = false; // until the first start(), the pool's counters are the last solve's
    const hashes = () => hashesBefore + (started ? active.chunksDone() * active.chunk : 0);
    const poll = setInterval(() => events.onHashes(hashes()), PROGRESS_POLL_MS);
    const stop = () => {
      if (stopped) return;
      stopped = true;
      clearInterval(poll);
      active.stop();
      release();
    };
    const fail = (message: string, cause?: unknown) => {
      stop();
      events.onError(new PowgateError('ERR_SOLVER_FAILED', message, { cause }));
    };

    const onReply = (reply: WorkerReply) => {
      if (reply.type === 'found') {
        active.stop();
        nonces.push((BigInt(reply.hi) << 32n) | BigInt(reply.lo));
        next();
      } else if (reply.type === 'exhausted' && ++exhausted === threads) {
        fail('the 64-bit nonce space was searched without a solution');
      } else if (reply.type === 'error') {
        fail(`a solver thread failed: ${reply.message}`);
      }
    };
    const next = () => {
      if (stopped) return;
      hashesBefore = hashes();
      if (nonces.length === prefixes.length) {
        stop();
        events.onHashes(hashesBefore);
        return events.onDone(nonces);
      }
      exhausted = 0;
      started = true;
      active.start(
        {
          prefix: prefixes[nonces.length]!,
          thresholdHi: Number(threshold >> 32n),
          thresholdLo: Number(threshold & 0xffffffffn),
        },
        onReply,
        (error) => fail(`a solver thread failed: ${error.message}`, error),
      );
    };
    next();
    return { cancel: stop };
  };
}
