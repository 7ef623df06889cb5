import type { Readable, Writable } from 'node:stream';
import { println, type Command } from '../command.js';
import { DISCOVERY_OPTIONS, DISCOVERY_USAGE, discoveryFromFlags } from '../discovery-flags.js';
import { GATE_OPTIONS, GATE_USAGE, doorsOf, gateOptionsFromFlags, requireRedisClient } from '../gate-flags.js';
import { wasmNotice } from '../backend-notice.js';
import { requirePeers } from '../peers.js';
import { reachRedis } from '../redis-flags.js';
import { SECRET_USAGE } from '../secret.js';

export const mcpCommand: Command = {
  name: 'mcp',
  summary: 'serve the gate as an MCP server on stdio (tools: challenge, verify, status)',
  usage: `Usage: powgate mcp [options]

Serves the gate over the Model Context Protocol on stdin/stdout, for an MCP host
(e.g. "command": "npx", "args": ["powgate", "mcp"], with POWGATE_SECRET in "env").
Tools, each with input and output schemas and structured results:
  challenge { scope?, difficulty?, calls? }
                                     a signed challenge, priced for this client (and, with
                                     --sats, an invoice for the same calls)
  verify    { challenge, solution }  a token for the challenge's scope (each challenge once),
            or { method: 'l402', macaroon, preimage } (a paid invoice),
                                     or { ok: false, reason } with isError
  status    {}                       the backend and kernel, what the gate charges, and the
                                     discovery document (doors, prices, seconds per call)
stdout carries only the protocol; logs go to stderr, a line per call (tool, outcome,
refusal reason, channel). The server stops when stdin closes.

Options:
${GATE_USAGE}
${DISCOVERY_USAGE}
${SECRET_USAGE}
  -h, --help             this text`,
  options: { ...GATE_OPTIONS, ...DISCOVERY_OPTIONS },
  maxPositionals: 0,
  async run(parsed, io) {
    const { redis, ...options } = gateOptionsFromFlags(parsed, io);
    const { reference } = discoveryFromFlags(parsed, doorsOf(options));
    // A missing Redis client stops the start, not every call after it; so does a Cluster or
    // Sentinel that cannot be reached.
    if (options.store) await requireRedisClient(options);
    await reachRedis(redis);
    // Loaded here, not at the top: the SDK costs every other command a quarter of a second to import.
    await requirePeers('powgate mcp', ['@modelcontextprotocol/sdk', 'zod']);
    const [{ Gate }, { createPowgateMcpServer }, { StdioServerTransport }] = await Promise.all([
      import('../../gate/gate.js'),
      import('../../mcp/server.js'),
      import('@modelcontextprotocol/sdk/server/stdio.js'),
    ]);
    let gate;
    try {
      gate = new Gate(options);
    } catch (error) {
      await Promise.all([options.store?.close(), options.counter?.close()]);
      throw error;
    }
    const log = (line: string) => println(io.stderr, `powgate mcp: ${line}`);
    // A line per call on stderr (stdout is the protocol): which tool, its outcome and channel.
    const logger = { info: (fields: Record<string, unknown>, message = '') => log(`${message} ${JSON.stringify(fields)}`) };
    const server = createPowgateMcpServer(gate, { log, logger, reference });
    const transport = new StdioServerTransport(io.stdin as Readable, io.stdout as Writable);
    const closed = new Promise<'eof' | 'signal'>((resolve) => {
      io.stdin.once('end', () => resolve('eof'));
      io.stdin.once('close', () => resolve('eof'));
      // The client went away mid-reply (EPIPE): the same as closing stdin.
      io.stdout.on('error', () => resolve('eof'));
      if (io.signal.aborted) resolve('signal');
      io.signal.addEventListener('abort', () => resolve('signal'), { once: true });
    });
    transport.onerror = (error) => log(`transport: ${error.message.split('\n')[0]}`);
    await server.connect(transport);
    const d = gate.difficulty;
    log(
      `serving on stdio (difficulty ${d.min === d.max ? d.base : `${d.base}, ${d.min} to ${d.max}`}, ` +
        `${gate.subPuzzles} sub-puzzle${gate.subPuzzles === 1 ? '' : 's'}, store ${options.store ? 'redis' : 'memory'}` +
        `${gate.lightning ? `, Lightning on ${gate.lightning.backend.kind} at ${gate.lightning.satsPerCall} sats per call` : ''})`,
    );
    const notice = wasmNotice(io);
    if (notice) log(notice);
    if (!options.store) log('replay protection is per instance (memory store): instances sharing clients each accept a solution once; share a store with --redis');
    const why = await closed;
    await server.close();
    await gate.close();
    return why === 'signal' ? 130 : 0;
  },
};
