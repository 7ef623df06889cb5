// Reading an untrusted refusal: powgate's JSON body (any transport) or a plain L402 header.
import { PowgateError } from '../errors.js';
import { parseChallenge } from '../protocol/challenge.js';
import { MAX_CALLS } from '../protocol/price.js';
import { isTimestamp, plainKeys } from '../protocol/shape.js';
import { badEnvelope, invoiceTerms, macaroonExpiry, macaroonOf, macaroonPaymentHash, macaroonTokenId, powBits } from './l402-fields.js';
import type { AperturePowOffer, Envelope, L402Offer, Offer, PowOffer } from './offers.js';
import type { AuthChallenge } from './www-authenticate.js';

/** Most doors read from one refusal. */
const MAX_ACCEPTS = 16;
/** Longest `redeem` object read, as JSON. */
const MAX_REDEEM_CHARS = 8_192;
/** Longest reason read. */
const MAX_REASON_CHARS = 64;

/** Whether a value claims to be powgate's refusal body: `{ error: 'payment_required', ... }`. */
export function isPaymentRequired(body: unknown): boolean {
  try {
    return plainKeys(body) !== undefined && (body as { error?: unknown }).error === 'payment_required';
  } catch {
    return false;
  }
}

/**
 * Reads powgate's refusal body (`{ error: 'payment_required', cause, accepts }`), from any
 * transport: every door is checked (types, ranges, bounded sizes; a challenge with the
 * protocol's own parser; an invoice's amount and hash from the BOLT11 itself, and its hash
 * against the macaroon's). Doors of unknown methods are left out. Throws ERR_BAD_ENVELOPE
 * for anything malformed, ERR_UNSUPPORTED_CHALLENGE when it is not powgate's refusal at all.
 */
export function parsePaymentRequired(body: unknown): Envelope {
  try {
    return readPaymentRequired(body);
  } catch (error) {
    // A hostile object (a getter that throws, a Proxy) is malformed, never a crash.
    if (error instanceof PowgateError) throw error;
    throw badEnvelope('it could not be read as plain data');
  }
}

function readPaymentRequired(body: unknown): Envelope {
  if (!isPaymentRequired(body)) throw new PowgateError('ERR_UNSUPPORTED_CHALLENGE', "the refusal is not powgate's `payment_required` body");
  const { cause, accepts } = body as { cause?: unknown; accepts?: unknown };
  const reason = plainKeys(cause) ? (cause as { reason?: unknown }).reason : undefined;
  if (reason !== undefined && (typeof reason !== 'string' || reason.length > MAX_REASON_CHARS)) throw badEnvelope('cause.reason is not a short string');
  if (!Array.isArray(accepts) || accepts.length > MAX_ACCEPTS) throw badEnvelope(`accepts is not an array of at most ${MAX_ACCEPTS} doors`);
  const offers: Offer[] = [];
  for (const accept of accepts) {
    const offer = acceptOf(accept);
    if (offer) offers.push(offer);
  }
  const pow = offers.find((o): o is PowOffer => o.method === 'pow');
  const scope = pow?.challenge.scope;
  return { source: 'powgate', reason: reason as string | undefined, scope, offers };
}

function acceptOf(accept: unknown): Offer | undefined {
  if (!plainKeys(accept)) throw badEnvelope('a door in accepts is not an object');
  const a = accept as Record<string, unknown>;
  if (a.method === 'pow') return powOffer(a);
  if (a.method === 'l402') return l402Offer(a);
  if (a.method === 'l402-pow') return aperturePowOffer(a.macaroon, a.pow, a.calls, a.expiresAt);
  return undefined; // a door this client does not know
}

function redeemOf(value: unknown, what: string): Record<string, unknown> {
  let size = Infinity;
  try {
    size = plainKeys(value) ? JSON.stringify(value).length : Infinity;
  } catch {
    // cycles cannot come from JSON; anything else is not a plain object either
  }
  if (size > MAX_REDEEM_CHARS) throw badEnvelope(`${what} is not an object of at most ${MAX_REDEEM_CHARS} characters`);
  return value as Record<string, unknown>;
}

function callsOf(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_CALLS) throw badEnvelope(`${what} is not an integer from 1 to ${MAX_CALLS}`);
  return value;
}

function powOffer(a: Record<string, unknown>): PowOffer {
  const parsed = parseChallenge(a.challenge);
  if (!parsed) throw badEnvelope('the challenge is not a powgate challenge (wrong types, ranges or encodings)');
  const max = plainKeys(a.calls) ? (a.calls as { max?: unknown }).max : undefined;
  return { method: 'pow', challenge: parsed.json, maxCalls: callsOf(max, 'calls.max'), redeem: redeemOf(a.redeem, 'redeem') };
}

/** A Lightning door of powgate's body (or of a `more_calls` answer), checked against its own invoice. */
export function l402Offer(a: Record<string, unknown>): L402Offer {
  const macaroon = macaroonOf(a.macaroon);
  const terms = invoiceTerms(a.invoice);
  if (a.paymentHash !== undefined && a.paymentHash !== terms.paymentHash) throw badEnvelope("paymentHash is not the invoice's");
  if (a.amountSats !== undefined && a.amountSats !== terms.amountSats) throw badEnvelope("amountSats is not the invoice's amount");
  const hash = macaroonPaymentHash(macaroon);
  if (hash !== undefined && hash !== terms.paymentHash) throw badEnvelope('the invoice does not pay for the macaroon (payment hashes differ)');
  if (a.expiresAt !== undefined && !isTimestamp(a.expiresAt)) throw badEnvelope('expiresAt is not ms since the epoch');
  return {
    method: 'l402',
    macaroon: a.macaroon as string,
    invoice: terms.invoice,
    paymentHash: terms.paymentHash,
    amountSats: terms.amountSats,
    calls: a.calls === undefined ? 1 : callsOf(a.calls, 'calls'),
    callsKnown: a.calls !== undefined,
    expiresAt: (a.expiresAt as number | undefined) ?? macaroonExpiry(macaroon),
    redeem: a.redeem === undefined ? undefined : redeemOf(a.redeem, 'redeem'),
  };
}

function aperturePowOffer(mac: unknown, bits: unknown, calls: unknown, expiresAt: unknown): AperturePowOffer {
  const macaroon = macaroonOf(mac);
  if (expiresAt !== undefined && !isTimestamp(expiresAt)) throw badEnvelope('expiresAt is not ms since the epoch');
  const signed = macaroonExpiry(macaroon);
  return {
    method: 'l402-pow',
    macaroon: mac as string,
    bits: powBits(bits),
    tokenId: macaroonTokenId(macaroon),
    calls: calls === undefined ? 1 : callsOf(calls, 'calls'),
    callsKnown: calls !== undefined,
    // The macaroon's own expiry: powgate's `expiresAt` says by when to solve, its caveat how long it serves.
    expiresAt: signed ?? (expiresAt as number | undefined),
  };
}

/** The L402 (or LSAT) challenges of a WWW-Authenticate header: `macaroon` with `invoice`, or Aperture's `macaroon` with `pow`. */
export function l402Challenges(challenges: readonly AuthChallenge[]): AuthChallenge[] {
  return challenges.filter((c) => /^(l402|lsat)$/i.test(c.scheme) && c.params.macaroon !== undefined && (c.params.invoice !== undefined || c.params.pow !== undefined));
}

/**
 * Reads a plain L402 refusal from its WWW-Authenticate challenges (bLIP-0026: `L402
 * macaroon="...", invoice="..."`; Aperture's `L402 macaroon="...", pow="N"`; the older `LSAT`
 * name too). Calls are 1 and the scope unknown, as such headers do not say. Throws
 * ERR_UNSUPPORTED_CHALLENGE when there are none, ERR_BAD_ENVELOPE when one is malformed.
 */
export function parseL402Challenges(challenges: readonly AuthChallenge[]): Envelope {
  const l402 = l402Challenges(challenges);
  if (l402.length === 0) throw new PowgateError('ERR_UNSUPPORTED_CHALLENGE', 'no L402 challenge (macaroon with invoice or pow) in WWW-Authenticate');
  const offers: Offer[] = l402.map(({ params }) =>
    params.invoice !== undefined ? l402Offer({ macaroon: params.macaroon, invoice: params.invoice }) : aperturePowOffer(params.macaroon, params.pow, undefined, undefined),
  );
  return { source: 'l402', reason: undefined, scope: undefined, offers };
}
