#!/usr/bin/env node
/**
 * `npm run bench:slow-bodies`: the idle-body attack of issue 16 against `powgate serve`.
 *
 *   1. start `node dist/cli.js serve` on a free port (memory store, defaults);
 *   2. open BENCH_SOCKETS (default 520) sockets from 127.0.0.1, each sending the headers of
 *      `POST /api/token/verify` and one byte of a declared 100-byte body, then nothing;
 *   3. from 127.0.0.2 (another client), time BENCH_REQUESTS (default 200) requests each to
 *      `GET /healthz` and `POST /api/token/verify`, one at a time;
 *   4. print how many answered 200 and their p50, p99 and max latency, and how many idle
 *      sockets the server closed: at once (the per-peer connection cap, the per-client
 *      request cap), then after the body deadline (408).
 * The target (issue 16): every request answered 200 within 50 ms.
 */
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const SOCKETS = Number(process.env.BENCH_SOCKETS ?? 520);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 200);
const cli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const secret = process.env.POWGATE_SECRET ?? 'bench-slow-bodies-secret-0123456789abcdef-0123456789';

const child = spawn(process.execPath, [cli, 'serve', '--port', '0', '--log-level', 'warn'], {
  env: { ...process.env, POWGATE_SECRET: secret },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const url = await new Promise((resolve, reject) => {
  createInterface({ input: child.stdout }).once('line', (line) => resolve(JSON.parse(line).url));
  child.once('exit', (code) => reject(new Error(`powgate serve exited with ${code}`)));
});
const port = Number(new URL(url).port);

let closed = 0;
const idle = await Promise.all(
  Array.from(
    { length: SOCKETS },
    () =>
      new Promise((resolve) => {
        const socket = connect({ port, host: '127.0.0.1', localAddress: '127.0.0.1' }, () => {
          socket.write('POST /api/token/verify HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{');
          resolve(socket);
        });
        // Read what the server sends, or its close is never seen.
        socket
          .resume()
          .on('error', () => {})
          .on('close', () => closed++);
      }),
  ),
);
await new Promise((r) => setTimeout(r, 500));

/** One request from 127.0.0.2: its status and ms. */
function timed(method, path, body) {
  const started = performance.now();
  return new Promise((resolve) => {
    const req = request(
      new URL(path, url),
      { method, localAddress: '127.0.0.2', headers: body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {} },
      (res) => {
        res.resume().on('end', () => resolve({ status: res.statusCode, ms: performance.now() - started }));
      },
    );
    req.on('error', () => resolve({ status: 0, ms: performance.now() - started }));
    req.end(body);
  });
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
for (const [name, method, body] of [
  ['GET /healthz', 'GET'],
  ['POST /api/token/verify', 'POST', '{"token":"x"}'],
]) {
  const results = [];
  for (let i = 0; i < REQUESTS; i++) results.push(await timed(method, name.split(' ')[1], body));
  const ms = results.map((r) => r.ms).sort((a, b) => a - b);
  const ok = results.filter((r) => r.status === 200).length;
  console.log(
    `${name.padEnd(24)} ${ok}/${REQUESTS} answered 200   p50 ${percentile(ms, 50).toFixed(2)} ms   p99 ${percentile(ms, 99).toFixed(2)} ms   max ${ms.at(-1).toFixed(2)} ms`,
  );
}
console.log(`idle sockets: ${SOCKETS} opened, ${closed} closed by the server so far`);
await new Promise((r) => setTimeout(r, 6000));
console.log(`idle sockets after the body deadline: ${closed} closed`);
for (const socket of idle) socket.destroy();
child.kill('SIGTERM');
