/** Which backend a solver thread searches with (native has its own C++ threads). */
export interface BackendSpec {
  name: 'wasm' | 'js';
}

/** Shared memory: [0] the current job's generation (bumped to stop), then one chunk counter per worker. */
export interface WorkerData {
  spec: BackendSpec;
  index: number;
  control: SharedArrayBuffer;
}

/** Main to worker: search one sub-puzzle, taking chunks index, index + stride, ... */
export interface SearchJob {
  generation: number;
  prefix: Uint8Array;
  thresholdHi: number;
  thresholdLo: number;
  stride: number;
}

/** Worker to main. */
export type WorkerReply =
  | { type: 'ready'; chunk: number }
  | { type: 'found'; generation: number; hi: number; lo: number }
  | { type: 'exhausted'; generation: number }
  | { type: 'error'; message: string };
