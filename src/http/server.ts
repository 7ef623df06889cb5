import { createServer, type Server } from 'node:http';
import { checkInteger, invalid } from '../validate.js';
import { hardenServer, type HardenServerOptions } from './harden-server.js';
import { PowgateService } from './service.js';

/** Timeouts and per-peer cap of {@link createPowgateServer}: see {@link hardenServer}. */
export type ServerTimeouts = HardenServerOptions;

/** How long a refused client (timeout, garbage) may take to read its answer before its socket is destroyed. */
const CLIENT_ERROR_LINGER_MS = 1_000;

/**
 * A node:http server for `service`, hardened by {@link hardenServer} (header, request and
 * keep-alive timeouts; connections per peer capped, the service's trusted proxies exempt).
 * Not yet listening.
 */
export function createPowgateServer(service: PowgateService, timeouts: ServerTimeouts = {}): Server {
  if (!(service instanceof PowgateService)) throw invalid('a PowgateService', 'service', service);
  if (typeof timeouts !== 'object' || timeouts === null) throw invalid('an options object', 'timeouts', timeouts);
  const headersTimeout = checkInteger(timeouts.headersTimeoutMs ?? 10_000, 'headersTimeoutMs', 1, 3_600_000);
  // Timeouts are enforced at each check of the connections: check often enough for them to mean something.
  const server = createServer({ connectionsCheckingInterval: Math.min(1000, headersTimeout) }, service.handle);
  hardenServer(server, { trustProxy: service.trustProxy, ...timeouts });
  // A client that sends garbage gets 400 and is disconnected; it never reaches the handler or crashes the process.
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent) {
      socket.destroy();
      return;
    }
    const status =
      error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : error.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    // end() waits for the client to close its side: one that never does (never reads) would
    // hold the socket, and a request's concurrency slot, for ever. Give it a moment, then cut.
    setTimeout(() => socket.destroy(), CLIENT_ERROR_LINGER_MS).unref();
  });
  return server;
}
