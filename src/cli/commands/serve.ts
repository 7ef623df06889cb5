import type { AddressInfo } from 'node:net';
import type { DestinationStream, Logger, pino as Pino } from 'pino';
import { Gate } from '../../gate/gate.js';
import { TrustedProxies } from '../../http/client-address.js';
import { UsageError, optional, parseChoice, parseInteger, stringFlag } from '../args.js';
import type { Command, Io } from '../command.js';
import { GATE_OPTIONS, GATE_USAGE, gateOptionsFromFlags } from '../gate-flags.js';
import { SECRET_USAGE } from '../secret.js';

const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
/** How long a graceful stop waits for requests in flight before it cuts connections. */
const DRAIN_MS = 5_000;

export const serveCommand: Command = {
  name: 'serve',
  summary: 'run the HTTP token service (challenges, redemption, token checks)',
  usage: `Usage: powgate serve [options]

Runs the proof-of-work token service over HTTP (JSON in and out):
  POST /api/challenge      {scope?, difficulty?, calls?} -> {challenge}, priced per call by the calls the caller asked for
  POST /api/verify         {challenge, solution}         -> {token, scope, expires_at, calls, price} | {error: reason}
  POST /api/token/verify   {token, scope?, any_scope?, check_only?}
                           spends one of the token's calls -> {valid: true, used, remaining, ...} | {valid: false, reason}
  GET  /api/status, /healthz, /metrics (Prometheus)
Logs one JSON line per request on stdout (pino), the first with the listening URL.
SIGINT or SIGTERM stops it gracefully (exit 0).

Options:
  --port N                 TCP port, 0 for any free one; default 8080
  --host ADDR              address to listen on; default 127.0.0.1
  --trust-proxy LIST       comma-separated addresses and CIDR ranges (or loopback, private,
                           linklocal) of reverse proxies whose X-Forwarded-For is believed;
                           default: none (the socket address is the client)
  --max-body BYTES         largest request body; default 65536
  --max-concurrency N      most requests served at once (then 503); default 512
  --log-level LEVEL        ${LOG_LEVELS.join(', ')}: a line per request at info, except token
                           checks answered 200 (the hot route) at debug; warn hides them all;
                           the listening and stopped lines always show; default info
${GATE_USAGE}
${SECRET_USAGE}
  -h, --help               this text`,
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    'trust-proxy': { type: 'string' },
    'max-body': { type: 'string' },
    'max-concurrency': { type: 'string' },
    'log-level': { type: 'string' },
    ...GATE_OPTIONS,
  },
  maxPositionals: 0,
  async run(parsed, io) {
    // Every flag is checked before anything starts.
    const port = parseInteger(stringFlag(parsed, 'port') ?? '8080', 'port', 0, 65_535);
    const host = stringFlag(parsed, 'host') ?? '127.0.0.1';
    let redisError = (_error: Error) => {}; // the logger is not made yet
    const options = gateOptionsFromFlags(parsed, io, (error) => redisError(error));
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
    redisError = throttledRedisLog(logger);
    const gate = new Gate(options);
    const service = new PowgateService(gate, { trustProxy, maxBodyBytes, maxConcurrency, logger: requestLogger, storeKind: options.store ? 'redis' : 'memory' });
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
      { url, host: address.address, port: address.port, store: options.store ? 'redis' : 'memory', replayProtection: status.replayProtection, backend: status.backend, difficulty: status.difficulty, failOpen: status.failOpen },
      'listening',
    );
    if (!options.store) {
      logger.warn(
        { replayProtection: status.replayProtection },
        'replay protection is per instance (memory store): several instances behind one address each accept a solution once; share a store with --redis',
      );
    }
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
