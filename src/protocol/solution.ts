import { fromBase64url } from './bytes.js';
import { MAX_SUB_PUZZLES } from './challenge.js';
import { hasExactKeys, isTimestamp } from './shape.js';
import { NONCE_PATTERN } from './work.js';

/** A solution, plain JSON: one nonce per sub-puzzle. */
export interface Solution {
  /** Protocol version: 1. */
  v: 1;
  /** The challenge's id. */
  id: string;
  /** One nonce per sub-puzzle, in order, each 16 lowercase hex digits (a u64). */
  nonces: string[];
  /** Whole milliseconds solving took, as the solver reports it (unverified; for metrics). */
  elapsedMs?: number;
}

export interface ParsedSolution {
  json: Solution;
  nonces: bigint[];
}

/** Reads an untrusted solution; undefined unless exactly the protocol's shape. Never throws. */
export function parseSolution(value: unknown): ParsedSolution | undefined {
  try {
    if (!hasExactKeys(value, ['v', 'id', 'nonces'], ['elapsedMs'])) return undefined;
    const s = value as Solution;
    if (s.v !== 1 || typeof s.id !== 'string' || fromBase64url(s.id, 22)?.length !== 16) return undefined;
    if (!Array.isArray(s.nonces) || s.nonces.length < 1 || s.nonces.length > MAX_SUB_PUZZLES) return undefined;
    const nonces: bigint[] = [];
    for (const n of s.nonces) {
      if (typeof n !== 'string' || !NONCE_PATTERN.test(n)) return undefined;
      nonces.push(BigInt(`0x${n}`));
    }
    if ('elapsedMs' in s && !isTimestamp(s.elapsedMs)) return undefined;
    return { json: s, nonces };
  } catch {
    return undefined;
  }
}
