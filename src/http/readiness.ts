// Readiness, as against liveness: whether this instance can serve gated calls now (its store
// and counter answer), so that a load balancer stops sending it traffic while Redis is down.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Gate } from '../gate/gate.js';
import { MemoryRateCounter } from '../storage/rate-counter.js';
import { MemoryReplayStore } from '../storage/memory.js';
import { checkInteger, invalid } from '../validate.js';
import { sendJson } from './json-body.js';

/** Where `powgate serve` answers readiness; `/healthz` stays liveness. */
export const READINESS_PATH = '/readyz';

/** Whether the store and the counter answered within the deadline (memory ones always do). */
export interface GateHealth {
  store: 'up' | 'down';
  counter: 'up' | 'down';
}

/** Resolves `fallback` if `work` has not settled within `ms`, and never rejects. */
function within<T>(work: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
  });
  return Promise.race([work.catch(() => fallback), late]).finally(() => clearTimeout(timer));
}

/**
 * Probes the gate's store (both of its writes: a spend, and a token's call, a script that
 * Redis may forbid) and its counter, each within `deadlineMs` (default 2,000). Never rejects.
 */
export async function probeGate(gate: Gate, deadlineMs = 2_000): Promise<GateHealth> {
  const { store, counter } = gate;
  const probe = async () => {
    const id = `healthz:${randomUUID()}`;
    const [spent, call] = await Promise.all([store.spend(id, Date.now() + 1000), store.spendCall(id, 1, Date.now() + 1000)]);
    return spent === 'spent' && call.ok;
  };
  const [stored, hits] = await Promise.all([
    store instanceof MemoryReplayStore ? true : within(probe(), deadlineMs, false),
    counter instanceof MemoryRateCounter ? 1 : within(counter.hit('powgate:healthz', 1000), deadlineMs, undefined),
  ]);
  return { store: stored ? 'up' : 'down', counter: hits === undefined ? 'down' : 'up' };
}

/** Options of {@link readinessHandler}. */
export interface ReadinessOptions {
  /** Longest wait for the store and the counter, in ms. Default 2,000. */
  timeoutMs?: number;
  /** The path it answers at. Default {@link READINESS_PATH}. */
  path?: string;
}

/**
 * A `(req, res, next?)` handler for readiness probes at `GET`/`HEAD` {@link READINESS_PATH}:
 * 200 `{ status: 'ready', store: 'up', counter: 'up' }` when both answer within
 * `timeoutMs`, else 503 `{ status: 'unready', reason: 'store_unavailable', store, counter }`
 * with `Retry-After`. Other paths go to `next` (404 without one). A Lightning node that is
 * down does not make the instance unready: the proof-of-work door still sells calls.
 */
export function readinessHandler(gate: Gate, options: ReadinessOptions = {}) {
  if (typeof gate?.doors !== 'function') throw invalid('a Gate', 'gate', gate);
  if (typeof options !== 'object' || options === null) throw invalid('an options object', 'options', options);
  const timeoutMs = checkInteger(options.timeoutMs ?? 2_000, 'timeoutMs', 1, 60_000);
  const path = options.path ?? READINESS_PATH;
  return function ready(req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void): void {
    if ((req.url ?? '/').split('?', 1)[0] !== path) {
      if (next) return next();
      return sendJson(res, 404, { error: 'not_found', detail: `only GET ${path} here` });
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { error: 'method_not_allowed', detail: `use GET, HEAD for ${path}` }, { allow: 'GET, HEAD' });
    readiness(gate, timeoutMs).then(
      ({ status, body }) => sendJson(res, status, body, status === 503 ? { 'retry-after': '1' } : undefined),
      () => res.destroy(),
    );
  };
}

/** The readiness answer: 200 when the store and the counter answer, else 503 `store_unavailable`. */
export async function readiness(gate: Gate, timeoutMs = 2_000): Promise<{ status: 200 | 503; body: Record<string, unknown> }> {
  const health = await probeGate(gate, timeoutMs);
  const lightning = gate.lightning ? { lightning: gate.lightning.down ? 'down' : 'up' } : {};
  if (health.store === 'up' && health.counter === 'up') return { status: 200, body: { status: 'ready', ...health, ...lightning } };
  return { status: 503, body: { status: 'unready', reason: 'store_unavailable', ...health, ...lightning } };
}
