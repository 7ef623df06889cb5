// Per-call pricing (docs/PROTOCOL.md, "Calls and price"): a challenge for N calls costs N
// times the work of one, and says what one call cost, so that doors can compare prices.
import { MAX_CALLS } from '../wire.js';
import { DIFFICULTY_STEPS, PROTOCOL_MAX_DIFFICULTY } from './difficulty.js';

export { MAX_CALLS };
/** Highest per-call price in bits: the highest difficulty with the most sub-puzzles (log2 64 = 6). */
const MAX_PRICE = PROTOCOL_MAX_DIFFICULTY + 6;

/** log2(n) in 1/65536 bit, rounded to nearest: exact for powers of two. */
export function log2Steps(n: number): number {
  return Math.round(Math.log2(n) * DIFFICULTY_STEPS);
}

/**
 * The price of one call, in 1/65536 bit: log2 of the hashes a call costs on average, for a
 * challenge of `steps` per sub-puzzle, `subPuzzles` sub-puzzles and `calls` calls.
 */
export function priceSteps(steps: number, subPuzzles: number, calls: number): number {
  return steps + log2Steps(subPuzzles) - log2Steps(calls);
}

/** A price in bits, or a difficulty, as the multiple of 1/65536 it travels as. */
function isStepMultiple(value: number): boolean {
  return Math.round(value * DIFFICULTY_STEPS) / DIFFICULTY_STEPS === value;
}

/** A per-call price as signed: a multiple of 1/65536 from 0 to {@link MAX_PRICE}. */
export function isPrice(value: unknown): value is number {
  return typeof value === 'number' && value >= 0 && value <= MAX_PRICE && isStepMultiple(value);
}

/** A number of calls as signed: an integer from 1 to {@link MAX_CALLS}. */
export function isCalls(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_CALLS;
}
