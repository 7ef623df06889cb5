import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { PowgateError } from '../errors.js';
import { withoutPaths } from './public-error.js';
import { discoveryDocument, type ReferenceHardware } from '../gate/discovery.js';
import { checkGate } from '../gate/check-gate.js';
import { explainRefusal } from '../gate/explain.js';
import type { Gate } from '../gate/gate.js';
import { logOnce, oneLine, statusOf } from './status.js';
import { isScope } from '../protocol/shape.js';
import { isPooledKey, mcpClientKey, type ClientKeyFn, type ToolExtra } from './client-key.js';
import { callChannel, type McpChannelClassifier, type McpLogger } from './channel.js';
import { TOKEN_ARGUMENT, TOKEN_META_KEY, challengeInput, challengeOutput, statusInput, statusOutput, verifyInput, verifyOutput, type McpReason } from './schemas.js';

/** Options of {@link registerPowgateTools}. */
export interface PowgateToolsOptions {
  /**
   * Put before each tool's name. Default `'powgate_'` (`powgate_challenge`, `powgate_verify`,
   * `powgate_status`), so that they do not clash with a server's own tools; `powgate mcp` uses ''.
   */
  prefix?: string;
  /** The client key for adaptive difficulty. Default {@link mcpClientKey}. */
  clientKey?: ClientKeyFn;
  /** Told of failures an operator should see (the backend cannot load). Never given secrets or tokens. Default: none. */
  log?: (line: string) => void;
  /** The machine prices are stated in seconds for (gated tools' descriptions, `_meta`, the status tool's discovery document). Default: none (seconds unknown). */
  reference?: ReferenceHardware;
  /** Refines the standard channel of each call (see {@link mcpChannel}). Default: the standard rules. */
  channel?: McpChannelClassifier;
  /** A pino-compatible logger: a line per call at info (tool, outcome, reason, channel; never a token, challenge or solution). Default: no logs. */
  logger?: McpLogger;
}

/** The names of the powgate tools registered on a server. */
export interface PowgateToolNames {
  challenge: string;
  verify: string;
  status: string;
}

/** Which powgate tools each server carries (gated tools name the verify tool in their refusals), and its reference hardware. */
const registered = new WeakMap<McpServer, { names: PowgateToolNames; reference: ReferenceHardware | undefined }>();

/** The powgate tools registered on `server`, if any. */
export function powgateToolNames(server: McpServer): PowgateToolNames | undefined {
  return registered.get(server)?.names;
}

/** The reference hardware given to the powgate tools of `server`, if any. */
export function powgateReference(server: McpServer): ReferenceHardware | undefined {
  return registered.get(server)?.reference;
}

/** A result with structuredContent and its JSON text mirror (for clients that read only `content`). */
function structured(body: Record<string, unknown>, isError = false): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(body) }], structuredContent: body, ...(isError ? { isError: true } : {}) };
}

function refused(reason: McpReason, detail: string): CallToolResult {
  return structured({ ok: false, reason, detail }, true);
}

/** Tools' JSON arguments sometimes arrive as JSON text (LLMs stringify nested objects): read them as the object they mean. */
function jsonArgument(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

/**
 * Registers the gate's own tools on an MCP server:
 * - `challenge` ({ scope?, difficulty? }): a signed challenge priced for this client;
 * - `verify` ({ challenge, solution }): spends the challenge once and returns
 *   `{ ok: true, token, scope, expires_at }`, or `{ ok: false, reason, detail }` with `isError`;
 * - `status` (): the backend and kernel that verify, and what the gate charges.
 *
 * Each has an input and an output schema and returns structuredContent plus its JSON
 * text. Nothing here loads the native addon before a tool needs it: `status` and `verify`
 * report a backend that cannot load instead of failing.
 */
export function registerPowgateTools(server: McpServer, gate: Gate, options: PowgateToolsOptions = {}): PowgateToolNames {
  checkGate(gate);
  const prefix = options.prefix ?? 'powgate_';
  if (typeof prefix !== 'string') throw new PowgateError('ERR_INVALID_ARGUMENT', 'expected a string for prefix');
  const clientKey = options.clientKey ?? mcpClientKey;
  const log = options.log ?? (() => {});
  const logger = options.logger;
  const channelOf = (extra: ToolExtra) => callChannel(extra, options.channel);
  /** The call's line: its outcome is the result's `reason` when refused. */
  const logged = (tool: string, extra: ToolExtra, result: CallToolResult): CallToolResult => {
    if (logger) {
      const reason = (result.structuredContent as { reason?: unknown } | undefined)?.reason;
      logger.info({ tool, outcome: result.isError ? 'refused' : 'ok', ...(typeof reason === 'string' ? { reason } : {}), channel: channelOf(extra) }, 'call');
    }
    return result;
  };
  const names: PowgateToolNames = { challenge: `${prefix}challenge`, verify: `${prefix}verify`, status: `${prefix}status` };
  if (registered.has(server)) throw new PowgateError('ERR_INVALID_ARGUMENT', 'the powgate tools are already registered on this server');
  const reference = options.reference;
  if (reference !== undefined) discoveryDocument(gate, { reference }); // checks it now, not at the first call

  server.registerTool(
    names.challenge,
    {
      title: 'Get a proof-of-work challenge',
      description:
        `Issues a signed proof-of-work challenge. Solve it (npx powgate solve reads it on stdin and prints the solution; ` +
        `or solve() of the powgate package), then call ${names.verify} with { challenge, solution } for a token.`,
      inputSchema: challengeInput,
      outputSchema: challengeOutput,
      annotations: { readOnlyHint: false, openWorldHint: false },
    },
    async (args, extra) => logged(names.challenge, extra, await challengeCall(args, extra)),
  );
  const challengeCall = async (args: { scope?: unknown; difficulty?: unknown; calls?: unknown }, extra: ToolExtra): Promise<CallToolResult> => {
    const scope = (args.scope ?? '') as string;
    if (!isScope(scope)) return refused('malformed', 'scope must be printable ASCII of at most 256 characters');
    const difficulty = args.difficulty;
    if (difficulty !== undefined && (typeof difficulty !== 'number' || !Number.isFinite(difficulty))) {
      return refused('malformed', 'difficulty must be a number');
    }
    const client = clientKey(extra);
    const pooled = isPooledKey(client);
    const channel = channelOf(extra);
    const issued = await gate.challenge(client, { scope, difficulty: difficulty as number | undefined, calls: args.calls as number | undefined, pooled, channel });
    if (!issued.ok) return refused(issued.reason, issued.detail);
    const paid = await gate.lightningOffer(client, { scope, calls: issued.challenge.calls, pooled, channel });
    return structured({
      ok: true,
      challenge: issued.challenge,
      ...(paid?.ok ? { l402: paid.offer } : paid ? { l402_unavailable: { reason: paid.reason, detail: explainRefusal(paid.reason) } } : {}),
      redeem: {
        tool: names.verify,
        arguments: { challenge: 'this challenge, unchanged', solution: 'its solution { v, id, nonces }, e.g. from `npx powgate solve`' },
        then: `present the token as the ${TOKEN_ARGUMENT} argument (or _meta["${TOKEN_META_KEY}"]) of the tools it unlocks; each call spends one of its calls`,
      },
    });
  };

  server.registerTool(
    names.verify,
    {
      title: 'Redeem a solved challenge (or a paid invoice) for a token',
      description:
        `Checks a solution to a challenge (from ${names.challenge}, or from a gated tool's refusal) and returns a token ` +
        `for the challenge's scope. Each challenge is redeemed at most once. With method 'l402', redeems a paid Lightning ` +
        `offer (macaroon and preimage) instead. Pass the token as the ${TOKEN_ARGUMENT} argument of gated tools.`,
      inputSchema: verifyInput,
      outputSchema: verifyOutput,
      annotations: { readOnlyHint: false, openWorldHint: false },
    },
    async (args, extra) => logged(names.verify, extra, await verifyCall(args, extra)),
  );
  const verifyCall = async (
    args: { method?: unknown; macaroon?: unknown; preimage?: unknown; challenge?: unknown; solution?: unknown },
    extra: ToolExtra,
  ): Promise<CallToolResult> => {
    const channel = channelOf(extra);
    if (args.method === 'l402') {
      if (typeof args.macaroon !== 'string' || typeof args.preimage !== 'string') return refused('malformed', 'l402: macaroon and preimage (hex) are required');
      const paid = gate.redeemL402(`${args.macaroon}:${args.preimage}`, { channel });
      if (!paid.ok) return refused(paid.reason, explainRefusal(paid.reason));
      return structured({ ok: true, token: paid.token, scope: paid.scope, expires_at: paid.expiresAt, calls: paid.calls, price: paid.price });
    }
    if (args.method !== undefined && args.method !== 'pow') return refused('malformed', "method must be 'pow' or 'l402'");
    if (args.challenge === undefined || args.solution === undefined) {
      return refused('malformed', 'both challenge and solution are required');
    }
    let result;
    try {
      const client = clientKey(extra);
      result = await gate.redeem(jsonArgument(args.challenge), jsonArgument(args.solution), { client, pooled: isPooledKey(client), channel });
    } catch (error) {
      // By code, not instanceof: under require(), powgate and powgate/mcp may hold two copies of the class.
      if ((error as { code?: unknown })?.code === 'ERR_BACKEND_UNAVAILABLE') {
        log(`backend unavailable: ${oneLine(error)}`);
        return refused('backend_unavailable', `the server cannot check proofs: ${withoutPaths(oneLine(error))} (details in the server's log)`);
      }
      throw error;
    }
    if (!result.ok) return refused(result.reason, explainRefusal(result.reason, 'challenge'));
    return structured({ ok: true, token: result.token, scope: result.scope, expires_at: result.expiresAt, calls: result.calls, price: result.price });
  };

  server.registerTool(
    names.status,
    {
      title: 'Gate status',
      description:
        'The SHA-256 backend and kernel this server verifies with, what its challenges cost, and its discovery document (every door, its price and seconds per call on reference hardware).',
      inputSchema: statusInput,
      outputSchema: statusOutput,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async () => structured({ ...statusOf(gate, logOnce(log)), discovery: discoveryDocument(gate, { reference, tools: names }) }),
  );

  registered.set(server, { names, reference });
  return names;
}
