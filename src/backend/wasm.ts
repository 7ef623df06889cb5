import { createSHA256, type IHasher } from 'hash-wasm';
import { BatchHasher, DIGEST_BYTES } from './batch.js';

/** hash-wasm's WebAssembly SHA-256: serves wherever the addon cannot load. */
export class WasmBackend extends BatchHasher {
  readonly name = 'wasm' as const;
  readonly isa = 'hash-wasm';

  private constructor(private readonly hasher: IHasher) {
    super();
  }

  /** Compiles the WebAssembly module; the only asynchronous step. */
  static async create(): Promise<WasmBackend> {
    return new WasmBackend(await createSHA256());
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
}
