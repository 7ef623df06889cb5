// The zod schemas of powgate's MCP tools: what tools/list shows and what results carry.
import * as z from 'zod';
import { CHALLENGE_REFUSALS, type ChallengeRefusal } from '../gate/envelope.js';
import { LIGHTNING_OUTAGES } from '../gate/lightning-door.js';
import { REFUSALS, type Refusal } from '../protocol/refusal.js';

/** The argument of a gated tool that carries the token: what an LLM agent can fill in. */
export const TOKEN_ARGUMENT = 'powgate_token';
/** The request `_meta` key that may carry the token instead (for clients that set it programmatically). */
export const TOKEN_META_KEY = 'powgate/token';
/** The result `_meta` key of a refusal: the envelope, also where the tool's outputSchema keeps it out of structuredContent. */
export const REFUSAL_META_KEY = 'powgate/refusal';

/**
 * An argument described to clients by `jsonSchema` but accepted as anything (and
 * absent) at run time, so that the tool itself answers a wrong value with a
 * structured `malformed` refusal rather than the SDK's plain-text input error.
 */
function lenient(jsonSchema: Record<string, unknown>) {
  return z.unknown().optional().meta(jsonSchema);
}

/** A challenge as issued (docs/PROTOCOL.md). */
const challengeSchema = z.object({
  v: z.literal(2),
  id: z.string(),
  kid: z.string(),
  difficulty: z.number(),
  threshold: z.string(),
  subPuzzles: z.number(),
  calls: z.number(),
  price: z.number(),
  scope: z.string(),
  issuedAt: z.number(),
  expiresAt: z.number(),
  signature: z.string(),
});

/** Every reason a powgate tool may give; `backend_unavailable` is the MCP layer's own (the addon forced and failing). */
export type McpReason = 'token_required' | Refusal | ChallengeRefusal | 'backend_unavailable';
export const REASONS: readonly [McpReason, ...McpReason[]] = [
  'token_required',
  ...REFUSALS,
  ...CHALLENGE_REFUSALS.filter((r) => !(REFUSALS as readonly string[]).includes(r)),
  'backend_unavailable',
];

const reason = z.enum(REASONS).describe('why: a stable machine-readable string');
const detail = z.string().describe('a short human-readable sentence');
const redeem = z.record(z.string(), z.unknown()).describe('how to redeem a solution for a token, and how to present the token');

/** A Lightning offer: pay `invoice`, then present `L402 <macaroon>:<preimage hex>` or redeem the pair. */
const l402OfferSchema = z.object({
  macaroon: z.string(),
  invoice: z.string().describe('a BOLT11 invoice for amountSats'),
  paymentHash: z.string(),
  amountSats: z.number(),
  satsPerCall: z.number(),
  calls: z.number(),
  invoiceExpiresAt: z.number(),
  expiresAt: z.number(),
});

export const challengeInput = z.object({
  scope: lenient({ type: 'string', maxLength: 256, description: "what the token will unlock, printable ASCII, e.g. 'tool:search'; default ''" }),
  difficulty: lenient({
    type: 'number',
    description: "bits of work per sub-puzzle per call; default and minimum: this client's current price (see status); a harder one may be asked for",
  }),
  calls: lenient({
    type: 'integer',
    minimum: 1,
    description: 'calls the token will allow, for that many times the work; default and most: see status (calls, max_calls)',
  }),
});

export const challengeOutput = z.object({
  ok: z.boolean(),
  challenge: challengeSchema.optional().describe('solve it (`npx powgate solve`, or solve() of the powgate package), then redeem it with the verify tool'),
  redeem: redeem.optional(),
  l402: l402OfferSchema.optional().describe('or pay this invoice (a Lightning door): present `L402 <macaroon>:<preimage hex>` as the token, or redeem them with the verify tool'),
  l402_unavailable: z
    .object({ reason: z.enum(LIGHTNING_OUTAGES), detail })
    .optional()
    .describe('why the Lightning door offered nothing this time'),
  reason: reason.optional(),
  detail: detail.optional(),
});

export const verifyInput = z.object({
  challenge: lenient({ type: 'object', description: 'the challenge, exactly as issued (proof of work)' }),
  solution: lenient({ type: 'object', description: 'its solution, { v, id, nonces }, exactly as the solver printed it' }),
  method: lenient({ type: 'string', enum: ['pow', 'l402'], description: "'l402' to redeem a paid Lightning invoice instead; default 'pow'" }),
  macaroon: lenient({ type: 'string', description: 'l402: the macaroon of the offer, unchanged' }),
  preimage: lenient({ type: 'string', description: 'l402: the preimage the wallet returned when it paid the invoice, hex' }),
});

export const verifyOutput = z.object({
  ok: z.boolean(),
  token: z.string().optional().describe(`present it as the ${TOKEN_ARGUMENT} argument of a gated tool`),
  scope: z.string().optional().describe('what the token unlocks'),
  expires_at: z.number().optional().describe('when the token expires, ms since the epoch'),
  calls: z.number().optional().describe('calls the token allows: each gated call spends one'),
  price: z.number().optional().describe('what each call was paid: bits of work (pow) or sats (l402)'),
  reason: reason.optional(),
  detail: detail.optional(),
});

export const statusInput = z.object({});

export const statusOutput = z.object({
  version: z.string(),
  backend: z.object({
    ok: z.boolean().describe('false when the forced backend cannot load: verify then refuses with backend_unavailable'),
    name: z.string().optional().describe('native, wasm or js'),
    isa: z.string().optional().describe('avx512, shani, avx2 or scalar (native); hash-wasm or node:crypto'),
    threads: z.number().optional(),
    native_error: z.string().optional().describe('why the native addon was passed over'),
    error: z.string().optional(),
  }),
  gate: z.object({
    difficulty: z.object({
      base: z.number(),
      min: z.number(),
      max: z.number(),
      free_requests: z.number(),
      window_ms: z.number(),
      bits_per_doubling: z.number(),
    }),
    doors: z
      .array(z.object({ scope: z.string(), difficulty: z.number(), price: z.number(), sats: z.number().optional() }))
      .describe('the scopes sold, with their base difficulty per call, price (bits of work per call) and sats per call (with Lightning)'),
    sub_puzzles: z.number(),
    calls: z.number().describe('calls a challenge buys unless more are asked for'),
    max_calls: z.number(),
    challenge_ttl_ms: z.number(),
    token_ttl_ms: z.number(),
    fail_open: z.boolean(),
    store: z.string().describe('memory, redis or custom'),
    replay_protection: z.string().describe("'per-instance' with a memory store (several instances each accept a solution once: degraded), 'shared' with Redis or a custom store"),
    lightning: z.object({ backend: z.string(), sats_per_call: z.number(), down: z.boolean() }).optional().describe('the Lightning (L402) door, when there is one'),
    aperture_pow: z.boolean().describe("whether refusals also offer proof of work in Aperture's L402 dialect"),
    degraded: z
      .array(z.string())
      .optional()
      .describe('how the gate serves degraded now, if at all: backend_wasm, backend_js, fail_open, lightning_unavailable, replay_per_instance'),
  }),
  discovery: z
    .record(z.string(), z.unknown())
    .optional()
    .describe('the discovery document (the L402 discovery manifest shape, powgate extension under "powgate"): every door, its price and seconds per call'),
});

/** The token argument added to a gated tool's input schema (zod 4). */
export function tokenArgumentSchema() {
  return lenient({
    type: 'string',
    description:
      'a powgate token (pgt2....), or a paid L402 credential (L402 <macaroon>:<preimage hex>). Without one the call is refused with a challenge to solve and the tool that redeems it',
  });
}
