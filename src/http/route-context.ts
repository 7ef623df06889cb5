// What the token service's routes share: the request in flight, and how to answer it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Channel } from '../gate/events.js';
import type { Gate } from '../gate/gate.js';
import { plainKeys } from '../protocol/shape.js';
import type { HttpMetrics } from './metrics.js';

/** One request in flight. */
export interface Context {
  req: IncomingMessage;
  res: ServerResponse;
  route: string;
  started: number;
  /** The client's key (see clientRateKey). */
  client: string;
  channel: Channel;
}

/** What a route answers through: the service's gate, metrics and replies (with its Link, CORS and degraded headers). */
export interface RouteHost {
  readonly gate: Gate;
  readonly metrics: HttpMetrics;
  reply(ctx: Context, status: number, body: unknown, headers?: Record<string, string>, reason?: string): void;
  /** Counts and logs an answer already sent. */
  done(ctx: Context, status: number, reason: string | undefined): void;
}

export const RETRY_AFTER = Object.freeze({ 'retry-after': '1' });

/** The hot route: answers of 200 are logged at debug. */
export const TOKEN_VERIFY_ROUTE = '/api/token/verify';

/** The token check's answer to anything that is not a token in the route's shape. */
export const INVALID_TOKEN = Object.freeze({ valid: false, reason: 'malformed' });

export function malformed(host: RouteHost, ctx: Context, detail: string): void {
  host.reply(ctx, 400, { error: 'malformed', detail }, undefined, 'malformed');
}

/** The fields of a JSON object body with exactly these keys, or a detail saying what is wrong. */
export function objectWith(value: unknown, required: readonly string[], optional: readonly string[]): Record<string, unknown> | string {
  // Messages are built only on failure: this runs for every request of the hot route.
  const expected = () => [...required.map((k) => `"${k}"`), ...optional.map((k) => `"${k}" (optional)`)].join(', ');
  const keys = plainKeys(value);
  if (!keys) return `expected a JSON object with ${expected()}`;
  for (const key of keys) if (!required.includes(key) && !optional.includes(key)) return `unexpected field "${key.slice(0, 64)}": expected ${expected()}`;
  for (const key of required) if (!keys.includes(key)) return `missing field "${key}": expected ${expected()}`;
  return value as Record<string, unknown>;
}
