import type { IncomingHttpHeaders } from 'node:http';
import { looksLikeToken } from '../protocol/token.js';

/**
 * The token a request presents: `X-Powgate-Token: <token>`, or
 * `Authorization: Bearer pgt2...` (or `Authorization: PowGate <token>`). A Bearer
 * credential that is not a powgate token belongs to someone else (OAuth): it is
 * not read, and the request counts as presenting none. Undefined when there is none.
 */
export function presentedToken(headers: IncomingHttpHeaders): string | undefined {
  const own = headers['x-powgate-token'];
  const first = Array.isArray(own) ? own[0] : own;
  // An empty header is no token: it must not hide one in Authorization.
  if (first) return first;
  const auth = headers.authorization;
  if (auth === undefined) return undefined;
  const space = auth.indexOf(' ');
  if (space === -1) return undefined;
  const scheme = auth.slice(0, space).toLowerCase();
  const credential = auth.slice(space + 1).trim();
  if (scheme === 'powgate') return credential;
  if (scheme === 'bearer' && looksLikeToken(credential)) return credential;
  return undefined;
}
