import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { PowgateError } from '../errors.js';
import { reasonDetail } from '../gate/envelope.js';
import type { Gate } from '../gate/gate.js';
import { MemoryRateCounter } from '../storage/rate-counter.js';
import { packageInfo } from '../package-info.js';
import type { Refusal } from '../protocol/refusal.js';
import { MemoryReplayStore } from '../storage/memory.js';
import { isScope, plainKeys } from '../protocol/shape.js';
import { checkInteger, invalid } from '../validate.js';
import { clientRateKey, requestClientAddress, TrustedProxies } from './client-address.js';
import { readJsonBody, sendJson } from './json-body.js';
import { ClientSlots } from './client-slots.js';
import { hardenServer, type HardenServerOptions } from './harden-server.js';
import { HttpMetrics } from './metrics.js';
import { l402Credential } from '../protocol/l402.js';
import { DISCOVERY_PATH, discoveryLink } from '../gate/discovery.js';
import { checkCors, corsHeaders, isPreflight, preflightHeaders, type CorsOption } from './cors.js';
import { discoveryHandler, type DiscoveryHandlerOptions } from './discovery.js';
import { READINESS_PATH, probeGate, readiness } from './readiness.js';
import type { Channel } from '../gate/events.js';
import { channelClassifier, type ChannelClassifier } from './channel.js';
import { DEGRADED_HEADER, degradedHeader } from './degraded.js';

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

/**
 * The HTTP status of a refused solution (POST /api/verify):
 * the request was not the protocol's shape → 400; the proof does not buy a token
 * (forged, expired, wrong scope, unsolved, ...) → 403; already redeemed → 409;
 * the gate cannot record the spend (Redis down, memory store full) → 503.
 */
export const VERIFY_STATUS: Readonly<Record<Refusal, number>> = Object.freeze({
  malformed: 400,
  unknown_key: 403,
  bad_signature: 403,
  expired: 403,
  not_yet_valid: 403,
  scope_mismatch: 403,
  difficulty_out_of_range: 403,
  bad_solution: 403,
  bad_preimage: 403,
  replayed: 409,
  predates_store: 403,
  unsupported_version: 400,
  token_exhausted: 403,
  price_too_low: 403,
  store_full: 503,
  store_unavailable: 503,
});

// A redemption is never refused for a token's reasons (token_exhausted, price_too_low).
const VERIFY_DETAIL: Readonly<Partial<Record<Refusal, string>>> = {
  malformed: 'expected {"challenge": <challenge>, "solution": {"v": 1, "id", "nonces": [...]}} in the protocol\'s exact shape',
  unknown_key: 'the challenge was signed with a key this server does not hold (rotated out?): ask for a new challenge',
  bad_signature: 'the challenge signature does not match: tampered with, or from another server',
  expired: 'the challenge has expired: ask for a new one and solve it within its lifetime',
  not_yet_valid: 'the challenge is not valid yet: check the clock',
  scope_mismatch: 'the challenge is for another scope',
  difficulty_out_of_range: 'the challenge difficulty is outside what this server accepts',
  bad_solution: 'the nonces do not solve this challenge',
  replayed: 'this challenge was already redeemed: ask for a new one',
  predates_store: 'the challenge was issued before the replay store restarted: ask for a new one',
  unsupported_version: 'the challenge is of an older protocol version: ask for a new one',
  store_full: 'the replay store no longer remembers challenges this old (a flood filled it): ask for a new one',
  store_unavailable: 'the gate cannot reach its store: try again later',
};

interface Route {
  methods: readonly string[];
  allow: string;
  /** Whether the route reads a JSON body (then `run` gets it, undefined for an empty one). */
  body: boolean;
  run: (this: PowgateService, ctx: Context, body: unknown) => Promise<void> | void;
}

/** One request in flight. */
interface Context {
  req: IncomingMessage;
  res: ServerResponse;
  route: string;
  started: number;
  /** The client's key (see clientRateKey). */
  client: string;
  channel: Channel;
}

const RETRY_AFTER = { 'retry-after': '1' };

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

  constructor(gate: Gate, options: PowgateServiceOptions = {}) {
    if (typeof gate?.redeem !== 'function') throw invalid('a Gate', 'gate', gate);
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
    const post = (run: Route['run']): Route => ({ methods: ['POST'], allow: 'POST', body: true, run });
    const get = (run: Route['run']): Route => ({ methods: ['GET', 'HEAD'], allow: 'GET, HEAD', body: false, run });
    this.#routes = new Map([
      [TOKEN_VERIFY_ROUTE, post(this.#tokenVerify)],
      ['/api/challenge', post(this.#challenge)],
      ['/api/verify', post(this.#verify)],
      ['/api/status', get(this.#status)],
      ['/healthz', get(this.#health)],
      [READINESS_PATH, get(this.#ready)],
    ]);
    if (this.#discovery) this.#routes.set(DISCOVERY_PATH, get(this.#discoveryDocument));
    if (access !== 'off') this.#routes.set('/metrics', get(this.#metricsText));
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
      return this.#reply({ req, res, route: 'unmatched', started, client: '', channel: this.#channel(req) }, 404, { error: 'not_found', detail: `no route ${req.method} ${path.slice(0, 200)}; see GET /api/status` }, undefined, 'not_found');
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
      return this.#reply(ctx, 503, { error: 'overloaded', detail: 'too many requests from this client at once: retry shortly' }, { ...RETRY_AFTER, connection: 'close' }, 'overloaded');
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
    this.#sendMetrics({ req, res, route: '/metrics', started: performance.now(), client: '', channel: this.#channel(req) }).catch(() => res.destroy());
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

  async #challenge(ctx: Context, body: unknown): Promise<void> {
    const fields = body === undefined ? {} : objectWith(body, [], ['scope', 'difficulty', 'calls']);
    if (typeof fields === 'string') return this.#malformed(ctx, fields);
    const { scope, difficulty, calls } = fields as { scope?: unknown; difficulty?: unknown; calls?: unknown };
    if (scope !== undefined && !isScope(scope)) return this.#malformed(ctx, 'scope must be printable ASCII of at most 256 characters');
    if (difficulty !== undefined && (typeof difficulty !== 'number' || !Number.isFinite(difficulty))) return this.#malformed(ctx, 'difficulty must be a number');
    const client = ctx.client;
    const issued = await this.gate.challenge(client, {
      scope: scope as string | undefined,
      difficulty: difficulty as number | undefined,
      calls: calls as number | undefined,
      channel: ctx.channel,
    });
    if (issued.ok) {
      // With a Lightning door, the same calls can be bought with sats instead.
      const paid = await this.gate.lightningOffer(client, { scope: issued.challenge.scope, calls: issued.challenge.calls, channel: ctx.channel });
      const l402 = paid?.ok ? { l402: paid.offer } : paid ? { l402_unavailable: { reason: paid.reason, detail: reasonDetail(paid.reason) } } : {};
      return this.#reply(ctx, 200, { challenge: issued.challenge, ...l402 });
    }
    if (issued.reason === 'store_unavailable') {
      return this.#reply(ctx, 503, { error: issued.reason, detail: issued.detail }, RETRY_AFTER, issued.reason);
    }
    const { min, max } = this.gate.difficulty;
    const bounds = issued.reason === 'unknown_scope' ? { scopes: this.gate.doors().map((door) => door.scope) } : { min, max, max_calls: this.gate.maxCalls };
    return this.#reply(ctx, 400, { error: issued.reason, detail: issued.detail, ...bounds }, undefined, issued.reason);
  }

  async #verify(ctx: Context, body: unknown): Promise<void> {
    const l402 = typeof body === 'object' && body !== null && (body as { method?: unknown }).method === 'l402';
    const fields = l402 ? objectWith(body, ['method', 'macaroon', 'preimage'], []) : objectWith(body, ['challenge', 'solution'], []);
    if (typeof fields === 'string') return this.#malformed(ctx, fields);
    const { challenge, solution, macaroon, preimage } = fields as Record<string, unknown>;
    if (l402 && (typeof macaroon !== 'string' || typeof preimage !== 'string')) return this.#malformed(ctx, 'macaroon and preimage must be strings');
    const started = performance.now();
    const result = l402 ? this.gate.redeemL402(`${macaroon}:${preimage}`, { channel: ctx.channel }) : await this.gate.redeem(challenge, solution, { channel: ctx.channel });
    this.metrics.verifySeconds.observe({ outcome: result.ok ? 'accepted' : 'refused' }, (performance.now() - started) / 1000);
    if (!result.ok) {
      const status = VERIFY_STATUS[result.reason] ?? 403;
      const detail = (l402 ? reasonDetail(result.reason) : VERIFY_DETAIL[result.reason]) ?? result.reason;
      return this.#reply(ctx, status, { error: result.reason, detail }, status === 503 ? RETRY_AFTER : undefined, result.reason);
    }
    const elapsedMs = (solution as { elapsedMs?: unknown } | undefined)?.elapsedMs;
    if (typeof elapsedMs === 'number' && elapsedMs >= 0 && elapsedMs <= 86_400_000) this.metrics.solveSeconds.observe(elapsedMs / 1000);
    return this.#reply(ctx, 200, { token: result.token, scope: result.scope, expires_at: result.expiresAt, calls: result.calls, price: result.price });
  }

  async #tokenVerify(ctx: Context, body: unknown): Promise<void> {
    // One answer shape for every input: a body without a token is a bad token like any other.
    const fields = objectWith(body, ['token'], TOKEN_VERIFY_OPTIONAL);
    if (typeof fields === 'string') return this.#reply(ctx, 200, INVALID_TOKEN, undefined, 'malformed');
    const { token, scope, any_scope: anyScope, check_only: checkOnly } = fields as Record<string, unknown>;
    const badOption = (scope !== undefined && !isScope(scope)) || (anyScope !== undefined && typeof anyScope !== 'boolean') || (checkOnly !== undefined && typeof checkOnly !== 'boolean');
    if (badOption) return this.#reply(ctx, 200, INVALID_TOKEN, undefined, 'malformed');
    const options = { scope: scope as string | undefined, anyScope: anyScope === true, spend: checkOnly !== true, channel: ctx.channel };
    // An L402 credential is a token too: `L402 <macaroon>:<preimage>`, as in an Authorization header.
    const l402 = typeof token === 'string' ? l402Credential(token) : undefined;
    const used = l402 === undefined ? await this.gate.useToken(token, options) : await this.gate.useL402(l402, options);
    if (!used.ok) {
      if (used.reason === 'store_unavailable' || used.reason === 'store_full') {
        return this.#reply(ctx, 503, { valid: false, reason: used.reason }, RETRY_AFTER, used.reason);
      }
      return this.#reply(ctx, 200, { valid: false, reason: used.reason }, undefined, used.reason);
    }
    const g = used.grant;
    return this.#reply(ctx, 200, {
      valid: true,
      method: g.method,
      issued_at: g.issuedAt,
      expires_at: g.expiresAt,
      scope: g.scope,
      calls: g.calls,
      price: g.price,
      ...(g.used === undefined ? {} : { used: g.used, remaining: g.calls - g.used }),
    });
  }

  #status(ctx: Context): void {
    const gate = this.gate.status();
    this.#reply(ctx, 200, {
      service: 'powgate',
      version: packageInfo().version,
      backend: gate.backend,
      isa: gate.isa,
      store: this.#storeKind,
      counter: kindOf(this.gate.counter, MemoryRateCounter, 'RedisRateCounter'),
      difficulty: gate.difficulty,
      doors: gate.doors,
      sub_puzzles: gate.subPuzzles,
      calls: gate.calls,
      max_calls: gate.maxCalls,
      challenge_ttl_ms: gate.challengeTtlMs,
      token_ttl_ms: gate.tokenTtlMs,
      fail_open: gate.failOpen,
      replay_protection: gate.replayProtection,
      degraded: this.gate.degraded(),
      lightning: gate.lightning && { backend: gate.lightning.backend, sats_per_call: gate.lightning.satsPerCall, down: gate.lightning.down },
      aperture_pow: gate.aperturePow,
      trusted_proxies: this.trustProxy?.entries.length ?? 0,
      uptime_s: Math.round((Date.now() - this.startedAt) / 1000),
      routes: [...this.#routes].map(([path, route]) => `${route.methods[0]} ${path}`),
      discovery: this.#discovery ? DISCOVERY_PATH : null,
    });
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

  async #metricsText(ctx: Context): Promise<void> {
    const bearer = this.#metricsBearer;
    if (bearer && !bearerMatches(ctx.req.headers.authorization, bearer)) {
      return this.#reply(ctx, 401, { error: 'unauthorized', detail: 'metrics need Authorization: Bearer <token>' }, { 'www-authenticate': 'Bearer realm="metrics"' }, 'unauthorized');
    }
    return this.#sendMetrics(ctx);
  }

  async #sendMetrics(ctx: Context): Promise<void> {
    const text = await this.metrics.text();
    const degraded = degradedHeader(this.gate);
    ctx.res.writeHead(200, { 'content-type': this.metrics.contentType, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...(degraded ? { [DEGRADED_HEADER]: degraded } : {}) });
    ctx.res.end(text);
    this.#done(ctx, 200, undefined);
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

  #malformed(ctx: Context, detail: string): void {
    this.#reply(ctx, 400, { error: 'malformed', detail }, undefined, 'malformed');
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

/** The fields of a JSON object body with exactly these keys, or a detail saying what is wrong. */
function objectWith(value: unknown, required: readonly string[], optional: readonly string[]): Record<string, unknown> | string {
  // Messages are built only on failure: this runs for every request of the hot route.
  const expected = () => [...required.map((k) => `"${k}"`), ...optional.map((k) => `"${k}" (optional)`)].join(', ');
  const keys = plainKeys(value);
  if (!keys) return `expected a JSON object with ${expected()}`;
  for (const key of keys) if (!required.includes(key) && !optional.includes(key)) return `unexpected field "${key.slice(0, 64)}": expected ${expected()}`;
  for (const key of required) if (!keys.includes(key)) return `missing field "${key}": expected ${expected()}`;
  return value as Record<string, unknown>;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Whether `Authorization` carries the bearer whose SHA-256 is `expected` (constant time: hashes of equal length). */
function bearerMatches(header: string | undefined, expected: Buffer): boolean {
  if (typeof header !== 'string' || !/^bearer /i.test(header)) return false;
  return timingSafeEqual(sha256(header.slice(7).trim()), expected);
}

function kindOf(value: object, memory: abstract new (...args: never[]) => unknown, redis: string): string {
  if (value instanceof memory) return 'memory';
  const name = value.constructor?.name;
  return name === redis ? 'redis' : name || 'custom';
}

/** Timeouts and per-peer cap of {@link createPowgateServer}: see {@link hardenServer}. */
export type ServerTimeouts = HardenServerOptions;

/** What POST /api/token/verify takes besides the token: the door, or any door; only check, not spend. */
const TOKEN_VERIFY_OPTIONAL = ['scope', 'any_scope', 'check_only'];

/** The token check's answer to anything that is not a token in the route's shape. */
const INVALID_TOKEN = Object.freeze({ valid: false, reason: 'malformed' });

/** The hot route: answers of 200 are logged at debug (see #log). */
const TOKEN_VERIFY_ROUTE = '/api/token/verify';

/** How long a refused client (timeout, garbage) may take to read its answer before its socket is destroyed. */
const CLIENT_ERROR_LINGER_MS = 1_000;

/**
 * A node:http server for `service`, hardened by {@link hardenServer} (header, request and
 * keep-alive timeouts; connections per peer capped, the service's trusted proxies exempt).
 * Not yet listening.
 */
export function createPowgateServer(service: PowgateService, timeouts: ServerTimeouts = {}): Server {
  if (!(service instanceof PowgateService)) throw invalid('a PowgateService', 'service', service);
  if (typeof timeouts !== 'object' || timeouts === null) throw invalid('an options object', 'timeouts', timeouts);
  const headersTimeout = checkInteger(timeouts.headersTimeoutMs ?? 10_000, 'headersTimeoutMs', 1, 3_600_000);
  // Timeouts are enforced at each check of the connections: check often enough for them to mean something.
  const server = createServer({ connectionsCheckingInterval: Math.min(1000, headersTimeout) }, service.handle);
  hardenServer(server, { trustProxy: service.trustProxy, ...timeouts });
  // A client that sends garbage gets 400 and is disconnected; it never reaches the handler or crashes the process.
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent) {
      socket.destroy();
      return;
    }
    const status = error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : error.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    // end() waits for the client to close its side: one that never does (never reads) would
    // hold the socket, and a request's concurrency slot, for ever. Give it a moment, then cut.
    setTimeout(() => socket.destroy(), CLIENT_ERROR_LINGER_MS).unref();
  });
  return server;
}
