// The gate for Fastify, as a plugin (and the older bare hook). Fastify itself is never
// imported: these are the parts of it the plugin uses.
import type { IncomingMessage } from 'node:http';
import type { Gate } from '../gate/gate.js';
import { invalid } from '../validate.js';
import { DEGRADED_HEADER, degradedHeader } from './degraded.js';
import { HttpGate, type PowgateMiddlewareOptions } from './http-gate.js';
import { REMAINING_HEADER, remaining, type PowgateRequest } from './middleware.js';
import type { PowgateGrant } from './request-types.js';

interface FastifyLikeRequest {
  raw: IncomingMessage;
}
interface FastifyLikeReply {
  code(status: number): FastifyLikeReply;
  header(name: string, value: string): FastifyLikeReply;
  headers(values: Record<string, string>): FastifyLikeReply;
  send(payload: unknown): FastifyLikeReply;
}
type OnRequest = (request: FastifyLikeRequest, reply: FastifyLikeReply) => Promise<void>;
interface FastifyLikeInstance {
  hasRequestDecorator(name: string): boolean;
  decorateRequest(name: string, value: null): unknown;
  addHook(name: 'onRequest', hook: OnRequest): unknown;
}

/** Options of {@link powgateFastify}: the gate, and those of {@link powgateMiddleware}. */
export interface PowgateFastifyOptions extends PowgateMiddlewareOptions {
  gate: Gate;
}

function onRequest(gate: Gate, options: PowgateMiddlewareOptions): OnRequest {
  const http = new HttpGate(gate, options);
  return async function powgate(request, reply) {
    const preflight = http.preflight(request.raw);
    if (preflight) {
      reply.code(204).headers(preflight).send('');
      return reply as never;
    }
    const result = await http.check(request.raw);
    if (result.ok) {
      (request.raw as PowgateRequest).powgate = result.grant;
      (request as { powgate?: PowgateGrant | null }).powgate = result.grant;
      reply.header(REMAINING_HEADER, remaining(result.grant));
      const degraded = degradedHeader(gate);
      if (degraded) reply.header(DEGRADED_HEADER, degraded);
      return;
    }
    reply
      .code(result.refusal.status)
      .headers({ ...result.refusal.headers, 'cache-control': 'no-store' })
      .send(result.refusal.body);
    return reply as never;
  };
}

function powgatePlugin(instance: FastifyLikeInstance, options: PowgateFastifyOptions, done: (error?: Error) => void): void {
  try {
    if (typeof options !== 'object' || options === null) throw invalid('an options object with a gate', 'options', options);
    const { gate, ...rest } = options;
    const hook = onRequest(gate, rest);
    if (!instance.hasRequestDecorator('powgate')) instance.decorateRequest('powgate', null);
    instance.addHook('onRequest', hook);
    done();
  } catch (error) {
    done(error as Error);
  }
}

/**
 * The gate as a Fastify plugin: `app.register(powgateFastify, { gate, scope: 'search' })`.
 * It guards the routes of the context it is registered in (as fastify-plugin would, it does
 * not open a context of its own): a request with a valid token goes on with `request.powgate`
 * set (and `request.raw.powgate`); any other gets the refusal {@link powgateMiddleware} sends.
 * `request.powgate` is declared on every request, null until the gate passes it.
 */
export const powgateFastify: typeof powgatePlugin & { readonly [key: symbol]: unknown } = Object.assign(powgatePlugin, {
  // What fastify-plugin sets: no context of its own, and the plugin's name in Fastify's tree and errors.
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'powgate',
  [Symbol.for('plugin-meta')]: { name: 'powgate' },
});

/**
 * The same gate as a bare `onRequest` hook: `app.addHook('onRequest', powgateFastifyHook(gate,
 * { scope }))`. A passing request gets `request.raw.powgate` (and `request.powgate`).
 * @deprecated Register {@link powgateFastify} instead: it declares `request.powgate`.
 */
export function powgateFastifyHook(gate: Gate, options: PowgateMiddlewareOptions = {}): OnRequest {
  return onRequest(gate, options);
}
