import { createHash } from 'node:crypto';
import { createChallenge, type Challenge, type CreateChallengeOptions } from '../../src/protocol/challenge.js';
import { MemoryReplayStore } from '../../src/storage/memory.js';
import type { Solution } from '../../src/protocol/solution.js';
import { solve, type SolveOptions } from '../../src/solver/solve.js';
import { meetsThreshold, nonceHex, workMessage } from '../../src/protocol/work.js';

export const SECRET = 'a test secret that is at least 32 bytes long';
export const OTHER_SECRET = 'another test secret, also 32 bytes or more';
export const NOW = 1_790_000_000_000;

/** A challenge issued at NOW with the test secret; options override. */
export function challengeAt(options: Partial<CreateChallengeOptions> = {}): Challenge {
  return createChallenge({ secret: SECRET, difficulty: 8, now: NOW, ...options } as CreateChallengeOptions);
}

/** A challenge and a solution of it. */
export interface SolvedPair {
  challenge: Challenge;
  solution: Solution;
}

/**
 * The one way tests get a solved pair: solves `from` (a challenge, however it was issued), or
 * `challengeAt(from)` when given options, on one thread unless `solveOptions` say otherwise.
 */
export async function solvedPair(from: Challenge | Partial<CreateChallengeOptions> = {}, solveOptions: SolveOptions = {}): Promise<SolvedPair> {
  const challenge = 'signature' in from && typeof from.signature === 'string' ? (from as Challenge) : challengeAt(from as Partial<CreateChallengeOptions>);
  return { challenge, solution: await solve(challenge, { threads: 1, ...solveOptions }) };
}

/** A memory store on the test clock, knowing every spend since the epoch (tests judge challenges from before it). */
export function storeAt(now = NOW): MemoryReplayStore {
  return new MemoryReplayStore({ now: () => now, since: 0 });
}

/**
 * Another valid solution of a one-sub-puzzle challenge than `solution`: what a second solver
 * would bring (a retry of the same solution gets the same token; this one is 'replayed').
 */
export async function anotherSolution<S extends { id: string; nonces: readonly string[] }>(challenge: Challenge, solution: S, secret = SECRET): Promise<S> {
  const { verifySolution } = await import('../../src/protocol/verify.js');
  for (let n = 0; n < 1 << 20; n++) {
    const nonce = n.toString(16).padStart(16, '0');
    const other = { ...solution, nonces: [nonce] };
    if (nonce !== solution.nonces[0] && (await verifySolution(challenge, other, { secret, store: new MemoryReplayStore({ since: 0 }) })).ok) return other;
  }
  throw new Error('no other solution found');
}

/** A nonce that does not solve sub-puzzle 0 of `challenge` (at difficulty 4, one in 16 does). */
export function failingNonce(challenge: Challenge): string {
  const signature = Buffer.from(challenge.signature, 'base64url');
  for (let n = 0n; ; n++) {
    const digest = createHash('sha256')
      .update(workMessage(signature, 0, n))
      .digest();
    if (!meetsThreshold(digest, 0, BigInt(`0x${challenge.threshold}`))) return nonceHex(n);
  }
}
