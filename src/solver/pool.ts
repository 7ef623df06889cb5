import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { packageInfo } from '../package-info.js';
import type { BackendSpec, SearchJob, WorkerData, WorkerReply } from './messages.js';

/** One solver thread. */
interface Thread {
  worker: Worker;
  /** Resolves with the thread's chunk size once its backend is loaded. */
  ready: Promise<number>;
}

/**
 * Solver threads kept between solves (starting one costs tens of ms), made
 * for one backend spec and thread count at a time. Idle threads are unref'd,
 * so that they never keep the process alive.
 */
export class SolverPool {
  readonly control = new SharedArrayBuffer(4 * 257);
  private readonly shared = new Int32Array(this.control);
  private threads: Thread[] = [];
  /** Nonces per chunk, as the threads reported it. */
  chunk = 0;
  private key = '';
  private listener: ((reply: WorkerReply) => void) | undefined;
  private failure: ((error: Error) => void) | undefined;

  /** Makes sure `count` threads for `spec` are running. */
  async prepare(spec: BackendSpec, count: number): Promise<void> {
    const key = `${spec.name}/${count}`;
    if (key !== this.key) {
      await this.close();
      this.key = key;
      const file = path.join(packageInfo().root, 'dist', 'solve-worker.cjs');
      this.threads = Array.from({ length: count }, (_, index) => {
        const data: WorkerData = { spec, index, control: this.control };
        const worker = new Worker(file, { workerData: data, execArgv: workerExecArgv() });
        const ready = new Promise<number>((resolve, reject) => {
          worker.once('message', (reply: WorkerReply) => (reply.type === 'ready' ? resolve(reply.chunk) : reject(new Error(reply.type === 'error' ? reply.message : 'no ready'))));
          worker.once('error', reject);
        });
        worker.on('message', (reply: WorkerReply) => reply.type !== 'ready' && this.listener?.(reply));
        worker.on('error', (error) => this.failure?.(error));
        return { worker, ready };
      });
    }
    try {
      this.chunk = (await Promise.all(this.threads.map((t) => t.ready)))[0] ?? 0;
      for (const { worker } of this.threads) worker.unref();
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  /** Chunks done so far in the current job, all threads together. */
  chunksDone(): number {
    let total = 0;
    for (let i = 0; i < this.threads.length; i++) total += Atomics.load(this.shared, 1 + i);
    return total;
  }

  /** Starts a job on every thread; replies go to `onReply` until {@link stop}. */
  start(job: Omit<SearchJob, 'generation' | 'stride'>, onReply: (reply: WorkerReply) => void, onFailure: (error: Error) => void): void {
    const generation = Atomics.add(this.shared, 0, 1) + 1;
    for (let i = 0; i < this.threads.length; i++) Atomics.store(this.shared, 1 + i, 0);
    this.listener = (reply) => ('generation' in reply && reply.generation !== generation ? undefined : onReply(reply));
    this.failure = onFailure;
    for (const { worker } of this.threads) {
      worker.ref();
      worker.postMessage({ ...job, generation, stride: this.threads.length } satisfies SearchJob);
    }
  }

  /** Stops the current job; threads notice within one chunk. */
  stop(): void {
    Atomics.add(this.shared, 0, 1);
    this.listener = undefined;
    this.failure = undefined;
    for (const { worker } of this.threads) worker.unref();
  }

  async close(): Promise<void> {
    this.stop();
    const threads = this.threads;
    this.threads = [];
    this.key = '';
    await Promise.all(threads.map((t) => t.worker.terminate()));
  }
}

/**
 * The parent's Node options, less `--input-type`: a worker inherits them, and Node refuses that
 * one outside `--eval`, so `node --input-type=module -e '...solve(...)'` would get no solver.
 */
function workerExecArgv(): string[] {
  const args: string[] = [];
  for (let i = 0; i < process.execArgv.length; i++) {
    const arg = process.execArgv[i]!;
    if (arg === '--input-type') i++;
    else if (!arg.startsWith('--input-type=')) args.push(arg);
  }
  return args;
}
