import { createHmac, randomBytes } from 'node:crypto';
import { PowgateError } from '../errors.js';
import { checkInteger, describe } from '../validate.js';
import { ByteWriter, fromBase64url } from './bytes.js';
import {
  DIFFICULTY_STEPS,
  PROTOCOL_MAX_DIFFICULTY,
  PROTOCOL_MIN_DIFFICULTY,
  checkDifficultyBounds,
  difficultySteps,
  thresholdForSteps,
  thresholdHex,
} from './difficulty.js';
import { KID_PATTERN, KeyRing, type Key, type KeyOptions } from './keys.js';
import { MAX_CALLS, MAX_PRICE, isStepMultiple, priceSteps } from './price.js';
import { hasExactKeys, isScope, isTimestamp } from './shape.js';
import { CHALLENGE_KEYS, CHALLENGE_LABEL, CHALLENGE_VERSION, ID_BYTES, ID_CHARS, MAC_BYTES, MAX_SUB_PUZZLES, SIGNATURE_CHARS } from '../wire.js';

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
  /** What the challenge unlocks, printable ASCII up to 256 characters ('' for anything). */
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

export function challengeMac(key: Key, input: Buffer): Buffer {
  return createHmac('sha256', key.challenge).update(input).digest();
}

/** Options of {@link createChallenge}. */
export interface CreateChallengeOptions extends KeyOptions {
  /** Bits per sub-puzzle (fractional allowed), rounded to 1/65536; within [minDifficulty, maxDifficulty]. */
  difficulty: number;
  /** Lifetime in milliseconds. Default 120,000 (2 minutes). */
  ttlMs?: number;
  /** What solving it unlocks. Default '' (anything the verifier accepts). */
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
  if (typeof difficulty !== 'number' || !(difficulty >= bounds.min && difficulty <= bounds.max)) {
    throw new PowgateError(
      'ERR_INVALID_ARGUMENT',
      `expected a number from ${bounds.min} to ${bounds.max} for difficulty but received ${describe(difficulty)}`,
    );
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
export function signChallenge(
  key: Key,
  f: Pick<Challenge, 'difficulty' | 'subPuzzles' | 'calls' | 'scope' | 'issuedAt' | 'expiresAt'>,
  id: Buffer,
): Challenge {
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

/** A per-call price as signed: a multiple of 1/65536 from 0 to {@link MAX_PRICE}. */
export function isPrice(value: unknown): value is number {
  return typeof value === 'number' && value >= 0 && value <= MAX_PRICE && isStepMultiple(value);
}

/** A number of calls as signed: an integer from 1 to {@link MAX_CALLS}. */
export function isCalls(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_CALLS;
}

/**
 * Reads an untrusted challenge: undefined unless every field has exactly the
 * type, range and canonical form the protocol allows. Never throws.
 */
export function parseChallenge(value: unknown): ParsedChallenge | undefined {
  try {
    if (!hasExactKeys(value, CHALLENGE_KEYS)) return undefined;
    const c = value as Challenge;
    if (c.v !== CHALLENGE_VERSION || typeof c.kid !== 'string' || !KID_PATTERN.test(c.kid) || !isScope(c.scope)) return undefined;
    if (typeof c.id !== 'string' || typeof c.signature !== 'string' || typeof c.threshold !== 'string') return undefined;
    const id = fromBase64url(c.id, ID_CHARS);
    const signature = fromBase64url(c.signature, SIGNATURE_CHARS);
    if (id?.length !== ID_BYTES || signature?.length !== MAC_BYTES) return undefined;
    if (typeof c.difficulty !== 'number' || !(c.difficulty >= PROTOCOL_MIN_DIFFICULTY && c.difficulty <= PROTOCOL_MAX_DIFFICULTY)) {
      return undefined;
    }
    const steps = difficultySteps(c.difficulty);
    if (steps / DIFFICULTY_STEPS !== c.difficulty) return undefined;
    const threshold = thresholdForSteps(steps);
    if (c.threshold !== thresholdHex(threshold)) return undefined;
    if (!Number.isInteger(c.subPuzzles) || c.subPuzzles < 1 || c.subPuzzles > MAX_SUB_PUZZLES) return undefined;
    if (!isCalls(c.calls) || !isPrice(c.price)) return undefined;
    if (!isTimestamp(c.issuedAt) || !isTimestamp(c.expiresAt) || c.expiresAt < c.issuedAt) return undefined;
    return { json: c, id, steps, threshold, priceSteps: Math.round(c.price * DIFFICULTY_STEPS), signature };
  } catch {
    // A hostile object (a Proxy, a throwing getter) is malformed, not a crash.
    return undefined;
  }
}
