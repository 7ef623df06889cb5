import { createHash } from 'node:crypto';
import { BatchHasher, DIGEST_BYTES } from './batch.js';

/** node:crypto (OpenSSL), one message at a time: the reference the tests trust. */
export class JsBackend extends BatchHasher {
  readonly name = 'js' as const;
  readonly isa = 'node:crypto';

  protected hashOffsetsUnchecked(data: Uint8Array, offsets: Uint32Array, out: Uint8Array): void {
    for (let i = 0; i + 1 < offsets.length; i++) {
      out.set(createHash('sha256').update(data.subarray(offsets[i], offsets[i + 1])).digest(), DIGEST_BYTES * i);
    }
  }

  protected hashUniformUnchecked(data: Uint8Array, messageLength: number, out: Uint8Array): void {
    for (let i = 0, at = 0; at < data.length; i++, at += messageLength) {
      out.set(createHash('sha256').update(data.subarray(at, at + messageLength)).digest(), DIGEST_BYTES * i);
    }
  }
}
