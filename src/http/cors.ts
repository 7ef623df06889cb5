// CORS for gated routes and the discovery document: browser agents must be able to send a
// token (Authorization, X-Powgate-Token) and read the 402's on-ramp (WWW-Authenticate, Link).
import type { IncomingMessage } from 'node:http';
import { invalid } from '../validate.js';

/**
 * Which origins may call from a browser: `'*'` (any: the token travels in a header, never a
 * cookie, so no credentials are allowed and none can leak), a list of exact origins
 * (`https://app.example`), or false (no CORS headers; preflights are still answered, never 402).
 */
export type CorsOption = '*' | readonly string[] | false;

/** The request headers a browser may send to a gated route. */
export const CORS_ALLOW_HEADERS = 'Authorization, X-Powgate-Token, Content-Type';

/** The response headers a browser may read: the doors, the discovery link, the calls left, when to retry. */
export const CORS_EXPOSE_HEADERS = 'WWW-Authenticate, Link, Powgate-Calls-Remaining, Retry-After';

/** How long a browser may cache a preflight's answer, in seconds. */
const PREFLIGHT_MAX_AGE_S = 600;

/** Checks a {@link CorsOption} given by the programmer. */
export function checkCors(cors: unknown, name = 'cors'): CorsOption {
  if (cors === '*' || cors === false) return cors;
  if (Array.isArray(cors) && cors.every((origin) => typeof origin === 'string' && /^https?:\/\/[^/\s]+$/.test(origin))) return Object.freeze([...cors]);
  throw invalid("'*', false or a list of origins (scheme://host[:port])", name, cors);
}

/** A CORS preflight: OPTIONS with Access-Control-Request-Method (a plain OPTIONS is an ordinary request). */
export function isPreflight(req: IncomingMessage): boolean {
  return req.method === 'OPTIONS' && typeof req.headers['access-control-request-method'] === 'string';
}

/** The CORS headers of an answer to `req` (empty when `cors` is false or its origin is not allowed). */
export function corsHeaders(req: IncomingMessage, cors: CorsOption): Record<string, string> {
  if (cors === false) return {};
  if (cors === '*') return { 'access-control-allow-origin': '*', 'access-control-expose-headers': CORS_EXPOSE_HEADERS };
  const origin = req.headers.origin;
  // The answer depends on Origin: caches must keep one per origin.
  if (typeof origin !== 'string' || !cors.includes(origin)) return { vary: 'Origin' };
  return { 'access-control-allow-origin': origin, 'access-control-expose-headers': CORS_EXPOSE_HEADERS, vary: 'Origin' };
}

/** The headers of a preflight's 204 answer for a route that takes `methods`. */
export function preflightHeaders(req: IncomingMessage, cors: CorsOption, methods: string): Record<string, string> {
  const base = corsHeaders(req, cors);
  if (!('access-control-allow-origin' in base)) return { ...base, 'content-length': '0' };
  return {
    ...base,
    'access-control-allow-methods': methods,
    'access-control-allow-headers': CORS_ALLOW_HEADERS,
    'access-control-max-age': String(PREFLIGHT_MAX_AGE_S),
    'content-length': '0',
  };
}
