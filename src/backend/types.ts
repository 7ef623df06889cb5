import type { MacKey } from './mac-key.js';
import type { SearchEngine } from './search-engine.js';

/** The three implementations of the backend interface. */
export type BackendName = 'native' | 'wasm' | 'js';

/** Native SHA-256 kernels, chosen at run time from cpuid (or forced with `POWGATE_ISA`). */
export type NativeIsa = 'scalar' | 'shani' | 'avx2' | 'avx512';

/**
 * Decodes challenges' texts and lays out their MAC inputs, tags and proof prefixes in one
 * call (the native addon's native/pack_binding.cc; its caller: src/protocol/batch-reader.ts).
 */
export type PackChallenges = (
  headers: Uint8Array,
  headerEnds: Uint32Array,
  table: Uint8Array,
  scopes: Uint8Array,
  scopeEnds: Uint32Array,
  items: Uint32Array,
  times: Float64Array,
  /** Per item: id (22 characters), signature (43), nonces (16 each), in ASCII. */
  text: Uint8Array,
  /** Out: 16 decoded id bytes per item. */
  ids: Uint8Array,
  /** Out: 8 bytes per proof. */
  nonces: Uint8Array,
  /** Out: 1 for an item whose texts are not canonical (left unpacked), else 0. */
  refused: Uint8Array,
  macData: Uint8Array,
  tags: Uint8Array,
  prefixes: Uint8Array,
  thresholds: Uint8Array,
) => void;

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
  checkMacs(keys: readonly MacKey[], keyIndexes: Uint8Array, data: Uint8Array, messageLength: number, macs: Uint8Array, verdicts?: Uint8Array): Uint8Array;
  /**
   * Optional capability: a packer for verifySolutions' fast path. Absent, every pair is
   * read one by one in TypeScript (same verdicts).
   */
  readonly packChallenges?: PackChallenges;
  /**
   * Optional capability: a nonce-search engine on the backend's own solver threads, with the
   * kernel in use. Absent, solvers run the backend's kernel on worker threads.
   */
  createSearchEngine?(): SearchEngine;
}

/** Most keys one checkMacs call may name (key indexes are bytes). */
export const MAX_MAC_KEYS = 256;
