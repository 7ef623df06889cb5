// What an MCP client learns before its first refusal, through the SDK's own Client: each gated
// tool's price and doors in its description and in tools/list `_meta["powgate/price"]`, and the
// discovery document from the status tool (in process over Streamable HTTP, and `powgate mcp`).
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import * as z from 'zod';
import { afterEach, describe, expect, it } from 'vitest';
import { Gate } from '../src/gate/gate.js';
import { PRICE_META_KEY, registerGatedTool, registerPowgateTools } from '../src/mcp/index.js';
import { connectCli, connectHttp, serveHttp, type Connected, type HttpApp } from './helpers/mcp.js';

const SECRET = 'an mcp discovery test secret, long enough';
const REFERENCE = { hashesPerSecond: 2 ** 20, machine: 'a reference box' };

let mcp: Connected | undefined;
let http: HttpApp | undefined;
afterEach(async () => {
  await mcp?.close();
  await http?.close();
  mcp = http = undefined;
});

function app(gate: Gate): McpServer {
  const server = new McpServer({ name: 'discovery-fixture', version: '1.0.0' });
  registerPowgateTools(server, gate, { reference: REFERENCE });
  registerGatedTool(server, gate, 'search', { description: 'Searches.', inputSchema: { query: z.string() } }, async ({ query }) => ({ content: [{ type: 'text', text: query }] }), {
    difficulty: 20,
  });
  registerGatedTool(server, gate, 'ping', { description: 'Pong.', _meta: { 'example.com/own': 1 } }, async () => ({ content: [{ type: 'text', text: 'pong' }] }));
  return server;
}

describe('gated MCP tools say their price before the first call', () => {
  it('tools/list: each gated tool has its door and prices in _meta["powgate/price"] and in words in its description; status returns the discovery document', async () => {
    const gate = new Gate({ secret: SECRET, difficulty: { base: 16, max: 18 } });
    http = await serveHttp(() => app(gate));
    mcp = await connectHttp(http.url);
    const { tools } = await mcp.client.listTools();
    const search = tools.find((t) => t.name === 'search')!;
    expect(PRICE_META_KEY).toBe('powgate/price');
    expect(search._meta?.[PRICE_META_KEY]).toEqual({
      scope: 'tool:search',
      doors: [{ method: 'pow', difficulty: 20, price_bits: 20, price_bits_max: 22, seconds_per_call: 1, seconds_per_call_max: 4 }],
    });
    expect(search.description).toMatch(
      /^Searches\.\n\nCosts proof of work of about 2\^20 SHA-256 hashes per call \(up to 2\^22 for clients calling fast\), about 1 s on a reference box: pass a token/,
    );
    const ping = tools.find((t) => t.name === 'ping')!;
    // The tool's own _meta is kept beside powgate's.
    expect(ping._meta).toMatchObject({ 'example.com/own': 1, [PRICE_META_KEY]: { scope: 'tool:ping', doors: [expect.objectContaining({ difficulty: 16 })] } });
    // The powgate tools themselves are free: no price.
    expect(tools.find((t) => t.name === 'powgate_challenge')!._meta?.[PRICE_META_KEY]).toBeUndefined();

    const status = await mcp.client.callTool({ name: 'powgate_status', arguments: {} });
    const doc = (status.structuredContent as { discovery: any }).discovery;
    expect(doc).toMatchObject({
      version: '1.0',
      currencies: ['msat'],
      powgate: {
        tools: { challenge: 'powgate_challenge', verify: 'powgate_verify', status: 'powgate_status' },
        reference_hardware: { hashes_per_second: 2 ** 20, machine: 'a reference box' },
      },
    });
    const searchService = doc.services.find((s: { name: string }) => s.name === 'tool:search');
    expect(searchService.resources).toEqual([
      { pricing: { model: 'dynamic' }, powgate: { scope: 'tool:search', tool: 'search', doors: (search._meta![PRICE_META_KEY] as { doors: unknown }).doors } },
    ]);
  });

  it('without a reference hash rate, seconds are null and the description gives no time', async () => {
    const gate = new Gate({ secret: SECRET, difficulty: 12 });
    http = await serveHttp(() => {
      const s = new McpServer({ name: 'x', version: '1.0.0' });
      registerGatedTool(s, gate, 'search', { description: 'Searches.' }, async () => ({ content: [] }));
      return s;
    });
    mcp = await connectHttp(http.url);
    const search = (await mcp.client.listTools()).tools.find((t) => t.name === 'search')!;
    expect((search._meta![PRICE_META_KEY] as { doors: { seconds_per_call: unknown }[] }).doors[0]!.seconds_per_call).toBeNull();
    expect(search.description).toMatch(/Costs proof of work of about 2\^12 SHA-256 hashes per call: pass a token/);
  });

  it('powgate mcp --hash-rate: the status tool returns the discovery document with the reference machine', async () => {
    mcp = await connectCli(['--difficulty', '10', '--scope', 'search=12', '--hash-rate', '4096', '--hash-rate-machine', 'the cli box']);
    const status = await mcp.client.callTool({ name: 'status', arguments: {} });
    const doc = (status.structuredContent as { discovery: any }).discovery;
    expect(doc.powgate.reference_hardware).toEqual({ hashes_per_second: 4096, machine: 'the cli box' });
    expect(doc.services.map((s: { name: string }) => s.name)).toEqual(['default', 'search']);
    expect(doc.services[1].resources[0].powgate.doors[0]).toMatchObject({ difficulty: 12, seconds_per_call: 1 });
  });
});
