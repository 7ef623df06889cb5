// A solver thread: loads its backend once, then searches whatever job it is sent
// until it finds a nonce or the job's generation is bumped.
import { parentPort, workerData } from 'node:worker_threads';
import { loadBackend } from '../backend/loader.js';
import type { SearchJob, WorkerData, WorkerReply } from './messages.js';
import { ChunkSearcher, chunkSize } from './search.js';

const { spec, index, control } = workerData as WorkerData;
const shared = new Int32Array(control);
const port = parentPort!;
const post = (reply: WorkerReply) => port.postMessage(reply);

loadBackend(spec.name, spec.isa ? { isa: spec.isa } : {}).then(
  (backend) => {
    const chunk = chunkSize(backend);
    post({ type: 'ready', chunk });
    port.on('message', (job: SearchJob) => {
      const searcher = new ChunkSearcher(backend, job.prefix, chunk);
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
