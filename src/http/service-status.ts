// The token service's own reports: GET /api/status and GET /metrics.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Gate } from '../gate/gate.js';
import { packageInfo } from '../package-info.js';
import { MemoryRateCounter } from '../storage/rate-counter.js';
import { DEGRADED_HEADER, degradedHeader } from './degraded.js';
import type { Context, RouteHost } from './route-context.js';

/** What GET /api/status says of the service around the gate. */
export interface ServiceFacts {
  storeKind: string;
  trustedProxies: number;
  startedAt: number;
  routes: string[];
  discovery: string | null;
}

/** The body of GET /api/status: the gate's settings and the service's facts. Secret-free. */
export function statusBody(gate: Gate, facts: ServiceFacts): Record<string, unknown> {
  const status = gate.status();
  return {
    service: 'powgate',
    version: packageInfo().version,
    backend: status.backend,
    isa: status.isa,
    store: facts.storeKind,
    counter: kindOf(gate.counter, MemoryRateCounter, 'RedisRateCounter'),
    difficulty: status.difficulty,
    doors: status.doors,
    sub_puzzles: status.subPuzzles,
    calls: status.calls,
    max_calls: status.maxCalls,
    challenge_ttl_ms: status.challengeTtlMs,
    token_ttl_ms: status.tokenTtlMs,
    fail_open: status.failOpen,
    replay_protection: status.replayProtection,
    degraded: gate.degraded(),
    lightning: status.lightning && { backend: status.lightning.backend, sats_per_call: status.lightning.satsPerCall, down: status.lightning.down },
    aperture_pow: status.aperturePow,
    trusted_proxies: facts.trustedProxies,
    uptime_s: Math.round((Date.now() - facts.startedAt) / 1000),
    routes: facts.routes,
    discovery: facts.discovery,
  };
}

/** 'memory', 'redis', or the class's name. */
export function kindOf(value: object, memory: abstract new (...args: never[]) => unknown, redis: string): string {
  if (value instanceof memory) return 'memory';
  const name = value.constructor?.name;
  return name === redis ? 'redis' : name || 'custom';
}

export function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Whether `Authorization` carries the bearer whose SHA-256 is `expected` (constant time: hashes of equal length). */
function bearerMatches(header: string | undefined, expected: Buffer): boolean {
  if (typeof header !== 'string' || !/^bearer /i.test(header)) return false;
  return timingSafeEqual(sha256(header.slice(7).trim()), expected);
}

/** GET /metrics on the service: with `bearer` (a SHA-256), only for a request that carries it. */
export function metricsRoute(host: RouteHost, ctx: Context, bearer: Buffer | undefined): Promise<void> {
  if (bearer && !bearerMatches(ctx.req.headers.authorization, bearer)) {
    host.reply(ctx, 401, { error: 'unauthorized', detail: 'metrics need Authorization: Bearer <token>' }, { 'www-authenticate': 'Bearer realm="metrics"' }, 'unauthorized');
    return Promise.resolve();
  }
  return sendMetrics(host, ctx);
}

/** The metrics text, whoever asks. */
export async function sendMetrics(host: RouteHost, ctx: Context): Promise<void> {
  const text = await host.metrics.text();
  const degraded = degradedHeader(host.gate);
  ctx.res.writeHead(200, {
    'content-type': host.metrics.contentType,
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...(degraded ? { [DEGRADED_HEADER]: degraded } : {}),
  });
  ctx.res.end(text);
  host.done(ctx, 200, undefined);
}
