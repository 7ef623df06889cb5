// A stdio MCP server with one gated tool: docs/MCP.md. Run: POWGATE_SECRET=... node examples/mcp-stdio-server.mjs
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';
import { Gate } from 'powgate';
import { registerGatedTool } from 'powgate/mcp';

const gate = new Gate({ secret: process.env.POWGATE_SECRET, difficulty: 18 });
const server = new McpServer({ name: 'search', version: '1.0.0' });

registerGatedTool(
  server,
  gate,
  'search',
  {
    description: 'Searches the index.',
    inputSchema: { query: z.string() },
  },
  async ({ query }) => ({ content: [{ type: 'text', text: `results for ${query}` }] }),
);

await server.connect(new StdioServerTransport());
