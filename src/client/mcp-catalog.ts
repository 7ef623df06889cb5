// The server's tools as an MCP refusal's doors need them: listed once, and every tool a refusal
// names checked to be a verify (or challenge) tool the server lists, before anything is paid.
import { PowgateError } from '../errors.js';
import { plainKeys } from '../protocol/shape.js';
import { badEnvelope } from './l402-fields.js';
import { abortable } from './mcp-signal.js';
import type { McpToolClient } from './mcp.js';
import type { Envelope } from './offers.js';

/** The argument of a gated tool that carries the credential (powgate/mcp's TOKEN_ARGUMENT). */
export const TOKEN_ARGUMENT = 'powgate_token';
/** Most pages of tools/list read (following nextCursor). */
const MAX_LIST_PAGES = 16;
/** Longest tool name a refusal may name. */
const MAX_TOOL_NAME_CHARS = 128;

/** The input properties a tool must declare to be used as each of powgate's tools. */
export const VERIFY_POW = ['challenge', 'solution'];
export const VERIFY_L402 = ['method', 'macaroon', 'preimage'];
const CHALLENGE = ['scope', 'calls'];

type Json = Record<string, unknown>;

/** The tools a server lists, with the names of their input properties. */
export type Catalog = ReadonlyMap<string, ReadonlySet<string>>;

/**
 * The server's tools, listed once (again when a refusal names a tool the list lacks, or the
 * connection changed), one listing at a time.
 */
export class ToolCatalog {
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
      throw new PowgateError('ERR_UNSUPPORTED_CHALLENGE', `the server's tools could not be listed, to find the tool that redeems: ${(cause as Error)?.message ?? cause}`, {
        cause,
      });
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
  if (typeof tool !== 'string' || tool.length === 0 || tool.length > MAX_TOOL_NAME_CHARS)
    throw badEnvelope(`${what} is not a tool name of at most ${MAX_TOOL_NAME_CHARS} characters`);
  const shown = JSON.stringify(tool.slice(0, 64));
  const properties = tools.get(tool);
  if (!properties) throw badEnvelope(`${what} names ${shown}, a tool the server does not list`);
  if (tool === refusedTool) throw badEnvelope(`${what} names the tool refused`);
  if (!inputs.every((input) => properties.has(input))) throw badEnvelope(`${what} names ${shown}, which is not a powgate verify tool (its input lacks ${inputs.join(', ')})`);
  return tool;
}

/** The challenge tool beside a verify tool (`<prefix>challenge` for `<prefix>verify`), when the server lists one that takes scope and calls. */
export function challengeToolOf(tools: Catalog, verify: string): string | undefined {
  if (!verify.endsWith('verify')) return undefined;
  const name = `${verify.slice(0, -'verify'.length)}challenge`;
  const properties = tools.get(name);
  return properties && CHALLENGE.every((input) => properties.has(input)) ? name : undefined;
}
