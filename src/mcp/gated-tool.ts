import type { McpServer, RegisteredTool, ToolCallback } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { AnySchema, ZodRawShapeCompat } from '@modelcontextprotocol/sdk/server/zod-compat.js';
import type { CallToolResult, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import * as z3 from 'zod/v3';
import { PowgateError } from '../errors.js';
import type { GateReason } from '../gate/envelope.js';
import { checkGate } from '../gate/check-gate.js';
import type { Gate } from '../gate/gate.js';
import { l402Credential } from '../protocol/l402.js';
import { isScope } from '../protocol/shape.js';
import { isPooledKey, mcpClientKey, type ClientKeyFn, type ToolExtra } from './client-key.js';
import { lenientInput, type LenientInput } from './lenient-input.js';
import { callChannel, type McpChannelClassifier, type McpLogger, type McpMetrics } from './channel.js';
import { REFUSAL_META_KEY, TOKEN_ARGUMENT, TOKEN_META_KEY, tokenArgumentSchema } from './schemas.js';
import { PRICE_META_KEY, describePrices, priceMeta } from './prices.js';
import { powgateReference, powgateToolNames, registerPowgateTools } from './tools.js';

/** Options of {@link gateTool} and {@link registerGatedTool}. */
export interface GatedToolOptions {
  /** The door: the scope a token must carry. Default: `tool:<name>` for registerGatedTool, '' for gateTool. */
  scope?: string;
  /** This tool's price per call, as a difficulty (bits per sub-puzzle); adaptive pricing adds to it. Default: the gate's. */
  difficulty?: number;
  /** This tool's price per call through Lightning, in sats, when the gate has a Lightning door. Default: its `satsPerCall`. */
  sats?: number;
  /** The gated tool's name, for the refusal's instructions. Set by registerGatedTool. */
  toolName?: string;
  /** The tool that redeems a solution for a token. Default: the server's registered verify tool, else `powgate_verify`. */
  verifyTool?: string;
  /** The client key for adaptive difficulty. Default {@link mcpClientKey}. */
  clientKey?: ClientKeyFn;
  /**
   * Whether the refusal's envelope goes in `structuredContent`. Default true, and false
   * when the tool declares an outputSchema: the SDK's client (1.x) validates
   * structuredContent against the outputSchema even on `isError` results, so the envelope
   * there would make `callTool` throw. The envelope is always in the text content and in
   * the result's `_meta["powgate/refusal"]`. registerGatedTool sets it from the config.
   */
  structuredRefusal?: boolean;
  /** Refines the standard channel of each call (see {@link mcpChannel}). Default: the standard rules. */
  channel?: McpChannelClassifier;
  /** A pino-compatible logger: a line per refused call at info (tool, scope, reason, channel; never a token). Default: no logs. */
  logger?: McpLogger;
  /** Where the gate's funnel is counted (an HttpMetrics of powgate/http: the gate is watched). Default: not counted. */
  metrics?: McpMetrics;
}

/** Where a call's token was found. */
type Source = 'argument' | 'meta' | 'header';

/**
 * The tokens a call presents, in order: the `powgate_token` argument (what an LLM agent
 * can fill in), `_meta["powgate/token"]` (a client that sets it programmatically), and on
 * Streamable HTTP an `Authorization: Bearer pgt2....` header. A Bearer value that is not a
 * powgate token (an OAuth access token) is not ours and is ignored.
 */
export function presentedTokens(args: unknown, extra: ToolExtra | undefined): { source: Source; token: unknown }[] {
  const found: { source: Source; token: unknown }[] = [];
  if (typeof args === 'object' && args !== null && (args as Record<string, unknown>)[TOKEN_ARGUMENT] !== undefined) {
    found.push({ source: 'argument', token: (args as Record<string, unknown>)[TOKEN_ARGUMENT] });
  }
  const meta = extra?._meta as Record<string, unknown> | undefined;
  if (meta && meta[TOKEN_META_KEY] !== undefined) found.push({ source: 'meta', token: meta[TOKEN_META_KEY] });
  const header = extra?.requestInfo?.headers?.authorization;
  const value = Array.isArray(header) ? header[0] : header;
  const bearer = typeof value === 'string' ? /^Bearer\s+(pgt[0-9]\.\S+)\s*$/i.exec(value) : null;
  if (bearer) found.push({ source: 'header', token: bearer[1] });
  else if (typeof value === 'string' && l402Credential(value) !== undefined) found.push({ source: 'header', token: value });
  return found;
}

/**
 * Wraps a tool handler so that it runs only for a call that presents a valid token for
 * `scope` (see {@link presentedTokens}); any other call gets a refusal: `isError: true`,
 * the PaymentRequired envelope (reason, a fresh challenge priced for this client, and
 * `redeem`: which tool to call with what, and how to present the token), as
 * structuredContent and as JSON text. The `powgate_token` argument is removed before the
 * handler sees the arguments.
 *
 * The tool's input schema must declare the token argument, or the SDK strips it: build the
 * schema with {@link withTokenArgument}, or use {@link registerGatedTool}, which does both.
 * Every call is checked, whatever the transport.
 */
export function gateTool<Args, Extra extends ToolExtra = ToolExtra>(
  gate: Gate,
  handler: (args: Args, extra: Extra) => CallToolResult | Promise<CallToolResult>,
  options: GatedToolOptions = {},
): (args: Args & { [TOKEN_ARGUMENT]?: unknown }, extra: Extra) => Promise<CallToolResult> {
  return gatedHandler(gate, handler, options, undefined);
}

/** gateTool, with the arguments checked by `check` once a token is presented, before any call is spent. */
function gatedHandler<Args, Extra extends ToolExtra>(
  gate: Gate,
  handler: (args: Args, extra: Extra) => CallToolResult | Promise<CallToolResult>,
  options: GatedToolOptions,
  check: LenientInput['check'] | undefined,
): (args: Args & { [TOKEN_ARGUMENT]?: unknown }, extra: Extra) => Promise<CallToolResult> {
  checkGate(gate);
  const scope = options.scope ?? '';
  if (!isScope(scope)) throw new PowgateError('ERR_INVALID_ARGUMENT', 'expected printable ASCII of at most 256 characters for scope');
  if (typeof handler !== 'function') throw new PowgateError('ERR_INVALID_ARGUMENT', 'expected a function for handler');
  const clientKey = options.clientKey ?? mcpClientKey;
  if (options.channel !== undefined && typeof options.channel !== 'function') throw new PowgateError('ERR_INVALID_ARGUMENT', 'expected a function for channel');
  if (options.logger !== undefined && typeof options.logger?.info !== 'function') throw new PowgateError('ERR_INVALID_ARGUMENT', 'expected a pino-compatible logger for logger');
  if (options.metrics !== undefined && typeof options.metrics?.watch !== 'function') throw new PowgateError('ERR_INVALID_ARGUMENT', 'expected an HttpMetrics for metrics');
  gate.door(scope, options.difficulty, options.sats);
  options.metrics?.watch(gate);
  return async (args, extra) => {
    const channel = callChannel(extra, options.channel);
    const tokens = presentedTokens(args, extra);
    if (check && tokens.length > 0) {
      // Checked before a call is spent; a call without a token gets the on-ramp whatever its arguments.
      const checked = await check(args, options.toolName ?? '');
      if (!checked.ok) return checked.result;
      args = checked.args as typeof args;
    }
    let reason: GateReason = 'token_required';
    for (const [i, { token }] of tokens.entries()) {
      // A paid L402 credential is a token too: `L402 <macaroon>:<preimage hex>`.
      const l402 = typeof token === 'string' ? l402Credential(token) : undefined;
      const used = l402 === undefined ? await gate.useToken(token, { scope, channel }) : await gate.useL402(l402, { scope, channel });
      if (used.ok) return handler(withoutToken(args), tokenFree(extra));
      if (i === 0) reason = used.reason;
    }
    options.logger?.info({ tool: options.toolName, scope, reason, channel }, 'refused');
    return refusal(gate, reason, extra, {
      scope,
      channel,
      client: clientKey(extra),
      verifyTool: options.verifyTool ?? 'powgate_verify',
      toolName: options.toolName,
      structured: options.structuredRefusal ?? true,
    });
  };
}

/** `extra` without the powgate token of `_meta` or an `Authorization: Bearer pgt2...` (or `L402 ...`) header: a handler that logs its extra must not log a token. */
function tokenFree<Extra extends ToolExtra>(extra: Extra): Extra {
  const meta = extra?._meta as Record<string, unknown> | undefined;
  const headers = extra?.requestInfo?.headers;
  const auth = headers?.authorization;
  const bearer = (Array.isArray(auth) ? auth : [auth]).some((value) => typeof value === 'string' && (/^Bearer\s+pgt[0-9]\./i.test(value) || l402Credential(value) !== undefined));
  if (!(meta && TOKEN_META_KEY in meta) && !bearer) return extra;
  const copy = { ...extra };
  if (meta && TOKEN_META_KEY in meta) {
    const { [TOKEN_META_KEY]: _token, ...rest } = meta;
    copy._meta = rest as typeof copy._meta;
  }
  if (bearer) {
    const { authorization: _auth, ...rest } = headers!;
    copy.requestInfo = { ...extra.requestInfo!, headers: rest };
  }
  return copy;
}

function withoutToken<Args>(args: Args & { [TOKEN_ARGUMENT]?: unknown }): Args {
  if (typeof args !== 'object' || args === null || !(TOKEN_ARGUMENT in args)) return args;
  const { [TOKEN_ARGUMENT]: _token, ...rest } = args;
  return rest as Args;
}

async function refusal(
  gate: Gate,
  reason: GateReason,
  extra: ToolExtra | undefined,
  o: { scope: string; channel: string; client: string; verifyTool: string; toolName: string | undefined; structured: boolean },
): Promise<CallToolResult> {
  const again = o.toolName === undefined ? 'call this tool again' : `call ${o.toolName} again`;
  const present: Record<string, string> = { argument: TOKEN_ARGUMENT, meta: TOKEN_META_KEY };
  if (extra?.requestInfo) present.header = 'Authorization: Bearer <token>';
  const redeem = {
    tool: o.verifyTool,
    arguments: { challenge: 'accepts[0].challenge, unchanged', solution: 'its solution { v, id, nonces }, e.g. from `npx powgate solve`' },
    then: `${again} with the argument ${TOKEN_ARGUMENT} set to the token that ${o.verifyTool} returns; each call spends one of the calls it allows (the challenge's calls) until it expires`,
    present,
  };
  const credential = 'L402 <macaroon>:<preimage hex>';
  const presentPaid: Record<string, string> = { argument: TOKEN_ARGUMENT, meta: TOKEN_META_KEY };
  if (extra?.requestInfo) presentPaid.header = `Authorization: ${credential}`;
  const l402Redeem = {
    pay: 'pay the invoice with any Lightning wallet: its preimage is the proof of payment',
    then: `${again} with the argument ${TOKEN_ARGUMENT} set to "${credential}"; each call spends one of its calls`,
    present: presentPaid,
    or_redeem: { tool: o.verifyTool, arguments: { method: 'l402', macaroon: '<macaroon>', preimage: '<preimage hex>' }, returns: 'a token with the same calls, counted together' },
  };
  const { body } = await gate.refuse(reason, o.client, { scope: o.scope, redeem, l402Redeem, pooled: isPooledKey(o.client), channel: o.channel });
  const text = JSON.stringify(body);
  return {
    isError: true,
    content: [{ type: 'text', text }],
    ...(o.structured ? { structuredContent: body as unknown as Record<string, unknown> } : {}),
    _meta: { [REFUSAL_META_KEY]: body },
  };
}

function isZod4(schema: unknown): boolean {
  return typeof schema === 'object' && schema !== null && '_zod' in schema;
}

function tokenArgumentLike(sample: unknown): AnySchema {
  // A raw shape must not mix zod 3 and zod 4 schemas.
  if (sample !== undefined && !isZod4(sample)) {
    return z3
      .string()
      .optional()
      .describe('a powgate token (pgt2....), or a paid L402 credential (L402 <macaroon>:<preimage hex>); without one the call is refused with a challenge to solve');
  }
  return tokenArgumentSchema();
}

/**
 * A tool's input schema with the optional `powgate_token` argument added: a raw shape,
 * a zod (3 or 4) object schema, or none. A schema that is not an object (a union) cannot
 * take the argument and is returned as is: the token then travels only in `_meta` or a
 * header.
 */
export function withTokenArgument(inputSchema: ZodRawShapeCompat | AnySchema | undefined): ZodRawShapeCompat | AnySchema {
  if (inputSchema === undefined) return { [TOKEN_ARGUMENT]: tokenArgumentSchema() };
  const s = inputSchema as Record<string, unknown> & { _zod?: { def?: { type?: string } }; _def?: { typeName?: string } };
  const isObjectSchema = s._zod?.def?.type === 'object' || s._def?.typeName === 'ZodObject';
  if (isObjectSchema) {
    const field = tokenArgumentLike(inputSchema);
    const extend = (s.safeExtend ?? s.extend) as ((shape: Record<string, unknown>) => AnySchema) | undefined;
    if (typeof extend === 'function') return extend.call(inputSchema, { [TOKEN_ARGUMENT]: field });
    return inputSchema; // zod mini: no method to extend with
  }
  if (s._zod !== undefined || s._def !== undefined) return inputSchema; // a schema, but not an object
  const shape = inputSchema as ZodRawShapeCompat;
  return { ...shape, [TOKEN_ARGUMENT]: tokenArgumentLike(Object.values(shape)[0]) };
}

/** The config of a gated tool: registerTool's, as is. */
export interface GatedToolConfig<InputArgs, OutputArgs> {
  title?: string;
  description?: string;
  inputSchema?: InputArgs;
  outputSchema?: OutputArgs;
  annotations?: ToolAnnotations;
  _meta?: Record<string, unknown>;
}

/**
 * `server.registerTool(name, config, handler)`, gated: a call runs `handler` only with a
 * valid token for the tool's scope (default `tool:<name>`); any other call gets a
 * structured refusal with a fresh challenge (see {@link gateTool}). The input schema gains
 * the optional `powgate_token` argument, and the description says so. The schema is listed
 * as written but any arguments pass the SDK: a call without a token gets the refusal whatever
 * its arguments (a scanner's cold `{}` sees the way through, not an input error); a call with
 * one has its arguments checked, with the SDK's own input error, before a call is spent. If the server has
 * no powgate tools yet, they are registered first (`powgate_challenge`, `powgate_verify`,
 * `powgate_status`, with this gate), so that the refusal always names a tool that redeems.
 */
export function registerGatedTool<OutputArgs extends ZodRawShapeCompat | AnySchema, InputArgs extends undefined | ZodRawShapeCompat | AnySchema = undefined>(
  server: McpServer,
  gate: Gate,
  name: string,
  config: GatedToolConfig<InputArgs, OutputArgs>,
  handler: ToolCallback<InputArgs>,
  options: GatedToolOptions = {},
): RegisteredTool {
  checkGate(gate);
  if (typeof name !== 'string' || name === '') throw new PowgateError('ERR_INVALID_ARGUMENT', 'expected a tool name');
  const names = powgateToolNames(server) ?? registerPowgateTools(server, gate, { clientKey: options.clientKey, channel: options.channel, logger: options.logger });
  const takesArgs = config.inputSchema !== undefined;
  const inner = (args: unknown, extra: ToolExtra) =>
    takesArgs
      ? (handler as (args: unknown, extra: ToolExtra) => CallToolResult | Promise<CallToolResult>)(args, extra)
      : (handler as (extra: ToolExtra) => CallToolResult | Promise<CallToolResult>)(extra);
  // Listed as written, parsed leniently: a cold call's answer is the on-ramp, not an input error.
  const input = lenientInput(withTokenArgument(config.inputSchema));
  const scope = options.scope ?? `tool:${name}`;
  const gated = gatedHandler(
    gate,
    inner,
    {
      scope,
      difficulty: options.difficulty,
      sats: options.sats,
      toolName: options.toolName ?? name,
      verifyTool: options.verifyTool ?? names.verify,
      clientKey: options.clientKey,
      structuredRefusal: options.structuredRefusal ?? config.outputSchema === undefined,
      channel: options.channel,
      logger: options.logger,
      metrics: options.metrics,
    },
    input.check,
  );
  gate.resource({ scope, tool: name });
  const reference = powgateReference(server);
  const price = priceMeta(gate, scope, reference);
  const description = `${config.description ?? ''}${config.description ? '\n\n' : ''}Costs ${describePrices(price.doors, reference)}: pass a token from ${names.verify} as ${TOKEN_ARGUMENT}; without one, the call is refused with a challenge and instructions.`;
  return server.registerTool(
    name,
    { ...config, description, inputSchema: input.registered, _meta: { ...config._meta, [PRICE_META_KEY]: price } },
    gated as unknown as ToolCallback<AnySchema>,
  );
}
