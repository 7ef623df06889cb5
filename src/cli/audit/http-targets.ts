// What an HTTP audit probes: routes given on the command line (`METHOD:/path`) and those a
// discovery document (`/.well-known/l402.json`) lists, read leniently.
import { DISCOVERY_PATH } from '../../gate/discovery.js';
import { UsageError } from '../args.js';
import { sendProbe } from './http-request.js';

/** Most routes read from a discovery document. */
const MAX_DISCOVERED = 256;
/** RFC 9110 `token`: a method. */
const METHOD = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}$/;

/**
 * Whether `path` names a path on the audited origin: never another host, as `//host/x` does, or
 * `/\\host/x` (WHATWG URLs read a backslash as a slash), which a hostile discovery document
 * could list to aim the audit's probes at an internal address.
 */
function isLocalPath(path: string): boolean {
  if (!path.startsWith('/') || /[\s\x00-\x1f\\]/.test(path)) return false;
  const base = 'http://audited.invalid';
  return new URL(path, base).origin === base;
}

/** One route: an HTTP method and a path (with its query, if any). */
export interface Route {
  method: string;
  path: string;
}

/** `GET /search`: how a route is shown. */
export function routeName(route: Route): string {
  return `${route.method} ${route.path}`;
}

/**
 * A `METHOD:/path` flag value (`GET:/search`, `post:/api/items?x=1`); a bare `/path` is GET.
 * Throws UsageError for anything else.
 */
export function parseRoute(text: string, flag: string): Route {
  const at = text.indexOf(':/');
  const method = at < 0 ? 'GET' : text.slice(0, at);
  const path = at < 0 ? text : text.slice(at + 1);
  if (!METHOD.test(method) || !isLocalPath(path)) {
    throw new UsageError(`expected METHOD:/path (e.g. GET:/search) for --${flag} but received '${text.slice(0, 80)}'`);
  }
  return { method: method.toUpperCase(), path };
}

/** What the discovery document gave: where it was looked for, its HTTP status (null: no answer), and its routes. */
export interface Discovery {
  url: string;
  status: number | null;
  routes: Route[];
}

/**
 * Reads `origin/.well-known/l402.json` when the server offers one: the `method` and `path` of
 * every resource of every service (`services[].resources[]`, the L402 discovery spec's shape),
 * and of a top-level `resources[]`. Paths with template parameters (`{id}`, `:id`) get `audit`
 * in their place. Absent (404), unreadable or malformed: no routes. Never throws; `signal` stops the wait.
 */
export async function discoverRoutes(origin: URL, timeoutMs: number, signal?: AbortSignal): Promise<Discovery> {
  const url = new URL(DISCOVERY_PATH, origin);
  const answer = await sendProbe(url, { method: 'GET', headers: { accept: 'application/json' } }, timeoutMs, signal);
  if (!answer.ok) return { url: url.href, status: null, routes: [] };
  let json: unknown;
  try {
    json = answer.status === 200 && !answer.truncated ? JSON.parse(Buffer.from(answer.body).toString('utf8')) : undefined;
  } catch {
    json = undefined;
  }
  return { url: url.href, status: answer.status, routes: routesOf(json) };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function routesOf(document: unknown): Route[] {
  if (!isObject(document)) return [];
  const resources: unknown[] = [];
  if (Array.isArray(document.resources)) resources.push(...document.resources);
  for (const service of Array.isArray(document.services) ? document.services : []) {
    if (isObject(service) && Array.isArray(service.resources)) resources.push(...service.resources);
  }
  const routes: Route[] = [];
  const seen = new Set<string>();
  for (const resource of resources) {
    if (routes.length >= MAX_DISCOVERED) break;
    if (!isObject(resource) || typeof resource.path !== 'string') continue;
    const method = typeof resource.method === 'string' && METHOD.test(resource.method) ? resource.method.toUpperCase() : 'GET';
    const path = resource.path.replace(/\{[^/}]*\}|:[A-Za-z_][A-Za-z0-9_]*/g, 'audit');
    if (path.length > 2048 || !isLocalPath(path)) continue;
    const route = { method, path };
    if (seen.has(routeName(route))) continue;
    seen.add(routeName(route));
    routes.push(route);
  }
  return routes;
}
