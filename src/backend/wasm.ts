import { createSHA256, type IHasher } from 'hash-wasm';
import { BatchHasher, DIGEST_BYTES } from './batch.js';
import type { MacKey } from './mac-key.js';
import { WasmChecker } from './wasm-check.js';

/**
 * WebAssembly SHA-256, wherever the addon cannot load: hash-wasm hashes messages, and
 * powgate's own SIMD kernel checks proofs and HMAC tags in batches.
 */
export class WasmBackend extends BatchHasher {
  readonly name = 'wasm' as const;
  readonly isa = 'hash-wasm';

  private constructor(
    private readonly hasher: IHasher,
    private readonly checker: WasmChecker,
  ) {
    super();
  }

  /** Compiles the WebAssembly modules; the only asynchronous step. */
  static async create(): Promise<WasmBackend> {
    const [hasher, checker] = await Promise.all([createSHA256(), WasmChecker.create()]);
    return new WasmBackend(hasher, checker);
  }

  private hashInto(message: Uint8Array, out: Uint8Array, index: number): void {
    out.set(this.hasher.init().update(message).digest('binary'), DIGEST_BYTES * index);
  }

  protected hashOffsetsUnchecked(data: Uint8Array, offsets: Uint32Array, out: Uint8Array): void {
    for (let i = 0; i + 1 < offsets.length; i++) this.hashInto(data.subarray(offsets[i], offsets[i + 1]), out, i);
  }

  protected hashUniformUnchecked(data: Uint8Array, messageLength: number, out: Uint8Array): void {
    for (let i = 0, at = 0; at < data.length; i++, at += messageLength) {
      this.hashInto(data.subarray(at, at + messageLength), out, i);
    }
  }

  protected checkProofsUnchecked(prefixes: Uint8Array, nonces: Uint8Array, thresholds: Uint8Array, verdicts: Uint8Array): void {
    this.checker.checkProofs(prefixes, nonces, thresholds, verdicts);
  }

  protected checkMacsUnchecked(keys: readonly MacKey[], keyIndexes: Uint8Array, data: Uint8Array, messageLength: number, macs: Uint8Array, verdicts: Uint8Array): void {
    this.checker.checkMacs(keys, keyIndexes, data, messageLength, macs, verdicts);
  }
}
