import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DISCOVERY_PATH, discoveryDocument, type DiscoveryOptions } from '../gate/discovery.js';
import type { Gate } from '../gate/gate.js';
import { checkInteger, invalid } from '../validate.js';
import { checkCors, corsHeaders, isPreflight, preflightHeaders, type CorsOption } from './cors.js';
import { sendJson } from './json-body.js';

/** Options of {@link discoveryHandler}. */
export interface DiscoveryHandlerOptions extends DiscoveryOptions {
  /** How long caches may keep the document, in seconds. Default 300. */
  maxAgeSeconds?: number;
  /** Which browser origins may read it. Default '*' (the L402 discovery spec asks for permissive CORS: it is public). */
  cors?: CorsOption;
  /** The path it answers at. Default {@link DISCOVERY_PATH}. */
  path?: string;
}

/**
 * A `(req, res, next?)` handler serving the gate's discovery document (see
 * {@link discoveryDocument}) at `GET`/`HEAD` {@link DISCOVERY_PATH}: free, with
 * `Cache-Control: public, max-age=...` and an ETag (`If-None-Match` gets 304). Other paths go
 * to `next` (404 without one). The document is built per request, so doors declared after
 * the handler was made are in it.
 */
export function discoveryHandler(gate: Gate, options: DiscoveryHandlerOptions = {}) {
  if (typeof gate?.doors !== 'function') throw invalid('a Gate', 'gate', gate);
  if (typeof options !== 'object' || options === null) throw invalid('an options object', 'options', options);
  const { maxAgeSeconds = 300, cors = '*', path = DISCOVERY_PATH, ...documentOptions } = options;
  checkInteger(maxAgeSeconds, 'maxAgeSeconds', 0, 86_400);
  const allowed = checkCors(cors);
  discoveryDocument(gate, documentOptions); // checks the options now, not at the first request
  return function discovery(req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void): void {
    const url = req.url ?? '/';
    if (url.split('?', 1)[0] !== path) {
      if (next) return next();
      return sendJson(res, 404, { error: 'not_found', detail: `only GET ${path} here` });
    }
    if (isPreflight(req)) {
      res.writeHead(204, preflightHeaders(req, allowed, 'GET, HEAD'));
      return void res.end();
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return sendJson(res, 405, { error: 'method_not_allowed', detail: `use GET, HEAD for ${path}` }, { allow: 'GET, HEAD' });
    }
    const text = JSON.stringify(discoveryDocument(gate, documentOptions));
    const etag = `"${createHash('sha256').update(text).digest('base64url').slice(0, 27)}"`;
    const headers = { ...corsHeaders(req, allowed), etag, 'cache-control': `public, max-age=${maxAgeSeconds}` };
    if (etagMatches(req.headers['if-none-match'], etag)) {
      res.writeHead(304, headers);
      return void res.end();
    }
    res.writeHead(200, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'x-content-type-options': 'nosniff' });
    res.end(req.method === 'HEAD' ? undefined : text);
  };
}

/** Whether If-None-Match names `etag` (or is `*`); weak comparison, as RFC 9110 asks for it. */
function etagMatches(header: string | undefined, etag: string): boolean {
  if (typeof header !== 'string') return false;
  return header.split(',').some((tag) => {
    const t = tag.trim();
    return t === '*' || t === etag || t === `W/${etag}`;
  });
}
