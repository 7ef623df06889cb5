// The doors' HTTP side: POST the solution (or the paid macaroon) to the origin that refused.
import { PowgateError } from '../errors.js';
import { parseChallenge } from '../protocol/challenge.js';
import { plainKeys } from '../protocol/shape.js';
import { l402Offer } from './envelope.js';
import { readJson, redeemRefused, type FetchResponse } from './http-read.js';
import { l402RedeemTarget, powTargets } from './http-targets.js';
import { badEnvelope } from './l402-fields.js';
import { grantOf, type DoorTransport } from './transport.js';

/** Largest answer of a redeem or a more-calls request read. */
const MAX_ANSWER_BYTES = 65_536;

type Fetch = (url: string, init: RequestInit) => Promise<FetchResponse>;

/**
 * The doors' transport for a refusal of `url`: redeems at `redeem.url`, asks `more_calls`,
 * and redeems paid macaroons at `or_redeem.url`, each checked to be on `url`'s origin, with
 * the wrapped fetch (never with the request's own headers).
 */
export function httpTransport(fetch: Fetch, url: URL): DoorTransport {
  const postJson = async (target: URL, body: unknown, signal: AbortSignal | undefined, what: string) => {
    let response: FetchResponse;
    try {
      response = await fetch(target.href, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(body),
        signal,
        redirect: 'error',
      });
    } catch (cause) {
      if (signal?.aborted) throw new PowgateError('ERR_ABORTED', 'the call was aborted', { cause: signal.reason });
      throw new PowgateError('ERR_PAYMENT_FAILED', `${what} failed: ${(cause as Error)?.message ?? cause}`, { cause });
    }
    const answer = await readJson(response, MAX_ANSWER_BYTES);
    if (response.status !== 200 || !answer) throw redeemRefused(what, response.status, answer?.json);
    return answer.json;
  };
  return {
    async redeemPow(offer, solution, signal) {
      const { redeem } = powTargets(offer, url);
      return grantOf(await postJson(redeem, { challenge: offer.challenge, solution }, signal, 'the redeem of the solution'));
    },
    async moreCalls(offer, calls, signal) {
      const { moreCalls } = powTargets(offer, url);
      if (!moreCalls) return undefined;
      const json = await postJson(moreCalls, { scope: offer.challenge.scope, calls }, signal, 'the request for more calls');
      const parsed = plainKeys(json) ? parseChallenge((json as { challenge?: unknown }).challenge) : undefined;
      if (!parsed) throw badEnvelope('the answer for more calls carries no valid challenge');
      const paid = (json as { l402?: unknown }).l402;
      return { challenge: parsed.json, ...(plainKeys(paid) ? { l402: l402Offer({ ...(paid as Record<string, unknown>), method: 'l402' }) } : {}) };
    },
    async redeemL402(offer, preimage, signal) {
      const target = l402RedeemTarget(offer, url);
      if (!target) return undefined;
      return grantOf(await postJson(target, { method: 'l402', macaroon: offer.macaroon, preimage }, signal, 'the redeem of the paid macaroon'));
    },
  };
}
