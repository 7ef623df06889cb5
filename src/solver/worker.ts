// A solver thread (wasm and js backends): makes its searcher once, then
// searches whatever job it is sent until it finds a nonce or the job's
// generation is bumped.
import { parentPort, workerData } from 'node:worker_threads';
import type { SearchJob, WorkerData, WorkerReply } from './messages.js';
import { createNonceSearcher } from '../backend/nonce-searcher.js';

const { spec, index, control } = workerData as WorkerData;
const shared = new Int32Array(control);
const port = parentPort!;
const post = (reply: WorkerReply) => port.postMessage(reply);

createNonceSearcher(spec).then(
  (searcher) => {
    const { chunk } = searcher;
    post({ type: 'ready', chunk });
    port.on('message', (job: SearchJob) => {
      searcher.setPrefix(job.prefix);
      const chunksPerWord = 2 ** 32 / chunk;
      // Chunk c covers nonces c * chunk .. (c + 1) * chunk - 1 of the 64-bit space.
      for (let c = index; ; c += job.stride) {
        if (Atomics.load(shared, 0) !== job.generation) return;
        const hi = Math.floor(c / chunksPerWord);
        if (hi > 0xffffffff) return post({ type: 'exhausted', generation: job.generation });
        const lo = (c % chunksPerWord) * chunk;
        const found = searcher.search(hi, lo, job.thresholdHi, job.thresholdLo);
        Atomics.add(shared, 1 + index, 1);
        if (found >= 0) return post({ type: 'found', generation: job.generation, hi, lo: found });
      }
    });
  },
  (error: Error) => post({ type: 'error', message: error.message }),
);
