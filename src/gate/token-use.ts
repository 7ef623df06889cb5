// A gated call: a presented credential checked at a door, then one of its calls spent.
import { DIFFICULTY_STEPS } from '../protocol/difficulty.js';
import type { ValidL402 } from '../protocol/l402.js';
import { REFUSALS, type Refusal } from '../protocol/refusal.js';
import { isScope } from '../protocol/shape.js';
import type { ValidToken } from '../protocol/token.js';
import { invalid } from '../validate.js';
import type { GateCore } from './core.js';
import { DEFAULT_CHANNEL, type Channel, type DoorKind } from './events.js';
import type { UseResult, UseTokenOptions } from './options.js';

/** One frozen refusal per reason: refusals carry no per-call data. */
export const REFUSED = Object.fromEntries(REFUSALS.map((reason) => [reason, Object.freeze({ ok: false as const, reason })])) as Record<Refusal, Extract<UseResult, { ok: false }>>;

/** A valid L402 credential as the token fields a door checks: paid in sats (lightning) or in bits (Aperture's PoW). */
function l402Token(v: ValidL402): ValidToken {
  return {
    valid: true,
    method: v.mode === 'lightning' ? 'l402' : 'pow',
    issuedAt: 0,
    expiresAt: v.expiresAt,
    scope: v.scope,
    kid: v.kid,
    id: v.countId,
    calls: v.calls,
    price: v.price,
  };
}

/** See {@link Gate.useToken}. */
export function useToken(core: GateCore, token: unknown, options: UseTokenOptions): Promise<UseResult> {
  const { scope = '', anyScope = false, spend = true, channel } = options;
  if (!isScope(scope)) throw invalid('printable ASCII of at most 256 characters', 'scope', scope);
  const verdict = core.credentials.token(token);
  if (!verdict.valid) {
    if (spend) core.funnel.refused('call', verdict.reason, scope, 'work', channel);
    return Promise.resolve(REFUSED[verdict.reason]);
  }
  return pass(core, verdict, scope, anyScope, spend, channel);
}

/** See {@link Gate.useL402}. */
export function useL402(core: GateCore, credential: unknown, options: UseTokenOptions): Promise<UseResult> {
  const { scope = '', anyScope = false, spend = true, channel } = options;
  if (!isScope(scope)) throw invalid('printable ASCII of at most 256 characters', 'scope', scope);
  const verdict = core.credentials.l402(credential);
  // An invalid credential's door is not known: it says it is Lightning's.
  if (!verdict.valid) {
    if (spend) core.funnel.refused('call', verdict.reason, scope, 'lightning', channel);
    return Promise.resolve(REFUSED[verdict.reason]);
  }
  // Aperture's dialect is a door only where it is offered.
  if (verdict.mode === 'pow' && !core.settings.aperturePow) {
    if (spend) core.funnel.refused('call', 'malformed', scope, 'work', channel);
    return Promise.resolve(REFUSED.malformed);
  }
  // Its preimage proves the invoice paid, whatever this door then says: never offer it again.
  if (verdict.mode === 'lightning') core.settings.lightning?.paid(verdict.paymentHash);
  return pass(core, l402Token(verdict), scope, anyScope, spend, channel, verdict.countUntil);
}

/**
 * The door's checks of a valid credential (scope, price), then the spend, counted until
 * `countUntil` at least (an L402 credential's signed expiry, which a holder may shorten).
 */
function pass(
  core: GateCore,
  verdict: ValidToken,
  scope: string,
  anyScope: boolean,
  spend: boolean,
  channel: Channel | undefined,
  countUntil = verdict.expiresAt,
): Promise<UseResult> {
  const pending = spendCall(core, verdict, scope, anyScope, spend, channel, countUntil);
  const { funnel } = core;
  // Unobserved, the hot path takes no extra step.
  if (!funnel.observed || !spend) return pending;
  return pending.then((result) => {
    const door: DoorKind = verdict.method === 'l402' ? 'lightning' : 'work';
    if (!result.ok) funnel.refused('call', result.reason, anyScope ? verdict.scope : scope, door, channel);
    else {
      const event = { stage: 'paid_call' as const, scope: funnel.scopeLabel(verdict.scope), door, channel: channel ?? DEFAULT_CHANNEL };
      funnel.emit(event);
      if (result.grant.used === result.grant.calls) funnel.emit({ ...event, stage: 'allowance_exhausted' });
    }
    return result;
  });
}

async function spendCall(
  core: GateCore,
  verdict: ValidToken,
  scope: string,
  anyScope: boolean,
  spend: boolean,
  channel: Channel | undefined,
  countUntil: number,
): Promise<UseResult> {
  const { doors, settings } = core;
  if (!anyScope && verdict.scope !== scope) return REFUSED.scope_mismatch;
  const base = doors.baseOf(verdict.scope);
  if (base === undefined) return REFUSED.scope_mismatch;
  if (verdict.method === 'l402') {
    // A door without a sats price sells nothing for sats: fail closed.
    const sats = doors.satsOf(verdict.scope);
    if (sats === undefined || verdict.price < sats) return REFUSED.price_too_low;
  } else if (Math.round(verdict.price * DIFFICULTY_STEPS) < doors.priceSteps(base)) {
    return REFUSED.price_too_low;
  }
  if (!spend) return { ok: true, grant: { ...verdict, used: undefined } };
  // Counted for as long as any instance may accept the token: until expiresAt + skew by its
  // clock, which may run up to skew behind this one's.
  const spent = await settings.store.spendCall(verdict.id, verdict.calls, Math.max(verdict.expiresAt, countUntil) + 2 * settings.skewMs + 1);
  if (spent.ok) return { ok: true, grant: { ...verdict, used: spent.used } };
  if (spent.reason === 'store_unavailable' && settings.failOpen) {
    core.funnel.failedOpen(verdict.scope, channel);
    return { ok: true, grant: { ...verdict, used: undefined } };
  }
  return REFUSED[spent.reason];
}
