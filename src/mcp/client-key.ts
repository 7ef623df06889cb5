import type { IncomingMessage } from 'node:http';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import { TrustedProxies, clientRateKey, requestClientAddress } from '../http/client-address.js';
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
 *    shares one counter, pooled: the price follows the server's rate of paid calls (refusals do not
 *    count); to key by address, mark requests with {@link markClientAddress} and pass
 *    {@link addressClientKey};
 * 4. `mcp:stdio` otherwise: a stdio server has exactly one client, its parent process.
 */
export function mcpClientKey(extra: ToolExtra | undefined): string {
  const clientId = extra?.authInfo?.clientId;
  if (typeof clientId === 'string' && clientId !== '') return `oauth:${clientId}`;
  if (typeof extra?.sessionId === 'string' && extra.sessionId !== '') return `session:${extra.sessionId}`;
  if (extra?.requestInfo) return POOLED_KEY;
  return 'mcp:stdio';
}

/** The key of every caller of a stateless Streamable HTTP server that has no better one. */
const POOLED_KEY = 'mcp:http';

/** Whether a key is shared by callers that cannot be told apart: then asking is free and only paid calls count (see Gate's ClientCounting). */
export function isPooledKey(key: string): boolean {
  return key === POOLED_KEY;
}

/**
 * The request header that {@link markClientAddress} sets to the caller's rate key. Only
 * {@link addressClientKey} reads it, and only a server that marks every request may use
 * that key: a client can send the header itself.
 */
export const CLIENT_ADDRESS_HEADER = 'powgate-client-address';

/**
 * Sets {@link CLIENT_ADDRESS_HEADER} on a request to the caller's address (its rate key: an
 * IPv4 address or an IPv6 /64), replacing whatever the client sent, before the request goes
 * to a Streamable HTTP transport. The address is the socket's, or with `trustProxy` the
 * client's as trusted proxies report it (see powgate/http).
 */
export function markClientAddress(req: IncomingMessage, trustProxy?: TrustedProxies | string | readonly string[]): void {
  const trust = trustProxy === undefined ? undefined : TrustedProxies.from(trustProxy);
  const address = clientRateKey(requestClientAddress(req, trust));
  req.headers[CLIENT_ADDRESS_HEADER] = address;
  // The SDK's transport reads rawHeaders: every copy the client sent goes, then ours.
  const raw: string[] = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i]!.toLowerCase() !== CLIENT_ADDRESS_HEADER) raw.push(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
  }
  raw.push(CLIENT_ADDRESS_HEADER, address);
  req.rawHeaders.splice(0, req.rawHeaders.length, ...raw);
}

/**
 * A client key for Streamable HTTP servers that {@link markClientAddress} every request:
 * `addr:<address>`, which a client cannot pool with others or mint for free (it needs
 * another address or /64), unless the transport authenticated it (`oauth:<clientId>`).
 * Without the header, {@link mcpClientKey}.
 */
export function addressClientKey(extra: ToolExtra): string {
  const clientId = extra?.authInfo?.clientId;
  if (typeof clientId === 'string' && clientId !== '') return `oauth:${clientId}`;
  const marked = extra?.requestInfo?.headers?.[CLIENT_ADDRESS_HEADER];
  const address = Array.isArray(marked) ? marked[0] : marked;
  return typeof address === 'string' && address !== '' ? `addr:${address}` : mcpClientKey(extra);
}
