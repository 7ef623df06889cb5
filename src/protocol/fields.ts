// The field checks every reader of an untrusted challenge and solution makes: the
// per-pair reader (pair-reader.ts), the batch reader of the native packer's path
// (batch-reader.ts) and parseChallenge (challenge.ts). Each reader adds what it caches
// (the key, the scope, the threshold's text) and decodes the texts its own way.
import { CHALLENGE_KEYS, CHALLENGE_VERSION, ID_CHARS, MAX_SUB_PUZZLES, SIGNATURE_CHARS, SOLUTION_KEYS, SOLUTION_OPTIONAL_KEYS, SOLUTION_VERSION } from '../wire.js';
import { isCalls, isPrice } from './price.js';
import { DIFFICULTY_STEPS, PROTOCOL_MAX_DIFFICULTY, PROTOCOL_MIN_DIFFICULTY } from './difficulty.js';
import { hasExactKeys, isTimestamp, keysInOrder } from './shape.js';

/** A solution's keys in the order powgate writes them. */
export const SOLUTION_ORDER: readonly string[] = [...SOLUTION_KEYS, ...SOLUTION_OPTIONAL_KEYS];

/** A challenge's keys are exactly the protocol's; in powgate's order they are checked without a search. */
export function hasChallengeKeys(value: object): boolean {
  return keysInOrder(value, CHALLENGE_KEYS) === CHALLENGE_KEYS.length || hasExactKeys(value, CHALLENGE_KEYS);
}

/** A solution's keys are the protocol's (elapsedMs optional); in powgate's order they are checked without a search. */
export function hasSolutionKeys(value: object): boolean {
  return keysInOrder(value, SOLUTION_ORDER) >= SOLUTION_KEYS.length || hasExactKeys(value, SOLUTION_KEYS, SOLUTION_OPTIONAL_KEYS);
}

/**
 * True when a challenge's fields, read once by the caller, have the protocol's types,
 * ranges and text lengths. The kid's pattern, the scope's characters, the threshold's
 * value and the texts' alphabets are left to the caller.
 */
export function challengeFieldsHold(
  v: unknown,
  id: unknown,
  kid: unknown,
  difficulty: unknown,
  threshold: unknown,
  subPuzzles: unknown,
  calls: unknown,
  price: unknown,
  scope: unknown,
  issuedAt: unknown,
  expiresAt: unknown,
  signature: unknown,
): boolean {
  return (
    v === CHALLENGE_VERSION &&
    typeof id === 'string' &&
    id.length === ID_CHARS &&
    typeof kid === 'string' &&
    typeof scope === 'string' &&
    typeof signature === 'string' &&
    signature.length === SIGNATURE_CHARS &&
    typeof threshold === 'string' &&
    typeof difficulty === 'number' &&
    difficulty >= PROTOCOL_MIN_DIFFICULTY &&
    difficulty <= PROTOCOL_MAX_DIFFICULTY &&
    typeof subPuzzles === 'number' &&
    Number.isInteger(subPuzzles) &&
    subPuzzles >= 1 &&
    subPuzzles <= MAX_SUB_PUZZLES &&
    isCalls(calls) &&
    isPrice(price) &&
    isTimestamp(issuedAt) &&
    isTimestamp(expiresAt) &&
    expiresAt >= issuedAt
  );
}

/** A difficulty in 1/65536 bit when it is an exact multiple of that, else -1. */
export function exactSteps(difficulty: number): number {
  const steps = Math.round(difficulty * DIFFICULTY_STEPS);
  return steps / DIFFICULTY_STEPS === difficulty ? steps : -1;
}

/**
 * True when a solution's fields, read once by the caller, have the protocol's types and
 * ranges; `timed` says whether it has an `elapsedMs` key. The nonces' texts are the caller's.
 */
export function solutionFieldsHold(v: unknown, id: unknown, nonces: unknown, timed: boolean, elapsedMs: unknown): boolean {
  return (
    v === SOLUTION_VERSION &&
    typeof id === 'string' &&
    id.length === ID_CHARS &&
    Array.isArray(nonces) &&
    nonces.length >= 1 &&
    nonces.length <= MAX_SUB_PUZZLES &&
    (!timed || isTimestamp(elapsedMs))
  );
}
