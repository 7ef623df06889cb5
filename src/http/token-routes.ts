// The token service's own routes: challenges issued, solutions redeemed, tokens checked.
import { explainRefusal } from '../gate/explain.js';
import { l402Credential } from '../protocol/l402.js';
import type { Refusal } from '../protocol/refusal.js';
import { isScope } from '../protocol/shape.js';
import { INVALID_TOKEN, RETRY_AFTER, malformed, objectWith, type Context, type RouteHost } from './route-context.js';

/**
 * The HTTP status of a refused solution (POST /api/verify):
 * the request was not the protocol's shape → 400; the proof does not buy a token
 * (forged, expired, wrong scope, unsolved, ...) → 403; already redeemed → 409;
 * the gate cannot record the spend (Redis down, memory store full) → 503.
 */
export const VERIFY_STATUS: Readonly<Record<Refusal, number>> = Object.freeze({
  malformed: 400,
  unknown_key: 403,
  bad_signature: 403,
  expired: 403,
  not_yet_valid: 403,
  scope_mismatch: 403,
  difficulty_out_of_range: 403,
  bad_solution: 403,
  bad_preimage: 403,
  replayed: 409,
  predates_store: 403,
  unsupported_version: 400,
  token_exhausted: 403,
  price_too_low: 403,
  store_full: 503,
  store_unavailable: 503,
});

/** What POST /api/token/verify takes besides the token: the door, or any door; only check, not spend. */
const TOKEN_VERIFY_OPTIONAL = ['scope', 'any_scope', 'check_only'];

/** POST /api/challenge: a challenge priced for this client (and, with a Lightning door, an invoice for the same calls). */
export async function challengeRoute(host: RouteHost, ctx: Context, body: unknown): Promise<void> {
  const fields = body === undefined ? {} : objectWith(body, [], ['scope', 'difficulty', 'calls']);
  if (typeof fields === 'string') return malformed(host, ctx, fields);
  const { scope, difficulty, calls } = fields as { scope?: unknown; difficulty?: unknown; calls?: unknown };
  if (scope !== undefined && !isScope(scope)) return malformed(host, ctx, 'scope must be printable ASCII of at most 256 characters');
  if (difficulty !== undefined && (typeof difficulty !== 'number' || !Number.isFinite(difficulty))) return malformed(host, ctx, 'difficulty must be a number');
  const client = ctx.client;
  const issued = await host.gate.challenge(client, {
    scope: scope as string | undefined,
    difficulty: difficulty as number | undefined,
    calls: calls as number | undefined,
    channel: ctx.channel,
  });
  if (issued.ok) {
    // With a Lightning door, the same calls can be bought with sats instead.
    const paid = await host.gate.lightningOffer(client, { scope: issued.challenge.scope, calls: issued.challenge.calls, channel: ctx.channel });
    const l402 = paid?.ok ? { l402: paid.offer } : paid ? { l402_unavailable: { reason: paid.reason, detail: explainRefusal(paid.reason) } } : {};
    return host.reply(ctx, 200, { challenge: issued.challenge, ...l402 });
  }
  if (issued.reason === 'store_unavailable') {
    return host.reply(ctx, 503, { error: issued.reason, detail: issued.detail }, RETRY_AFTER, issued.reason);
  }
  const { min, max } = host.gate.difficulty;
  const bounds = issued.reason === 'unknown_scope' ? { scopes: host.gate.doors().map((door) => door.scope) } : { min, max, max_calls: host.gate.maxCalls };
  return host.reply(ctx, 400, { error: issued.reason, detail: issued.detail, ...bounds }, undefined, issued.reason);
}

/** POST /api/verify: a solution (or a paid L402 credential) redeemed for a token. */
export async function verifyRoute(host: RouteHost, ctx: Context, body: unknown): Promise<void> {
  const l402 = typeof body === 'object' && body !== null && (body as { method?: unknown }).method === 'l402';
  const fields = l402 ? objectWith(body, ['method', 'macaroon', 'preimage'], []) : objectWith(body, ['challenge', 'solution'], []);
  if (typeof fields === 'string') return malformed(host, ctx, fields);
  const { challenge, solution, macaroon, preimage } = fields as Record<string, unknown>;
  if (l402 && (typeof macaroon !== 'string' || typeof preimage !== 'string')) return malformed(host, ctx, 'macaroon and preimage must be strings');
  const started = performance.now();
  const result = l402 ? host.gate.redeemL402(`${macaroon}:${preimage}`, { channel: ctx.channel }) : await host.gate.redeem(challenge, solution, { channel: ctx.channel });
  host.metrics.verifySeconds.observe({ outcome: result.ok ? 'accepted' : 'refused' }, (performance.now() - started) / 1000);
  if (!result.ok) {
    const status = VERIFY_STATUS[result.reason] ?? 403;
    const detail = explainRefusal(result.reason, l402 ? 'credential' : 'challenge');
    return host.reply(ctx, status, { error: result.reason, detail }, status === 503 ? RETRY_AFTER : undefined, result.reason);
  }
  const elapsedMs = (solution as { elapsedMs?: unknown } | undefined)?.elapsedMs;
  if (typeof elapsedMs === 'number' && elapsedMs >= 0 && elapsedMs <= 86_400_000) host.metrics.solveSeconds.observe(elapsedMs / 1000);
  return host.reply(ctx, 200, { token: result.token, scope: result.scope, expires_at: result.expiresAt, calls: result.calls, price: result.price });
}

/** POST /api/token/verify: a token (or L402 credential) checked at a door, one of its calls spent. */
export async function tokenVerifyRoute(host: RouteHost, ctx: Context, body: unknown): Promise<void> {
  // One answer shape for every input: a body without a token is a bad token like any other.
  const fields = objectWith(body, ['token'], TOKEN_VERIFY_OPTIONAL);
  if (typeof fields === 'string') return host.reply(ctx, 200, INVALID_TOKEN, undefined, 'malformed');
  const { token, scope, any_scope: anyScope, check_only: checkOnly } = fields as Record<string, unknown>;
  const badOption =
    (scope !== undefined && !isScope(scope)) || (anyScope !== undefined && typeof anyScope !== 'boolean') || (checkOnly !== undefined && typeof checkOnly !== 'boolean');
  if (badOption) return host.reply(ctx, 200, INVALID_TOKEN, undefined, 'malformed');
  const options = { scope: scope as string | undefined, anyScope: anyScope === true, spend: checkOnly !== true, channel: ctx.channel };
  // An L402 credential is a token too: `L402 <macaroon>:<preimage>`, as in an Authorization header.
  const l402 = typeof token === 'string' ? l402Credential(token) : undefined;
  const used = l402 === undefined ? await host.gate.useToken(token, options) : await host.gate.useL402(l402, options);
  if (!used.ok) {
    if (used.reason === 'store_unavailable' || used.reason === 'store_full') {
      return host.reply(ctx, 503, { valid: false, reason: used.reason }, RETRY_AFTER, used.reason);
    }
    return host.reply(ctx, 200, { valid: false, reason: used.reason }, undefined, used.reason);
  }
  const g = used.grant;
  return host.reply(ctx, 200, {
    valid: true,
    method: g.method,
    issued_at: g.issuedAt,
    expires_at: g.expiresAt,
    scope: g.scope,
    calls: g.calls,
    price: g.price,
    ...(g.used === undefined ? {} : { used: g.used, remaining: g.calls - g.used }),
  });
}
