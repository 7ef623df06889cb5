// Where an HTTP refusal says to redeem and to ask for more calls: only ever the origin that refused.
import type { L402Offer, PowOffer } from './offers.js';
import { badEnvelope } from './l402-fields.js';
import { plainKeys } from '../protocol/shape.js';

/** Longest URL read from a refusal. */
const MAX_URL_CHARS = 2048;

/** A URL of the refusal, resolved against the URL that refused; ERR_BAD_ENVELOPE unless it is on the same origin. */
function sameOriginUrl(value: unknown, base: URL, what: string): URL {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_URL_CHARS) throw badEnvelope(`${what} is not a URL of at most ${MAX_URL_CHARS} characters`);
  let url: URL;
  try {
    url = new URL(value, base);
  } catch {
    throw badEnvelope(`${what} is not a URL`);
  }
  // Only the origin that asked ever gets a solution, a preimage or a credential.
  if (url.origin !== base.origin || url.username !== '' || url.password !== '') throw badEnvelope(`${what} is on another origin than the one that refused`);
  return url;
}

function post(method: unknown, what: string): void {
  if (method !== undefined && method !== 'POST') throw badEnvelope(`${what}.method is not POST`);
}

/** The redeem URL and the more-calls URL (when given) of a proof-of-work door. */
export function powTargets(offer: PowOffer, base: URL): { redeem: URL; moreCalls: URL | undefined } {
  const { url, method, more_calls: more } = offer.redeem;
  post(method, 'redeem');
  const redeem = sameOriginUrl(url, base, 'redeem.url');
  if (more === undefined) return { redeem, moreCalls: undefined };
  if (!plainKeys(more)) throw badEnvelope('redeem.more_calls is not an object');
  post((more as { method?: unknown }).method, 'redeem.more_calls');
  return { redeem, moreCalls: sameOriginUrl((more as { url?: unknown }).url, base, 'redeem.more_calls.url') };
}

/** The URL a paid L402 credential is redeemed at (`redeem.or_redeem.url`), when given. */
export function l402RedeemTarget(offer: L402Offer, base: URL): URL | undefined {
  const or = offer.redeem?.or_redeem;
  if (or === undefined) return undefined;
  if (!plainKeys(or)) throw badEnvelope('redeem.or_redeem is not an object');
  post((or as { method?: unknown }).method, 'redeem.or_redeem');
  return sameOriginUrl((or as { url?: unknown }).url, base, 'redeem.or_redeem.url');
}
