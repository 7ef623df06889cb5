// The refusal of a call without a valid credential: why, and every way through.
import { PowgateError } from '../errors.js';
import { MAX_POW_BITS, mintL402 } from '../protocol/l402.js';
import { issueChallenge, lightningOffer } from './challenge-issue.js';
import type { GateCore } from './core.js';
import type { GateReason, CallRefusal, PaymentRequired, Unavailable } from './envelope.js';
import { explainRefusal } from './explain.js';
import type { ClientCounting } from './options.js';

/** What {@link Gate.refuse} takes. */
export type RefuseOptions = { scope?: string; redeem: Record<string, unknown>; l402Redeem?: Record<string, unknown> } & ClientCounting;

/** See {@link Gate.refuse}. */
export async function refuse(core: GateCore, reason: GateReason, client: string, options: RefuseOptions): Promise<CallRefusal> {
  const { settings } = core;
  // The store could not count the call: paying again would not help, so no challenge. (A full
  // memory store refuses only credentials older than what it forgot: a new one passes.)
  if (reason === 'store_unavailable') {
    // Told by useToken when a credential was presented.
    return { kind: 'unavailable', body: { error: 'store_unavailable', cause: { reason, detail: explainRefusal(reason) }, accepts: [] } };
  }
  const scope = options.scope ?? '';
  // A presented credential's refusal was told by useToken; a call without one is told here.
  if (reason === 'token_required') core.funnel.refused('call', reason, scope, 'work', options.channel);
  // Both doors at once: the node's answer (bounded in time) never delays the challenge.
  const counting = { scope, pooled: options.pooled, channel: options.channel };
  const [issued, paid] = await Promise.all([issueChallenge(core, client, counting), lightningOffer(core, client, counting)]);
  if (!issued.ok) {
    if (issued.reason !== 'store_unavailable') throw new PowgateError('ERR_INVALID_ARGUMENT', `cannot refuse with a challenge: ${issued.detail}`);
    return { kind: 'unavailable', body: { error: 'store_unavailable', cause: { reason: 'store_unavailable', detail: issued.detail }, accepts: [] } };
  }
  const { challenge } = issued;
  const accepts: PaymentRequired['accepts'] = [{ method: 'pow', challenge, calls: { max: settings.maxCalls }, redeem: options.redeem }];
  const unavailable: Unavailable[] = [];
  if (paid?.ok) accepts.push({ method: 'l402', ...paid.offer, redeem: options.l402Redeem ?? {} });
  else if (paid) unavailable.push({ method: 'l402', reason: paid.reason, detail: explainRefusal(paid.reason) });
  // Not to a pooled key: its calls count at redemption, which this dialect never goes through.
  if (settings.aperturePow && options.pooled !== true) {
    // Aperture's PoW is one puzzle of whole bits: at least the challenge's work for its calls.
    const bits = Math.min(MAX_POW_BITS, Math.ceil(challenge.price + Math.log2(challenge.calls)));
    const expiresAt = Date.now() + settings.challengeTtlMs + settings.tokenTtlMs;
    const minted = mintL402(core.keys, { mode: 'pow', scope, calls: challenge.calls, powBits: bits, expiresAt });
    accepts.push({ method: 'l402-pow', macaroon: minted.macaroon, pow: bits, calls: challenge.calls, expiresAt: challenge.expiresAt });
  }
  const cause = { reason, detail: explainRefusal(reason), ...(unavailable.length > 0 ? { unavailable } : {}) };
  return { kind: 'payment_required', body: { error: 'payment_required', cause, accepts } };
}
