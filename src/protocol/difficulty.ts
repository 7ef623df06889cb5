import { PowgateError } from '../errors.js';
import { describe } from '../validate.js';

/** Difficulty is quantised to this many steps per bit, so that its threshold is exact everywhere. */
export const DIFFICULTY_STEPS = 65536;
/** The protocol's hard bounds on difficulty (bits per sub-puzzle); services configure narrower ones. */
export const PROTOCOL_MIN_DIFFICULTY = 1;
export const PROTOCOL_MAX_DIFFICULTY = 64;

// floor(2^64 * 2^(-2^j / 65536)) for j = 0..15 (docs/PROTOCOL.md lists them).
const ROOTS = [
  0xffff4e8e25879bfan,
  0xfffe9d1cc60ddab1n,
  0xfffd3a3b7814eb53n,
  0xfffa747ea0040664n,
  0xfff4e91bff1b8c3dn,
  0xffe9d2b2f7db2755n,
  0xffd3a751c0f7e10bn,
  0xffa756521c8daed1n,
  0xff4ecb59511ec8a5n,
  0xfe9e115c7b8f884bn,
  0xfd3e0c0cf486c174n,
  0xfa83b2db722a033an,
  0xf5257d152486cc2cn,
  0xeac0c6e7dd24392en,
  0xd744fccad69d6af4n,
  0xb504f333f9de6484n,
];

/** Difficulty in 1/65536 bit, rounded to nearest (ties up), as signed into challenges. */
export function difficultySteps(difficulty: number): number {
  return Math.round(difficulty * DIFFICULTY_STEPS);
}

/**
 * The threshold T for a difficulty d (in 1/65536 bit): a proof is good when
 * the digest's first 8 bytes, read big-endian, are below T. T = floor(2^(64 - d)),
 * computed in integers only: start from 2^64, multiply by ROOTS[j] and shift
 * right by 64 (flooring) for each set bit j of d's fraction, lowest bit first,
 * then shift right by d's whole part. A whole d gives exactly 2^(64 - d):
 * "d leading zero bits".
 */
export function thresholdForSteps(steps: number): bigint {
  const whole = Math.floor(steps / DIFFICULTY_STEPS);
  const fraction = steps % DIFFICULTY_STEPS;
  let m = 1n << 64n;
  for (let j = 0; j < 16; j++) {
    if (fraction & (1 << j)) m = (m * ROOTS[j]!) >> 64n;
  }
  const t = m >> BigInt(whole);
  return t > 0n ? t : 1n;
}

/** The expected number of hashes to meet a threshold once: 2^64 / T. */
export function expectedHashes(threshold: bigint): number {
  return 2 ** 64 / Number(threshold);
}

/** Checks difficulty bounds given by the programmer. */
export function checkDifficultyBounds(min: unknown, max: unknown): { min: number; max: number } {
  checkBound(min, 'minDifficulty');
  checkBound(max, 'maxDifficulty');
  if ((min as number) > (max as number)) {
    throw new PowgateError('ERR_INVALID_ARGUMENT', `expected minDifficulty <= maxDifficulty but received ${min} > ${max}`);
  }
  return { min: min as number, max: max as number };
}

function checkBound(value: unknown, what: string): void {
  if (typeof value !== 'number' || !(value >= PROTOCOL_MIN_DIFFICULTY && value <= PROTOCOL_MAX_DIFFICULTY)) {
    throw new PowgateError('ERR_INVALID_ARGUMENT', `expected a number from ${PROTOCOL_MIN_DIFFICULTY} to ${PROTOCOL_MAX_DIFFICULTY} for ${what} but received ${describe(value)}`);
  }
}

/** The 16 lowercase hex digits of a 64-bit threshold, as it travels in JSON. */
export function thresholdHex(threshold: bigint): string {
  return threshold.toString(16).padStart(16, '0');
}
