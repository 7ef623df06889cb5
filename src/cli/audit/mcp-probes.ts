// Cold probes of an MCP server, over stdio or Streamable HTTP, with the SDK's own Client: every
// tool listed and called without a token (with `{}`, then with minimal arguments when its
// schema requires some); each answer judged by the client's own reader of a refusal.
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import { parsePaymentRequired } from '../../client/envelope.js';
import { VERIFY_L402, VERIFY_POW, checkTool, type Catalog } from '../../client/mcp-catalog.js';
import { claimedRefusal } from '../../client/mcp-refusal.js';
import type { Envelope } from '../../client/offers.js';
import { PowgateError } from '../../errors.js';
import { packageInfo } from '../../package-info.js';
import { boundedFetch, MAX_MCP_ANSWER_BYTES } from './bounded-fetch.js';
import { envelopeFault, envelopeGaps } from './http-probes.js';
import { minimalArguments, requiresArguments } from './minimal-arguments.js';
import type { AuditRow, Door } from './report.js';

/** Largest refusal read, as JSON text (the MCP client's default). */
const MAX_ENVELOPE_CHARS = 65_536;
/** Most pages of tools/list read. */
const MAX_PAGES = 16;
/** Most tools probed. */
const MAX_TOOLS = 256;

/** The MCP server to audit: a command spoken to over stdio, or a Streamable HTTP endpoint. */
export type McpTarget = { kind: 'stdio'; command: string; args: readonly string[]; env: Record<string, string> } | { kind: 'http'; url: URL };

/** What one call came back with. */
type Outcome = { kind: 'result'; result: unknown } | { kind: 'threw'; message: string };

interface Listed {
  name: string;
  inputSchema: unknown;
}

/**
 * Connects, lists every tool and calls each without a token; a tool in `free` is expected to
 * answer, and the tools refusals name to get through (the verify tool, and the challenge and
 * status tools beside it) are the on-ramp. Never throws: a server that cannot be reached or
 * listed is a failed row. Stops early once `signal` aborts.
 */
export async function probeMcp(target: McpTarget, free: ReadonlySet<string>, timeoutMs: number, signal?: AbortSignal): Promise<AuditRow[]> {
  const door: Door = target.kind === 'stdio' ? 'mcp-stdio' : 'mcp-http';
  const failed = (probe: string, note: string): AuditRow[] => [{ door, target: '(server)', probe, status: 'no answer', reason: null, complete: null, verdict: 'fail', note }];
  const [{ Client }, transport] = await Promise.all([import('@modelcontextprotocol/sdk/client/index.js'), transportOf(target)]);
  const client: Client = new Client({ name: 'powgate-audit', version: packageInfo().version });
  try {
    try {
      await client.connect(transport, { timeout: timeoutMs, signal });
    } catch (error) {
      return failed('connect', `cannot connect: ${messageOf(error)}`);
    }
    let tools: Listed[];
    try {
      tools = await listTools(client, { timeout: timeoutMs, signal });
    } catch (error) {
      return failed('tools/list', `cannot list tools: ${messageOf(error)}`);
    }
    const catalog: Catalog = new Map(tools.map((t) => [t.name, new Set(propertiesOf(t.inputSchema))]));
    const calls: { tool: string; probe: string; outcome: Outcome }[] = [];
    for (const tool of tools) {
      if (signal?.aborted) break;
      calls.push({ tool: tool.name, probe: '{}', outcome: await call(client, tool.name, {}, { timeout: timeoutMs, signal }) });
      if (requiresArguments(tool.inputSchema)) {
        calls.push({ tool: tool.name, probe: 'minimal args', outcome: await call(client, tool.name, minimalArguments(tool.inputSchema), { timeout: timeoutMs, signal }) });
      }
    }
    const onRamp = onRampTools(
      calls.map((c) => c.outcome),
      catalog,
    );
    return calls.map(({ tool, probe, outcome }) => ({ door, target: tool, probe, ...judge(tool, outcome, catalog, free.has(tool), onRamp.has(tool)) }));
  } finally {
    await client.close().catch(() => undefined);
  }
}

async function transportOf(target: McpTarget) {
  if (target.kind === 'http') {
    const { StreamableHTTPClientTransport } = await import('@modelcontextprotocol/sdk/client/streamableHttp.js');
    return new StreamableHTTPClientTransport(target.url, { fetch: boundedFetch(MAX_MCP_ANSWER_BYTES) });
  }
  const { StdioClientTransport } = await import('@modelcontextprotocol/sdk/client/stdio.js');
  const transport = new StdioClientTransport({ command: target.command, args: [...target.args], env: target.env, stderr: 'pipe' });
  // The server's log is its own (and may hold what an audit must not print): read and dropped, so that it never blocks.
  transport.stderr?.on('data', () => undefined);
  return transport;
}

async function listTools(client: Client, options: RequestOptions): Promise<Listed[]> {
  const tools: Listed[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES && tools.length < MAX_TOOLS; page++) {
    const listed = await client.listTools(cursor === undefined ? undefined : { cursor }, options);
    for (const tool of listed.tools) if (tools.length < MAX_TOOLS) tools.push({ name: tool.name, inputSchema: tool.inputSchema });
    cursor = listed.nextCursor;
    if (cursor === undefined) break;
  }
  return tools;
}

async function call(client: Client, name: string, args: Record<string, unknown>, options: RequestOptions): Promise<Outcome> {
  try {
    return { kind: 'result', result: await client.callTool({ name, arguments: args }, undefined, options) };
  } catch (error) {
    return { kind: 'threw', message: messageOf(error) };
  }
}

/** The tools the refusals name as the way through, and powgate's challenge and status tools beside a verify tool. */
function onRampTools(outcomes: readonly Outcome[], catalog: Catalog): Set<string> {
  const named = new Set<string>();
  for (const outcome of outcomes) {
    const envelope = outcome.kind === 'result' ? envelopeOf(outcome.result) : undefined;
    for (const offer of envelope?.offers ?? []) {
      if (offer.method === 'pow' && typeof offer.redeem.tool === 'string') named.add(offer.redeem.tool);
      const or = offer.method === 'l402' ? (offer.redeem?.or_redeem as { tool?: unknown } | undefined) : undefined;
      if (typeof or?.tool === 'string') named.add(or.tool);
    }
  }
  for (const tool of [...named]) {
    if (!tool.endsWith('verify')) continue;
    const prefix = tool.slice(0, -'verify'.length);
    for (const sibling of [`${prefix}challenge`, `${prefix}status`]) if (catalog.has(sibling)) named.add(sibling);
  }
  return named;
}

function envelopeOf(result: unknown): Envelope | undefined {
  try {
    const claimed = claimedRefusal(result, MAX_ENVELOPE_CHARS);
    return claimed === undefined ? undefined : parsePaymentRequired(claimed);
  } catch {
    return undefined;
  }
}

type Judged = Pick<AuditRow, 'status' | 'reason' | 'complete' | 'verdict' | 'note'>;

/** One call's verdict: a gated tool must refuse with a complete envelope whose redeem tools the server lists. */
function judge(tool: string, outcome: Outcome, catalog: Catalog, isFree: boolean, isOnRamp: boolean): Judged {
  const quiet = isOnRamp ? 'on-ramp' : isFree ? 'free' : undefined;
  if (outcome.kind === 'threw') {
    const status = /timed out|timeout/i.test(outcome.message) ? 'no answer' : 'protocol error';
    return quiet
      ? { status, reason: null, complete: null, verdict: quiet, note: null }
      : { status, reason: null, complete: null, verdict: 'fail', note: `${status} without the on-ramp: ${outcome.message}` };
  }
  const result = outcome.result as { isError?: unknown; content?: unknown };
  let claimed: unknown;
  try {
    claimed = claimedRefusal(result, MAX_ENVELOPE_CHARS);
  } catch (error) {
    return { status: 'refused', reason: null, complete: false, verdict: quiet ?? 'fail', note: `malformed envelope: ${envelopeFault(messageOf(error))}` };
  }
  if (claimed === undefined) {
    const status = result?.isError === true ? 'error' : 'answered';
    if (quiet) return { status, reason: null, complete: null, verdict: quiet, note: null };
    if (status === 'answered') return { status, reason: null, complete: null, verdict: 'fail', note: 'answers without payment' };
    return { status, reason: null, complete: null, verdict: 'fail', note: `refuses without its on-ramp: ${errorText(result)}` };
  }
  let envelope: Envelope;
  try {
    envelope = parsePaymentRequired(claimed);
  } catch (error) {
    return { status: 'refused', reason: null, complete: false, verdict: quiet ?? 'fail', note: `malformed envelope: ${envelopeFault(messageOf(error))}` };
  }
  const gaps = envelopeGaps(envelope);
  for (const offer of envelope.offers) {
    try {
      if (offer.method === 'pow') checkTool(catalog, offer.redeem.tool, VERIFY_POW, 'redeem.tool', tool);
      const or = offer.method === 'l402' ? (offer.redeem?.or_redeem as { tool?: unknown } | undefined) : undefined;
      if (or !== undefined) checkTool(catalog, or.tool, VERIFY_L402, 'redeem.or_redeem.tool', tool);
    } catch (error) {
      gaps.push(messageOf(error));
    }
  }
  const reason = envelope.reason ?? null;
  if (gaps.length > 0) return { status: 'refused', reason, complete: false, verdict: quiet ?? 'fail', note: `incomplete envelope: ${gaps.join('; ')}` };
  return { status: 'refused', reason, complete: true, verdict: quiet ?? 'pass', note: null };
}

function propertiesOf(schema: unknown): string[] {
  const properties = typeof schema === 'object' && schema !== null ? (schema as { properties?: unknown }).properties : undefined;
  return typeof properties === 'object' && properties !== null ? Object.keys(properties) : [];
}

/** The first text of an error result, on one line and short. */
function errorText(result: { content?: unknown }): string {
  const first = Array.isArray(result.content) ? (result.content as { type?: unknown; text?: unknown }[]).find((c) => c?.type === 'text') : undefined;
  return typeof first?.text === 'string' ? oneLine(first.text) : 'no text';
}

function messageOf(error: unknown): string {
  return oneLine(error instanceof PowgateError || error instanceof Error ? error.message : String(error));
}

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 100 ? `${line.slice(0, 97)}...` : line;
}
