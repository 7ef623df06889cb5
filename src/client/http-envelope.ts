// Reading an HTTP 402: powgate's body, else a plain L402 header; nothing else is paid.
import { PowgateError } from '../errors.js';
import { isPaymentRequired, l402Challenges, parseL402Challenges, parsePaymentRequired } from './envelope.js';
import { readBounded, type FetchResponse } from './http-read.js';
import { l402RedeemTarget, powTargets } from './http-targets.js';
import { badEnvelope } from './l402-fields.js';
import type { Envelope } from './offers.js';
import { parseWwwAuthenticate } from './www-authenticate.js';

/**
 * Reads a 402 to `url` (its body at most `maxBytes`, then cancelled): powgate's JSON body,
 * with every redeem URL checked to be on `url`'s origin; else the L402 challenges of its
 * WWW-Authenticate header. Throws ERR_BAD_ENVELOPE for a malformed or hostile one and
 * ERR_UNSUPPORTED_CHALLENGE for a 402 in any other format.
 */
export async function readHttpRefusal(response: FetchResponse, url: URL, maxBytes: number): Promise<Envelope> {
  const challenges = parseWwwAuthenticate(response.headers.get('www-authenticate'));
  const powgate = challenges.some((c) => c.scheme.toLowerCase() === 'powgate');
  const l402 = l402Challenges(challenges).length > 0;
  const bytes = await readBounded(response, maxBytes);
  if (bytes === undefined) {
    if (l402 && !powgate) return parseL402Challenges(challenges);
    throw badEnvelope(`the body is larger than ${maxBytes} bytes (maxEnvelopeBytes)`);
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    body = undefined;
  }
  if (isPaymentRequired(body)) {
    const envelope = parsePaymentRequired(body);
    for (const offer of envelope.offers) {
      if (offer.method === 'pow') powTargets(offer, url);
      else if (offer.method === 'l402') l402RedeemTarget(offer, url);
    }
    return envelope;
  }
  if (powgate) throw badEnvelope("a PowGate challenge without powgate's `payment_required` body");
  if (l402) return parseL402Challenges(challenges);
  const schemes = challenges.map((c) => c.scheme.slice(0, 32)).join(', ');
  throw new PowgateError(
    'ERR_UNSUPPORTED_CHALLENGE',
    `a 402 in a format this client does not pay (${schemes ? `WWW-Authenticate: ${schemes}` : 'no powgate body, no L402 challenge'}): nothing was paid`,
  );
}
