import type { Challenge } from '../../src/protocol/challenge.js';
import { MemoryReplayStore } from '../../src/storage/memory.js';
import type { Solution } from '../../src/protocol/solution.js';
import { verifySolution } from '../../src/protocol/verify.js';

/**
 * `count` different valid solutions of one low-difficulty, one-sub-puzzle challenge: what
 * `count` solvers racing for it would bring (only the first to be spent may be accepted).
 */
export async function distinctSolutions(challenge: Challenge, count: number, secret: string): Promise<Solution[]> {
  const found: Solution[] = [];
  for (let n = 0; found.length < count && n < 1 << 20; n++) {
    const candidate: Solution = { v: 1, id: challenge.id, nonces: [n.toString(16).padStart(16, '0')] };
    if ((await verifySolution(challenge, candidate, { secret, store: new MemoryReplayStore({ since: 0 }) })).ok) found.push(candidate);
  }
  if (found.length < count) throw new Error(`only ${found.length} solutions found`);
  return found;
}
