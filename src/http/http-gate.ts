import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import { checkGate } from '../gate/check-gate.js';
import { DISCOVERY_PATH, discoveryLink } from '../gate/discovery.js';
import type { CallRefusal, GateReason, PaymentRequired } from '../gate/envelope.js';
import type { Channel } from '../gate/events.js';
import type { Gate } from '../gate/gate.js';
import { l402Credential } from '../protocol/l402.js';
import { isScope } from '../protocol/shape.js';
import { invalid } from '../validate.js';
import { channelClassifier, type ChannelClassifier } from './channel.js';
import { clientRateKey, requestClientAddress, TrustedProxies } from './client-address.js';
import { checkCors, corsHeaders, isPreflight, preflightHeaders, type CorsOption } from './cors.js';
import { DEGRADED_HEADER, degradedHeader } from './degraded.js';
import type { HttpMetrics } from './metrics.js';
import { pathOf } from './path.js';
import { presentedToken } from './presented-token.js';
import type { PowgateGrant } from './request-types.js';

/** Options of {@link powgateMiddleware} and {@link powgateFastify}. */
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

/** A quoted-string for an HTTP auth parameter (scopes and realms are printable ASCII). */
function quoted(text: string): string {
  return `"${text.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/** How HTTP says each kind of refused call: 402 when a way through is offered, 503 when the gate cannot decide. */
export const REFUSAL_STATUS = Object.freeze({ payment_required: 402, unavailable: 503 } as const satisfies Record<CallRefusal['kind'], number>);

/** What the refusal of a gated request is: status, headers and the JSON body. */
export interface GateRefusal {
  status: 402 | 503;
  headers: Record<string, string>;
  body: unknown;
}

/**
 * The transport-free decision of the HTTP gate, shared by the node:http/Express
 * middleware and the Fastify plugin: the grant of a valid token, or the refusal
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
    checkGate(gate);
    if (typeof options !== 'object' || options === null) throw invalid('an options object', 'options', options);
    const {
      scope = '',
      difficulty,
      sats,
      realm = 'powgate',
      redeemUrl = '/api/verify',
      challengeUrl = '/api/challenge',
      trustProxy,
      clientKey,
      resource,
      discovery = DISCOVERY_PATH,
      cors = '*',
    } = options;
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
      each_call: "spends one of the token's calls; the response says how many remain in Powgate-Calls-Remaining; when none remain, the refusal carries a new challenge",
      more_calls: { url: challengeUrl, method: 'POST', body: { scope, calls: '<N: N calls for N times the work>' } },
    });
    this.#l402Redeem = Object.freeze({
      pay: 'pay the invoice with any Lightning wallet: its preimage is the proof of payment',
      present: { header: 'Authorization', value: 'L402 <macaroon>:<preimage hex>' },
      each_call: "spends one of the macaroon's calls, as for a token (Powgate-Calls-Remaining)",
      or_redeem: {
        url: redeemUrl,
        method: 'POST',
        content_type: 'application/json',
        body: { method: 'l402', macaroon: '<macaroon>', preimage: '<preimage hex>' },
        returns: 'a token with the same calls, counted together',
      },
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
    const status = REFUSAL_STATUS[refused.kind];
    const headers: Record<string, string> = refused.kind === 'payment_required' ? { 'www-authenticate': this.#challenges(reason, refused.body.accepts) } : { 'retry-after': '1' };
    if (this.#link) headers.link = this.#link;
    Object.assign(headers, corsHeaders(req, this.cors));
    const degraded = degradedHeader(this.gate);
    if (degraded) headers[DEGRADED_HEADER] = degraded;
    this.#metrics?.countRequest(this.#route, req.method ?? '', status, channel, reason);
    // Only these fields: never the query, a header, a token or a challenge.
    this.#logger?.info(
      { method: req.method, path: pathOf(req.url), status, reason, scope: this.scope, channel, ms: Math.round((performance.now() - started) * 100) / 100 },
      'refused',
    );
    return { ok: false, refusal: { status, headers, body: refused.body } };
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

/** `'GET /path'` or `{ method?, path }` as a method (default GET) and a path. */
function parseResource(resource: unknown): { method: string; path: string } {
  const text = typeof resource === 'string' ? resource.trim() : undefined;
  const [method, path] =
    text === undefined ? [(resource as { method?: unknown })?.method ?? 'GET', (resource as { path?: unknown })?.path] : text.includes(' ') ? text.split(/\s+/, 2) : ['GET', text];
  if (typeof method !== 'string' || !/^[A-Za-z]{1,16}$/.test(method) || typeof path !== 'string' || !/^\/[^\s]{0,1024}$/.test(path)) {
    throw invalid("'METHOD /path' or { method, path }", 'resource', resource);
  }
  return { method: method.toUpperCase(), path };
}
