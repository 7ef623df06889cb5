// MCP that pays: a gated tool's refusal is paid within budget, redeemed through the tool it
// names, and the tool called again with the credential. Types only from the MCP SDK: a user
// of powgate/client who only fetches never loads it.
import type { RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { CallToolRequest, Implementation, ListToolsRequest, ListToolsResult } from '@modelcontextprotocol/sdk/types.js';
import { PowgateError } from '../errors.js';
import { parseChallenge } from '../protocol/challenge.js';
import { plainKeys } from '../protocol/shape.js';
import { checkInteger, invalid } from '../validate.js';
import { PowgateClient, type PowgateClientOptions } from './client.js';
import { credentialText, type Lease } from './credentials.js';
import { isPaymentRequired, l402Offer, parsePaymentRequired } from './envelope.js';
import { badEnvelope } from './l402-fields.js';
import type { Envelope, L402Offer, PowOffer } from './offers.js';
import { grantOf, type DoorTransport } from './transport.js';

/** The argument of a gated tool that carries the credential (powgate/mcp's TOKEN_ARGUMENT). */
const TOKEN_ARGUMENT = 'powgate_token';
/** The request `_meta` key that carries it instead (powgate/mcp's TOKEN_META_KEY). */
const TOKEN_META_KEY = 'powgate/token';
/** The result `_meta` key of a refusal (powgate/mcp's REFUSAL_META_KEY). */
const REFUSAL_META_KEY = 'powgate/refusal';
/** Calls of the tool one callTool makes at most: without a credential (or with a cached one), with a cached one, with one just bought. */
const MAX_SENDS = 3;
/** Most tools remembered with the scope their refusal named. */
const MAX_ROUTES = 1_000;
/** Most pages of tools/list read (following nextCursor). */
const MAX_LIST_PAGES = 16;
/** Longest tool name a refusal may name. */
const MAX_TOOL_NAME_CHARS = 128;
/** Largest answer of a redeem or challenge tool read, as JSON text. */
const MAX_ANSWER_CHARS = 65_536;
/** What a text refusal claims to be, for one too large to read. */
const CLAIM = /"error"\s*:\s*"payment_required"/;

/** The input properties a tool must declare to be used as each of powgate's tools. */
export const VERIFY_POW = ['challenge', 'solution'];
export const VERIFY_L402 = ['method', 'macaroon', 'preimage'];
const CHALLENGE = ['scope', 'calls'];

/**
 * What the wrapper needs of an MCP client: the official SDK's `Client` (any 1.x), or
 * anything with the same three methods.
 */
export interface McpToolClient {
  callTool(params: CallToolRequest['params'], resultSchema?: unknown, options?: RequestOptions): Promise<unknown>;
  listTools(params?: ListToolsRequest['params'], options?: RequestOptions): Promise<ListToolsResult>;
  getServerVersion(): Implementation | undefined;
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

/** The tools a server lists, with the names of their input properties. */
export type Catalog = ReadonlyMap<string, ReadonlySet<string>>;

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

  const callTool = async (params: CallToolRequest['params'], resultSchema?: unknown, requestOptions?: RequestOptions): Promise<unknown> => {
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
function present(params: CallToolRequest['params'], lease: Lease, takesToken: boolean): CallToolRequest['params'] {
  const text = credentialText(lease.credential);
  const { [TOKEN_ARGUMENT]: _argument, ...args } = (params.arguments ?? {}) as Json;
  const { [TOKEN_META_KEY]: _meta, ...meta } = (params._meta ?? {}) as Json;
  if (takesToken) return { ...params, arguments: { ...args, [TOKEN_ARGUMENT]: text }, ...(params._meta === undefined ? {} : { _meta: meta }) };
  return { ...params, ...(params.arguments === undefined ? {} : { arguments: args }), _meta: { ...meta, [TOKEN_META_KEY]: text } };
}

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

/**
 * The server's tools, listed once (again when a refusal names a tool the list lacks, or the
 * connection changed), one listing at a time.
 */
class ToolCatalog {
  readonly #client: McpToolClient;
  #tools: Catalog | undefined;
  #connection: unknown;
  #loading: Promise<Catalog> | undefined;

  constructor(client: McpToolClient) {
    this.#client = client;
  }

  /** Whether the tool's input schema declares the `powgate_token` argument (as listed; false when unknown). */
  takesToken(tool: string): boolean {
    return this.#current()?.get(tool)?.has(TOKEN_ARGUMENT) ?? false;
  }

  /**
   * The tools, once every tool the envelope names (redeem tools) is checked to be listed as
   * a verify tool and not to be the tool refused (`refusedTool`). ERR_BAD_ENVELOPE otherwise,
   * before anything is solved, paid or sent.
   */
  async checked(envelope: Envelope, refusedTool: string, signal: AbortSignal | undefined): Promise<Catalog> {
    const named = envelope.offers.flatMap((offer) => redeemToolsOf(offer).map(([tool]) => tool));
    let tools = this.#current();
    if (!tools || named.some((tool) => typeof tool === 'string' && !tools!.has(tool))) tools = await abortable(this.#load(), signal);
    for (const offer of envelope.offers) {
      for (const [tool, inputs, what] of redeemToolsOf(offer)) checkTool(tools, tool, inputs, what, refusedTool);
    }
    return tools;
  }

  #current(): Catalog | undefined {
    return this.#connection === this.#client.transport ? this.#tools : undefined;
  }

  #load(): Promise<Catalog> {
    if (!this.#loading) {
      const loading = this.#list().finally(() => {
        if (this.#loading === loading) this.#loading = undefined;
      });
      this.#loading = loading;
    }
    return this.#loading;
  }

  async #list(): Promise<Catalog> {
    const connection = this.#client.transport;
    const tools = new Map<string, ReadonlySet<string>>();
    try {
      let cursor: string | undefined;
      for (let page = 0; page < MAX_LIST_PAGES; page++) {
        const listed = await this.#client.listTools(cursor === undefined ? undefined : { cursor });
        for (const tool of Array.isArray(listed?.tools) ? listed.tools : []) {
          if (typeof tool?.name !== 'string' || tool.name.length > MAX_TOOL_NAME_CHARS) continue;
          const properties = plainKeys(tool.inputSchema) ? (tool.inputSchema as Json).properties : undefined;
          tools.set(tool.name, new Set(plainKeys(properties) ?? []));
        }
        cursor = typeof listed?.nextCursor === 'string' ? listed.nextCursor : undefined;
        if (cursor === undefined) break;
      }
    } catch (cause) {
      throw new PowgateError('ERR_UNSUPPORTED_CHALLENGE', `the server's tools could not be listed, to find the tool that redeems: ${(cause as Error)?.message ?? cause}`, { cause });
    }
    this.#tools = tools;
    this.#connection = connection;
    return tools;
  }
}

/** The tools a door names, with the inputs each must take: a pow door's verify tool, a Lightning door's `or_redeem` tool. */
function redeemToolsOf(offer: Envelope['offers'][number]): [unknown, readonly string[], string][] {
  if (offer.method === 'pow') return [[offer.redeem.tool, VERIFY_POW, 'redeem.tool']];
  if (offer.method === 'l402' && offer.redeem?.or_redeem !== undefined) {
    const or = offer.redeem.or_redeem;
    if (!plainKeys(or)) throw badEnvelope('redeem.or_redeem is not an object');
    return [[(or as Json).tool, VERIFY_L402, 'redeem.or_redeem.tool']];
  }
  return [];
}

/** Checks that `tool` is a name the server lists, with a verify tool's inputs, and not the tool refused; ERR_BAD_ENVELOPE otherwise. */
export function checkTool(tools: Catalog, tool: unknown, inputs: readonly string[], what: string, refusedTool: string): string {
  if (typeof tool !== 'string' || tool.length === 0 || tool.length > MAX_TOOL_NAME_CHARS) throw badEnvelope(`${what} is not a tool name of at most ${MAX_TOOL_NAME_CHARS} characters`);
  const shown = JSON.stringify(tool.slice(0, 64));
  const properties = tools.get(tool);
  if (!properties) throw badEnvelope(`${what} names ${shown}, a tool the server does not list`);
  if (tool === refusedTool) throw badEnvelope(`${what} names the tool refused`);
  if (!inputs.every((input) => properties.has(input))) throw badEnvelope(`${what} names ${shown}, which is not a powgate verify tool (its input lacks ${inputs.join(', ')})`);
  return tool;
}

/** The challenge tool beside a verify tool (`<prefix>challenge` for `<prefix>verify`), when the server lists one that takes scope and calls. */
function challengeToolOf(tools: Catalog, verify: string): string | undefined {
  if (!verify.endsWith('verify')) return undefined;
  const name = `${verify.slice(0, -'verify'.length)}challenge`;
  const properties = tools.get(name);
  return properties && CHALLENGE.every((input) => properties.has(input)) ? name : undefined;
}

/**
 * The options with a signal of their own that follows the caller's: the SDK adds an abort
 * listener to the signal of every request and never removes it, so a long-lived caller's
 * signal would collect one per call.
 */
function ownSignal(options: RequestOptions | undefined): RequestOptions | undefined {
  return options?.signal ? { ...options, signal: AbortSignal.any([options.signal]) } : options;
}

/** A promise that rejects with ERR_ABORTED when `signal` aborts first. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(aborted(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(aborted(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => (signal.removeEventListener('abort', onAbort), resolve(value)),
      (error: unknown) => (signal.removeEventListener('abort', onAbort), reject(error)),
    );
  });
}

function aborted(signal: AbortSignal): PowgateError {
  return new PowgateError('ERR_ABORTED', 'the call was aborted', { cause: signal.reason });
}

/**
 * The doors' MCP side: redeems with the verify tool the refusal names, asks the challenge
 * tool beside it for more calls, and redeems paid invoices with the `or_redeem` tool; every
 * name checked against the server's list (see {@link ToolCatalog.checked}), on the same
 * connection that was refused.
 */
function mcpDoors(client: McpToolClient, tools: Catalog): DoorTransport {
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

