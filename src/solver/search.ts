import type { Sha256Backend } from '../backend/types.js';
import { WORK_MESSAGE_BYTES, WORK_PREFIX_BYTES } from '../protocol/work.js';

/**
 * Searches nonces in chunks through a backend's batch hashing: the messages
 * share their prefix, so only the nonce words change between chunks.
 * Chunks never cross a 2^32 boundary (the chunk size divides 2^32), so the
 * nonce's high word is fixed within one.
 */
export class ChunkSearcher {
  private readonly data: Uint8Array;
  private readonly view: DataView;
  private readonly digests: Uint8Array;
  private readonly digestView: DataView;

  constructor(
    private readonly backend: Sha256Backend,
    prefix: Uint8Array,
    readonly chunk: number,
  ) {
    this.data = new Uint8Array(chunk * WORK_MESSAGE_BYTES);
    for (let i = 0; i < chunk; i++) this.data.set(prefix, i * WORK_MESSAGE_BYTES);
    this.view = new DataView(this.data.buffer);
    this.digests = new Uint8Array(chunk * 32);
    this.digestView = new DataView(this.digests.buffer);
  }

  /** Tries nonces hi:lo .. hi:lo+chunk-1; returns the low word of the first below the threshold, or -1. */
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

/** Nonces per chunk: about a millisecond of work, so that a stop is seen promptly. */
export function chunkSize(backend: Sha256Backend): number {
  if (backend.name !== 'native') return backend.name === 'wasm' ? 512 : 256;
  return backend.isa === 'scalar' ? 2048 : 8192;
}
