// Redeeming: a solved challenge, or a paid L402 credential, for a powgate token.
import { KeyRing } from '../protocol/keys.js';
import { checkPrice, signToken } from '../protocol/token.js';
import { verifySolution } from '../protocol/verify.js';
import { MemoryReplayStore } from '../storage/memory.js';
import type { GateCore } from './core.js';
import { DEFAULT_CHANNEL, OTHER_SCOPE, type Channel } from './events.js';
import type { ClientCounting, RedeemResult } from './options.js';
import { RecordingStore, newIssue, solutionDigest, type Issue } from './redemption.js';
import { REFUSED } from './token-use.js';

/** What {@link Gate.redeem} takes. */
export type RedeemOptions = { scope?: string; client?: string } & ClientCounting;

/** See {@link Gate.redeem}. */
export async function redeemSolution(core: GateCore, challenge: unknown, solution: unknown, options: RedeemOptions): Promise<RedeemResult> {
  const result = await redeem(core, challenge, solution, options);
  const { funnel } = core;
  if (funnel.observed) {
    const scope = result.ok ? result.scope : (challenge as { scope?: unknown } | null)?.scope;
    if (!result.ok) funnel.refused('redeem', result.reason, scope, 'work', options.channel);
    else {
      // The challenge verified: its signed issue time is the server's own.
      const issuedAt = (challenge as { issuedAt: number }).issuedAt;
      const seconds = Math.max(0, (Date.now() - issuedAt) / 1000);
      funnel.emit({ stage: 'redeemed', scope: result.scope, door: 'work', channel: options.channel ?? DEFAULT_CHANNEL, seconds });
    }
  }
  return result;
}

async function redeem(core: GateCore, challenge: unknown, solution: unknown, options: RedeemOptions): Promise<RedeemResult> {
  const { settings } = core;
  const verify = { ...core.keys, scope: options.scope, skewMs: settings.skewMs, ...core.doors.bounds() };
  const recording = new RecordingStore(settings.store, () => newIssue(solution, Date.now()));
  let verdict = await verifySolution(challenge, solution, { ...verify, store: recording });
  if (!verdict.ok && verdict.reason === 'replayed' && recording.held?.digest === solutionDigest(solution)) {
    // The same solution again (its first answer was lost): the same token, read back from
    // the spend. 'replayed' comes after every other check, so only the signed terms are read here.
    const terms = await verifySolution(challenge, solution, { ...verify, store: new MemoryReplayStore({ maxEntries: 1, since: 0 }) });
    if (terms.ok) return tokenFor(core, terms, recording.held);
  }
  if (!verdict.ok && verdict.reason === 'store_unavailable' && settings.failOpen) {
    // Verified but not spent: fail open trades replay protection for availability.
    verdict = await verifySolution(challenge, solution, { ...verify, store: new MemoryReplayStore({ maxEntries: 1, since: 0 }) });
    if (verdict.ok) core.funnel.failedOpen(verdict.scope, options.channel);
  }
  if (!verdict.ok) return verdict;
  // A pooled key's calls count once paid for (its asks were free).
  if (options.pooled === true && options.client !== undefined) await settings.counter.hit(options.client, settings.difficulty.windowMs, verdict.calls);
  return tokenFor(core, verdict, recording.made ?? newIssue(solution, Date.now()));
}

/** The token a redemption issues: its terms from the challenge, its time and id from the issue kept with the spend. */
function tokenFor(core: GateCore, terms: { scope: string; calls: number; price: number }, issue: Issue): RedeemResult {
  const { scope, calls, price } = terms;
  const key = KeyRing.from(core.keys).signing;
  const expiresAt = issue.issuedAt + core.settings.tokenTtlMs;
  const fields = { kid: key.kid, method: 'pow' as const, scope, issuedAt: issue.issuedAt, expiresAt, id: issue.id, calls, priceUnits: checkPrice('pow', price) };
  return { ok: true, token: signToken(key, fields), scope, expiresAt, calls, price };
}

/** See {@link Gate.redeemL402}. */
export function redeemL402(core: GateCore, credential: unknown, options: { scope?: string; channel?: Channel }): RedeemResult {
  const result = redeemPaid(core, credential, options);
  const { funnel } = core;
  if (funnel.observed) {
    if (result.ok) funnel.emit({ stage: 'redeemed', scope: result.scope, door: 'lightning', channel: options.channel ?? DEFAULT_CHANNEL });
    else funnel.refused('redeem', result.reason, options.scope ?? OTHER_SCOPE, 'lightning', options.channel);
  }
  return result;
}

function redeemPaid(core: GateCore, credential: unknown, options: { scope?: string }): RedeemResult {
  const verdict = core.credentials.l402(credential);
  if (!verdict.valid) return verdict.reason === 'token_exhausted' ? REFUSED.token_exhausted : { ok: false, reason: verdict.reason };
  if (verdict.mode !== 'lightning') return REFUSED.malformed;
  // A token carries one expiry: a holder's shorter one would end its count early, and the
  // signed one would lengthen what the holder was given. Redeem the macaroon as minted.
  if (verdict.expiresAt !== verdict.countUntil) return REFUSED.malformed;
  // Redeemed without a call first: the door must still stop offering the paid invoice.
  core.settings.lightning?.paid(verdict.paymentHash);
  if (options.scope !== undefined && verdict.scope !== options.scope) return REFUSED.scope_mismatch;
  const key = KeyRing.from(core.keys).find(verdict.kid)!;
  const issuedAt = Math.min(Date.now(), verdict.expiresAt);
  const fields = {
    kid: key.kid,
    method: 'l402' as const,
    scope: verdict.scope,
    issuedAt,
    expiresAt: verdict.expiresAt,
    id: Buffer.from(verdict.countId, 'base64url'),
    calls: verdict.calls,
    priceUnits: verdict.price,
  };
  return { ok: true, token: signToken(key, fields), scope: verdict.scope, expiresAt: verdict.expiresAt, calls: verdict.calls, price: verdict.price };
}
