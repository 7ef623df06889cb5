import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Gate } from '../gate/gate.js';
import { DEGRADED_HEADER, degradedHeader } from './degraded.js';
import { HttpGate, type PowgateMiddlewareOptions } from './http-gate.js';
import { sendJson } from './json-body.js';
import type { PowgateGrant } from './request-types.js';

/** A request that passed the gate. */
export interface PowgateRequest extends IncomingMessage {
  powgate?: PowgateGrant;
}

/** The response header that tells a client how many calls its token has left. */
export const REMAINING_HEADER = 'powgate-calls-remaining';

/** The calls a grant leaves, as the header's value ('' when the store did not count: failing open). */
export function remaining(grant: PowgateGrant): string {
  return grant.used === undefined ? '' : String(grant.calls - grant.used);
}

/**
 * A 402 gate for node:http and Express (`(req, res, next)`): a request with a
 * valid token for `scope` goes on to `next()` with `req.powgate` set; any other
 * gets `402 Payment Required`, a `WWW-Authenticate: PowGate ...` header and the
 * refusal body `{ error: 'payment_required', cause, accepts: [{ method: 'pow',
 * challenge, redeem }] }`, or 503 `store_unavailable` when the gate fails closed.
 * The body, the Accept header and the method are never looked at: probes with
 * an empty body, no credentials or a wrong Accept get the same refusal.
 *
 * ```js
 * app.use('/api/search', powgateMiddleware(gate, { scope: 'search' }));
 * ```
 */
export function powgateMiddleware(gate: Gate, options: PowgateMiddlewareOptions = {}) {
  const http = new HttpGate(gate, options);
  return function powgate(req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): void {
    // A preflight carries no credential by design: it is answered, never refused with a 402.
    const preflight = http.preflight(req);
    if (preflight) {
      res.writeHead(204, preflight);
      return void res.end();
    }
    http.check(req).then(
      (result) => {
        if (result.ok) {
          (req as PowgateRequest).powgate = result.grant;
          if (!res.headersSent) {
            res.setHeader(REMAINING_HEADER, remaining(result.grant));
            const degraded = degradedHeader(gate);
            if (degraded) res.setHeader(DEGRADED_HEADER, degraded);
          }
          next();
        } else if (!res.headersSent) {
          sendJson(res, result.refusal.status, result.refusal.body, result.refusal.headers);
        }
      },
      (error: unknown) => next(error),
    );
  };
}
