import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { ChannelClassifier } from './channel.js';
import type { TrustedProxies } from './client-address.js';
import type { CorsOption } from './cors.js';
import type { DiscoveryHandlerOptions } from './discovery.js';
import type { HttpMetrics } from './metrics.js';

/** `(req, res, next)`: node:http, Express and Connect share this shape. */
export type Handler = (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void) => void;

/** Options of {@link PowgateService}. */
export interface PowgateServiceOptions {
  /** Trusted reverse proxies whose X-Forwarded-For is believed (see {@link TrustedProxies}). Default: none. */
  trustProxy?: TrustedProxies | string | readonly string[];
  /** Largest request body, in bytes. Default 65,536. */
  maxBodyBytes?: number;
  /**
   * Most requests served at once, counted once their body has arrived (a slow body holds
   * no slot that others need); beyond it, 503 with Retry-After. Default 512.
   */
  maxConcurrency?: number;
  /**
   * Most requests of one client (its address, through trusted proxies; an IPv6 client: its
   * /64) at once, bodies being read included; beyond it, 503 with Retry-After. Default 64.
   */
  maxPerClient?: number;
  /** Longest wait for a request's body once its headers are in; then 408 and the connection is closed. Default 5,000 ms. */
  bodyTimeoutMs?: number;
  /**
   * Refines the standard channel of each request (see {@link classifyChannel}): gets the request
   * and the standard verdict, returns the channel. Default: the standard rules.
   */
  channel?: ChannelClassifier;
  /** A pino logger: a line per request at info, token checks that pass at debug (never a secret, token, challenge or header). Default: no logs. */
  logger?: Logger | false;
  /** Where metrics are counted. Default: a new {@link HttpMetrics} (own Registry, default process metrics). */
  metrics?: HttpMetrics;
  /** What the store and counter are, for /api/status. Default: worked out from their classes. */
  storeKind?: string;
  /**
   * Who may read `GET /metrics` on this handler: `'off'` (not served here: serve
   * {@link PowgateService.metricsHandler} on a listener of its own), `'public'`, or
   * `{ bearer }`: only with `Authorization: Bearer <bearer>` (at least 16 characters).
   * Default `'off'`: metrics tell an attacker how the gate is doing, and cost a collection.
   */
  metricsAccess?: 'off' | 'public' | { bearer: string };
  /**
   * The discovery document at `GET /.well-known/l402.json` (linked from every answer), with
   * these options (resources, reference hardware, cache lifetime), or false: not served.
   * Default: served, with this service's endpoints and the gate's recorded resources.
   */
  discovery?: Omit<DiscoveryHandlerOptions, 'path' | 'endpoints' | 'cors'> | false;
  /** Which browser origins may call (see {@link CorsOption}); preflights get 204. Default '*'. */
  cors?: CorsOption;
  /** Longest wait for the store and counter in `GET /readyz`, in ms. Default 2,000. */
  readinessTimeoutMs?: number;
}
