// The doors' MCP side: a refusal's verify, challenge and `or_redeem` tools, called on the
// connection that was refused, each checked against the server's list.
import { PowgateError } from '../errors.js';
import { parseChallenge } from '../protocol/challenge.js';
import { plainKeys } from '../protocol/shape.js';
import { l402Offer } from './envelope.js';
import { badEnvelope } from './l402-fields.js';
import { VERIFY_L402, VERIFY_POW, challengeToolOf, checkTool, type Catalog } from './mcp-catalog.js';
import { aborted, ownSignal } from './mcp-signal.js';
import type { McpToolClient } from './mcp.js';
import type { L402Offer, PowOffer } from './offers.js';
import { grantOf, type DoorTransport } from './transport.js';

/** Largest answer of a redeem or challenge tool read, as JSON text. */
const MAX_ANSWER_CHARS = 65_536;

type Json = Record<string, unknown>;

/**
 * The doors' MCP side: redeems with the verify tool the refusal names, asks the challenge
 * tool beside it for more calls, and redeems paid invoices with the `or_redeem` tool; every
 * name checked against the server's list (see `ToolCatalog.checked`), on the same
 * connection that was refused.
 */
export function mcpDoors(client: McpToolClient, tools: Catalog): DoorTransport {
  const call = async (name: string, args: Json, signal: AbortSignal | undefined, what: string): Promise<Json> => {
    let result: unknown;
    try {
      result = await client.callTool({ name, arguments: args }, undefined, ownSignal({ signal }));
    } catch (cause) {
      if (signal?.aborted) throw aborted(signal);
      throw new PowgateError('ERR_PAYMENT_FAILED', `${what} failed: ${(cause as Error)?.message ?? cause}`, { cause });
    }
    const json = answerOf(result);
    if ((result as Json | undefined)?.isError === true || !json || json.ok === false) {
      const reason = typeof json?.reason === 'string' && /^[a-z_]{1,64}$/.test(json.reason) ? ` (${json.reason})` : '';
      throw new PowgateError('ERR_PAYMENT_FAILED', `${what} was refused by ${JSON.stringify(name.slice(0, 64))}${reason}`);
    }
    return json;
  };
  return {
    async redeemPow(offer, solution, signal) {
      const tool = checkTool(tools, offer.redeem.tool, VERIFY_POW, 'redeem.tool', '');
      return grantOf(await call(tool, { challenge: offer.challenge, solution }, signal, 'the redeem of the solution'));
    },
    async moreCalls(offer: PowOffer, calls, signal) {
      const tool = challengeToolOf(tools, checkTool(tools, offer.redeem.tool, VERIFY_POW, 'redeem.tool', ''));
      if (!tool) return undefined;
      const json = await call(tool, { scope: offer.challenge.scope, calls }, signal, 'the request for more calls');
      const parsed = parseChallenge(json.challenge);
      if (!parsed) throw badEnvelope('the answer for more calls carries no valid challenge');
      return { challenge: parsed.json, ...(plainKeys(json.l402) ? { l402: l402Offer({ ...(json.l402 as Json), method: 'l402' }) } : {}) };
    },
    async redeemL402(offer: L402Offer, preimage, signal) {
      const or = offer.redeem?.or_redeem;
      if (!plainKeys(or)) return undefined;
      const tool = checkTool(tools, (or as Json).tool, VERIFY_L402, 'redeem.or_redeem.tool', '');
      return grantOf(await call(tool, { method: 'l402', macaroon: offer.macaroon, preimage }, signal, 'the redeem of the paid invoice'));
    },
  };
}

/** A tool's answer as JSON: its structuredContent, else its first text content parsed (bounded). */
function answerOf(result: unknown): Json | undefined {
  if (!plainKeys(result)) return undefined;
  const r = result as Json;
  if (plainKeys(r.structuredContent)) return r.structuredContent as Json;
  const first = Array.isArray(r.content) ? (r.content[0] as Json | undefined) : undefined;
  if (first?.type !== 'text' || typeof first.text !== 'string' || first.text.length > MAX_ANSWER_CHARS) return undefined;
  try {
    const json = JSON.parse(first.text) as unknown;
    return plainKeys(json) ? (json as Json) : undefined;
  } catch {
    return undefined;
  }
}
