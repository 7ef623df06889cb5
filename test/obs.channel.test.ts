// Channel attribution (issue 15): each class assigned from realistic requests over real sockets
// (curl's and a browser's headers, known crawlers, Node's fetch) and from the MCP SDK's own clients
// over both transports; an operator's override wins when it names a channel.
import { createServer, type IncomingMessage } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Gate } from '../src/gate/gate.js';
import type { GateEvent } from '../src/gate/events.js';
import { channelClassifier, classifyChannel } from '../src/http/channel.js';
import { registerGatedTool } from '../src/mcp/gated-tool.js';
import { close, listen, request } from './helpers/http.js';
import { connectCli, connectHttp } from './helpers/mcp.js';
import { SECRET } from './helpers/protocol.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((f) => f()));
});

const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const CHROME_HEADERS = {
  'user-agent': CHROME,
  accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8',
  'accept-language': 'en-US,en;q=0.9',
  'sec-ch-ua': '"Google Chrome";v="131", "Chromium";v="131", "Not_A Brand";v="24"',
  'sec-fetch-mode': 'navigate',
  'sec-fetch-site': 'none',
};

/** A server that answers each request with its channel. */
async function classifying(classify: (req: IncomingMessage) => string = (req) => classifyChannel(req)) {
  const server = createServer((req, res) => res.end(classify(req)));
  const url = await listen(server);
  cleanups.push(() => close(server));
  return url;
}

describe('classifyChannel over real HTTP', () => {
  it('curl, a browser, crawlers, scanners and Node fetch', async () => {
    const url = await classifying();
    const channel = async (headers: Record<string, string>, path = '/api/search') => (await request(url, path, { headers })).text;
    expect(await channel({ 'user-agent': 'curl/8.5.0', accept: '*/*' })).toBe('api');
    expect(await channel(CHROME_HEADERS)).toBe('browser');
    // A browser's User-Agent without a browser's headers is a program pretending: not a browser.
    expect(await channel({ 'user-agent': CHROME, accept: 'application/json' })).toBe('api');
    expect(await channel({ 'user-agent': 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)', accept: 'text/html' })).toBe('bot');
    expect(await channel({ 'user-agent': 'Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)' })).toBe('bot');
    expect(await channel({ 'user-agent': 'Mozilla/5.0 zgrab/0.x' })).toBe('bot');
    expect(await channel({ 'user-agent': 'python-requests/2.32.3' })).toBe('api');
    expect(await channel({})).toBe('api');
    // A crawler at the MCP endpoint is still a crawler; anyone else there is an MCP client.
    expect(await channel({ 'user-agent': 'curl/8.5.0' }, '/mcp?x=1')).toBe('mcp_http');
    expect(await channel({ 'user-agent': 'GPTBot/1.2' }, '/mcp')).toBe('bot');
    expect(await channel({ 'user-agent': 'node', 'mcp-protocol-version': '2025-06-18' })).toBe('mcp_http');
    expect((await fetch(`${url}/api/x`)).status).toBe(200);
    expect(await (await fetch(`${url}/api/x`)).text()).toBe('api');
  });

  it('an override refines the standard verdict; an answer that is not a channel name keeps it', async () => {
    const classify = channelClassifier((req, standard) => (req.headers['x-partner'] ? 'partner' : standard === 'bot' ? ('Not A Channel' as string) : undefined));
    const url = await classifying(classify);
    expect((await request(url, '/', { headers: { 'x-partner': '1' } })).text).toBe('partner');
    expect((await request(url, '/', { headers: { 'user-agent': 'Googlebot/2.1' } })).text).toBe('bot');
    expect((await request(url, '/', { headers: { 'user-agent': 'curl/8' } })).text).toBe('api');
    expect(() => channelClassifier('api' as never)).toThrow(/channel/);
  });
});

describe('MCP channels from the SDK clients', () => {
  it('Streamable HTTP: a gated tool refusal is told as mcp_http', async () => {
    const gate = new Gate({ secret: SECRET, difficulty: 4 });
    const events: GateEvent[] = [];
    gate.observe((event) => events.push(event));
    const server = createServer(async (req, res) => {
      const mcp = new McpServer({ name: 't', version: '1.0.0' });
      registerGatedTool(mcp, gate, 'search', { inputSchema: { query: z.string() } }, async ({ query }) => ({ content: [{ type: 'text', text: query }] }));
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      res.on('close', () => void transport.close());
      await mcp.connect(transport);
      await transport.handleRequest(req, res);
    });
    const url = await listen(server);
    cleanups.push(
      () => close(server),
      () => gate.close(),
    );
    const { client, close: done } = await connectHttp(new URL(`${url}/mcp`));
    cleanups.push(done);
    const result = await client.callTool({ name: 'search', arguments: { query: 'cats' } });
    expect(result.isError).toBe(true);
    expect(events.filter((e) => e.stage === 'refused')).toEqual([
      { stage: 'refused', step: 'call', reason: 'token_required', scope: 'tool:search', door: 'work', channel: 'mcp_http' },
    ]);
    expect(events.find((e) => e.stage === 'challenge_issued')?.channel).toBe('mcp_http');
  });

  it('stdio: powgate mcp logs each call on stderr as mcp_stdio', async () => {
    const { client, stderr, close: done } = await connectCli(['--difficulty', '4']);
    cleanups.push(done);
    await client.callTool({ name: 'challenge', arguments: {} });
    await client.callTool({ name: 'verify', arguments: { challenge: {}, solution: {} } });
    const lines = stderr()
      .split('\n')
      .filter((l) => l.startsWith('powgate mcp: call '));
    expect(lines.map((l) => JSON.parse(l.slice('powgate mcp: call '.length)))).toEqual([
      { tool: 'challenge', outcome: 'ok', channel: 'mcp_stdio' },
      { tool: 'verify', outcome: 'refused', reason: 'malformed', channel: 'mcp_stdio' },
    ]);
  });
});
