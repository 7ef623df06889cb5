// Denial of service over real sockets on loopback (issue 16): slow bodies must not hold
// the slots that token checks and health checks need, one peer's connections and
// requests are capped, and the Express app of the README can be hardened the same way.
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { Gate } from '../src/gate/gate.js';
import { hardenServer } from '../src/http/harden-server.js';
import { HttpMetrics } from '../src/http/metrics.js';
import { createPowgateServer, PowgateService, type PowgateServiceOptions } from '../src/http/index.js';
import { issueToken } from '../src/protocol/token.js';
import { close, listen, post, request, startServe } from './helpers/http.js';
import { SECRET } from './helpers/protocol.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((f) => f()));
});

async function started(options: PowgateServiceOptions, timeouts = {}): Promise<{ url: string; port: number; service: PowgateService; server: Server }> {
  const gate = new Gate({ secret: SECRET, difficulty: 4 });
  const service = new PowgateService(gate, { metrics: new HttpMetrics({ defaultMetrics: false }), ...options });
  const server = createPowgateServer(service, timeouts);
  const url = await listen(server);
  cleanups.push(
    () => close(server),
    () => gate.close(),
  );
  return { url, port: Number(new URL(url).port), service, server };
}

/** A socket that sends headers and one byte of a declared 100-byte body, then nothing: its answer so far when it closes. */
function slowBody(port: number, path = '/api/token/verify', from = '127.0.0.1'): { socket: Socket; answer: Promise<string> } {
  const socket = connect({ port, host: '127.0.0.1', localAddress: from }, () => {
    socket.write(`POST ${path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{`);
  });
  socket.on('error', () => {});
  cleanups.push(() => socket.destroy());
  const answer = new Promise<string>((resolve) => {
    let got = '';
    socket.on('data', (d) => (got += d)).on('close', () => resolve(got));
  });
  return { socket, answer };
}

const settle = async (done: () => boolean) => {
  for (let i = 0; i < 100 && !done(); i++) await new Promise((r) => setTimeout(r, 20));
};

describe('slow bodies (the idle-body attack of issue 16)', () => {
  it('hold no slot: with the cap full of idle bodies, token checks, health checks and redemptions still answer', async () => {
    // The issue's attack scaled down: many more idle bodies than the concurrency cap.
    const { url, port, service } = await started({ maxConcurrency: 4, maxPerClient: 64, bodyTimeoutMs: 60_000 });
    const idle = Array.from({ length: 24 }, () => slowBody(port));
    await settle(() => service.clientRequests('127.0.0.1') === 24);
    expect([service.clientRequests('127.0.0.1'), service.inFlight]).toEqual([24, 0]);
    const honest = { localAddress: '127.0.0.2' };
    expect((await request(url, '/healthz', honest)).status).toBe(200);
    const token = issueToken({ secret: SECRET, calls: 5, price: 4 });
    expect((await post(url, '/api/token/verify', { token }, honest)).json).toMatchObject({ valid: true, used: 1 });
    expect((await post(url, '/api/challenge', {}, honest)).status).toBe(200);
    for (const { socket } of idle) socket.destroy();
    await settle(() => service.clientRequests('127.0.0.1') === 0);
    expect(service.clientRequests('127.0.0.1')).toBe(0);
  });

  it('are capped per client: beyond maxPerClient a client gets 503 overloaded, others are served', async () => {
    const { url, port, service } = await started({ maxPerClient: 3, bodyTimeoutMs: 60_000 });
    const answers: string[] = [];
    for (let i = 0; i < 8; i++) void slowBody(port).answer.then((text) => answers.push(text));
    await settle(() => answers.length === 5); // the refused five are answered and closed
    expect(answers).toHaveLength(5);
    for (const text of answers) expect(text).toMatch(/^HTTP\/1\.1 503 [\s\S]*retry-after: 1[\s\S]*"overloaded"/i);
    expect(service.clientRequests('127.0.0.1')).toBe(3);
    expect((await post(url, '/api/token/verify', { token: 'x' }, { localAddress: '127.0.0.2' })).status).toBe(200);
    expect((await post(url, '/api/token/verify', { token: 'x' })).status).toBe(503);
  });

  it('get a deadline of their own: 408 body_timeout, the connection closed, the client slot given back', async () => {
    const { service, port } = await started({ bodyTimeoutMs: 200 });
    const idle = Array.from({ length: 3 }, () => slowBody(port));
    for (const text of await Promise.all(idle.map((s) => s.answer))) expect(text).toMatch(/^HTTP\/1\.1 408 [\s\S]*"body_timeout"/);
    expect([service.clientRequests('127.0.0.1'), service.inFlight]).toEqual([0, 0]);
  });
});

describe('powgate serve under the idle-body attack', () => {
  it('keeps /healthz and /api/token/verify answering with many more idle bodies than --max-concurrency', async () => {
    const served = await startServe(['--max-concurrency', '4', '--body-timeout', '60000']);
    cleanups.push(() => served.stop());
    const port = Number(new URL(served.url).port);
    const idle = Array.from({ length: 24 }, () => slowBody(port));
    // Each idle socket has sent its headers and byte once connected (a little later, the server has read them).
    await Promise.all(idle.map(({ socket }) => new Promise((r) => (socket.connecting ? socket.once('connect', r) : r(0)))));
    await new Promise((r) => setTimeout(r, 200));
    const honest = { localAddress: '127.0.0.2' };
    expect((await request(served.url, '/healthz', honest)).status).toBe(200);
    const token = (await post(served.url, '/api/token/verify', { token: 'x' }, honest)).json;
    expect(token).toEqual({ valid: false, reason: 'malformed' });
    expect(await served.stop()).toBe(0);
  });
});

describe('hardenServer: timeouts and connections per peer', () => {
  it("sets the server timeouts, and closes a peer's connections beyond its cap (others and trusted proxies pass)", async () => {
    const server = createServer((_req, res) => res.end('ok'));
    const hardened = hardenServer(server, { maxConnectionsPerPeer: 3, trustProxy: '127.0.0.3' });
    expect([server.headersTimeout, server.requestTimeout, server.keepAliveTimeout]).toEqual([10_000, 30_000, 5_000]);
    const url = await listen(server, '0.0.0.0');
    cleanups.push(() => close(server));
    const port = Number(new URL(url).port);
    const open = (from: string) =>
      new Promise<{ socket: Socket; closed: Promise<void> }>((resolve) => {
        const socket = connect({ port, host: '127.0.0.1', localAddress: from }, () => resolve({ socket, closed }));
        const closed = new Promise<void>((r) => socket.on('close', () => r()));
        socket.on('error', () => {});
        cleanups.push(() => socket.destroy());
      });
    const mine = await Promise.all(Array.from({ length: 5 }, () => open('127.0.0.1')));
    await Promise.race([Promise.all(mine.slice(3).map((s) => s.closed)), new Promise((r) => setTimeout(r, 2000))]);
    expect(hardened.refused()).toBe(2);
    expect(hardened.peers!.held('127.0.0.1')).toBe(3);
    expect((await request(`http://127.0.0.1:${port}`, '/', { localAddress: '127.0.0.2' })).text).toBe('ok');
    await Promise.all(Array.from({ length: 5 }, () => open('127.0.0.3')));
    expect(hardened.refused()).toBe(2);
    for (const { socket } of mine) socket.destroy();
    await settle(() => hardened.peers!.held('127.0.0.1') === 0);
    expect(hardened.peers!.held('127.0.0.1')).toBe(0);
  });

  it("keeps an Express app (the README's shape) answering with its cap full of idle bodies", async () => {
    const gate = new Gate({ secret: SECRET, difficulty: 4 });
    const service = new PowgateService(gate, { maxConcurrency: 2, maxPerClient: 64, bodyTimeoutMs: 60_000, metrics: new HttpMetrics({ defaultMetrics: false }) });
    const app = express();
    app.use(service.handle);
    const server = app.listen(0, '127.0.0.1');
    hardenServer(server);
    await new Promise((r) => server.once('listening', r));
    cleanups.push(
      () => close(server),
      () => gate.close(),
    );
    const port = (server.address() as { port: number }).port;
    Array.from({ length: 10 }, () => slowBody(port));
    await settle(() => service.clientRequests('127.0.0.1') === 10);
    expect(service.inFlight).toBe(0);
    const url = `http://127.0.0.1:${port}`;
    expect((await request(url, '/healthz', { localAddress: '127.0.0.2' })).status).toBe(200);
    expect((await post(url, '/api/token/verify', { token: 'x' }, { localAddress: '127.0.0.2' })).json).toEqual({ valid: false, reason: 'malformed' });
  });

  it('refuses bad options with ERR_INVALID_ARGUMENT', () => {
    expect(() => hardenServer({} as never)).toThrow(/node:http Server/);
    expect(() => hardenServer(createServer(), { headersTimeoutMs: 5000, requestTimeoutMs: 1000 })).toThrow(/at most requestTimeoutMs/);
    expect(() => hardenServer(createServer(), { maxConnectionsPerPeer: -1 })).toThrow(/maxConnectionsPerPeer/);
  });
});
