import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Channel } from '../gate/events.js';
import type { Gate, Grant } from '../gate/gate.js';
import type { GateReason, PaymentRequired } from '../gate/envelope.js';
import { DISCOVERY_PATH, discoveryLink } from '../gate/discovery.js';
import { isScope } from '../protocol/shape.js';
import { l402Credential } from '../protocol/l402.js';
import { looksLikeToken } from '../protocol/token.js';
import { invalid } from '../validate.js';
import { clientRateKey, requestClientAddress, TrustedProxies } from './client-address.js';
import { checkCors, corsHeaders, isPreflight, preflightHeaders, type CorsOption } from './cors.js';
import { channelClassifier, type ChannelClassifier } from './channel.js';
import { DEGRADED_HEADER, degradedHeader } from './degraded.js';
import { sendJson } from './json-body.js';
import type { HttpMetrics } from './metrics.js';
import { pathOf } from './path.js';

/** Options of {@link powgateMiddleware} and {@link powgateFastifyHook}. */
export interface PowgateMiddlewareOptions {
  /** The door: the scope a token must carry to pass, and that refusals' challenges are for. Default ''. */
  scope?: string;
  /** This door's price per call, as a difficulty (bits per sub-puzzle); adaptive pricing adds to it. Default: the gate's. */
  difficulty?: number;
  /** This door's price per call through Lightning, in sats, when the gate has a Lightning door. Default: its `satsPerCall`. */
  sats?: number;
  /** The realm of the WWW-Authenticate challenge. Default 'powgate'. */
  realm?: string;
  /** Where a solution is redeemed for a token (a PowgateService's POST /api/verify). Default '/api/verify'. */
  redeemUrl?: string;
  /** Where a challenge for more calls is asked for (a PowgateService's POST /api/challenge). Default '/api/challenge'. */
  challengeUrl?: string;
  /** Trusted reverse proxies whose X-Forwarded-For is believed, for the client's address. Default: none. */
  trustProxy?: TrustedProxies | string | readonly string[];
  /** The key a client's rate is counted under. Default: its address (see {@link clientAddress}). */
  clientKey?: (req: IncomingMessage) => string;
  /**
   * What this gate guards, for the discovery document: `'GET /api/search'` or `{ method, path }`.
   * Default: nothing recorded (the door is listed without a path).
   */
  resource?: string | { method?: string; path: string };
  /** Where the discovery document is, linked from every refusal (`Link: <...>; rel="l402-manifest"`); false: no link. Default {@link DISCOVERY_PATH}. */
  discovery?: string | false;
  /**
   * Which browser origins may call (see {@link CorsOption}): refusals carry CORS headers that let
   * them read WWW-Authenticate and Link. A preflight (OPTIONS with Access-Control-Request-Method)
   * is answered 204, never 402, whatever this says. Default '*': tokens travel in headers, never cookies.
   */
  cors?: CorsOption;
  /** Refines the standard channel of each request (see {@link classifyChannel}). Default: the standard rules. */
  channel?: ChannelClassifier;
  /** A pino logger: a line per refusal at info (method, path without query, status, reason, scope, channel; never a token). Default: no logs. */
  logger?: Logger | false;
  /** Where refusals and the gate's funnel are counted (the gate is watched). Default: not counted. */
  metrics?: HttpMetrics;
  /** The `route` label of this gate's refusals in `metrics`. Default `gated:<scope>`. */
  route?: string;
}

/** What a request that passed the gate carries on `req.powgate`: the token's fields and its calls used, this one included. */
export type PowgateGrant = Grant;

/** A request that passed the gate. */
export interface PowgateRequest extends IncomingMessage {
  powgate?: PowgateGrant;
}

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

/** The response header that tells a client how many calls its token has left. */
export const REMAINING_HEADER = 'powgate-calls-remaining';

/** The calls a grant leaves, as the header's value ('' when the store did not count: failing open). */
function remaining(grant: PowgateGrant): string {
  return grant.used === undefined ? '' : String(grant.calls - grant.used);
}

/** A quoted-string for an HTTP auth parameter (scopes and realms are printable ASCII). */
function quoted(text: string): string {
  return `"${text.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/** What the refusal of a gated request is: status, headers and the JSON body. */
export interface GateRefusal {
  status: 402 | 503;
  headers: Record<string, string>;
  body: unknown;
}

/**
 * The transport-free decision of the HTTP gate, shared by the node:http/Express
 * middleware and the Fastify hook: the grant of a valid token, or the refusal
 * that shows the way through.
 */
export class HttpGate {
  readonly gate: Gate;
  readonly scope: string;
  readonly #realm: string;
  readonly #redeem: Record<string, unknown>;
  readonly #l402Redeem: Record<string, unknown>;
  readonly #trust: TrustedProxies | undefined;
  readonly #clientKey: ((req: IncomingMessage) => string) | undefined;
  readonly #link: string | undefined;
  /** Which browser origins may call. */
  readonly cors: CorsOption;
  readonly #channel: (req: IncomingMessage) => Channel;
  readonly #logger: Logger | undefined;
  readonly #metrics: HttpMetrics | undefined;
  readonly #route: string;

  constructor(gate: Gate, options: PowgateMiddlewareOptions = {}) {
    if (typeof gate?.refuse !== 'function') throw invalid('a Gate', 'gate', gate);
    if (typeof options !== 'object' || options === null) throw invalid('an options object', 'options', options);
    const { scope = '', difficulty, sats, realm = 'powgate', redeemUrl = '/api/verify', challengeUrl = '/api/challenge', trustProxy, clientKey, resource, discovery = DISCOVERY_PATH, cors = '*' } = options;
    if (!isScope(scope)) throw invalid('printable ASCII of at most 256 characters', 'scope', scope);
    if (!isScope(realm) || realm === '') throw invalid('printable ASCII of 1 to 256 characters', 'realm', realm);
    if (typeof redeemUrl !== 'string' || redeemUrl === '') throw invalid('a non-empty string', 'redeemUrl', redeemUrl);
    if (typeof challengeUrl !== 'string' || challengeUrl === '') throw invalid('a non-empty string', 'challengeUrl', challengeUrl);
    if (discovery !== false && (typeof discovery !== 'string' || !/^(\/|https?:\/\/)[^\s<>]*$/.test(discovery))) throw invalid('a path or URL, or false', 'discovery', discovery);
    this.cors = checkCors(cors);
    const guarded = resource === undefined ? undefined : parseResource(resource);
    gate.door(scope, difficulty, sats);
    if (guarded) gate.resource({ scope, ...guarded });
    this.#link = discovery === false ? undefined : discoveryLink(discovery);
    if (clientKey !== undefined && typeof clientKey !== 'function') throw invalid('a function', 'clientKey', clientKey);
    this.gate = gate;
    this.scope = scope;
    this.#realm = realm;
    this.#trust = trustProxy === undefined ? undefined : TrustedProxies.from(trustProxy);
    this.#clientKey = clientKey;
    this.#channel = channelClassifier(options.channel);
    if (options.logger && typeof options.logger.info !== 'function') throw invalid('a pino logger', 'logger', options.logger);
    this.#logger = options.logger || undefined;
    if (options.metrics !== undefined && typeof options.metrics?.countRequest !== 'function') throw invalid('an HttpMetrics', 'metrics', options.metrics);
    this.#metrics = options.metrics;
    this.#metrics?.watch(gate);
    this.#route = options.route ?? `gated:${scope}`;
    this.#redeem = Object.freeze({
      solve: 'find one nonce per sub-puzzle of the challenge (docs/PROTOCOL.md; `solve()` of the powgate package or `powgate solve` do it)',
      url: redeemUrl,
      method: 'POST',
      content_type: 'application/json',
      body: { challenge: '<the challenge above>', solution: '<{"v":1,"id":...,"nonces":[...]}>' },
      returns: { token: '<token>', scope, expires_at: '<ms since the epoch>', calls: '<calls it allows>' },
      present: { header: 'Authorization', value: 'Bearer <token>', or: { header: 'X-Powgate-Token', value: '<token>' } },
      each_call: 'spends one of the token\'s calls; the response says how many remain in Powgate-Calls-Remaining; when none remain, the refusal carries a new challenge',
      more_calls: { url: challengeUrl, method: 'POST', body: { scope, calls: '<N: N calls for N times the work>' } },
    });
    this.#l402Redeem = Object.freeze({
      pay: 'pay the invoice with any Lightning wallet: its preimage is the proof of payment',
      present: { header: 'Authorization', value: 'L402 <macaroon>:<preimage hex>' },
      each_call: 'spends one of the macaroon\'s calls, as for a token (Powgate-Calls-Remaining)',
      or_redeem: { url: redeemUrl, method: 'POST', content_type: 'application/json', body: { method: 'l402', macaroon: '<macaroon>', preimage: '<preimage hex>' }, returns: 'a token with the same calls, counted together' },
    });
  }

  /** The grant of a request's valid token or L402 credential, one of its calls spent, or the refusal to send. Never throws for anything a client sends. */
  async check(req: IncomingMessage): Promise<{ ok: true; grant: PowgateGrant } | { ok: false; refusal: GateRefusal }> {
    const started = performance.now();
    const channel = this.#channel(req);
    const token = presentedToken(req.headers);
    const l402 = token === undefined && req.headers.authorization !== undefined ? l402Credential(req.headers.authorization) : undefined;
    let reason: GateReason = 'token_required';
    if (token !== undefined || l402 !== undefined) {
      const options = { scope: this.scope, channel };
      const used = l402 === undefined ? await this.gate.useToken(token, options) : await this.gate.useL402(l402, options);
      if (used.ok) return { ok: true, grant: used.grant };
      reason = used.reason;
    }
    const client = String(this.#clientKey ? this.#clientKey(req) : clientRateKey(requestClientAddress(req, this.#trust)));
    const refused = await this.gate.refuse(reason, client, { scope: this.scope, redeem: this.#redeem, l402Redeem: this.#l402Redeem, channel });
    const headers: Record<string, string> =
      refused.status === 402 ? { 'www-authenticate': this.#challenges(reason, refused.body.accepts) } : { 'retry-after': '1' };
    if (this.#link) headers.link = this.#link;
    Object.assign(headers, corsHeaders(req, this.cors));
    const degraded = degradedHeader(this.gate);
    if (degraded) headers[DEGRADED_HEADER] = degraded;
    this.#metrics?.countRequest(this.#route, req.method ?? '', refused.status, channel, reason);
    // Only these fields: never the query, a header, a token or a challenge.
    this.#logger?.info({ method: req.method, path: pathOf(req.url), status: refused.status, reason, scope: this.scope, channel, ms: Math.round((performance.now() - started) * 100) / 100 }, 'refused');
    return { ok: false, refusal: { status: refused.status, headers, body: refused.body } };
  }

  /** The 204 answer to a CORS preflight, or undefined when `req` is not one (then check it). */
  preflight(req: IncomingMessage): Record<string, string> | undefined {
    if (!isPreflight(req)) return undefined;
    const asked = String(req.headers['access-control-request-method']).toUpperCase();
    return preflightHeaders(req, this.cors, /^[A-Z]{1,16}$/.test(asked) ? asked : 'GET');
  }

  /**
   * Every door as an RFC 7235 challenge in one header: PowGate first, then Aperture's
   * PoW dialect, then Lightning L402 last, because common L402 clients read the last
   * `macaroon=` of the header and Aperture's PoW client the first one followed by `pow=`.
   */
  #challenges(reason: GateReason, accepts: PaymentRequired['accepts']): string {
    const challenges = [`PowGate realm=${quoted(this.#realm)}, scope=${quoted(this.scope)}, error=${quoted(reason)}`];
    for (const a of accepts) if (a.method === 'l402-pow') challenges.push(`L402 macaroon=${quoted(a.macaroon)}, pow=${quoted(String(a.pow))}`);
    for (const a of accepts) if (a.method === 'l402') challenges.push(`L402 macaroon=${quoted(a.macaroon)}, invoice=${quoted(a.invoice)}`);
    return challenges.join(', ');
  }
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

/** `'GET /path'` or `{ method?, path }` as a method (default GET) and a path. */
function parseResource(resource: unknown): { method: string; path: string } {
  const text = typeof resource === 'string' ? resource.trim() : undefined;
  const [method, path] = text === undefined ? [(resource as { method?: unknown })?.method ?? 'GET', (resource as { path?: unknown })?.path] : text.includes(' ') ? text.split(/\s+/, 2) : ['GET', text];
  if (typeof method !== 'string' || !/^[A-Za-z]{1,16}$/.test(method) || typeof path !== 'string' || !/^\/[^\s]{0,1024}$/.test(path)) {
    throw invalid("'METHOD /path' or { method, path }", 'resource', resource);
  }
  return { method: method.toUpperCase(), path };
}

/** The parts of a Fastify request and reply the hook uses (Fastify itself is not imported). */
interface FastifyLikeRequest {
  raw: IncomingMessage;
}
interface FastifyLikeReply {
  code(status: number): FastifyLikeReply;
  header(name: string, value: string): FastifyLikeReply;
  headers(values: Record<string, string>): FastifyLikeReply;
  send(payload: unknown): FastifyLikeReply;
}

/**
 * The same gate as an `onRequest` hook for Fastify: `app.addHook('onRequest',
 * powgateFastifyHook(gate, { scope }))`. A passing request gets `request.raw.powgate`
 * (and `request.powgate`).
 */
export function powgateFastifyHook(gate: Gate, options: PowgateMiddlewareOptions = {}) {
  const http = new HttpGate(gate, options);
  return async function powgate(request: FastifyLikeRequest, reply: FastifyLikeReply): Promise<void> {
    const preflight = http.preflight(request.raw);
    if (preflight) {
      reply.code(204).headers(preflight).send('');
      return reply as never;
    }
    const result = await http.check(request.raw);
    if (result.ok) {
      (request.raw as PowgateRequest).powgate = result.grant;
      (request as { powgate?: PowgateGrant }).powgate = result.grant;
      reply.header(REMAINING_HEADER, remaining(result.grant));
      const degraded = degradedHeader(gate);
      if (degraded) reply.header(DEGRADED_HEADER, degraded);
      return;
    }
    reply.code(result.refusal.status).headers({ ...result.refusal.headers, 'cache-control': 'no-store' }).send(result.refusal.body);
    return reply as never;
  };
}
