// The one table of refusal sentences: every transport words a refusal with these.
import type { ChallengeRefusal, GateReason } from './envelope.js';
import type { LightningOutage } from './lightning-door.js';

/** Every reason a gate explains: a call's, a challenge request's, a Lightning door's. */
export type ExplainedReason = GateReason | ChallengeRefusal | LightningOutage;

/** What was refused: a presented credential (token, L402), or a challenge and its solution at redemption. */
export type RefusalSubject = 'credential' | 'challenge';

/** A sentence per reason; a pair where a refused challenge is told to do something else than a refused credential. */
const SENTENCES: Readonly<Record<ExplainedReason, string | Readonly<Record<RefusalSubject, string>>>> = {
  lightning_unavailable: 'the Lightning node cannot issue an invoice right now (down, slow or failing): pay with proof of work, or retry later for an invoice',
  lightning_busy: 'too many invoices are being made right now: pay with proof of work, or retry later for an invoice',
  token_required: 'no token was presented: solve the challenge, redeem it for a token, and retry with the token',
  malformed: {
    credential: 'the token is not a powgate token',
    challenge: "expected { challenge, solution: { v, id, nonces } } in the protocol's exact shape: pass both exactly as issued and as the solver printed them",
  },
  unsupported_version: {
    credential: 'the token is of an older protocol version: solve the challenge for a new one',
    challenge: 'the challenge is of an older protocol version: ask for a new one',
  },
  token_exhausted: 'the token has used all the calls it bought: solve the challenge for more',
  price_too_low: "the token paid less per call than this door charges: solve this door's challenge",
  unknown_scope: 'this gate has no door with that scope: see its status for the doors it has',
  calls_out_of_range: "a challenge buys from 1 call to the gate's most calls per token",
  unknown_key: {
    credential: 'the token was signed with a key this server does not hold (rotated out?)',
    challenge: 'the challenge was signed with a key this server does not hold (rotated out?): ask for a new challenge',
  },
  bad_signature: {
    credential: 'the token signature does not match: tampered with, or from another server',
    challenge: 'the challenge signature does not match: tampered with, or from another server',
  },
  expired: { credential: 'the token has expired', challenge: 'the challenge has expired: ask for a new one and solve it within its lifetime' },
  not_yet_valid: { credential: 'the token is not valid yet: check the clock', challenge: 'the challenge is not valid yet: check the clock' },
  scope_mismatch: { credential: 'the token is for another scope', challenge: 'the challenge is for another scope' },
  difficulty_out_of_range: {
    credential: 'the difficulty is outside what this server accepts',
    challenge: 'the challenge difficulty is outside what this server accepts',
  },
  bad_solution: { credential: 'the solution does not solve the challenge', challenge: 'the nonces do not solve this challenge' },
  replayed: { credential: 'this challenge was already redeemed', challenge: 'this challenge was already redeemed: ask for a new one' },
  predates_store: 'the challenge was issued before the replay store restarted: ask for a new one',
  bad_preimage: "the preimage does not pay this macaroon's invoice: pay the invoice and send its preimage",
  store_full: {
    credential: 'the store no longer remembers this one (a flood filled it): buy a new token',
    challenge: 'the replay store no longer remembers challenges this old (a flood filled it): ask for a new one',
  },
  store_unavailable: 'the gate cannot reach its store: try again later',
};

/**
 * A short, secret-free sentence that says why `reason` and what to do, for a refused
 * `subject` (default 'credential': a gated call, or an L402 redemption).
 */
export function explainRefusal(reason: ExplainedReason, subject: RefusalSubject = 'credential'): string {
  const sentence = SENTENCES[reason];
  return typeof sentence === 'string' ? sentence : sentence[subject];
}
