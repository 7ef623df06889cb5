import { channelOfHeaders } from '../http/channel.js';
import type { Channel } from '../gate/events.js';
import type { ToolExtra } from './client-key.js';

/** A classifier of MCP calls of an operator's: gets the call's extra and the standard verdict. */
export type McpChannelClassifier = (extra: ToolExtra | undefined, standard: Channel) => Channel | undefined;

/**
 * The channel of an MCP call: over Streamable HTTP (the transport gives `requestInfo`),
 * `mcp_http`, or `bot` for a known crawler's User-Agent (powgate/http's rules); otherwise
 * `mcp_stdio` (a stdio server's one client, its parent process).
 */
export function mcpChannel(extra: ToolExtra | undefined): Channel {
  const headers = extra?.requestInfo?.headers;
  return headers ? channelOfHeaders(headers as Record<string, string | string[] | undefined>, true) : 'mcp_stdio';
}
