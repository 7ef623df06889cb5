import { WORK_PREFIX_BYTES } from '../wire.js';
import { DIGEST_BYTES } from './batch.js';
import { MAX_MAC_KEYS } from './types.js';
import type { MacKey } from './mac-key.js';
import { instantiateKernel } from './wasm-search.js';

// The kernel's batch-check exports (wasm/sha256_check.c). Pointers are offsets into memory.
interface CheckExports {
  readonly memory: { readonly buffer: ArrayBuffer };
  io_ptr(): number;
  io_bytes(): number;
  pads_ptr(): number;
  check_proofs(prefixes: number, nonces: number, thresholds: number, verdicts: number, count: number): void;
  check_macs(data: number, length: number, keyIndexes: number, macs: number, verdicts: number, count: number): void;
  mac_begin(keyIndex: number): void;
  mac_update(at: number, blocks: number): void;
  mac_end(tail: number, tailLength: number, messageLength: number, mac: number): number;
}

const BLOCK = 64;
const PAD_WORDS = 16;
// io[] bytes per proof: prefix, nonce, threshold, verdict.
const PROOF_IO_BYTES = WORK_PREFIX_BYTES + 8 + 8 + 1;

/**
 * Checks proofs and HMAC tags in batches with powgate's own WebAssembly SIMD kernel (4 per
 * v128). Inputs are copied into the instance's memory a chunk at a time; arguments are
 * trusted (BatchHasher has checked them). Not thread-safe: one checker per thread.
 */
export class WasmChecker {
  private readonly memory: Uint8Array;
  private readonly io: number;
  private readonly ioBytes: number;
  private readonly pads: DataView;
  // The keys whose pads are in memory, by identity: a call with the same keys skips the copy.
  private loadedKeys: readonly MacKey[] = [];

  private constructor(private readonly kernel: CheckExports) {
    // Memory is fixed-size (never grows), so these views stay valid.
    this.memory = new Uint8Array(kernel.memory.buffer);
    this.io = kernel.io_ptr();
    this.ioBytes = kernel.io_bytes();
    this.pads = new DataView(kernel.memory.buffer, kernel.pads_ptr(), 4 * PAD_WORDS * MAX_MAC_KEYS);
  }

  /** Compiles (once per thread, shared with the nonce searcher) and instantiates the kernel. */
  static async create(): Promise<WasmChecker> {
    return new WasmChecker((await instantiateKernel()) as CheckExports);
  }

  /** Sha256Backend.checkProofs without the argument checks: `verdicts.length` proofs. */
  checkProofs(prefixes: Uint8Array, nonces: Uint8Array, thresholds: Uint8Array, verdicts: Uint8Array): void {
    const count = verdicts.length;
    const chunk = Math.floor(this.ioBytes / PROOF_IO_BYTES / 4) * 4; // whole SIMD groups
    for (let first = 0; first < count; first += chunk) {
      const n = Math.min(chunk, count - first);
      const atPrefixes = this.io;
      const atNonces = atPrefixes + WORK_PREFIX_BYTES * n;
      const atThresholds = atNonces + 8 * n;
      const atVerdicts = atThresholds + 8 * n;
      this.memory.set(prefixes.subarray(WORK_PREFIX_BYTES * first, WORK_PREFIX_BYTES * (first + n)), atPrefixes);
      this.memory.set(nonces.subarray(8 * first, 8 * (first + n)), atNonces);
      this.memory.set(thresholds.subarray(8 * first, 8 * (first + n)), atThresholds);
      this.kernel.check_proofs(atPrefixes, atNonces, atThresholds, atVerdicts, n);
      verdicts.set(this.memory.subarray(atVerdicts, atVerdicts + n), first);
    }
  }

  /** Sha256Backend.checkMacs without the argument checks: `verdicts.length` messages of `messageLength` bytes. */
  checkMacs(keys: readonly MacKey[], keyIndexes: Uint8Array, data: Uint8Array, messageLength: number, macs: Uint8Array, verdicts: Uint8Array): void {
    this.loadKeys(keys);
    const count = verdicts.length;
    // io[] bytes per message: tag, key index, verdict, message (messages last: the kernel
    // reads up to 15 bytes past a tail, into io[]'s spare bytes).
    const fit = Math.floor(this.ioBytes / (DIGEST_BYTES + 2 + messageLength));
    const chunk = fit >= 4 ? fit - (fit % 4) : fit; // whole SIMD groups when it can
    if (fit === 0) {
      for (let i = 0; i < count; i++) {
        const message = data.subarray(messageLength * i, messageLength * (i + 1));
        verdicts[i] = this.checkLongMac(keyIndexes[i]!, message, macs.subarray(DIGEST_BYTES * i, DIGEST_BYTES * (i + 1)));
      }
      return;
    }
    for (let first = 0; first < count; first += chunk) {
      const n = Math.min(chunk, count - first);
      const atMacs = this.io;
      const atKeyIndexes = atMacs + DIGEST_BYTES * n;
      const atVerdicts = atKeyIndexes + n;
      const atData = atVerdicts + n;
      this.memory.set(macs.subarray(DIGEST_BYTES * first, DIGEST_BYTES * (first + n)), atMacs);
      this.memory.set(keyIndexes.subarray(first, first + n), atKeyIndexes);
      this.memory.set(data.subarray(messageLength * first, messageLength * (first + n)), atData);
      // Lengths >= 2^31 reach the kernel's u32 as the same bits.
      this.kernel.check_macs(atData, messageLength, atKeyIndexes, atMacs, atVerdicts, n);
      verdicts.set(this.memory.subarray(atVerdicts, atVerdicts + n), first);
    }
  }

  // A message too long for io[]: fed through it in pieces, whole blocks first.
  private checkLongMac(keyIndex: number, message: Uint8Array, mac: Uint8Array): number {
    const atMac = this.io;
    const atPiece = this.io + BLOCK; // keeps the pieces block-aligned
    const pieceBytes = Math.floor((this.ioBytes - BLOCK) / BLOCK) * BLOCK;
    const wholeBytes = message.length - (message.length % BLOCK);
    this.kernel.mac_begin(keyIndex);
    for (let at = 0; at < wholeBytes; at += pieceBytes) {
      const piece = message.subarray(at, Math.min(at + pieceBytes, wholeBytes));
      this.memory.set(piece, atPiece);
      this.kernel.mac_update(atPiece, piece.length / BLOCK);
    }
    this.memory.set(message.subarray(wholeBytes), atPiece);
    this.memory.set(mac, atMac);
    return this.kernel.mac_end(atPiece, message.length - wholeBytes, message.length, atMac);
  }

  private loadKeys(keys: readonly MacKey[]): void {
    const loaded = this.loadedKeys;
    if (keys.length === loaded.length && keys.every((key, i) => key === loaded[i])) return;
    keys.forEach((key, i) => {
      // The kernel reads host-order words, and WebAssembly is little-endian on every host.
      for (let w = 0; w < PAD_WORDS; w++) this.pads.setUint32(4 * (PAD_WORDS * i + w), key.pads[w]!, true);
    });
    this.loadedKeys = keys.slice(); // a copy: the caller may change its array later
  }
}
