// The refusal an MCP tool's result claims to be: powgate's `payment_required` envelope, read
// from `_meta`, `structuredContent` or the first text content, bounded.
import { plainKeys } from '../protocol/shape.js';
import { isPaymentRequired } from './envelope.js';
import { badEnvelope } from './l402-fields.js';

/** The result `_meta` key of a refusal (powgate/mcp's REFUSAL_META_KEY). */
const REFUSAL_META_KEY = 'powgate/refusal';
/** What a text refusal claims to be, for one too large to read. */
const CLAIM = /"error"\s*:\s*"payment_required"/;

type Json = Record<string, unknown>;

/**
 * The PaymentRequired body an `isError` result claims to be (from `_meta["powgate/refusal"]`,
 * `structuredContent` or the first text content, in that order), or undefined when it is no
 * refusal of powgate's. Throws ERR_BAD_ENVELOPE for a claim larger than `maxBytes`.
 */
export function claimedRefusal(result: unknown, maxBytes: number): unknown {
  if (!plainKeys(result) || (result as Json).isError !== true) return undefined;
  const r = result as Json;
  const meta = plainKeys(r._meta) ? (r._meta as Json)[REFUSAL_META_KEY] : undefined;
  for (const body of [meta, r.structuredContent]) {
    if (!isPaymentRequired(body)) continue;
    let size = Infinity;
    try {
      size = JSON.stringify(body).length;
    } catch {
      // not JSON data: refused below
    }
    if (size > maxBytes) throw badEnvelope(`the refusal is larger than ${maxBytes} characters (maxEnvelopeBytes)`);
    return body;
  }
  const content = Array.isArray(r.content) ? r.content : [];
  const first = content.find((c) => plainKeys(c) && (c as Json).type === 'text' && typeof (c as Json).text === 'string') as { text: string } | undefined;
  if (!first) return undefined;
  if (Buffer.byteLength(first.text) > maxBytes) {
    if (CLAIM.test(first.text)) throw badEnvelope(`the refusal is larger than ${maxBytes} bytes (maxEnvelopeBytes)`);
    return undefined;
  }
  let body: unknown;
  try {
    body = JSON.parse(first.text);
  } catch {
    return undefined;
  }
  return isPaymentRequired(body) ? body : undefined;
}
