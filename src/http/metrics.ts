import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Gate } from '../gate/gate.js';
import { checkInteger } from '../validate.js';
import { GateMetrics } from './gate-metrics.js';
import { deferredCounter, type DeferredCounter } from './label-cache.js';

/** Options of {@link HttpMetrics}. */
export interface HttpMetricsOptions {
  /** Prefix of every metric name. Default `'powgate_'`. */
  prefix?: string;
  /** Also collect prom-client's default process metrics (CPU, memory, event loop lag, GC). Default true. */
  defaultMetrics?: boolean;
  /** How long a scrape's text is served again before it is collected anew, in ms (0: never cached). Default 1,000. */
  cacheMs?: number;
}

/**
 * powgate's Prometheus metrics, in a Registry of their own (never the global one, so that two
 * services in one process, or the host application's own metrics, do not collide): HTTP requests
 * as they left (the service's, and any a {@link watchEgress} or `handleMcpHttp` logs), refusals,
 * MCP messages, and the gate's funnel ({@link GateMetrics}) once {@link HttpMetrics.watch}ed.
 * Every series carries the request's `channel`.
 */
export class HttpMetrics {
  readonly registry = new Registry();
  /** Requests by route (the route's path, or `unmatched`), method, status as sent, and channel. */
  readonly requests: Counter<'route' | 'method' | 'status' | 'channel'>;
  /** Refusals by route, reason (`replayed`, `bad_solution`, `store_unavailable`, `token_required`, ...) and channel. */
  readonly refusals: Counter<'route' | 'reason' | 'channel'>;
  /** MCP messages over HTTP by JSON-RPC method (a known one, or `other`), outcome and channel. */
  readonly mcpMessages: Counter<'method' | 'outcome' | 'channel'>;
  /** The gate's funnel: see {@link GateMetrics}. */
  readonly gate: GateMetrics;
  /** Seconds spent verifying and spending a solution (POST /api/verify), by outcome. */
  readonly verifySeconds: Histogram<'outcome'>;
  /** Solve times reported by clients in `solution.elapsedMs`, in seconds (unverified: the client says so). */
  readonly solveSeconds: Histogram;
  /** Requests being served now. */
  readonly inFlight: Gauge;

  readonly #cacheMs: number;
  /** The last text, and when it was collected; a collection under way is shared. */
  #cached: { text: Promise<string>; at: number } | undefined;

  constructor(options: HttpMetricsOptions = {}) {
    const prefix = options.prefix ?? 'powgate_';
    this.#cacheMs = checkInteger(options.cacheMs ?? 1_000, 'cacheMs', 0, 3_600_000);
    const registers = [this.registry];
    const requests = deferredCounter(Counter, {
      name: `${prefix}http_requests_total`,
      help: 'HTTP requests answered, by route, method, status as sent and channel',
      labelNames: ['route', 'method', 'status', 'channel'] as const,
      registers,
    });
    const refusals = deferredCounter(Counter, {
      name: `${prefix}refusals_total`,
      help: 'Refused requests, by route, reason and channel',
      labelNames: ['route', 'reason', 'channel'] as const,
      registers,
    });
    [this.requests, this.#requests] = [requests.counter, requests.cells];
    [this.refusals, this.#refusals] = [refusals.counter, refusals.cells];
    this.verifySeconds = new Histogram({
      name: `${prefix}verify_duration_seconds`,
      help: 'Time to verify and spend one solution, by outcome',
      labelNames: ['outcome'],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.solveSeconds = new Histogram({
      name: `${prefix}client_solve_seconds`,
      help: 'Solve times reported by clients with accepted solutions (solution.elapsedMs; unverified)',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300],
      registers,
    });
    const mcp = deferredCounter(Counter, {
      name: `${prefix}mcp_messages_total`,
      help: 'MCP messages over HTTP, by JSON-RPC method, outcome (ok, tool_error, refused:<reason>, error:<code>, none, unanswered) and channel',
      labelNames: ['method', 'outcome', 'channel'] as const,
      registers,
    });
    [this.mcpMessages, this.#mcp] = [mcp.counter, mcp.cells];
    this.gate = new GateMetrics(this.registry, prefix);
    const sources = this.#inFlightSources;
    this.inFlight = new Gauge({
      name: `${prefix}http_requests_in_flight`,
      help: 'HTTP requests being served',
      registers,
      // Read when scraped, not counted per request.
      collect() {
        if (sources.length) this.set(sources.reduce((sum, read) => sum + read(), 0));
      },
    });
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix });
  }

  readonly #inFlightSources: (() => number)[] = [];
  readonly #requests: DeferredCounter<'route' | 'method' | 'status' | 'channel'>;
  readonly #refusals: DeferredCounter<'route' | 'reason' | 'channel'>;
  readonly #mcp: DeferredCounter<'method' | 'outcome' | 'channel'>;

  /** Counts `gate`'s funnel from now on (see {@link GateMetrics.watch}). */
  watch(gate: Gate): () => void {
    return this.gate.watch(gate);
  }

  /** Counts a request as answered, and its refusal's reason if any. */
  countRequest(route: string, method: string, status: number, channel: string, reason?: string): void {
    this.#requests.inc(route, method, String(status), channel);
    if (reason !== undefined) this.#refusals.inc(route, reason, channel);
  }

  /** Counts an MCP message's outcome. */
  countMcpMessage(method: string, outcome: string, channel: string): void {
    this.#mcp.inc(method, outcome, channel);
  }

  /** Adds a service's requests in flight to the gauge (read at each scrape). */
  watchInFlight(read: () => number): void {
    this.#inFlightSources.push(read);
  }

  /**
   * The Prometheus text exposition. Collecting it costs about as much as many token checks,
   * so one collection serves every scrape for `cacheMs`, and concurrent scrapes share one.
   */
  text(): Promise<string> {
    const now = performance.now();
    const cached = this.#cached;
    if (cached && now - cached.at < this.#cacheMs) return cached.text;
    const text = this.registry.metrics();
    this.#cached = { text, at: now };
    text.catch(() => (this.#cached = undefined)); // a failed collection is not served again
    return text;
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
