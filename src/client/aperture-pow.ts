// Aperture's proof of work: an 8-byte big-endian nonce such that SHA-256(token id || nonce)
// has `bits` leading zero bits. The backend's nonce search is built for powgate's 48-byte
// message (40-byte prefix, then the nonce) and cannot serve this 40-byte one, but its batch
// hashing can: equal-length messages through `hashUniform` (SIMD lanes on the native
// backend), in slices of a few ms on the calling thread, so the event loop keeps turning.
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { getBackend } from '../backend/loader.js';
import { PowgateError } from '../errors.js';
import type { SolveProgress } from '../solver/solve.js';

const MESSAGE_BYTES = 40;
const CHUNK = 4096;
const SLICE_MS = 8;
const PROGRESS_MS = 100;

/** Options of {@link solveAperturePow}. */
export interface AperturePowOptions {
  /** Cancels the search: it rejects with ERR_ABORTED. */
  signal?: AbortSignal;
  /** Called with progress, at most about ten times a second. */
  onProgress?: (progress: SolveProgress) => void;
}

/** A found nonce: 16 lowercase hex digits, and what finding it took. */
export interface AperturePowSolution {
  nonce: string;
  hashes: number;
  elapsedMs: number;
}

/** One slice-able search over a token id: fills CHUNK messages and hashes them. */
class ApertureSearch {
  readonly data = new Uint8Array(CHUNK * MESSAGE_BYTES);
  readonly view = new DataView(this.data.buffer);
  readonly digests = new Uint8Array(CHUNK * 32);
  readonly digestView = new DataView(this.digests.buffer);

  constructor(tokenId: Uint8Array) {
    for (let i = 0; i < CHUNK; i++) this.data.set(tokenId, i * MESSAGE_BYTES);
  }

  /** Hashes nonces hi:lo .. hi:lo+CHUNK-1; the index of the first below the threshold, or -1. */
  run(hash: (data: Uint8Array, length: number, out: Uint8Array) => Uint8Array, hi: number, lo: number, tHi: number, tLo: number): number {
    for (let i = 0; i < CHUNK; i++) {
      this.view.setUint32(i * MESSAGE_BYTES + 32, hi);
      this.view.setUint32(i * MESSAGE_BYTES + 36, lo + i);
    }
    hash(this.data, MESSAGE_BYTES, this.digests);
    const d = this.digestView;
    for (let i = 0; i < CHUNK; i++) {
      const h0 = d.getUint32(32 * i);
      if (h0 < tHi || (h0 === tHi && d.getUint32(32 * i + 4) < tLo)) return i;
    }
    return -1;
  }
}

/**
 * Finds the first nonce (counting from 0) for a 32-byte token id (hex) and `bits` leading
 * zero bits, 1 to 64. Rejects with ERR_ABORTED when `signal` aborts (seen within a slice).
 */
export async function solveAperturePow(tokenIdHex: string, bits: number, options: AperturePowOptions = {}): Promise<AperturePowSolution> {
  const tokenId = Buffer.from(tokenIdHex, 'hex');
  if (tokenId.length !== 32 || !Number.isInteger(bits) || bits < 1 || bits > 64) {
    throw new PowgateError('ERR_INVALID_ARGUMENT', 'expected a 32-byte token id (hex) and bits from 1 to 64');
  }
  const { signal, onProgress } = options;
  const backend = await getBackend();
  const hash = backend.hashUniform.bind(backend);
  const search = new ApertureSearch(tokenId);
  // A digest's first 8 bytes must be below 2^(64 - bits).
  const threshold = bits === 64 ? 1n : 1n << BigInt(64 - bits);
  const tHi = Number(threshold >> 32n);
  const tLo = Number(threshold & 0xffffffffn);
  const started = performance.now();
  let lastReport = started;
  let hi = 0;
  let lo = 0;
  let hashes = 0;
  for (;;) {
    if (signal?.aborted) throw new PowgateError('ERR_ABORTED', 'the proof of work was aborted', { cause: signal.reason });
    const sliceEnd = performance.now() + SLICE_MS;
    do {
      const found = search.run(hash, hi, lo, tHi, tLo);
      if (found >= 0) {
        const nonce = hi.toString(16).padStart(8, '0') + (lo + found).toString(16).padStart(8, '0');
        return { nonce, hashes: hashes + found + 1, elapsedMs: Math.round(performance.now() - started) };
      }
      hashes += CHUNK;
      lo += CHUNK;
      if (lo >= 2 ** 32) {
        lo = 0;
        hi += 1;
        if (hi >= 2 ** 32) throw new PowgateError('ERR_SOLVER_FAILED', 'the 64-bit nonce space was searched without a solution');
      }
    } while (performance.now() < sliceEnd);
    const now = performance.now();
    if (onProgress && now - lastReport >= PROGRESS_MS) {
      lastReport = now;
      onProgress({ hashes, hashesPerSecond: (hashes / (now - started)) * 1000, elapsedMs: now - started });
    }
    await yieldToLoop();
  }
}

/** Hashes per second of {@link solveAperturePow} on this thread, timed over about `durationMs` (default 100). */
export async function measureApertureRate(durationMs = 100): Promise<number> {
  const backend = await getBackend();
  const hash = backend.hashUniform.bind(backend);
  const search = new ApertureSearch(Buffer.alloc(32, 0x5a));
  search.run(hash, 0, 0, 0, 0); // warm-up
  const started = performance.now();
  let hashes = 0;
  let elapsed = 0;
  while (elapsed < durationMs) {
    // A threshold of 0 is never met: every nonce is tried.
    search.run(hash, 1, hashes, 0, 0);
    hashes += CHUNK;
    elapsed = performance.now() - started;
    if (elapsed < durationMs && hashes % (CHUNK * 64) === 0) await yieldToLoop();
  }
  return (hashes / elapsed) * 1000;
}
