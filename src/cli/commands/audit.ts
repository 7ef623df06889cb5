import { PowgateError } from '../../errors.js';
import { UsageError, optional, parseDuration, stringFlag, type Parsed } from '../args.js';
import { println, type Command } from '../command.js';
import { discoverRoutes, parseRoute, routeName, type Discovery, type Route } from '../audit/http-targets.js';
import { auditReport, describeReport, type AuditRow } from '../audit/report.js';
import { requirePeers } from '../peers.js';

/** How long one probe waits for its answer, by default. */
const DEFAULT_TIMEOUT_MS = 10_000;

export const auditCommand: Command = {
  name: 'audit',
  summary: 'probe a deployment cold, as a scanner would: does anything answer without payment?',
  usage: `Usage: powgate audit URL [options]
       powgate audit --mcp URL [options]
       powgate audit [options] -- COMMAND [ARGS...]

Probes a deployment cold, as a registry scanner (or a careless new transport) would, and
says whether every gated route and tool refuses with its on-ramp: a machine-readable reason
and every way through (a proof-of-work challenge and where to redeem it; an invoice where
Lightning is offered), as an agent's client reads them.

HTTP (URL): each route is sent a request with no body, one with a {} JSON body, one with
Accept: text/html and one with a bogus token, none with a credential that pays. Routes come
from --route, from URL's own path (other than /), and from the server's discovery document
(/.well-known/l402.json) when it offers one.
MCP (--mcp URL for Streamable HTTP; -- COMMAND for a server spoken to over stdio, given this
environment): every tool is listed and called without a token, with {} and, when its input
schema requires arguments, with minimal ones made from it. The tools a refusal names to get
through (the verify tool, and the challenge and status tools beside it) are the on-ramp.

Prints a table (door, route or tool, probe, status, refusal reason, whether the envelope is
complete, verdict) and a summary; never a token or a secret.

Exit codes: 0 when every probe passed; 1 when a gated route or tool answers without payment,
a refusal lacks its reason or its on-ramp, something crashes (5xx) or does not answer
(with --strict, also a redirect or a gate that cannot reach its store); 2 for a mistake on
the command line.

Options:
  --route METHOD:/path   a route to probe (GET:/search, POST:/api/items); repeatable
  --free METHOD:/path|TOOL
                         a route or tool meant to answer without payment: probed, not
                         failed for answering; repeatable
  --mcp URL              an MCP server's Streamable HTTP endpoint (http://host/mcp)
  --timeout DURATION     how long each probe waits for its answer; default 10s
  --strict               warnings fail too
  --json                 the report as JSON on stdout (version 1: ok, probes, failures, counts)
  -h, --help             this text`,
  options: {
    route: { type: 'string', multiple: true },
    free: { type: 'string', multiple: true },
    mcp: { type: 'string' },
    timeout: { type: 'string' },
    strict: { type: 'boolean' },
    json: { type: 'boolean' },
  },
  maxPositionals: 1,
  passThrough: true,
  async run(parsed, io) {
    // Every flag is checked before any probe.
    const url = optional(parsed.positionals[0], (text) => httpUrl(text, 'URL'));
    const mcpUrl = optional(stringFlag(parsed, 'mcp'), (text) => httpUrl(text, '--mcp'));
    const command = parsed.passThrough;
    if (command !== undefined && command.length === 0) throw new UsageError('expected a command after --');
    if (!url && !mcpUrl && !command) throw new UsageError('nothing to audit: give a URL, --mcp URL, or -- COMMAND for an MCP server over stdio');
    const routes = ((parsed.values.route as string[] | undefined) ?? []).map((text) => parseRoute(text, 'route'));
    if (routes.length > 0 && !url) throw new UsageError("--route needs the server's URL");
    const free = freeOf(parsed);
    if (free.routes.length > 0 && !url) throw new UsageError("--free METHOD:/path needs the server's URL");
    const timeoutMs = Math.min(2 ** 31 - 1, Math.round(parseDuration(stringFlag(parsed, 'timeout') ?? `${DEFAULT_TIMEOUT_MS}ms`, 'timeout') * 1000));
    const strict = parsed.values.strict === true;

    const rows: AuditRow[] = [];
    let discovery: Discovery | undefined;
    if (url) {
      const { probeRoutes } = await import('../audit/http-probes.js');
      discovery = await discoverRoutes(url, timeoutMs, io.signal);
      const all = unique([
        ...(url.pathname === '/' && url.search === '' ? [] : [{ method: 'GET', path: url.pathname + url.search }]),
        ...routes,
        ...discovery.routes,
        ...free.routes,
      ]);
      if (all.length === 0 && !io.signal.aborted) {
        throw new UsageError(`no route to probe: give --route METHOD:/path (no discovery document at ${new URL(discovery.url).pathname} lists any)`);
      }
      rows.push(...(await probeRoutes(url, all, new Set(free.routes.map(routeName)), timeoutMs, io.signal)));
    }
    if (mcpUrl || command) {
      await requirePeers('powgate audit (an MCP server)', ['@modelcontextprotocol/sdk']);
      const { probeMcp } = await import('../audit/mcp-probes.js');
      if (mcpUrl) rows.push(...(await probeMcp({ kind: 'http', url: mcpUrl }, free.tools, timeoutMs, io.signal)));
      if (command) rows.push(...(await probeMcp({ kind: 'stdio', command: command[0]!, args: command.slice(1), env: stringsOf(io.env) }, free.tools, timeoutMs, io.signal)));
    }
    // Ctrl-C: what was probed is no verdict on the whole.
    if (io.signal.aborted) throw new PowgateError('ERR_ABORTED', 'the audit was cancelled');
    const report = auditReport(rows, strict, discovery ? { url: discovery.url, status: discovery.status, routes: discovery.routes.length } : null);
    if (parsed.values.json === true) println(io.stdout, JSON.stringify(report, null, 2));
    else for (const line of describeReport(report)) println(io.stdout, line);
    return report.ok ? 0 : 1;
  },
};

function httpUrl(text: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`expected an http or https URL for ${what} but received '${text.slice(0, 200)}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`expected an http or https URL for ${what} but received '${text.slice(0, 200)}'`);
  if (url.username || url.password) throw new UsageError(`expected a URL without a user or password for ${what}`);
  return url;
}

/** --free values: `METHOD:/path` or `/path` are routes, anything else a tool's name. */
function freeOf(parsed: Parsed): { routes: Route[]; tools: Set<string> } {
  const routes: Route[] = [];
  const tools = new Set<string>();
  for (const text of (parsed.values.free as string[] | undefined) ?? []) {
    if (text.startsWith('/') || text.includes(':/')) routes.push(parseRoute(text, 'free'));
    else if (/^[\x21-\x7e]{1,128}$/.test(text)) tools.add(text);
    else throw new UsageError(`expected METHOD:/path or a tool name for --free but received '${text.slice(0, 80)}'`);
  }
  return { routes, tools };
}

function unique(routes: readonly Route[]): Route[] {
  const seen = new Map<string, Route>();
  for (const route of routes) if (!seen.has(routeName(route))) seen.set(routeName(route), route);
  return [...seen.values()];
}

function stringsOf(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined) out[key] = value;
  return out;
}
