import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { PowgateError } from '../errors.js';
import { checkInteger, invalid } from '../validate.js';
import { clientRateKey, normalizeAddress, TrustedProxies } from './client-address.js';
import { ClientSlots } from './client-slots.js';

/** Options of {@link hardenServer} (and {@link createPowgateServer}); times in ms. */
export interface HardenServerOptions {
  /** Longest wait for a request's headers. Default 10,000 (Node's own: 60,000). */
  headersTimeoutMs?: number;
  /** Longest wait for a whole request, headers and body. Default 30,000 (Node's own: 300,000). */
  requestTimeoutMs?: number;
  /** How long an idle keep-alive connection is kept. Default 5,000. */
  keepAliveTimeoutMs?: number;
  /**
   * Most connections open at once from one peer address (an IPv6 peer: its /64); a peer's
   * next one is closed at once. Trusted proxies are not capped: they carry many clients.
   * 0: no cap. Default 128.
   */
  maxConnectionsPerPeer?: number;
  /** Proxies exempt from the per-peer cap (see {@link TrustedProxies}). Default: none. */
  trustProxy?: TrustedProxies | string | readonly string[];
}

/** What {@link hardenServer} set, for status pages and tests. */
export interface HardenedServer {
  /** Connections open now per peer key. */
  readonly peers: ClientSlots | undefined;
  /** Connections refused for the per-peer cap so far. */
  readonly refused: () => number;
}

/**
 * Sets a node:http server's timeouts and caps connections per peer address, so that
 * idle or slow clients (headers or bodies that never finish) cannot hold its sockets
 * for Node's long defaults. For Express, `hardenServer(app.listen(port))`; for Fastify,
 * `hardenServer(fastify.server)` before `listen`. {@link createPowgateServer} applies it.
 * Throws a PowgateError ERR_INVALID_ARGUMENT for bad options.
 */
export function hardenServer(server: Server, options: HardenServerOptions = {}): HardenedServer {
  if (typeof server?.on !== 'function' || !('headersTimeout' in server)) throw invalid('a node:http Server', 'server', server);
  const headersTimeout = checkInteger(options.headersTimeoutMs ?? 10_000, 'headersTimeoutMs', 1, 3_600_000);
  const requestTimeout = checkInteger(options.requestTimeoutMs ?? 30_000, 'requestTimeoutMs', 1, 3_600_000);
  const keepAliveTimeout = checkInteger(options.keepAliveTimeoutMs ?? 5_000, 'keepAliveTimeoutMs', 1, 3_600_000);
  const perPeer = checkInteger(options.maxConnectionsPerPeer ?? 128, 'maxConnectionsPerPeer', 0, 1_000_000);
  if (headersTimeout > requestTimeout) {
    throw new PowgateError('ERR_INVALID_ARGUMENT', `expected headersTimeoutMs (${headersTimeout}) to be at most requestTimeoutMs (${requestTimeout})`);
  }
  const trusted = options.trustProxy === undefined ? undefined : TrustedProxies.from(options.trustProxy);
  server.headersTimeout = headersTimeout;
  server.requestTimeout = requestTimeout;
  server.keepAliveTimeout = keepAliveTimeout;
  let refused = 0;
  if (perPeer === 0) return { peers: undefined, refused: () => refused };
  const peers = new ClientSlots(perPeer);
  server.on('connection', (socket: Socket) => {
    const address = normalizeAddress(socket.remoteAddress ?? '');
    if (address === undefined || trusted?.has(address)) return;
    const key = clientRateKey(address);
    if (!peers.take(key)) {
      refused++;
      socket.destroy();
      return;
    }
    socket.once('close', () => peers.release(key));
  });
  return { peers, refused: () => refused };
}
