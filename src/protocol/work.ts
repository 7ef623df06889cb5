// The hashed work message (its layout: src/wire.ts): bound to the challenge by its MAC.
import { NONCE_CHARS, WORK_INDEX_AT, WORK_LABEL, WORK_MAC_AT, WORK_MESSAGE_BYTES, WORK_PREFIX_BYTES } from '../wire.js';

const LABEL = Buffer.from(WORK_LABEL, 'latin1');

/** The 40 bytes before the nonce, for one sub-puzzle. */
export function workPrefix(signature: Uint8Array, subPuzzle: number): Buffer {
  const prefix = Buffer.alloc(WORK_PREFIX_BYTES);
  LABEL.copy(prefix, 0);
  prefix.set(signature, WORK_MAC_AT);
  prefix.writeUInt32BE(subPuzzle, WORK_INDEX_AT);
  return prefix;
}

/** The whole message for one nonce. */
export function workMessage(signature: Uint8Array, subPuzzle: number, nonce: bigint): Buffer {
  const message = Buffer.alloc(WORK_MESSAGE_BYTES);
  workPrefix(signature, subPuzzle).copy(message);
  message.writeBigUInt64BE(nonce, WORK_PREFIX_BYTES);
  return message;
}

/** A digest meets the threshold when its first 8 bytes, big-endian, are below it. */
export function meetsThreshold(digest: Uint8Array, offset: number, threshold: bigint): boolean {
  const view = new DataView(digest.buffer, digest.byteOffset + offset, 8);
  return view.getBigUint64(0) < threshold;
}

/** Nonces travel as 16 lowercase hex digits. */
export function nonceHex(nonce: bigint): string {
  return nonce.toString(16).padStart(NONCE_CHARS, '0');
}
