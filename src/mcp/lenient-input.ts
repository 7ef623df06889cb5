// A gated tool's input schema, listed as written but accepting any arguments at the protocol
// level: a call without a token (a scanner's cold `{}`) gets the gate's on-ramp, not the SDK's
// input error; the arguments are checked, as the SDK would check them, before a call is spent.
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { getParseErrorMessage, isZ4Schema, normalizeObjectSchema, safeParseAsync, type AnySchema, type ZodRawShapeCompat } from '@modelcontextprotocol/sdk/server/zod-compat.js';

/** The MCP error code of invalid params (JSON-RPC -32602), as the SDK's input errors carry it. */
const INVALID_PARAMS = -32602;

/** A tool's input schema in two roles: what the SDK lists and parses (anything), and what the arguments are checked against. */
export interface LenientInput {
  /** Registered with the SDK: listed as the real schema, parses any arguments as they are. */
  registered: AnySchema;
  /** The arguments checked against the real schema: the parsed arguments, or the SDK's own error result. */
  check(args: unknown, toolName: string): Promise<{ ok: true; args: unknown } | { ok: false; result: CallToolResult }>;
}

/**
 * The schema (a raw shape or a zod 3 or 4 schema) split into the two roles of
 * {@link LenientInput}. The registered schema inherits everything the SDK lists (its zod
 * definition) and overrides only parsing: zod 4's `_zod.run`, zod 3's `safeParseAsync`.
 */
export function lenientInput(schema: ZodRawShapeCompat | AnySchema): LenientInput {
  const real = (normalizeObjectSchema(schema) ?? schema) as AnySchema;
  let registered: AnySchema;
  if (isZ4Schema(real)) {
    const internals = Object.create(real._zod) as typeof real._zod;
    internals.run = (payload) => payload;
    registered = Object.create(real, { _zod: { value: internals } }) as AnySchema;
  } else {
    const pass = (data: unknown) => ({ success: true, data });
    registered = Object.create(real, { safeParse: { value: pass }, safeParseAsync: { value: async (data: unknown) => pass(data) } }) as AnySchema;
  }
  return {
    registered,
    async check(args, toolName) {
      const parsed = await safeParseAsync(real, args ?? {});
      if (parsed.success) return { ok: true, args: parsed.data };
      // The SDK's own words (McpError's message, as its tool error result carries it).
      const text = `MCP error ${INVALID_PARAMS}: Input validation error: Invalid arguments for tool ${toolName}: ${getParseErrorMessage(parsed.error)}`;
      return { ok: false, result: { content: [{ type: 'text', text }], isError: true } };
    },
  };
}
