import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { checkInteger } from '../validate.js';

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
 * The service's Prometheus metrics, in a Registry of their own (never the
 * global one, so that two services in one process, or the host application's
 * own metrics, do not collide).
 */
export class HttpMetrics {
  readonly registry = new Registry();
  /** Requests by route (the route's path, or `unmatched`), method and status. */
  readonly requests: Counter<'route' | 'method' | 'status'>;
  /** Refusals by route and reason (`replayed`, `bad_solution`, `store_unavailable`, `token_required`, ...). */
  readonly refusals: Counter<'route' | 'reason'>;
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
    this.requests = new Counter({
      name: `${prefix}http_requests_total`,
      help: 'HTTP requests served, by route, method and status',
      labelNames: ['route', 'method', 'status'],
      registers,
    });
    this.refusals = new Counter({
      name: `${prefix}refusals_total`,
      help: 'Refused challenges, solutions and tokens, by route and reason',
      labelNames: ['route', 'reason'],
      registers,
    });
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
