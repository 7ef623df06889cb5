import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';

/** What a tool handler receives besides its arguments. */
export type ToolExtra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** The key a client's requests are counted under, for adaptive difficulty. */
export type ClientKeyFn = (extra: ToolExtra) => string;

/**
 * The default client key over MCP, which carries no client address:
 *
 * 1. `oauth:<clientId>` when the transport authenticated the client (OAuth on Streamable HTTP):
 *    the only identity a client cannot mint for free;
 * 2. `session:<id>` on a stateful Streamable HTTP transport: one price per session. A client can
 *    open new sessions to start over at the base price, so the base price must be worth charging;
 * 3. `mcp:http` on a stateless Streamable HTTP transport: no identity at all, so every client
 *    shares one counter and the price follows the server's total rate (pass your own key,
 *    e.g. from a header your proxy sets, to do better);
 * 4. `mcp:stdio` otherwise: a stdio server has exactly one client, its parent process.
 */
export function mcpClientKey(extra: ToolExtra | undefined): string {
  const clientId = extra?.authInfo?.clientId;
  if (typeof clientId === 'string' && clientId !== '') return `oauth:${clientId}`;
  if (typeof extra?.sessionId === 'string' && extra.sessionId !== '') return `session:${extra.sessionId}`;
  if (extra?.requestInfo) return 'mcp:http';
  return 'mcp:stdio';
}
