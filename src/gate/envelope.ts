import type { Challenge } from '../protocol/challenge.js';
import type { LightningOffer, LightningOutage } from './lightning-door.js';
import type { Refusal } from '../protocol/refusal.js';

/** Why a gated call was refused: no token, or the token's own refusal reason. */
export type GateReason = 'token_required' | Refusal;

/** Why a client's request for a challenge got none. */
export const CHALLENGE_REFUSALS = ['unknown_scope', 'calls_out_of_range', 'difficulty_out_of_range', 'store_unavailable'] as const;
export type ChallengeRefusal = (typeof CHALLENGE_REFUSALS)[number];

/** One way to get through: solve this challenge, redeem it for a token, present the token. */
export interface PowAccept {
  method: 'pow';
  /** Priced per call; its `calls` is what the token it buys allows. */
  challenge: Challenge;
  /** A challenge for more calls (N times the work) may be asked for, up to `max`. */
  calls: { max: number };
  /** How to redeem a solution and present the token, for this transport (HTTP paths, MCP tool names). */
  redeem: Record<string, unknown>;
}

/**
 * Pay the invoice, then present `Authorization: L402 <macaroon>:<hex preimage>` on every
 * call (it spends one of `calls`), or redeem the pair for a powgate token (`method: 'l402'`).
 */
export interface L402Accept extends LightningOffer {
  method: 'l402';
  /** How to present the credential and redeem it, for this transport. */
  redeem: Record<string, unknown>;
}

/**
 * Proof of work in Aperture's L402 dialect: find an 8-byte big-endian nonce such that
 * SHA-256(token id || nonce) has `pow` leading zero bits (the token id is the macaroon
 * identifier's last 32 bytes), append the caveat `pow=<pow>:<16 hex nonce>` to the
 * macaroon, and present `Authorization: L402 <macaroon>:POW` on every call.
 */
export interface L402PowAccept {
  method: 'l402-pow';
  macaroon: string;
  pow: number;
  calls: number;
  /** Solve and first present it by then (ms since the epoch). */
  expiresAt: number;
}

/** A door the gate has but could not offer this time, and why. */
export interface Unavailable {
  method: 'l402';
  reason: LightningOutage;
  detail: string;
}

/**
 * The refusal body of a gated call: why, and every way through. It is the
 * on-ramp: an agent that reads it knows what to solve and where to send it.
 */
export interface PaymentRequired {
  error: 'payment_required';
  cause: { reason: GateReason; detail: string /** Doors this gate has that this refusal could not offer. */; unavailable?: Unavailable[] };
  /** Every way through: proof of work first, always; then L402 when the gate has it. */
  accepts: [PowAccept, ...(L402Accept | L402PowAccept)[]];
}

/** The refusal body when the gate itself cannot decide (Redis down, failing closed). */
export interface GateUnavailable {
  error: 'store_unavailable';
  /** `store_full`: a memory store full of live entries; `store_unavailable`: it cannot answer. */
  cause: { reason: 'store_unavailable' | 'store_full'; detail: string };
  accepts: [];
}

/**
 * A refused call, whatever the transport: `payment_required` (a way through is offered: HTTP
 * says 402) or `unavailable` (the gate cannot decide, failing closed: HTTP says 503).
 */
export type CallRefusal = { kind: 'payment_required'; body: PaymentRequired } | { kind: 'unavailable'; body: GateUnavailable };
