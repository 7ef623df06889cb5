import type { Challenge } from '../protocol/challenge.js';
import type { Refusal } from '../protocol/refusal.js';

/** Why a gated call was refused: no token, or the token's own refusal reason. */
export type GateReason = 'token_required' | Refusal;

/** One way to get through: solve this challenge, redeem it for a token, present the token. */
export interface PowAccept {
  method: 'pow';
  challenge: Challenge;
  /** How to redeem a solution and present the token, for this transport (HTTP paths, MCP tool names). */
  redeem: Record<string, unknown>;
}

/**
 * The refusal body of a gated call: why, and every way through. It is the
 * on-ramp: an agent that reads it knows what to solve and where to send it.
 */
export interface PaymentRequired {
  error: 'payment_required';
  cause: { reason: GateReason; detail: string };
  accepts: PowAccept[];
}

/** The refusal body when the gate itself cannot decide (Redis down, failing closed). */
export interface GateUnavailable {
  error: 'store_unavailable';
  cause: { reason: 'store_unavailable'; detail: string };
  accepts: [];
}

const DETAILS: Record<GateReason, string> = {
  token_required: 'no token was presented: solve the challenge, redeem it for a token, and retry with the token',
  malformed: 'the token is not a powgate token',
  unknown_key: 'the token was signed with a key this server does not hold (rotated out?)',
  bad_signature: 'the token signature does not match: tampered with, or from another server',
  expired: 'the token has expired',
  not_yet_valid: 'the token is not valid yet: check the clock',
  scope_mismatch: 'the token is for another scope',
  difficulty_out_of_range: 'the difficulty is outside what this server accepts',
  bad_solution: 'the solution does not solve the challenge',
  replayed: 'this challenge was already redeemed',
  store_full: 'the replay store is full: try again later',
  store_unavailable: 'the gate cannot reach its store: try again later',
};

/** A short, secret-free sentence for a reason. */
export function reasonDetail(reason: GateReason): string {
  return DETAILS[reason];
}
