import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DestinationStream, Logger, pino as Pino } from 'pino';
import { Gate } from '../../gate/gate.js';
import { TrustedProxies } from '../../http/client-address.js';
import { UsageError, optional, parseChoice, parseInteger, stringFlag } from '../args.js';
import type { Command, Io } from '../command.js';
import { DISCOVERY_OPTIONS, DISCOVERY_USAGE, discoveryFromFlags } from '../discovery-flags.js';
import { GATE_OPTIONS, GATE_USAGE, doorsOf, gateOptionsFromFlags, requireRedisClient } from '../gate-flags.js';
import { wasmNotice } from '../backend-notice.js';
import { requirePeers } from '../peers.js';
import { reachRedis } from '../redis-flags.js';
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
  GET  /api/status
  GET  /healthz            liveness: 200 while the process answers (the store's state in the body)
  GET  /readyz             readiness: 503 {reason: store_unavailable} while the store or counter
                           cannot answer within 2 s
  GET  /.well-known/l402.json
                           the discovery document: doors, prices, seconds per call on the
                           reference hardware; linked from every answer (Link: rel="l402-manifest")
  GET  /metrics (Prometheus): on --metrics-port, or here with $POWGATE_METRICS_TOKEN as a bearer
Logs one JSON line per request on stdout (pino), the first with the listening URL.
SIGINT or SIGTERM stops it gracefully (exit 0).

Options:
  --port N                 TCP port, 0 for any free one; default 8080
  --host ADDR              address to listen on; default 127.0.0.1
  --trust-proxy LIST       comma-separated addresses and CIDR ranges (or loopback, private,
                           linklocal) of reverse proxies whose X-Forwarded-For is believed;
                           default: none (the socket address is the client)
  --max-body BYTES         largest request body; default 65536
  --max-concurrency N      most requests served at once, counted once their body is in
                           (then 503); default 512
  --max-per-client N       most requests of one client at once, bodies being read included
                           (then 503); default 64
  --body-timeout MS        longest wait for a request body after its headers (then 408); default 5000
  --max-connections-per-peer N
                           most connections from one address (IPv6: its /64; trusted proxies
                           exempt), 0 for no cap; default 128
  --metrics-port N         serve GET /metrics on a listener of its own (no credential: keep it
                           private); default: none
  --metrics-host ADDR      address of the metrics listener; default 127.0.0.1
  --cors ORIGINS           browser origins allowed (comma-separated scheme://host[:port]), '*'
                           or 'off'; preflights (OPTIONS) get 204 whatever it says; default *
  --log-level LEVEL        ${LOG_LEVELS.join(', ')}: a line per request at info, except token
                           checks that pass (the hot route) at debug; warn hides them all;
                           the listening and stopped lines always show; default info
${GATE_USAGE}
${DISCOVERY_USAGE}
${SECRET_USAGE}
  -h, --help               this text`,
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    'trust-proxy': { type: 'string' },
    'max-body': { type: 'string' },
    'max-concurrency': { type: 'string' },
    'max-per-client': { type: 'string' },
    'body-timeout': { type: 'string' },
    'max-connections-per-peer': { type: 'string' },
    'metrics-port': { type: 'string' },
    'metrics-host': { type: 'string' },
    'log-level': { type: 'string' },
    cors: { type: 'string' },
    ...GATE_OPTIONS,
    ...DISCOVERY_OPTIONS,
  },
  maxPositionals: 0,
  async run(parsed, io) {
    // Every flag is checked before anything starts.
    const port = parseInteger(stringFlag(parsed, 'port') ?? '8080', 'port', 0, 65_535);
    const host = stringFlag(parsed, 'host') ?? '127.0.0.1';
    let redisError = (_error: Error) => {}; // the logger is not made yet
    const { redis, ...options } = gateOptionsFromFlags(parsed, io, (error) => redisError(error));
    const trustText = stringFlag(parsed, 'trust-proxy');
    let trustProxy: TrustedProxies | undefined;
    try {
      trustProxy = trustText === undefined ? undefined : TrustedProxies.from(trustText);
    } catch (error) {
      throw new UsageError(`--trust-proxy: ${(error as Error).message}`);
    }
    const maxBodyBytes = optional(stringFlag(parsed, 'max-body'), (text) => parseInteger(text, 'max-body', 1, 1 << 30));
    const maxConcurrency = optional(stringFlag(parsed, 'max-concurrency'), (text) => parseInteger(text, 'max-concurrency', 1, 1_000_000));
    const maxPerClient = optional(stringFlag(parsed, 'max-per-client'), (text) => parseInteger(text, 'max-per-client', 1, 1_000_000));
    const bodyTimeoutMs = optional(stringFlag(parsed, 'body-timeout'), (text) => parseInteger(text, 'body-timeout', 1, 3_600_000));
    const maxConnectionsPerPeer = optional(stringFlag(parsed, 'max-connections-per-peer'), (text) => parseInteger(text, 'max-connections-per-peer', 0, 1_000_000));
    const metricsPort = optional(stringFlag(parsed, 'metrics-port'), (text) => parseInteger(text, 'metrics-port', 0, 65_535));
    const metricsHost = stringFlag(parsed, 'metrics-host') ?? '127.0.0.1';
    const bearer = io.env.POWGATE_METRICS_TOKEN;
    if (bearer !== undefined && bearer.length < 16) throw new UsageError('POWGATE_METRICS_TOKEN must be at least 16 characters');
    const level = parseChoice(stringFlag(parsed, 'log-level') ?? 'info', 'log-level', LOG_LEVELS);
    const corsText = stringFlag(parsed, 'cors') ?? '*';
    const cors = corsText === '*' ? '*' : corsText === 'off' ? false : corsText.split(',').map((origin) => origin.trim());
    if (Array.isArray(cors) && !cors.every((origin) => /^https?:\/\/[^/\s]+$/.test(origin)))
      throw new UsageError(`expected '*', 'off' or origins like https://app.example for --cors but received '${corsText.slice(0, 80)}'`);
    const { resources, reference } = discoveryFromFlags(parsed, doorsOf(options));
    // A missing Redis client stops the start, not every request after it.
    if (options.store) await requireRedisClient(options);

    // Loaded here, not at the top: every other command would pay for prom-client and pino.
    await requirePeers('powgate serve', ['pino', 'prom-client']);
    const [{ pino }, { createPowgateServer, PowgateService }] = await Promise.all([import('pino'), import('../../http/index.js')]);
    // Lifecycle lines (listening, stopped, Redis warnings) always; request lines (info) at the chosen level.
    const { logger, flush } = makeLogger(io, 'info', pino);
    const requestLogger = level === 'silent' ? false : logger.child({}, { level });
    redisError = throttledRedisLog(logger);
    try {
      await reachRedis(redis); // A Cluster or Sentinel that cannot be reached stops start-up here.
    } catch (error) {
      await flush();
      throw error;
    }
    const gate = new Gate(options);
    const metricsAccess = bearer ? { bearer } : 'off';
    const service = new PowgateService(gate, {
      trustProxy,
      maxBodyBytes,
      maxConcurrency,
      maxPerClient,
      bodyTimeoutMs,
      metricsAccess,
      logger: requestLogger,
      storeKind: options.store ? 'redis' : 'memory',
      cors,
      discovery: { resources, reference },
    });
    const server = createPowgateServer(service, { maxConnectionsPerPeer });
    // Metrics on their own listener: scrapes never queue behind clients, nor clients behind scrapes.
    const metricsServer = metricsPort === undefined ? undefined : createServer(service.metricsHandler);
    const listening: Server[] = [];
    try {
      await listenOn(server, port, host);
      listening.push(server);
      if (metricsServer) {
        await listenOn(metricsServer, metricsPort!, metricsHost).catch((error: unknown) => {
          throw new Error(`${(error as Error).message} (the metrics listener)`);
        });
        listening.push(metricsServer);
      }
    } catch (error) {
      for (const open of listening) open.close();
      await gate.close();
      await flush();
      throw new Error(`cannot listen on ${(error as Error).message}`);
    }
    const address = server.address() as AddressInfo;
    const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
    const status = gate.status();
    const metricsAddress = metricsServer?.address() as AddressInfo | undefined;
    const metricsUrl = metricsAddress && `http://${metricsAddress.family === 'IPv6' ? `[${metricsAddress.address}]` : metricsAddress.address}:${metricsAddress.port}/metrics`;
    logger.info(
      {
        url,
        discovery: `${url}/.well-known/l402.json`,
        metrics: metricsUrl ?? (bearer ? 'bearer' : 'off'),
        host: address.address,
        port: address.port,
        store: options.store ? 'redis' : 'memory',
        replayProtection: status.replayProtection,
        backend: status.backend,
        difficulty: status.difficulty,
        failOpen: status.failOpen,
      },
      'listening',
    );
    if (!options.store) {
      logger.warn(
        { replayProtection: status.replayProtection },
        'replay protection is per instance (memory store): several instances behind one address each accept a solution once; share a store with --redis',
      );
    }
    const notice = wasmNotice(io);
    if (notice) logger.warn({ backend: 'wasm' }, notice);
    void flush(); // Whoever started us waits for this line.
    server.on('error', (error) => logger.error({ code: (error as NodeJS.ErrnoException).code }, 'server error'));

    await new Promise<void>((resolve) => {
      if (io.signal.aborted) resolve();
      else io.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    logger.info({ inFlight: service.inFlight }, 'stopping');
    if (metricsServer) {
      metricsServer.close();
      metricsServer.closeAllConnections();
    }
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
    await flush();
    return 0;
  },
};

/** Listens; rejects with the address and the error's code when it cannot. */
function listenOn(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const fail = (error: NodeJS.ErrnoException) => reject(new Error(`${host}:${port}: ${error.code ?? error.message}`));
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      resolve();
    });
  });
}

/**
 * pino on stdout. On the real stdout, an asynchronous buffered destination (one write
 * per 4 KiB of lines, flushed every second and on stop): a write per request would cost
 * the hot route a syscall. Elsewhere (tests), the given stream.
 *
 * Flushes are asynchronous and bounded: sonic-boom's synchronous flush retries a broken pipe
 * (`serve | head` once head has exited) forever, and so would pino's on exit. An asynchronous
 * write instead reports the broken pipe, after which pino drops every line.
 */
function makeLogger(io: Io, level: string, pino: typeof Pino): { logger: Logger; flush: () => Promise<void> } {
  const options = { level, base: { service: 'powgate' } };
  if (io.stdout !== process.stdout) {
    return { logger: pino(options, io.stdout as DestinationStream), flush: async () => {} };
  }
  const destination = pino.destination({ dest: 1, sync: false, minLength: 4096 });
  const timer = setInterval(() => destination.flush(), 1000);
  timer.unref();
  const flush = () =>
    new Promise<void>((resolve) => {
      const giveUp = setTimeout(resolve, FLUSH_MS);
      destination.flush(() => {
        clearTimeout(giveUp);
        resolve();
      });
    });
  return { logger: pino(options, destination), flush };
}

/** How long a stop waits for its last lines to reach stdout. */
const FLUSH_MS = 2_000;

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
