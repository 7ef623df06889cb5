import { createHmac, randomBytes } from 'node:crypto';
import { PowgateError } from '../errors.js';
import { checkInteger, describe } from '../validate.js';
import { fromBase64url } from '../base64url.js';
import { ByteWriter } from './bytes.js';
import { DIFFICULTY_STEPS, checkDifficultyBounds, difficultySteps, thresholdForSteps, thresholdHex } from './difficulty.js';
import { KID_PATTERN, KeyRing, type Key, type KeyOptions } from './keys.js';
import { challengeFieldsHold, exactSteps, hasChallengeKeys } from './fields.js';
import { MAX_CALLS, priceSteps } from './price.js';
import { isScope, isTimestamp } from './shape.js';
import { CHALLENGE_LABEL, ID_BYTES, ID_CHARS, MAX_SUB_PUZZLES, SIGNATURE_CHARS } from '../wire.js';

/** A signed challenge, plain JSON. See docs/PROTOCOL.md for every field. */
export interface Challenge {
  /** Protocol version: 2 (version 1 is refused: `unsupported_version`). */
  v: 2;
  /** 16 random bytes, base64url (22 characters). */
  id: string;
  /** The id of the key that signed it. */
  kid: string;
  /** Bits per sub-puzzle, a multiple of 1/65536. */
  difficulty: number;
  /** floor(2^(64 - difficulty)), 16 hex digits: a digest's first 8 bytes must be below it. */
  threshold: string;
  /** How many independent proofs (1 to 64) the solution carries. */
  subPuzzles: number;
  /** How many calls the token it buys allows, 1 to 1,048,576. */
  calls: number;
  /** What one call costs, in bits (a multiple of 1/65536): log2 of the hashes per call, difficulty + log2(subPuzzles) - log2(calls). */
  price: number;
  /** What the challenge unlocks, printable ASCII up to 256 characters ('' is a scope like any other, matched exactly). */
  scope: string;
  /** Milliseconds since the epoch. */
  issuedAt: number;
  expiresAt: number;
  /** HMAC-SHA256 over the canonical encoding, base64url (43 characters). */
  signature: string;
}

/** A challenge whose shape was checked, with its binary fields decoded. */
export interface ParsedChallenge {
  json: Challenge;
  id: Buffer;
  steps: number;
  threshold: bigint;
  /** The price in 1/65536 bit. */
  priceSteps: number;
  signature: Buffer;
}

/** The bytes under a challenge's MAC (docs/PROTOCOL.md, "Challenge MAC"). */
export function challengeMacInput(c: Omit<Challenge, 'signature'>, id: Buffer, steps: number, threshold: bigint, price: number): Buffer {
  return new ByteWriter()
    .label(CHALLENGE_LABEL)
    .u8(c.v)
    .short(c.kid)
    .bytes(id)
    .u32(steps)
    .u64(threshold)
    .u32(c.calls)
    .u32(price)
    .u8(c.subPuzzles)
    .long(c.scope)
    .u64(c.issuedAt)
    .u64(c.expiresAt)
    .finish();
}

function challengeMac(key: Key, input: Buffer): Buffer {
  return createHmac('sha256', key.challenge).update(input).digest();
}

/** Options of {@link createChallenge}. */
export interface CreateChallengeOptions extends KeyOptions {
  /** Bits per sub-puzzle (fractional allowed), rounded to 1/65536; within [minDifficulty, maxDifficulty]. */
  difficulty: number;
  /** Lifetime in milliseconds. Default 120,000 (2 minutes). */
  ttlMs?: number;
  /** What solving it unlocks. Default '': matched exactly, like any scope; only a verifier that requires no scope accepts every scope. */
  scope?: string;
  /** Independent proofs required, 1 to 64. Default 1. */
  subPuzzles?: number;
  /**
   * Calls the token it buys allows, 1 to 1,048,576. Default 1. `difficulty` is the whole
   * challenge's: for N calls at a per-call difficulty d, pass d + log2(N).
   */
  calls?: number;
  /** Issue time in ms since the epoch. Default Date.now(). */
  now?: number;
  /** Lowest difficulty allowed. Default 1. */
  minDifficulty?: number;
  /** Highest difficulty allowed. Default 40. */
  maxDifficulty?: number;
}

/** Issues a signed challenge. Throws `PowgateError` (`ERR_INVALID_ARGUMENT`) on bad options. */
export function createChallenge(options: CreateChallengeOptions): Challenge {
  if (typeof options !== 'object' || options === null) {
    throw new PowgateError('ERR_INVALID_ARGUMENT', `expected an options object but received ${describe(options)}`);
  }
  const ring = KeyRing.from(options);
  const bounds = checkDifficultyBounds(options.minDifficulty ?? 1, options.maxDifficulty ?? 40);
  const { difficulty } = options;
  // The bounds hold for what is signed, rounded to 1/65536, as a verifier with them checks it.
  const signed = typeof difficulty === 'number' ? difficultySteps(difficulty) / DIFFICULTY_STEPS : Number.NaN;
  if (!(signed >= bounds.min && signed <= bounds.max)) {
    const rounded = signed === difficulty || Number.isNaN(signed) ? '' : `, which rounds to ${signed}`;
    throw new PowgateError('ERR_INVALID_ARGUMENT', `expected a number from ${bounds.min} to ${bounds.max} for difficulty but received ${describe(difficulty)}${rounded}`);
  }
  const ttlMs = checkInteger(options.ttlMs ?? 120_000, 'ttlMs', 1, 366 * 86_400_000);
  const subPuzzles = checkInteger(options.subPuzzles ?? 1, 'subPuzzles', 1, MAX_SUB_PUZZLES);
  const calls = checkInteger(options.calls ?? 1, 'calls', 1, MAX_CALLS);
  const scope = options.scope ?? '';
  if (!isScope(scope)) {
    throw new PowgateError('ERR_INVALID_ARGUMENT', `expected printable ASCII of at most 256 characters for scope but received ${describe(scope)}`);
  }
  const issuedAt = options.now ?? Date.now();
  if (!isTimestamp(issuedAt)) {
    throw new PowgateError('ERR_INVALID_ARGUMENT', `expected milliseconds since the epoch for now but received ${describe(issuedAt)}`);
  }

  return signChallenge(ring.signing, { difficulty, subPuzzles, calls, scope, issuedAt, expiresAt: issuedAt + ttlMs }, randomBytes(ID_BYTES));
}

/** Signs checked fields with a given id (the test vectors fix it; createChallenge draws it). */
export function signChallenge(key: Key, f: Pick<Challenge, 'difficulty' | 'subPuzzles' | 'calls' | 'scope' | 'issuedAt' | 'expiresAt'>, id: Buffer): Challenge {
  const steps = difficultySteps(f.difficulty);
  const threshold = thresholdForSteps(steps);
  const price = Math.max(0, priceSteps(steps, f.subPuzzles, f.calls));
  const unsigned = {
    v: 2 as const,
    id: id.toString('base64url'),
    kid: key.kid,
    difficulty: steps / DIFFICULTY_STEPS,
    threshold: thresholdHex(threshold),
    subPuzzles: f.subPuzzles,
    calls: f.calls,
    price: price / DIFFICULTY_STEPS,
    scope: f.scope,
    issuedAt: f.issuedAt,
    expiresAt: f.expiresAt,
  };
  const signature = challengeMac(key, challengeMacInput(unsigned, id, steps, threshold, price));
  return { ...unsigned, signature: signature.toString('base64url') };
}

/**
 * Reads an untrusted challenge: undefined unless every field has exactly the
 * type, range and canonical form the protocol allows. Never throws.
 */
export function parseChallenge(value: unknown): ParsedChallenge | undefined {
  try {
    if (typeof value !== 'object' || value === null || !hasChallengeKeys(value)) return undefined;
    // Each field read once, typed as claimed and checked at once.
    const { v, id, kid, difficulty, threshold, subPuzzles, calls, price, scope, issuedAt, expiresAt, signature } = value as Challenge;
    if (!challengeFieldsHold(v, id, kid, difficulty, threshold, subPuzzles, calls, price, scope, issuedAt, expiresAt, signature)) return undefined;
    if (!KID_PATTERN.test(kid) || !isScope(scope)) return undefined;
    const idBytes = fromBase64url(id, ID_CHARS);
    const signatureBytes = fromBase64url(signature, SIGNATURE_CHARS);
    const steps = exactSteps(difficulty);
    if (!idBytes || !signatureBytes || steps < 0) return undefined;
    const t = thresholdForSteps(steps);
    if (threshold !== thresholdHex(t)) return undefined;
    return { json: value as Challenge, id: idBytes, steps, threshold: t, priceSteps: Math.round(price * DIFFICULTY_STEPS), signature: signatureBytes };
  } catch {
    // A hostile object (a Proxy, a throwing getter) is malformed, not a crash.
    return undefined;
  }
}
