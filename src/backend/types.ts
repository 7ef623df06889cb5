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
}
