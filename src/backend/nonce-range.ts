import { checkInteger, invalid } from '../validate.js';
import { WORK_PREFIX_BYTES } from '../wire.js';

const TWO_32 = 2 ** 32;

/**
 * One thread's nonce search over a range of one work message's nonces; the
 * contract every kernel (native ISAs, WebAssembly) meets and is tested against.
 */
export interface NonceRangeSearcher {
  /** Sets the 40 bytes before the nonce (a work message's prefix). */
  setPrefix(prefix: Uint8Array): void;
  /**
   * Tries nonces hi:lo .. hi:(lo + count - 1), with lo + count <= 2^32; returns the low word
   * of the FIRST (lowest) one whose digest's first 8 bytes, big-endian, are below
   * thresholdHi * 2^32 + thresholdLo, or -1.
   */
  search(hi: number, lo: number, count: number, thresholdHi: number, thresholdLo: number): number;
}

export function checkPrefix(prefix: unknown): Uint8Array {
  if (!(prefix instanceof Uint8Array) || prefix.length !== WORK_PREFIX_BYTES) {
    throw invalid(`a Uint8Array of ${WORK_PREFIX_BYTES} bytes`, 'prefix', prefix);
  }
  return prefix;
}

export function checkRange(hi: number, lo: number, count: number, thresholdHi: number, thresholdLo: number): void {
  checkInteger(hi, 'hi', 0, TWO_32 - 1);
  checkInteger(lo, 'lo', 0, TWO_32 - 1);
  checkInteger(count, 'count', 0, TWO_32 - lo);
  checkInteger(thresholdHi, 'thresholdHi', 0, TWO_32 - 1);
  checkInteger(thresholdLo, 'thresholdLo', 0, TWO_32 - 1);
}
