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
import { hasExactKeys, isScope, isTimestamp } from './shape.js';

/** A signed challenge, plain JSON. See docs/PROTOCOL.md for every field. */
export interface Challenge {
  /** Protocol version: 1. */
  v: 1;
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
  signature: Buffer;
}

export const CHALLENGE_LABEL = 'powgate/challenge/v1';
const KEYS = ['v', 'id', 'kid', 'difficulty', 'threshold', 'subPuzzles', 'scope', 'issuedAt', 'expiresAt', 'signature'];
export const MAX_SUB_PUZZLES = 64;

/** The bytes under a challenge's MAC (docs/PROTOCOL.md, "Challenge MAC"). */
export function challengeMacInput(c: Omit<Challenge, 'signature'>, id: Buffer, steps: number, threshold: bigint): Buffer {
  return new ByteWriter()
    .label(CHALLENGE_LABEL)
    .u8(c.v)
    .short(c.kid)
    .bytes(id)
    .u32(steps)
    .u64(threshold)
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
  const scope = options.scope ?? '';
  if (!isScope(scope)) {
    throw new PowgateError('ERR_INVALID_ARGUMENT', `expected printable ASCII of at most 256 characters for scope but received ${describe(scope)}`);
  }
  const issuedAt = options.now ?? Date.now();
  if (!isTimestamp(issuedAt)) {
    throw new PowgateError('ERR_INVALID_ARGUMENT', `expected milliseconds since the epoch for now but received ${describe(issuedAt)}`);
  }

  return signChallenge(ring.signing, { difficulty, subPuzzles, scope, issuedAt, expiresAt: issuedAt + ttlMs }, randomBytes(16));
}

/** Signs checked fields with a given id (the test vectors fix it; createChallenge draws it). */
export function signChallenge(
  key: Key,
  f: Pick<Challenge, 'difficulty' | 'subPuzzles' | 'scope' | 'issuedAt' | 'expiresAt'>,
  id: Buffer,
): Challenge {
  const steps = difficultySteps(f.difficulty);
  const threshold = thresholdForSteps(steps);
  const unsigned = {
    v: 1 as const,
    id: id.toString('base64url'),
    kid: key.kid,
    difficulty: steps / DIFFICULTY_STEPS,
    threshold: thresholdHex(threshold),
    subPuzzles: f.subPuzzles,
    scope: f.scope,
    issuedAt: f.issuedAt,
    expiresAt: f.expiresAt,
  };
  const signature = challengeMac(key, challengeMacInput(unsigned, id, steps, threshold));
  return { ...unsigned, signature: signature.toString('base64url') };
}

/**
 * Reads an untrusted challenge: undefined unless every field has exactly the
 * type, range and canonical form the protocol allows. Never throws.
 */
export function parseChallenge(value: unknown): ParsedChallenge | undefined {
  try {
    if (!hasExactKeys(value, KEYS)) return undefined;
    const c = value as Challenge;
    if (c.v !== 1 || typeof c.kid !== 'string' || !KID_PATTERN.test(c.kid) || !isScope(c.scope)) return undefined;
    if (typeof c.id !== 'string' || typeof c.signature !== 'string' || typeof c.threshold !== 'string') return undefined;
    const id = fromBase64url(c.id, 22);
    const signature = fromBase64url(c.signature, 43);
    if (id?.length !== 16 || signature?.length !== 32) return undefined;
    if (typeof c.difficulty !== 'number' || !(c.difficulty >= PROTOCOL_MIN_DIFFICULTY && c.difficulty <= PROTOCOL_MAX_DIFFICULTY)) {
      return undefined;
    }
    const steps = difficultySteps(c.difficulty);
    if (steps / DIFFICULTY_STEPS !== c.difficulty) return undefined;
    const threshold = thresholdForSteps(steps);
    if (c.threshold !== thresholdHex(threshold)) return undefined;
    if (!Number.isInteger(c.subPuzzles) || c.subPuzzles < 1 || c.subPuzzles > MAX_SUB_PUZZLES) return undefined;
    if (!isTimestamp(c.issuedAt) || !isTimestamp(c.expiresAt) || c.expiresAt < c.issuedAt) return undefined;
    return { json: c, id, steps, threshold, signature };
  } catch {
    // A hostile object (a Proxy, a throwing getter) is malformed, not a crash.
    return undefined;
  }
}
