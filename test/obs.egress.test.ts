// What the SDK and the server really said (issue 15): handleMcpHttp logs the status each response
// left with, the MCP SDK transport's own 406 included, and per JSON-RPC message its method, tool and
// outcome, so that a powgate refusal inside an HTTP 200 is seen; watchEgress does the same for any route.
import { createServer } from 'node:http';
import { Writable } from 'node:stream';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Gate } from '../src/gate/gate.js';
import { watchEgress } from '../src/http/egress-log.js';
import { HttpMetrics } from '../src/http/metrics.js';
import { registerGatedTool } from '../src/mcp/gated-tool.js';
import { handleMcpHttp } from '../src/mcp/http-egress.js';
import { close, listen, request } from './helpers/http.js';
import { connectHttp } from './helpers/mcp.js';
import { SECRET } from './helpers/protocol.js';
import { sample } from './helpers/metrics.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((f) => f()));
});

function logSink(): { logs: Record<string, any>[]; logger: pino.Logger } {
  const logs: Record<string, any>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) logs.push(JSON.parse(line));
      done();
    },
  });
  return { logs, logger: pino({ level: 'info' }, stream) };
}

/** The README's stateless MCP server, through handleMcpHttp, SSE answers (the SDK's default) or JSON. */
async function mcpApp(enableJsonResponse = false) {
  const gate = new Gate({ secret: SECRET, difficulty: 4 });
  const metrics = new HttpMetrics({ defaultMetrics: false, cacheMs: 0 });
  const { logs, logger } = logSink();
  const server = createServer(async (req, res) => {
    const mcp = new McpServer({ name: 'search', version: '1.0.0' });
    registerGatedTool(mcp, gate, 'search', { inputSchema: { query: z.string() } }, async ({ query }) => ({ content: [{ type: 'text', text: query }] }), { logger, metrics });
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse });
    res.on('close', () => void transport.close());
    await mcp.connect(transport);
    await handleMcpHttp(transport, req, res, undefined, { logger, metrics });
  });
  const url = await listen(server);
  cleanups.push(
    () => close(server),
    () => gate.close(),
  );
  return { url, logs, metrics };
}

const waitFor = async (check: () => boolean) => {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 20));
};

describe('handleMcpHttp', () => {
  it("logs the SDK's own 406 for a POST without Accept, with its path, and counts it", async () => {
    const { url, logs, metrics } = await mcpApp();
    const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'curl', version: '1' } } };
    const reply = await request(url, '/mcp?session=secret-in-query', { body: init, headers: { 'user-agent': 'curl/8.5.0' } });
    expect(reply.status).toBe(406);
    await waitFor(() => logs.some((l) => l.msg === 'response'));
    const line = logs.find((l) => l.msg === 'response')!;
    expect(line).toMatchObject({ method: 'POST', path: '/mcp', status: 406, channel: 'mcp_http', rpc: [{ method: 'initialize', outcome: 'unanswered' }] });
    expect(JSON.stringify(logs)).not.toContain('secret-in-query');
    expect(sample(await metrics.text(), 'powgate_http_requests_total{route="mcp",method="POST",status="406",channel="mcp_http"}')).toBe(1);
  });

  it('logs the SDK 405 for a PUT and its 400 for JSON that is not JSON', async () => {
    const { url, logs } = await mcpApp();
    expect((await request(url, '/mcp', { method: 'PUT', headers: { accept: 'text/event-stream' } })).status).toBe(405);
    const garbage = await request(url, '/mcp', {
      method: 'POST',
      body: '{not json',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    });
    expect([garbage.status, garbage.json?.error?.code]).toEqual([400, -32700]);
    await waitFor(() => logs.filter((l) => l.msg === 'response').length >= 2);
    expect(logs.filter((l) => l.msg === 'response').map((l) => [l.method, l.status])).toEqual([
      ['PUT', 405],
      ['POST', 400],
    ]);
  });

  for (const json of [false, true]) {
    it(`a refusal inside an HTTP 200 is logged as one (${json ? 'JSON' : 'SSE'} answers), with the tool's name`, async () => {
      const { url, logs, metrics } = await mcpApp(json);
      const { client, close: done } = await connectHttp(new URL(`${url}/mcp`));
      cleanups.push(done);
      const refused = await client.callTool({ name: 'search', arguments: { query: 'cats' } });
      expect(refused.isError).toBe(true);
      await waitFor(() => logs.some((l) => l.rpc?.[0]?.method === 'tools/call'));
      const line = logs.find((l) => l.rpc?.[0]?.method === 'tools/call')!;
      expect(line).toMatchObject({ msg: 'response', method: 'POST', path: '/mcp', status: 200, channel: 'mcp_http' });
      expect(line.rpc).toEqual([{ method: 'tools/call', tool: 'search', outcome: 'refused:token_required' }]);
      // The gated tool's own line, and the initialize handshake's.
      expect(logs.find((l) => l.msg === 'refused')).toMatchObject({ tool: 'search', scope: 'tool:search', reason: 'token_required', channel: 'mcp_http' });
      expect(logs.some((l) => l.rpc?.[0]?.method === 'initialize' && l.rpc[0].outcome === 'ok')).toBe(true);
      const unknown = await client.callTool({ name: 'nope', arguments: {} }).catch((error: unknown) => error);
      await waitFor(() => logs.some((l) => l.rpc?.[0]?.tool === 'nope'));
      const outcome = logs.find((l) => l.rpc?.[0]?.tool === 'nope')!.rpc[0].outcome;
      // The SDK answers an unknown tool as a tool error (newer) or a JSON-RPC error (older).
      expect(outcome === 'tool_error' || /^error:-\d+$/.test(outcome)).toBe(true);
      expect(unknown).toBeDefined();
      const text = await metrics.text();
      expect(sample(text, 'powgate_mcp_messages_total{method="tools/call",outcome="refused:token_required",channel="mcp_http"}')).toBe(1);
      expect(sample(text, 'powgate_gate_refusals_total{scope="tool:search",door="work",channel="mcp_http",step="call",reason="token_required"}')).toBe(1);
    });
  }
});

describe('watchEgress', () => {
  it('logs the status a response left with, whoever wrote it, and 0 when the client left first', async () => {
    const { logs, logger } = logSink();
    const server = createServer((req, res) => {
      watchEgress(req, res, { logger });
      if (req.url?.startsWith('/hang')) return; // never answered
      res.writeHead(418).end();
    });
    const url = await listen(server);
    cleanups.push(() => close(server));
    expect((await request(url, '/teapot?token=pgt2.secret', { headers: { 'user-agent': CHROME_UA, 'sec-fetch-mode': 'navigate' } })).status).toBe(418);
    const controller = new AbortController();
    const hung = fetch(`${url}/hang`, { signal: controller.signal }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 50));
    controller.abort();
    await hung;
    await waitFor(() => logs.length >= 2);
    expect(logs.map((l) => [l.path, l.status, l.channel])).toEqual([
      ['/teapot', 418, 'browser'],
      ['/hang', 0, 'api'],
    ]);
    expect(JSON.stringify(logs)).not.toContain('pgt2');
  });
});

const CHROME_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
