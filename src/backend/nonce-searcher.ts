import { JsBackend } from './js.js';
import type { Sha256Backend } from './types.js';
import { WasmNonceSearcher } from './wasm-search.js';
import { WORK_MESSAGE_BYTES, WORK_PREFIX_BYTES } from '../wire.js';

/** The backends whose solver threads search in worker_threads (native runs its own pool). */
export type WorkerBackend = 'wasm' | 'js';

/** What a solver thread searches with. */
export interface NonceSearcher {
  /** Nonces per call: about a millisecond of work, so that a stop is seen promptly. A power of two. */
  readonly chunk: number;
  setPrefix(prefix: Uint8Array): void;
  /** Tries hi:lo .. hi:lo+chunk-1; the low word of the first nonce below the threshold, or -1. */
  search(hi: number, lo: number, thresholdHi: number, thresholdLo: number): number;
}

/**
 * Any backend's batch hashing: the messages share their prefix, so only the
 * nonce words change between calls. (The js backend; tests.)
 */
class BatchNonceSearcher implements NonceSearcher {
  private readonly data: Uint8Array;
  private readonly view: DataView;
  private readonly digests: Uint8Array;
  private readonly digestView: DataView;

  constructor(
    private readonly backend: Sha256Backend,
    readonly chunk: number,
  ) {
    this.data = new Uint8Array(chunk * WORK_MESSAGE_BYTES);
    this.view = new DataView(this.data.buffer);
    this.digests = new Uint8Array(chunk * 32);
    this.digestView = new DataView(this.digests.buffer);
  }

  setPrefix(prefix: Uint8Array): void {
    for (let i = 0; i < this.chunk; i++) this.data.set(prefix, i * WORK_MESSAGE_BYTES);
  }

  search(hi: number, lo: number, thresholdHi: number, thresholdLo: number): number {
    const { view, chunk } = this;
    for (let i = 0; i < chunk; i++) {
      view.setUint32(i * WORK_MESSAGE_BYTES + WORK_PREFIX_BYTES, hi);
      view.setUint32(i * WORK_MESSAGE_BYTES + WORK_PREFIX_BYTES + 4, lo + i);
    }
    this.backend.hashUniform(this.data, WORK_MESSAGE_BYTES, this.digests);
    const d = this.digestView;
    for (let i = 0; i < chunk; i++) {
      const h0 = d.getUint32(32 * i);
      if (h0 < thresholdHi || (h0 === thresholdHi && d.getUint32(32 * i + 4) < thresholdLo)) return lo + i;
    }
    return -1;
  }
}

/** The kernel solver threads search with, by backend: reported as a hash rate's `isa`. */
export const WORKER_KERNELS: Record<WorkerBackend, string> = { wasm: 'wasm-simd128', js: 'node:crypto' };

/** Our WebAssembly kernel (wasm/sha256_search.c) for the wasm backend; node:crypto for js. */
export async function createNonceSearcher(spec: { name: WorkerBackend }): Promise<NonceSearcher> {
  if (spec.name === 'js') return new BatchNonceSearcher(new JsBackend(), 256);
  const kernel = await WasmNonceSearcher.create();
  const chunk = 8192;
  return {
    chunk,
    setPrefix: (prefix) => kernel.setPrefix(prefix),
    search: (hi, lo, thresholdHi, thresholdLo) => kernel.search(hi, lo, chunk, thresholdHi, thresholdLo),
  };
}
