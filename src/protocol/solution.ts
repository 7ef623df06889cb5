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
