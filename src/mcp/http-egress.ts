// MCP over Streamable HTTP, logged as it really went: the HTTP status the SDK's transport sent
// (its own 406, 405, 400 and 404 included), and per JSON-RPC message its method, tool and
// outcome, so that a refusal riding inside an HTTP 200 is seen as one.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { Channel } from '../gate/events.js';
import { classifyChannel, type ChannelClassifier } from '../http/channel.js';
import { watchEgress, type EgressLogger } from '../http/egress-log.js';
import type { HttpMetrics } from '../http/metrics.js';
import { REFUSAL_META_KEY } from './schemas.js';

/** Options of {@link handleMcpHttp}. */
export interface McpHttpOptions {
  /** A line per HTTP request at info: method, path (no query), status as sent, ms, channel, and `rpc`: each message's method, tool and outcome. Default: no logs. */
  logger?: EgressLogger | false;
  /** Where responses and messages are counted (`http_requests_total`, `mcp_messages_total`). Default: not counted. */
  metrics?: HttpMetrics;
  /** The `route` label in `metrics`. Default 'mcp'. */
  route?: string;
  /** Refines the standard channel (`mcp_http`, or `bot` for a known crawler). Default: the standard rules. */
  channel?: ChannelClassifier;
  /** Largest request body read, in bytes (beyond it: 413). Default 4 MiB, the SDK's own. */
  maxBodyBytes?: number;
}

/** The JSON-RPC methods counted by name; any other is `other` (a label never takes a client's invention). */
const KNOWN_METHODS = new Set([
  'initialize',
  'ping',
  'tools/list',
  'tools/call',
  'resources/list',
  'resources/read',
  'resources/templates/list',
  'prompts/list',
  'prompts/get',
  'completion/complete',
  'logging/setLevel',
  'notifications/initialized',
  'notifications/cancelled',
]);
const TOOL_NAME = /^[A-Za-z0-9_.\-/]{1,128}$/;
const MAX_LOGGED = 16;

/** One message of a request and what became of it. */
interface Entry {
  method: string;
  tool?: string;
  outcome: string;
}

/** Per transport: its requests awaiting an answer, by id. */
const pending = new WeakMap<Transport, Map<string, Entry>>();

/** The transport's answers, watched: each response settles the outcome of the request it answers. */
function watched(transport: Transport): Map<string, Entry> {
  let waiting = pending.get(transport);
  if (waiting) return waiting;
  const map = new Map<string, Entry>();
  waiting = map;
  pending.set(transport, map);
  const send = transport.send.bind(transport);
  transport.send = (message, options) => {
    const id = (message as { id?: unknown }).id;
    if (id !== undefined && ('result' in message || 'error' in message)) {
      const key = `${typeof id}:${String(id)}`;
      const entry = map.get(key);
      if (entry) {
        entry.outcome = outcomeOf(message);
        map.delete(key);
      }
    }
    return send(message, options);
  };
  return waiting;
}

/** ok, tool_error, refused:<reason> (a powgate refusal inside a 200), or error:<JSON-RPC code>. */
function outcomeOf(message: JSONRPCMessage): string {
  if ('error' in message) return `error:${Number(message.error?.code) || 0}`;
  const result = (message as { result?: Record<string, unknown> }).result;
  if (result?.isError !== true) return 'ok';
  const refusal = (result._meta as Record<string, { cause?: { reason?: unknown } }> | undefined)?.[REFUSAL_META_KEY];
  const reason = refusal?.cause?.reason ?? (result.structuredContent as { reason?: unknown } | undefined)?.reason;
  return typeof reason === 'string' && /^[a-z_]{1,40}$/.test(reason) ? `refused:${reason}` : 'tool_error';
}

/** The request body, up to `max` bytes; undefined when the client went away; 'too_large' beyond it. */
function readBody(req: IncomingMessage, max: number): Promise<string | undefined | 'too_large'> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        req.removeAllListeners('data');
        req.resume();
        resolve('too_large');
      } else chunks.push(chunk);
    });
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.once('error', () => resolve(undefined));
    req.once('close', () => resolve(req.readableEnded ? Buffer.concat(chunks).toString('utf8') : undefined));
  });
}

/**
 * `transport.handleRequest(req, res, parsedBody)` for a connected Streamable HTTP transport,
 * logged and counted as it went: the status the response left with (whoever wrote it), and for
 * each JSON-RPC message its method, tool name (`tools/call`) and outcome. The body is read here
 * when `parsedBody` is not given (a body that is not JSON is passed on as text: the SDK answers
 * it 400, -32700).
 *
 * ```js
 * await server.connect(transport);
 * await handleMcpHttp(transport, req, res, undefined, { logger, metrics });
 * ```
 */
export async function handleMcpHttp(
  transport: Transport & { handleRequest(req: IncomingMessage, res: ServerResponse, parsedBody?: unknown): Promise<void> },
  req: IncomingMessage,
  res: ServerResponse,
  parsedBody?: unknown,
  options: McpHttpOptions = {},
): Promise<void> {
  const standard = classifyChannel(req, { mcp: true });
  const chosen = options.channel?.(req, standard);
  const channel: Channel = typeof chosen === 'string' && /^[a-z][a-z0-9_]{0,31}$/.test(chosen) ? chosen : standard;
  const record = watchEgress(req, res, { logger: options.logger, metrics: options.metrics, route: options.route ?? 'mcp', channel });
  let body = parsedBody;
  if (body === undefined && req.method === 'POST') {
    const text = await readBody(req, options.maxBodyBytes ?? 4 * 1024 * 1024);
    if (text === undefined) return void res.destroy();
    if (text === 'too_large') {
      res
        .writeHead(413, { 'content-type': 'application/json', connection: 'close' })
        .end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message: 'request body too large' }, id: null }));
      return;
    }
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  const entries: Entry[] = [];
  const waiting = watched(transport);
  const keys: string[] = [];
  for (const message of (Array.isArray(body) ? body : body === undefined ? [] : [body]).slice(0, 1_000)) {
    if (typeof message !== 'object' || message === null || typeof (message as { method?: unknown }).method !== 'string') continue;
    const m = message as { method: string; id?: unknown; params?: { name?: unknown } };
    const entry: Entry = { method: KNOWN_METHODS.has(m.method) ? m.method : 'other', outcome: m.id === undefined ? 'none' : 'unanswered' };
    if (m.method === 'tools/call') entry.tool = typeof m.params?.name === 'string' && TOOL_NAME.test(m.params.name) ? m.params.name : '(invalid)';
    if (m.id !== undefined) {
      const key = `${typeof m.id}:${String(m.id)}`;
      waiting.set(key, entry);
      keys.push(key);
    }
    entries.push(entry);
  }
  if (entries.length) {
    res.once('close', () => {
      for (const key of keys) waiting.delete(key);
      for (const entry of entries) options.metrics?.countMcpMessage(entry.method, entry.outcome, channel);
    });
    // Read when the line is written, after the answers went out.
    Object.defineProperty(record.fields, 'rpc', { enumerable: true, get: () => entries.slice(0, MAX_LOGGED) });
  }
  await transport.handleRequest(req, res, body);
}
