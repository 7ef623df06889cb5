import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { checkGate } from '../gate/check-gate.js';
import type { Gate } from '../gate/gate.js';
import { packageInfo } from '../package-info.js';
import { registerPowgateTools, type PowgateToolsOptions } from './tools.js';

/** Options of {@link createPowgateMcpServer}. */
export interface PowgateMcpServerOptions extends PowgateToolsOptions {
  /** The server's name in the MCP handshake. Default 'powgate'. */
  name?: string;
}

/**
 * An MCP server with the gate's tools only (`challenge`, `verify`, `status`: prefix ''
 * unless set): what `powgate mcp` serves on stdio. Connect it to any transport.
 */
export function createPowgateMcpServer(gate: Gate, options: PowgateMcpServerOptions = {}): McpServer {
  checkGate(gate);
  const prefix = options.prefix ?? '';
  const server = new McpServer(
    { name: options.name ?? 'powgate', version: packageInfo().version },
    {
      instructions:
        `A proof-of-work gate. Call ${prefix}challenge for a signed challenge, solve it on your own CPU ` +
        '(`npx powgate solve` reads the challenge JSON on stdin and prints the solution), then call ' +
        `${prefix}verify with { challenge, solution } for a short-lived token. ${prefix}status shows the price ` +
        'and the discovery document (every door, its price, and seconds per call on reference hardware).',
    },
  );
  registerPowgateTools(server, gate, { ...options, prefix });
  return server;
}
