import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { WORK_PREFIX_BYTES } from '../wire.js';
import { BatchHasher, DIGEST_BYTES } from './batch.js';
import type { MacKey } from './mac-key.js';

/** node:crypto (OpenSSL), one message at a time: the reference the tests trust. */
export class JsBackend extends BatchHasher {
  readonly name = 'js' as const;
  readonly isa = 'node:crypto';

  protected hashOffsetsUnchecked(data: Uint8Array, offsets: Uint32Array, out: Uint8Array): void {
    for (let i = 0; i + 1 < offsets.length; i++) {
      out.set(
        createHash('sha256')
          .update(data.subarray(offsets[i], offsets[i + 1]))
          .digest(),
        DIGEST_BYTES * i,
      );
    }
  }

  protected hashUniformUnchecked(data: Uint8Array, messageLength: number, out: Uint8Array): void {
    for (let i = 0, at = 0; at < data.length; i++, at += messageLength) {
      out.set(
        createHash('sha256')
          .update(data.subarray(at, at + messageLength))
          .digest(),
        DIGEST_BYTES * i,
      );
    }
  }

  protected checkProofsUnchecked(prefixes: Uint8Array, nonces: Uint8Array, thresholds: Uint8Array, verdicts: Uint8Array): void {
    const limits = Buffer.from(thresholds.buffer, thresholds.byteOffset, thresholds.length);
    for (let i = 0; i < verdicts.length; i++) {
      const digest = createHash('sha256')
        .update(prefixes.subarray(WORK_PREFIX_BYTES * i, WORK_PREFIX_BYTES * (i + 1)))
        .update(nonces.subarray(8 * i, 8 * i + 8))
        .digest();
      verdicts[i] = digest.readBigUInt64BE(0) < limits.readBigUInt64BE(8 * i) ? 1 : 0;
    }
  }

  protected checkMacsUnchecked(keys: readonly MacKey[], keyIndexes: Uint8Array, data: Uint8Array, messageLength: number, macs: Uint8Array, verdicts: Uint8Array): void {
    for (let i = 0; i < verdicts.length; i++) {
      const tag = createHmac('sha256', keys[keyIndexes[i]!]!.key)
        .update(data.subarray(messageLength * i, messageLength * (i + 1)))
        .digest();
      verdicts[i] = timingSafeEqual(tag, macs.subarray(DIGEST_BYTES * i, DIGEST_BYTES * (i + 1))) ? 1 : 0;
    }
  }
}
