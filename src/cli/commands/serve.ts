import type { AddressInfo } from 'node:net';
import type { DestinationStream, Logger, pino as Pino } from 'pino';
import type { AdaptiveDifficultyOptions } from '../../gate/adaptive-difficulty.js';
import { Gate } from '../../gate/gate.js';
import { RedisRateCounter } from '../../gate/redis-rate-counter.js';
import { TrustedProxies } from '../../http/client-address.js';
import { PROTOCOL_MAX_DIFFICULTY } from '../../protocol/difficulty.js';
import { RedisReplayStore } from '../../protocol/replay/redis.js';
import { UsageError, optional, parseChoice, parseDuration, parseInteger, parseNumber, stringFlag } from '../args.js';
import type { Command, Io } from '../command.js';
import { SECRET_OPTIONS, SECRET_USAGE, secretOptions } from '../secret.js';

const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
/** How long a graceful stop waits for requests in flight before it cuts connections. */
const DRAIN_MS = 5_000;

export const serveCommand: Command = {
  name: 'serve',
  summary: 'run the HTTP token service (challenges, redemption, token checks)',
  usage: `Usage: powgate serve [options]

Runs the proof-of-work token service over HTTP (JSON in and out):
  POST /api/challenge      {scope?, difficulty?}       -> {challenge}, priced by the caller's rate
  POST /api/verify         {challenge, solution}       -> {token, scope, expires_at} | {error: reason}
  POST /api/token/verify   {token, scope?}             -> {valid: true, ...} | {valid: false, reason}
  GET  /api/status, /healthz, /metrics (Prometheus)
Logs one JSON line per request on stdout (pino), the first with the listening URL.
SIGINT or SIGTERM stops it gracefully (exit 0).

Options:
  --port N                 TCP port, 0 for any free one; default 8080
  --host ADDR              address to listen on; default 127.0.0.1
  --redis URL              keep spent challenges and request rates in this Redis, shared
                           by every server on it; default: in memory (one process)
  --fail-open              when the store cannot answer, issue challenges at the base
                           difficulty and accept solutions unspent; default: refuse with
                           503 store_unavailable (fail closed)
  --difficulty D           a fixed difficulty (bits), 1 to ${PROTOCOL_MAX_DIFFICULTY}; or let it adapt:
  --base-difficulty D      difficulty within the free rate; default 18
  --min-difficulty D       lowest difficulty issued or accepted; default: the base
  --max-difficulty D       highest difficulty issued or accepted; default 28
  --free-requests N        requests per window before the price rises; default 10
  --rate-window DURATION   the rate's window; default 1m
  --sub-puzzles K          sub-puzzles per challenge, 1 to 64; default 1
  --challenge-ttl DURATION challenge lifetime; default 2m
  --token-ttl DURATION     token lifetime; default 5m
  --trust-proxy LIST       comma-separated addresses and CIDR ranges (or loopback, private,
                           linklocal) of reverse proxies whose X-Forwarded-For is believed;
                           default: none (the socket address is the client)
  --max-body BYTES         largest request body; default 65536
  --max-concurrency N      most requests served at once (then 503); default 512
  --log-level LEVEL        ${LOG_LEVELS.join(', ')}: the per-request lines are info, so warn
                           hides them; the listening and stopped lines always show; default info
${SECRET_USAGE}
  -h, --help               this text`,
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    redis: { type: 'string' },
    'fail-open': { type: 'boolean' },
    difficulty: { type: 'string' },
    'base-difficulty': { type: 'string' },
    'min-difficulty': { type: 'string' },
    'max-difficulty': { type: 'string' },
    'free-requests': { type: 'string' },
    'rate-window': { type: 'string' },
    'sub-puzzles': { type: 'string' },
    'challenge-ttl': { type: 'string' },
    'token-ttl': { type: 'string' },
    'trust-proxy': { type: 'string' },
    'max-body': { type: 'string' },
    'max-concurrency': { type: 'string' },
    'log-level': { type: 'string' },
    ...SECRET_OPTIONS,
  },
  maxPositionals: 0,
  async run(parsed, io) {
    // Every flag is checked before anything starts.
    const keys = secretOptions(parsed, io);
    const port = parseInteger(stringFlag(parsed, 'port') ?? '8080', 'port', 0, 65_535);
    const host = stringFlag(parsed, 'host') ?? '127.0.0.1';
    const redis = stringFlag(parsed, 'redis');
    if (redis !== undefined && !/^rediss?:\/\/./.test(redis)) throw new UsageError('expected a redis:// or rediss:// URL for --redis');
    const difficulty = difficultyOptions(parsed);
    const ms = (flag: string) => optional(stringFlag(parsed, flag), (text) => Math.round(parseDuration(text, flag) * 1000));
    const subPuzzles = optional(stringFlag(parsed, 'sub-puzzles'), (text) => parseInteger(text, 'sub-puzzles', 1, 64));
    const challengeTtlMs = ms('challenge-ttl');
    const tokenTtlMs = ms('token-ttl');
    const trustText = stringFlag(parsed, 'trust-proxy');
    let trustProxy: TrustedProxies | undefined;
    try {
      trustProxy = trustText === undefined ? undefined : TrustedProxies.from(trustText);
    } catch (error) {
      throw new UsageError(`--trust-proxy: ${(error as Error).message}`);
    }
    const maxBodyBytes = optional(stringFlag(parsed, 'max-body'), (text) => parseInteger(text, 'max-body', 1, 1 << 30));
    const maxConcurrency = optional(stringFlag(parsed, 'max-concurrency'), (text) => parseInteger(text, 'max-concurrency', 1, 1_000_000));
    const level = parseChoice(stringFlag(parsed, 'log-level') ?? 'info', 'log-level', LOG_LEVELS);

    // Loaded here, not at the top: every other command would pay for prom-client and pino.
    const [{ pino }, { createPowgateServer, PowgateService }] = await Promise.all([import('pino'), import('../../http/service.js')]);
    // Lifecycle lines (listening, stopped, Redis warnings) always; request lines (info) at the chosen level.
    const { logger, flush } = makeLogger(io, 'info', pino);
    const requestLogger = level === 'silent' ? false : logger.child({}, { level });
    const redisError = throttledRedisLog(logger);
    const gate = new Gate({
      ...keys,
      difficulty,
      subPuzzles,
      challengeTtlMs,
      tokenTtlMs,
      failOpen: parsed.values['fail-open'] === true,
      ...(redis === undefined
        ? {}
        : {
            store: new RedisReplayStore({ url: redis, onError: redisError }),
            counter: new RedisRateCounter({ url: redis, onError: redisError }),
          }),
    });
    const service = new PowgateService(gate, { trustProxy, maxBodyBytes, maxConcurrency, logger: requestLogger, storeKind: redis === undefined ? 'memory' : 'redis' });
    const server = createPowgateServer(service);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      await gate.close();
      flush();
      throw new Error(`cannot listen on ${host}:${port}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    const address = server.address() as AddressInfo;
    const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
    const status = gate.status();
    logger.info(
      { url, host: address.address, port: address.port, store: redis === undefined ? 'memory' : 'redis', backend: status.backend, difficulty: status.difficulty, failOpen: status.failOpen },
      'listening',
    );
    flush(); // Whoever started us waits for this line.
    server.on('error', (error) => logger.error({ code: (error as NodeJS.ErrnoException).code }, 'server error'));

    await new Promise<void>((resolve) => {
      if (io.signal.aborted) resolve();
      else io.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    logger.info({ inFlight: service.inFlight }, 'stopping');
    await new Promise<void>((resolve) => {
      const cut = setTimeout(() => server.closeAllConnections(), DRAIN_MS);
      server.close(() => {
        clearTimeout(cut);
        resolve();
      });
      server.closeIdleConnections();
    });
    await gate.close();
    logger.info('stopped');
    flush();
    return 0;
  },
};

/** A fixed difficulty, or the adaptive bounds; undefined for the Gate's defaults. */
function difficultyOptions(parsed: Parameters<Command['run']>[0]): number | AdaptiveDifficultyOptions | undefined {
  const bits = (flag: string) => optional(stringFlag(parsed, flag), (text) => parseNumber(text, flag, 1, PROTOCOL_MAX_DIFFICULTY));
  const fixed = bits('difficulty');
  const adaptive: AdaptiveDifficultyOptions = {
    base: bits('base-difficulty'),
    min: bits('min-difficulty'),
    max: bits('max-difficulty'),
    freeRequests: optional(stringFlag(parsed, 'free-requests'), (text) => parseInteger(text, 'free-requests', 1, 1e9)),
    windowMs: optional(stringFlag(parsed, 'rate-window'), (text) => Math.round(parseDuration(text, 'rate-window') * 1000)),
  };
  const given = Object.entries(adaptive).filter(([, value]) => value !== undefined);
  if (fixed !== undefined) {
    if (given.length > 0) throw new UsageError('--difficulty fixes the difficulty: it cannot be combined with --base-difficulty, --min-difficulty, --max-difficulty, --free-requests or --rate-window');
    return fixed;
  }
  if (given.length === 0) return undefined;
  const { base, min, max } = adaptive;
  if (min !== undefined && max !== undefined && min > max) throw new UsageError(`--min-difficulty ${min} is above --max-difficulty ${max}`);
  if (base !== undefined && ((min !== undefined && base < min) || (max !== undefined && base > max))) {
    throw new UsageError(`--base-difficulty ${base} is outside [${min ?? 'min'}, ${max ?? 'max'}]`);
  }
  // The Gate's defaults: base 18 unless the bounds exclude it.
  if (base === undefined) adaptive.base = Math.min(Math.max(18, min ?? -Infinity), max ?? Infinity);
  return Object.fromEntries(Object.entries(adaptive).filter(([, value]) => value !== undefined)) as AdaptiveDifficultyOptions;
}

/**
 * pino on stdout. On the real stdout, an asynchronous buffered destination (one write
 * per 4 KiB of lines, flushed every second and on stop): a write per request would cost
 * the hot route a syscall. Elsewhere (tests), the given stream.
 */
function makeLogger(io: Io, level: string, pino: typeof Pino): { logger: Logger; flush: () => void } {
  const options = { level, base: { service: 'powgate' } };
  if (io.stdout !== process.stdout) {
    return { logger: pino(options, io.stdout as DestinationStream), flush: () => {} };
  }
  const destination = pino.destination({ dest: 1, sync: false, minLength: 4096 });
  const timer = setInterval(() => destination.flush(), 1000);
  timer.unref();
  const flush = () => {
    try {
      destination.flushSync();
    } catch {
      destination.flush(); // Not yet open (the first line): flush when it is.
    }
  };
  return { logger: pino(options, destination), flush };
}

/** Redis connection errors, at most one line per 10 s (ioredis retries every second while Redis is down). */
function throttledRedisLog(logger: Logger): (error: Error) => void {
  let last = 0;
  let dropped = 0;
  return (error) => {
    const now = Date.now();
    if (now - last < 10_000) {
      dropped++;
      return;
    }
    // The message only: ioredis errors name host and port, never the URL's password.
    logger.warn({ err: error.message.slice(0, 200), suppressed: dropped }, 'redis unavailable');
    last = now;
    dropped = 0;
  };
}
