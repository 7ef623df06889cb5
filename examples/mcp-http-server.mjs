// A Streamable HTTP MCP server (stateless) with one gated tool on http://127.0.0.1:3000/mcp: docs/MCP.md.
// Run: POWGATE_SECRET=... node examples/mcp-http-server.mjs
import { createServer } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';
import { Gate } from 'powgate';
import { handleMcpHttp, registerGatedTool } from 'powgate/mcp';
import { pino } from 'pino';

const gate = new Gate({ secret: process.env.POWGATE_SECRET, difficulty: 18 }); // one gate: one replay store
const search = async ({ query }) => ({ content: [{ type: 'text', text: `results for ${query}` }] });
const logger = pino(); // a line per request: the status sent (the SDK's own 406 too), each call's tool and outcome

createServer(async (req, res) => {
  // stateless: a server and a transport per request
  const server = new McpServer({ name: 'search', version: '1.0.0' });
  registerGatedTool(server, gate, 'search', { inputSchema: { query: z.string() } }, search, { logger });
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
  res.on('close', () => {
    transport.close();
    server.close();
  });
  await server.connect(transport);
  await handleMcpHttp(transport, req, res, undefined, { logger }); // transport.handleRequest, logged
}).listen(3000, '127.0.0.1');
