import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { PowgateError } from '../errors.js';
import { checkGate } from '../gate/check-gate.js';
import { DISCOVERY_PATH, discoveryLink } from '../gate/discovery.js';
import type { Channel } from '../gate/events.js';
import type { Gate } from '../gate/gate.js';
import { MemoryReplayStore } from '../storage/memory.js';
import { checkInteger, invalid } from '../validate.js';
import { channelClassifier } from './channel.js';
import { clientRateKey, requestClientAddress, TrustedProxies } from './client-address.js';
import { ClientSlots } from './client-slots.js';
import { checkCors, corsHeaders, isPreflight, preflightHeaders, type CorsOption } from './cors.js';
import { DEGRADED_HEADER, degradedHeader } from './degraded.js';
import { discoveryHandler } from './discovery.js';
import { readJsonBody, sendJson } from './json-body.js';
import { HttpMetrics } from './metrics.js';
import { READINESS_PATH, probeGate, readiness } from './readiness.js';
import { INVALID_TOKEN, RETRY_AFTER, TOKEN_VERIFY_ROUTE, type Context, type RouteHost } from './route-context.js';
import type { Handler, PowgateServiceOptions } from './service-options.js';
import { kindOf, metricsRoute, sendMetrics, sha256, statusBody } from './service-status.js';
import { challengeRoute, tokenVerifyRoute, verifyRoute } from './token-routes.js';

interface Route {
  methods: readonly string[];
  allow: string;
  /** Whether the route reads a JSON body (then `run` gets it, undefined for an empty one). */
  body: boolean;
  run: (this: PowgateService, ctx: Context, body: unknown) => Promise<void> | void;
}

/**
 * The token service over a {@link Gate}, as one request handler:
 * `POST /api/challenge`, `POST /api/verify`, `POST /api/token/verify`,
 * `GET /api/status`, `GET /healthz` (liveness), `GET /readyz` (readiness: 503 while the
 * store cannot answer), `GET /.well-known/l402.json` (discovery) and `GET /metrics`.
 * Every answer links the discovery document; CORS preflights get 204. Use `service.handle`
 * with node:http (`http.createServer(service.handle)`, or
 * {@link createPowgateServer} for one with timeouts set) or mount it in
 * Express (`app.use(service.handle)`: paths it does not serve go to `next`).
 */
export class PowgateService {
  readonly gate: Gate;
  readonly metrics: HttpMetrics;
  readonly trustProxy: TrustedProxies | undefined;
  readonly maxBodyBytes: number;
  readonly maxConcurrency: number;
  readonly maxPerClient: number;
  readonly bodyTimeoutMs: number;
  readonly startedAt = Date.now();
  readonly #logger: Logger | undefined;
  readonly #storeKind: string;
  readonly #routes: Map<string, Route>;
  #inFlight = 0;
  readonly #perClient: ClientSlots;
  /** SHA-256 of the metrics bearer, compared in constant time; undefined: no bearer asked. */
  readonly #metricsBearer: Buffer | undefined;
  readonly #cors: CorsOption;
  /** Every answer's Link header to the discovery document; none when it is not served. */
  readonly #link: Record<string, string>;
  readonly #discovery: ReturnType<typeof discoveryHandler> | undefined;
  readonly #readinessTimeoutMs: number;
  readonly #channel: (req: IncomingMessage) => Channel;
  readonly #host: RouteHost;

  constructor(gate: Gate, options: PowgateServiceOptions = {}) {
    checkGate(gate);
    if (typeof options !== 'object' || options === null) throw invalid('an options object', 'options', options);
    this.gate = gate;
    this.trustProxy = options.trustProxy === undefined ? undefined : TrustedProxies.from(options.trustProxy);
    this.maxBodyBytes = checkInteger(options.maxBodyBytes ?? 65_536, 'maxBodyBytes', 1, 1 << 30);
    this.maxConcurrency = checkInteger(options.maxConcurrency ?? 512, 'maxConcurrency', 1, 1_000_000);
    this.maxPerClient = checkInteger(options.maxPerClient ?? 64, 'maxPerClient', 1, 1_000_000);
    this.bodyTimeoutMs = checkInteger(options.bodyTimeoutMs ?? 5_000, 'bodyTimeoutMs', 1, 3_600_000);
    this.#perClient = new ClientSlots(this.maxPerClient);
    if (options.metrics !== undefined && !(options.metrics instanceof HttpMetrics)) throw invalid('an HttpMetrics', 'metrics', options.metrics);
    this.metrics = options.metrics ?? new HttpMetrics();
    this.metrics.watchInFlight(() => this.#inFlight);
    this.metrics.watch(gate);
    this.#channel = channelClassifier(options.channel);
    if (options.logger && typeof options.logger.info !== 'function') throw invalid('a pino logger', 'logger', options.logger);
    this.#logger = options.logger || undefined;
    this.#storeKind = options.storeKind ?? kindOf(gate.store, MemoryReplayStore, 'RedisReplayStore');
    const access = options.metricsAccess ?? 'off';
    if (access !== 'off' && access !== 'public' && !(typeof access?.bearer === 'string' && access.bearer.length >= 16)) {
      throw invalid("'off', 'public' or { bearer } with a bearer of at least 16 characters", 'metricsAccess', access);
    }
    this.#metricsBearer = typeof access === 'object' ? sha256(access.bearer) : undefined;
    this.#cors = checkCors(options.cors ?? '*');
    this.#readinessTimeoutMs = checkInteger(options.readinessTimeoutMs ?? 2_000, 'readinessTimeoutMs', 1, 60_000);
    const discovery = options.discovery ?? {};
    if (discovery !== false && (typeof discovery !== 'object' || discovery === null)) throw invalid('discovery options or false', 'discovery', discovery);
    this.#discovery =
      discovery === false
        ? undefined
        : discoveryHandler(gate, { ...discovery, cors: this.#cors, endpoints: { challenge: '/api/challenge', redeem: '/api/verify', tokenVerify: TOKEN_VERIFY_ROUTE } });
    this.#link = discovery === false ? {} : { link: discoveryLink(DISCOVERY_PATH) };
    const host: RouteHost = { gate, metrics: this.metrics, reply: (...args) => this.#reply(...args), done: (...args) => this.#done(...args) };
    this.#host = host;
    const post = (run: Route['run']): Route => ({ methods: ['POST'], allow: 'POST', body: true, run });
    const get = (run: Route['run']): Route => ({ methods: ['GET', 'HEAD'], allow: 'GET, HEAD', body: false, run });
    this.#routes = new Map([
      [TOKEN_VERIFY_ROUTE, post((ctx, body) => tokenVerifyRoute(host, ctx, body))],
      ['/api/challenge', post((ctx, body) => challengeRoute(host, ctx, body))],
      ['/api/verify', post((ctx, body) => verifyRoute(host, ctx, body))],
      ['/api/status', get(this.#status)],
      ['/healthz', get(this.#health)],
      [READINESS_PATH, get(this.#ready)],
    ]);
    if (this.#discovery) this.#routes.set(DISCOVERY_PATH, get(this.#discoveryDocument));
    if (access !== 'off')
      this.#routes.set(
        '/metrics',
        get((ctx) => metricsRoute(host, ctx, this.#metricsBearer)),
      );
  }

  /** The request handler: `(req, res, next?)`. Never throws; untrusted input never crashes the process. */
  readonly handle: Handler = (req, res, next) => {
    const started = performance.now();
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    const route = this.#routes.get(path);
    if (!route) {
      if (next) return next();
      return this.#reply(
        { req, res, route: 'unmatched', started, client: '', channel: this.#channel(req) },
        404,
        { error: 'not_found', detail: `no route ${req.method} ${path.slice(0, 200)}; see GET /api/status` },
        undefined,
        'not_found',
      );
    }
    const ctx: Context = { req, res, route: path, started, client: this.#client(req), channel: this.#channel(req) };
    if (isPreflight(req)) {
      res.writeHead(204, { ...preflightHeaders(req, this.#cors, route.allow), ...this.#link });
      res.end();
      return this.#done(ctx, 204, undefined);
    }
    if (!route.methods.includes(req.method!)) {
      return this.#reply(ctx, 405, { error: 'method_not_allowed', detail: `use ${route.allow} for ${path}` }, { allow: route.allow, connection: 'close' }, 'method_not_allowed');
    }
    // One client's requests, bodies being read included, are capped: its stalled bodies cannot crowd out others.
    if (!this.#perClient.take(ctx.client)) {
      return this.#reply(
        ctx,
        503,
        { error: 'overloaded', detail: 'too many requests from this client at once: retry shortly' },
        { ...RETRY_AFTER, connection: 'close' },
        'overloaded',
      );
    }
    res.once('close', () => this.#perClient.release(ctx.client));
    if (!route.body) return this.#serve(ctx, route, undefined);
    this.#body(ctx).then(
      (body) => body && this.#serve(ctx, route, body.value),
      (error: unknown) => this.#fail(ctx, error),
    );
  };

  /** Runs a route once its body is in: only then does the request take a slot. */
  #serve(ctx: Context, route: Route, body: unknown): void {
    if (this.#inFlight >= this.maxConcurrency) {
      return this.#reply(ctx, 503, { error: 'overloaded', detail: 'too many requests in flight: retry shortly' }, RETRY_AFTER, 'overloaded');
    }
    this.#inFlight++;
    ctx.res.once('close', () => this.#inFlight--);
    let pending;
    try {
      pending = route.run.call(this, ctx, body);
    } catch (error) {
      return this.#fail(ctx, error);
    }
    if (pending) pending.catch((error: unknown) => this.#fail(ctx, error));
  }

  /** Requests of `client` (a key: see clientRateKey) being read or served now. */
  clientRequests(client: string): number {
    return this.#perClient.held(client);
  }

  /**
   * A handler that serves only `GET /metrics` (whatever `metricsAccess` says), for a listener
   * of its own: e.g. `createServer(service.metricsHandler).listen(9464, '127.0.0.1')`.
   */
  readonly metricsHandler: Handler = (req, res, next) => {
    const url = req.url ?? '/';
    const path = url.split('?', 1)[0];
    if (path !== '/metrics') {
      if (next) return next();
      return sendJson(res, 404, { error: 'not_found', detail: 'only GET /metrics here' });
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { error: 'method_not_allowed', detail: 'use GET, HEAD for /metrics' }, { allow: 'GET, HEAD' });
    sendMetrics(this.#host, { req, res, route: '/metrics', started: performance.now(), client: '', channel: this.#channel(req) }).catch(() => res.destroy());
  };

  /** Requests being served now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Whether the store and the counter answer (memory ones always do), each within the readiness timeout. */
  health(): Promise<{ store: 'up' | 'down'; counter: 'up' | 'down' }> {
    return probeGate(this.gate, this.#readinessTimeoutMs);
  }

  // ---------------------------------------------------------------- routes

  #status(ctx: Context): void {
    const routes = [...this.#routes].map(([path, route]) => `${route.methods[0]} ${path}`);
    const facts = {
      storeKind: this.#storeKind,
      trustedProxies: this.trustProxy?.entries.length ?? 0,
      startedAt: this.startedAt,
      routes,
      discovery: this.#discovery ? DISCOVERY_PATH : null,
    };
    this.#reply(ctx, 200, statusBody(this.gate, facts));
  }

  async #health(ctx: Context): Promise<void> {
    const health = await this.health();
    // Liveness: the process answers (200) even when Redis does not; the store's state is in the body.
    this.#reply(ctx, 200, { status: 'ok', ...health, uptime_s: Math.round((Date.now() - this.startedAt) / 1000) });
  }

  /** Readiness: 503 while the store or the counter cannot answer (a load balancer then sends traffic elsewhere). */
  async #ready(ctx: Context): Promise<void> {
    const { status, body } = await readiness(this.gate, this.#readinessTimeoutMs);
    this.#reply(ctx, status, body, status === 503 ? RETRY_AFTER : undefined, status === 503 ? 'store_unavailable' : undefined);
  }

  #discoveryDocument(ctx: Context): void {
    this.#discovery!(ctx.req, ctx.res);
    this.#done(ctx, ctx.res.statusCode, undefined);
  }

  // ---------------------------------------------------------------- plumbing

  #client(req: IncomingMessage): string {
    return clientRateKey(requestClientAddress(req, this.trustProxy));
  }

  /** The JSON body, or undefined once a refusal has been sent. */
  async #body(ctx: Context): Promise<{ value: unknown } | undefined> {
    const body = await readJsonBody(ctx.req, this.maxBodyBytes, this.bodyTimeoutMs);
    if (body.ok) return body;
    // The token check answers every body it could read the same way: not valid, malformed.
    if (ctx.route === TOKEN_VERIFY_ROUTE && (body.status === 400 || body.status === 415)) {
      this.#reply(ctx, 200, INVALID_TOKEN, body.status === 415 ? { connection: 'close' } : undefined, 'malformed');
      return undefined;
    }
    if (body.status === 0) {
      // The client went away mid-body: nothing to answer.
      ctx.res.destroy();
      this.#log(ctx, 0, 'aborted');
      return undefined;
    }
    // An unread body must not be read on to find the next request: close after answering.
    const headers = body.status === 400 ? undefined : { connection: 'close' };
    if (body.status === 408) ctx.res.once('finish', () => ctx.req.socket.destroySoon());
    this.#reply(ctx, body.status, { error: body.error, detail: body.detail }, headers, body.error);
    return undefined;
  }

  #fail(ctx: Context, error: unknown): void {
    this.#logger?.error({ route: ctx.route, err: { type: (error as Error)?.name, code: (error as PowgateError)?.code } }, 'request failed');
    if (ctx.res.headersSent) {
      ctx.res.destroy();
      return;
    }
    this.#reply(ctx, 500, { error: 'internal', detail: 'the server failed to handle this request' }, undefined, 'internal');
  }

  #reply(ctx: Context, status: number, body: unknown, headers?: Record<string, string>, reason?: string): void {
    const degraded = degradedHeader(this.gate);
    sendJson(ctx.res, status, body, { ...this.#link, ...corsHeaders(ctx.req, this.#cors), ...headers, ...(degraded ? { [DEGRADED_HEADER]: degraded } : {}) });
    this.#done(ctx, status, reason);
  }

  #done(ctx: Context, status: number, reason: string | undefined): void {
    this.metrics.countRequest(ctx.route, ctx.req.method ?? '', status, ctx.channel, reason);
    this.#log(ctx, status, reason);
  }

  #log(ctx: Context, status: number, reason: string | undefined): void {
    const logger = this.#logger;
    if (!logger) return;
    // Token checks are the hot route (every gated call of every backend): a line each costs about
    // a quarter of its throughput, and /metrics counts them, so they are logged at debug.
    // A refused check (valid: false, answered 200) is a refusal: at info, as every other.
    const level = ctx.route === TOKEN_VERIFY_ROUTE && status === 200 && reason === undefined ? 'debug' : 'info';
    if (level === 'debug' && !logger.isLevelEnabled('debug')) return;
    // Only these fields: never the URL's query, a header, a body, a token or a challenge.
    logger[level]({ method: ctx.req.method, route: ctx.route, status, ms: Math.round((performance.now() - ctx.started) * 100) / 100, channel: ctx.channel, reason });
  }
}
