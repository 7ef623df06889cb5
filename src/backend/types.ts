import type { MacKey } from './mac-key.js';

/** The three implementations of the backend interface. */
export type BackendName = 'native' | 'wasm' | 'js';

/** Native SHA-256 kernels, chosen at run time from cpuid (or forced with `POWGATE_ISA`). */
export type NativeIsa = 'scalar' | 'shani' | 'avx2' | 'avx512';

/**
 * What every backend does, bit for bit the same. Digests are 32 bytes each,
 * written in message order into `out` (allocated when omitted) and returned.
 */
export interface Sha256Backend {
  /** Which implementation this is. */
  readonly name: BackendName;
  /** The kernel in use: a {@link NativeIsa} for native, `hash-wasm` or `node:crypto` otherwise. */
  readonly isa: string;
  /** Hashes each message of a list. */
  hashBatch(messages: readonly Uint8Array[], out?: Uint8Array): Uint8Array;
  /** Hashes packed messages: message i is `data[offsets[i], offsets[i + 1])`, so `offsets` has count + 1 entries. */
  hashOffsets(data: Uint8Array, offsets: Uint32Array, out?: Uint8Array): Uint8Array;
  /**
   * Hashes equal-length messages laid end to end (`data.length / messageLength` of them),
   * the fastest path: SIMD lanes take whole groups. `messageLength` is at least 1.
   */
  hashUniform(data: Uint8Array, messageLength: number, out?: Uint8Array): Uint8Array;
  /**
   * Checks packed proofs, one N-API call (or wasm call) per batch: proof i holds when the
   * first 8 bytes of SHA-256(prefix_i || nonce_i), read big-endian, are below threshold_i.
   * `prefixes` holds 40 bytes a proof, `nonces` and `thresholds` 8 big-endian bytes a proof;
   * `verdicts[i]` becomes 1 or 0 (allocated when omitted) and is returned.
   */
  checkProofs(prefixes: Uint8Array, nonces: Uint8Array, thresholds: Uint8Array, verdicts?: Uint8Array): Uint8Array;
  /**
   * Checks HMAC-SHA256 tags of equal-length messages: `verdicts[i]` becomes 1 when
   * HMAC(keys[keyIndexes[i]], message i) equals `macs[32i, 32i + 32)`, else 0; tags are
   * compared in constant time. Message i is `data[i * messageLength, (i + 1) * messageLength)`.
   */
  checkMacs(
    keys: readonly MacKey[],
    keyIndexes: Uint8Array,
    data: Uint8Array,
    messageLength: number,
    macs: Uint8Array,
    verdicts?: Uint8Array,
  ): Uint8Array;
}
