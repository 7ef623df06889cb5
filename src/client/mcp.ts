// MCP that pays: a gated tool's refusal is paid within budget, redeemed through the tool it
// names, and the tool called again with the credential. Nothing from the MCP SDK, not even its
// types: a user of powgate/client who only fetches needs none of it.
import { PowgateError } from '../errors.js';
import { plainKeys } from '../protocol/shape.js';
import { checkInteger, invalid } from '../validate.js';
import { PowgateClient, type PowgateClientOptions } from './client.js';
import { credentialText, type Lease } from './credential.js';
import { parsePaymentRequired } from './envelope.js';
import { TOKEN_ARGUMENT, ToolCatalog } from './mcp-catalog.js';
import { mcpDoors } from './mcp-doors.js';
import { claimedRefusal } from './mcp-refusal.js';
import { ownSignal } from './mcp-signal.js';
import type { McpCallToolParams, McpImplementation, McpListToolsParams, McpListToolsResult, McpRequestOptions } from './mcp-types.js';

/** The request `_meta` key that carries the credential when the tool takes no `powgate_token` argument (powgate/mcp's TOKEN_META_KEY). */
const TOKEN_META_KEY = 'powgate/token';
/** Calls of the tool one callTool makes at most: without a credential (or with a cached one), with a cached one, with one just bought. */
const MAX_SENDS = 3;
/** Most tools remembered with the scope their refusal named. */
const MAX_ROUTES = 1_000;

/**
 * What the wrapper needs of an MCP client: the official SDK's `Client` (any 1.x), or
 * anything with the same three methods.
 */
export interface McpToolClient {
  callTool(params: McpCallToolParams, resultSchema?: unknown, options?: McpRequestOptions): Promise<unknown>;
  listTools(params?: McpListToolsParams, options?: McpRequestOptions): Promise<McpListToolsResult>;
  getServerVersion(): McpImplementation | undefined;
  /** The connection (the SDK Client's current transport): credentials are kept per connection unless `server` is given. */
  readonly transport?: unknown;
}

/** Options of {@link wrapMcpClientWithPowgate}: the client's (budget, wallet, doors, progress), or a client to share, and MCP bounds. */
export interface PowgateMcpOptions extends PowgateClientOptions {
  /** A client to share (its budget, cache and wallet); the client options above are then ignored. Default: one made from them. */
  client?: PowgateClient;
  /**
   * The name credentials are kept and reported under (`mcp:<server>`): connections given the
   * same name share what was bought. Default: `mcp:<name>/<version>#<n>` from the server's
   * handshake, `n` numbering this process's connections, so that no other connection (nor a
   * server that calls itself by the same name) is ever sent them.
   */
  server?: string;
  /** Largest refusal read, as JSON text; a larger one is refused (ERR_BAD_ENVELOPE). Default 65,536. */
  maxEnvelopeBytes?: number;
}

/** The wrapped client: `callTool` as the SDK's, paying refusals; the client it wraps and the client it pays through. */
export interface PowgateMcpClient<C extends McpToolClient = McpToolClient> {
  /** The MCP client wrapped, for everything else (listTools, close, ...). */
  readonly client: C;
  /** The client that pays (its budget, credentials and wallet). */
  readonly powgate: PowgateClient;
  /** The SDK's `callTool(params, resultSchema?, options?)`: a gated tool's refusal is paid and the tool called again. */
  readonly callTool: C['callTool'];
}

type Json = Record<string, unknown>;

/** Numbers connections (transports), for the default origin: `#<n>`. */
const connections = new WeakMap<object, number>();
let lastConnection = 0;

/**
 * Wraps an MCP client (the official SDK's `Client`) so that a gated tool's refusal is paid
 * and the tool called again with the credential:
 *
 * ```js
 * const client = new Client({ name: 'agent', version: '1.0.0' });
 * await client.connect(new StdioClientTransport({ command: 'node', args: ['server.mjs'] }));
 * const paid = wrapMcpClientWithPowgate(client, { maxSecondsPerCall: 5 });
 * const result = await paid.callTool({ name: 'search', arguments: { query: 'x' } }); // solves, redeems, calls again
 * ```
 *
 * A refusal is an `isError` result carrying powgate's `payment_required` envelope (in
 * `_meta["powgate/refusal"]`, else `structuredContent`, else the first text content). It is
 * read as the fetch wrapper reads a 402 (bounded, every door checked), and the tools it
 * names are checked against the server's own list (`tools/list`, read once on the first
 * refusal): the redeem tool must be listed with a verify tool's input (`challenge` and
 * `solution`; `method`, `macaroon` and `preimage` for a paid invoice's), and not be the tool
 * refused. Then a door is picked by `prefer` and the budget (priced before any work), paid
 * (solved on every core and redeemed with the verify tool; or the invoice paid through the
 * wallet, its `L402 <macaroon>:<preimage>` presented, or redeemed with the verify tool with
 * `redeemL402`), and the tool is called once more with the credential: in the
 * `powgate_token` argument when the tool's input schema declares it, else in
 * `_meta["powgate/token"]`. With `calls`, bundles are bought through the challenge tool
 * beside the verify tool (`<prefix>challenge` for `<prefix>verify`), when it is listed.
 *
 * Credentials are cached per connection (or `server`) and scope; concurrent calls share one
 * purchase and never present more calls than it bought (MCP says no calls remaining: each
 * result spends one; a `token_exhausted` refusal buys again). `options.signal` aborts the
 * purchase too; `onProgress` reports the proof of work.
 *
 * Throws ERR_UNSUPPORTED_CHALLENGE for a refusal it cannot pay (after one call of the tool,
 * never a loop), ERR_BAD_ENVELOPE, ERR_BUDGET_EXCEEDED, ERR_PAYMENT_DECLINED,
 * ERR_PAYMENT_FAILED, ERR_ABORTED. Every other result (errors included) is returned as it is.
 */
export function wrapMcpClientWithPowgate<C extends McpToolClient>(client: C, options: PowgateMcpOptions = {}): PowgateMcpClient<C> {
  if (typeof client !== 'object' || client === null || (['callTool', 'listTools', 'getServerVersion'] as const).some((m) => typeof client[m] !== 'function')) {
    throw invalid('an MCP client (callTool, listTools, getServerVersion)', 'client', client);
  }
  if (typeof options !== 'object' || options === null) throw invalid('an options object', 'options', options);
  if (options.client !== undefined && !(options.client instanceof PowgateClient)) throw invalid('a PowgateClient', 'client', options.client);
  const server = options.server;
  if (server !== undefined && (typeof server !== 'string' || !/^[\x20-\x7e]{1,256}$/.test(server))) throw invalid('printable ASCII of 1 to 256 characters', 'server', server);
  const powgate = options.client ?? new PowgateClient(options);
  const maxEnvelopeBytes = checkInteger(options.maxEnvelopeBytes ?? 65_536, 'maxEnvelopeBytes', 1_024, 16_777_216);
  const catalog = new ToolCatalog(client);
  // The scope each tool's refusal named: a later call to it presents the cached credential at once.
  const routes = new Map<string, string | undefined>();
  const remember = (tool: string, scope: string | undefined) => {
    routes.delete(tool);
    routes.set(tool, scope);
    if (routes.size > MAX_ROUTES) routes.delete(routes.keys().next().value!);
  };

  const callTool = async (params: McpCallToolParams, resultSchema?: unknown, requestOptions?: McpRequestOptions): Promise<unknown> => {
    const name = (params as { name?: unknown } | undefined)?.name;
    if (!plainKeys(params) || typeof name !== 'string') return client.callTool(params, resultSchema, requestOptions); // the SDK says what is wrong
    const signal = requestOptions?.signal;
    const origin = originOf(client, server);
    let lease = routes.has(name) ? await powgate.wait(origin, routes.get(name), { signal }) : undefined;
    for (let sent = 1; ; sent++) {
      let result: unknown;
      try {
        result = await client.callTool(lease ? present(params, lease, catalog.takesToken(name)) : params, resultSchema, ownSignal(requestOptions));
      } catch (error) {
        lease?.release();
        throw error;
      }
      let reason: string | undefined;
      try {
        const claimed = claimedRefusal(result, maxEnvelopeBytes);
        if (claimed === undefined) {
          // Not a refusal: the call went through (or failed for reasons of its own): one call spent.
          lease?.release();
          return result;
        }
        const envelope = parsePaymentRequired(claimed);
        reason = envelope.reason;
        lease?.refused(reason);
        if (lease?.bought || sent >= MAX_SENDS) {
          throw new PowgateError('ERR_PAYMENT_FAILED', `the server refused the credential${lease?.bought ? ' just bought' : ''} (${reason ?? 'no reason given'})`);
        }
        lease = undefined;
        const tools = await catalog.checked(envelope, name, signal);
        remember(name, envelope.scope);
        lease = await powgate.acquire(envelope, mcpDoors(client, tools), { origin, signal });
      } catch (error) {
        lease?.refused(reason);
        throw error;
      }
    }
  };
  return Object.freeze({ client, powgate, callTool: callTool as C['callTool'] });
}

/** The origin credentials are kept under: the caller's name, or the server's name and version and this connection's number. */
function originOf(client: McpToolClient, server: string | undefined): string {
  if (server !== undefined) return `mcp:${server}`;
  const info = client.getServerVersion();
  const transport = client.transport;
  const connection = typeof transport === 'object' && transport !== null ? transport : client;
  let n = connections.get(connection);
  if (n === undefined) connections.set(connection, (n = ++lastConnection));
  return `mcp:${printable(info?.name)}/${printable(info?.version)}#${n}`;
}

function printable(value: unknown): string {
  return typeof value === 'string' && /^[\x21-\x7e]{1,64}$/.test(value) ? value : '?';
}

/** The call's params with the lease's credential: in the `powgate_token` argument, or in `_meta`; a token the caller put in either is replaced. */
function present(params: McpCallToolParams, lease: Lease, takesToken: boolean): McpCallToolParams {
  const text = credentialText(lease.credential);
  const { [TOKEN_ARGUMENT]: _argument, ...args } = (params.arguments ?? {}) as Json;
  const { [TOKEN_META_KEY]: _meta, ...meta } = (params._meta ?? {}) as Json;
  if (takesToken) return { ...params, arguments: { ...args, [TOKEN_ARGUMENT]: text }, ...(params._meta === undefined ? {} : { _meta: meta }) };
  return { ...params, ...(params.arguments === undefined ? {} : { arguments: args }), _meta: { ...meta, [TOKEN_META_KEY]: text } };
}
