// Walks the funnel once over real HTTP and prints the powgate metrics scraped after it (no process
// metrics): the excerpt in docs/OPERATIONS.md. A token service and a 402 middleware share one gate;
// a curl-like client, a crawler and a browser are refused, the client solves, redeems, spends its
// two calls, and is refused again; an MCP client over Streamable HTTP is refused inside a 200.
// Run: npx tsup && node scripts/metrics-excerpt.mjs
import { createServer } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';
import { Gate, solve } from '../dist/index.js';
import { HttpMetrics, PowgateService, powgateMiddleware } from '../dist/http.js';
import { handleMcpHttp, registerGatedTool } from '../dist/mcp.js';

const gate = new Gate({ secret: 'an excerpt secret that is at least 32 bytes long', difficulty: 10, calls: 2 });
const metrics = new HttpMetrics({ defaultMetrics: false, cacheMs: 0 });
const service = new PowgateService(gate, { metrics, metricsAccess: 'public' });
const gated = powgateMiddleware(gate, { scope: 'search', metrics });
const server = createServer(async (req, res) => {
  if (req.url.startsWith('/search')) return gated(req, res, () => res.end('{"results":[]}'));
  if (req.url.startsWith('/mcp')) {
    const mcp = new McpServer({ name: 'search', version: '1.0.0' });
    registerGatedTool(mcp, gate, 'lookup', { inputSchema: { query: z.string() } }, async ({ query }) => ({ content: [{ type: 'text', text: query }] }), { metrics });
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => transport.close());
    await mcp.connect(transport);
    return handleMcpHttp(transport, req, res, undefined, { metrics });
  }
  service.handle(req, res);
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${server.address().port}`;
const get = (path, headers = {}) => fetch(base + path, { headers });
const post = (path, body) => fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

await get('/search?q=x', { 'user-agent': 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)' });
await get('/search?q=x', {
  'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36',
  'sec-fetch-mode': 'navigate',
  accept: 'text/html',
});
const refused = await (await get('/search?q=x', { 'user-agent': 'curl/8.5.0' })).json();
const challenge = refused.accepts[0].challenge;
const { token } = await (await post('/api/verify', { challenge, solution: await solve(challenge, { threads: 1 }) })).json();
for (let i = 0; i < 3; i++) await get('/search?q=x', { 'user-agent': 'curl/8.5.0', authorization: `Bearer ${token}` });
await post('/api/challenge', { scope: 'no-such-door' });
const client = new Client({ name: 'agent', version: '1.0.0' });
await client.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`)));
await client.callTool({ name: 'lookup', arguments: { query: 'cats' } });
await client.close();
await fetch(`${base}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"jsonrpc":"2.0","id":1,"method":"ping"}' }); // no Accept: the SDK's 406

const text = await (await get('/metrics')).text();
process.stdout.write(
  text
    .split('\n')
    .filter((line) => !/powgate_(http_requests_in_flight|verify_duration|client_solve)/.test(line))
    .join('\n'),
);
server.close();
server.closeAllConnections();
await gate.close();
