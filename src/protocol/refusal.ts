/**
 * Why a challenge, solution or token was refused. Stable strings, for machines:
 * - `malformed`: not the protocol's shape (wrong types, extra fields, bad encodings, oversize).
 * - `unsupported_version`: a challenge or token of protocol version 1, which this verifier no longer accepts.
 * - `unknown_key`: signed with a key id this verifier does not hold.
 * - `bad_signature`: the MAC does not match: tampered, or made with another key.
 * - `expired` / `not_yet_valid`: outside its lifetime, beyond the allowed clock skew.
 * - `scope_mismatch`: valid, but for another scope than the one required.
 * - `difficulty_out_of_range`: signed, but outside the verifier's difficulty bounds.
 * - `bad_solution`: a nonce does not meet the threshold, or the solution is for another challenge.
 * - `replayed`: this challenge was already spent.
 * - `bad_preimage`: an L402 credential's preimage does not hash to its macaroon's payment hash (unpaid, or another invoice's).
 * - `predates_store`: the challenge was issued before the replay store's memory began (a restart): it cannot vouch that it was not spent.
 * - `token_exhausted`: the token's calls are all used.
 * - `price_too_low`: the token paid less per call than the door it is presented at charges.
 * - `store_full` / `store_unavailable`: the store cannot record a spend; refused (fail closed).
 */
export const REFUSALS = [
  'malformed',
  'unsupported_version',
  'unknown_key',
  'bad_signature',
  'expired',
  'not_yet_valid',
  'scope_mismatch',
  'difficulty_out_of_range',
  'bad_solution',
  'replayed',
  'predates_store',
  'bad_preimage',
  'token_exhausted',
  'price_too_low',
  'store_full',
  'store_unavailable',
] as const;

export type Refusal = (typeof REFUSALS)[number];

/** Time checks shared by challenges and tokens: `skewMs` of slack on both ends. */
export function lifetimeRefusal(issuedAt: number, expiresAt: number, now: number, skewMs: number): Refusal | undefined {
  if (now > expiresAt + skewMs) return 'expired';
  if (issuedAt > now + skewMs) return 'not_yet_valid';
  return undefined;
}
