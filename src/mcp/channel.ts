import { channelOfHeaders } from '../http/channel.js';
import { isChannel, type Channel } from '../gate/events.js';
import type { Gate } from '../gate/gate.js';
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

/** The channel of a call: the standard one, refined by an operator's `override` when it answers a channel name. */
export function callChannel(extra: ToolExtra | undefined, override: McpChannelClassifier | undefined): Channel {
  const standard = mcpChannel(extra);
  if (override === undefined) return standard;
  const chosen = override(extra, standard);
  return isChannel(chosen) ? chosen : standard;
}

/** What the MCP layer logs with: pino's `info(fields, message)` (a pino logger fits). */
export interface McpLogger {
  info(fields: Record<string, unknown>, message?: string): void;
}

/** What the MCP layer counts with: powgate/http's HttpMetrics fits (only `watch` is used, so that powgate/mcp never loads prom-client). */
export interface McpMetrics {
  watch(gate: Gate): unknown;
}
