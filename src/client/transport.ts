// What a door needs from the transport that carried the refusal (HTTP, MCP): redeeming and asking.
import type { Solution } from '../protocol/solution.js';
import type { Challenge } from '../protocol/challenge.js';
import { PowgateError } from '../errors.js';
import { MAX_CALLS } from '../protocol/price.js';
import { plainKeys } from '../protocol/shape.js';
import { MAX_TOKEN_CHARS } from '../protocol/token.js';
import type { L402Offer, PowOffer } from './offers.js';

/** A token a redeem returned. */
export interface TokenGrant {
  token: string;
  /** Calls it allows. */
  calls: number;
  /** ms since the epoch. */
  expiresAt: number;
}

/**
 * How doors reach the server that refused, over one transport. The HTTP one POSTs to the
 * URLs of the refusal's `redeem` (same origin only); an MCP one calls the tools it names.
 */
export interface DoorTransport {
  /** Redeems a solved challenge for a token, as `offer.redeem` says. Rejects with ERR_PAYMENT_FAILED when refused. */
  redeemPow(offer: PowOffer, solution: Solution, signal?: AbortSignal): Promise<TokenGrant>;
  /**
   * Asks for a challenge for `calls` calls (`more_calls`), and the same calls' Lightning offer
   * when the server has one; undefined when this transport or refusal cannot ask.
   */
  moreCalls?(offer: PowOffer, calls: number, signal?: AbortSignal): Promise<{ challenge: Challenge; l402?: L402Offer } | undefined>;
  /** Redeems a paid L402 credential for a token, as `offer.redeem.or_redeem` says; undefined when it cannot. */
  redeemL402?(offer: L402Offer, preimage: string, signal?: AbortSignal): Promise<TokenGrant | undefined>;
}

/** The token a redeem answered (`{ token, expires_at, calls }`, over any transport), checked: it is untrusted. */
export function grantOf(json: unknown): TokenGrant {
  const { token, expires_at: expiresAt, calls } = (plainKeys(json) ? json : {}) as Record<string, unknown>;
  if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_CHARS || !/^[\x21-\x7e]+$/.test(token)) {
    throw new PowgateError('ERR_PAYMENT_FAILED', 'the redeem answered without a token');
  }
  const n = typeof calls === 'number' && Number.isInteger(calls) && calls >= 1 && calls <= MAX_CALLS ? calls : 1;
  const at = typeof expiresAt === 'number' && Number.isSafeInteger(expiresAt) && expiresAt > 0 ? expiresAt : Infinity;
  return { token, calls: n, expiresAt: at };
}
