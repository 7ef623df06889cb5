// The hashed message: one 48-byte message (a single SHA-256 block with its
// padding), bound to the challenge by its MAC.
//
//   bytes  0..3   "PGW1"            work label, version 1
//   bytes  4..35  challenge MAC     the signature's 32 bytes
//   bytes 36..39  sub-puzzle index  u32, big-endian
//   bytes 40..47  nonce             u64, big-endian
//
// Everything before the nonce is fixed per sub-puzzle, so solvers can hash it once;
// the nonce's low half is the message's 12th 32-bit word, which kernels vary per lane.

export const WORK_MESSAGE_BYTES = 48;
export const WORK_PREFIX_BYTES = 40;
const LABEL = Buffer.from('PGW1', 'latin1');

/** The 40 bytes before the nonce, for one sub-puzzle. */
export function workPrefix(signature: Uint8Array, subPuzzle: number): Buffer {
  const prefix = Buffer.alloc(WORK_PREFIX_BYTES);
  LABEL.copy(prefix, 0);
  prefix.set(signature, 4);
  prefix.writeUInt32BE(subPuzzle, 36);
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
export const NONCE_PATTERN = /^[0-9a-f]{16}$/;

export function nonceHex(nonce: bigint): string {
  return nonce.toString(16).padStart(16, '0');
}
