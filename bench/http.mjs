#!/usr/bin/env node
/**
 * `npm run bench:http`: the hot route of the token service, `POST /api/token/verify`
 * on `powgate serve`, against a bare node:http JSON echo server, both on this machine,
 * measured in the same run with the same autocannon settings.
 *
 *   1. print machine facts and how busy the CPU is;
 *   2. start both servers as their own processes (`node dist/cli.js serve`, with its
 *      per-request JSON logs on as shipped, and this file with `--echo`);
 *   3. agreement before timing (exit 1 if wrong): powgate answers `valid: true` for the
 *      token, the echo server returns the body it was sent;
 *      powgate is measured twice: one client's token repeated (as a client presents it on
 *      every call; the gate remembers valid tokens), and a new token on every request
 *      (every check decodes and HMACs in full);
 *   4. interleaved rounds (the order alternates), each a warm-up and then a timed
 *      autocannon run per server; any non-2xx answer or error fails the bench;
 *   5. print medians of requests/s and p99 latency, the ratio, the target (>= 0.7x),
 *      and write bench/results/http-*.json.
 *
 * Env: BENCH_ROUNDS (default 5), BENCH_QUICK=1 (2 short rounds), BENCH_WAIT_IDLE,
 *      BENCH_CONNECTIONS (default 50), BENCH_SECONDS (seconds per timed run; default 5, quick 2).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const SELF = fileURLToPath(import.meta.url);

// ---------------------------------------------------------------- the echo server (child mode)

if (process.argv[2] === '--echo') {
  // What a minimal JSON API does per request: read the body, parse it, answer JSON.
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      let body;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        res.writeHead(400).end();
        return;
      }
      const text = JSON.stringify(body);
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    });
  });
  server.keepAliveTimeout = 5000;
  server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ msg: 'listening', url: `http://127.0.0.1:${server.address().port}` })));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
} else {
  await main();
}

// ---------------------------------------------------------------- the bench

async function main() {
  const { default: autocannon } = await import('autocannon');
  const { busyWarning, cpuLoadBetween, cpuSnapshot, describeCpuLoad, loadAverage, roundWarnings } = await import('./machine.mjs');
  const { writeJson } = await import('./report.mjs');
  const { REPO_ROOT, RESULTS_DIR, fail, startBench } = await import('./settings.mjs');
  const { median, summarize, round } = await import('./stats.mjs');

  const { startedAt, config, powgate, machine, cpuLoadAtStart } = await startBench();
  const env = process.env;
  const connections = Number(env.BENCH_CONNECTIONS ?? 50);
  const seconds = Number(env.BENCH_SECONDS ?? (config.quick ? 2 : 5));
  if (!(connections >= 1 && seconds >= 1)) fail('BENCH_CONNECTIONS and BENCH_SECONDS must be numbers >= 1');
  const warmupSeconds = config.quick ? 1 : 2;

  const secret = 'the http bench secret, 32 bytes or more';
  const token = powgate.issueToken({ secret, scope: 'bench', ttlMs: 3_600_000 });
  const body = JSON.stringify({ token });
  const children = [];
  const stopAll = () => children.forEach((child) => child.exitCode === null && child.kill('SIGKILL'));
  process.on('exit', stopAll);

  /** Starts a server process and resolves its URL from its first stdout line; the rest of stdout is drained. */
  function start(name, args, extraEnv = {}) {
    const child = spawn(process.execPath, args, { env: { ...process.env, ...extraEnv }, stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    return new Promise((resolve, reject) => {
      const lines = createInterface({ input: child.stdout });
      lines.once('line', (line) => {
        lines.close();
        child.stdout.resume(); // Drain the per-request logs so that the pipe never blocks the server.
        try {
          resolve({ name, child, url: JSON.parse(line).url });
        } catch {
          reject(new Error(`${name} did not start: ${line}`));
        }
      });
      child.once('exit', (code) => reject(new Error(`${name} exited with ${code} before listening`)));
    });
  }

  const cli = path.join(REPO_ROOT, 'dist', 'cli.js');
  const targets = await Promise.all([
    start('powgate serve: POST /api/token/verify', [cli, 'serve', '--port', '0'], { POWGATE_SECRET: secret }),
    start('node:http JSON echo', [SELF, '--echo']),
  ]);
  targets[0].path = '/api/token/verify';
  targets[1].path = '/echo';
  // The same server and route with a different token on every request: every check
  // misses the gate's cache of valid tokens and decodes and HMACs the token in full.
  const DISTINCT = 200_000;
  const distinct = Array.from({ length: DISTINCT }, () => JSON.stringify({ token: powgate.issueToken({ secret, scope: 'bench', ttlMs: 3_600_000 }) }));
  const eachDistinct = () => {
    let next = 0;
    return [{ setupRequest: (request) => ({ ...request, body: distinct[next++ % DISTINCT] }) }];
  };
  targets.splice(1, 0, { ...targets[0], name: 'powgate serve: same, a new token per request', requests: eachDistinct() });
  // autocannon rebuilds every request when the body changes, which takes CPU from the server on
  // 2 cores: the new-token row is set against the echo server under the same client load.
  targets.push({ ...targets[2], name: 'node:http JSON echo: a new body per request', requests: eachDistinct() });

  // Agreement before timing (the distinct tokens are the same kind as the repeated one).
  for (const target of [targets[0], targets[2]]) {
    const reply = await fetch(new URL(target.path, target.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const json = await reply.json();
    const expected = target === targets[0] ? { valid: true, method: 'pow', scope: 'bench' } : { token };
    const ok = reply.status === 200 && Object.entries(expected).every(([k, v]) => json[k] === v);
    if (!ok) {
      stopAll();
      fail(`${target.name} answered ${reply.status} ${JSON.stringify(json).slice(0, 200)}`);
    }
  }
  console.log(`agreement: powgate says valid for the token; the echo server returns the body (${body.length} bytes)`);
  console.log(`autocannon: ${connections} connections, pipelining 1, ${seconds} s per run after a ${warmupSeconds} s warm-up, ${config.rounds} rounds, order alternating`);

  const run = (target, duration) =>
    new Promise((resolve, reject) => {
      autocannon(
        { url: new URL(target.path, target.url).href, method: 'POST', headers: { 'content-type': 'application/json' }, body, connections, pipelining: 1, duration, ...(target.requests ? { requests: target.requests } : {}) },
        (error, result) => (error ? reject(error) : resolve(result)),
      );
    });

  /** CPU seconds a server process has used so far (Linux /proc; null elsewhere). */
  const processSeconds = (pid) => {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in USER_HZ (100 on Linux)
    } catch {
      return null;
    }
  };
  /** The load between two snapshots with the servers' own CPU taken out of "others": they are part of the bench. */
  const roundLoad = (before, after, serversBefore, serversAfter) => {
    const load = cpuLoadBetween(before, after);
    if (serversBefore.includes(null) || serversAfter.includes(null) || load.others === null) return load;
    const servers = serversAfter.reduce((sum, v, i) => sum + v - serversBefore[i], 0) / load.seconds;
    return { ...load, servers, others: Math.max(0, load.others - servers) };
  };
  const serverSeconds = () => targets.map((t) => processSeconds(t.child.pid));

  const samples = new Map(targets.map((t) => [t.name, []]));
  const roundLoads = [];
  for (let r = 0; r < config.rounds; r++) {
    const order = r % 2 === 0 ? targets : [...targets].reverse(); // the order alternates

    const before = cpuSnapshot();
    const serversBefore = serverSeconds();
    for (const target of order) {
      await run(target, warmupSeconds);
      const result = await run(target, seconds);
      if (result.errors || result.timeouts || result.non2xx) {
        stopAll();
        fail(`${target.name}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx answers in round ${r + 1}`);
      }
      const sample = { requestsPerSecond: result.requests.average, p50Ms: result.latency.p50, p99Ms: result.latency.p99, maxMs: result.latency.max, total: result.requests.total };
      samples.get(target.name).push(sample);
      console.log(`round ${r + 1}/${config.rounds}  ${target.name.padEnd(46)} ${Math.round(sample.requestsPerSecond).toString().padStart(7)} req/s  p99 ${sample.p99Ms} ms`);
    }
    roundLoads.push(roundLoad(before, cpuSnapshot(), serversBefore, serverSeconds()));
    const load = roundLoads.at(-1);
    console.log(`          cpu: ${describeCpuLoad(load)}${load.servers === undefined ? '' : `, servers ${load.servers.toFixed(2)}`}`);
  }
  await Promise.all(
    children.map((child) => new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', resolve);
      child.kill('SIGTERM');
    })),
  );

  // Results.
  const rows = targets.map((t) => {
    const list = samples.get(t.name);
    return {
      name: t.name,
      requestsPerSecond: summarize(list.map((s) => s.requestsPerSecond)),
      p99Ms: summarize(list.map((s) => s.p99Ms)),
      p50Ms: summarize(list.map((s) => s.p50Ms)),
      rounds: list,
    };
  });
  const [pg, cold, echo, echoCold] = rows;
  const ratio = pg.requestsPerSecond.median / echo.requestsPerSecond.median;
  const coldRatio = cold.requestsPerSecond.median / echoCold.requestsPerSecond.median;
  const perRound = samples.get(pg.name).map((s, i) => s.requestsPerSecond / samples.get(echo.name)[i].requestsPerSecond);
  const coldPerRound = samples.get(cold.name).map((s, i) => s.requestsPerSecond / samples.get(echoCold.name)[i].requestsPerSecond);
  const target = { minRatio: 0.7 };
  const verdict = ratio >= target.minRatio ? 'met' : 'NOT met';

  console.log('');
  const header = ['server', 'req/s median', 'min', 'max', 'p99 ms median', 'p50 ms median'];
  const table = [header, ...rows.map((row) => [
    row.name,
    Math.round(row.requestsPerSecond.median).toString(),
    Math.round(row.requestsPerSecond.min).toString(),
    Math.round(row.requestsPerSecond.max).toString(),
    row.p99Ms.median.toString(),
    row.p50Ms.median.toString(),
  ])];
  const widths = header.map((_, i) => Math.max(...table.map((r) => r[i].length)));
  for (const row of table) console.log(row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  '));
  console.log('');
  console.log(`ratio (powgate / echo, medians): ${ratio.toFixed(3)}x; per round: ${perRound.map((x) => x.toFixed(2)).join(' ')} (median ${median(perRound).toFixed(3)}x)`);
  console.log(`ratio with a new token per request (against the echo server with a new body per request): ${coldRatio.toFixed(3)}x; per round: ${coldPerRound.map((x) => x.toFixed(2)).join(' ')}`);
  console.log(`target: >= ${target.minRatio}x of the echo server's requests/s (a client's token, repeated): ${verdict}`);
  const warnings = [busyWarning(cpuLoadAtStart, 'before the run'), ...roundWarnings(roundLoads)].filter(Boolean);
  for (const warning of warnings) console.log(warning);

  const report = {
    startedAt,
    mode: config.mode,
    machine: { ...machine, loadAverageAtEnd: loadAverage() },
    settings: { connections, pipelining: 1, seconds, warmupSeconds, rounds: config.rounds, bodyBytes: body.length, logs: 'powgate serve as shipped: one JSON line per request (info), stdout drained' },
    results: rows.map((row) => ({ ...row, rounds: row.rounds.map((s) => ({ ...s, requestsPerSecond: round(s.requestsPerSecond, 1) })) })),
    ratio: round(ratio, 3),
    ratioPerRound: perRound.map((x) => round(x, 3)),
    ratioNewTokenPerRequest: round(coldRatio, 3),
    ratioNewTokenPerRequestPerRound: coldPerRound.map((x) => round(x, 3)),
    target: { ...target, verdict },
    cpuLoad: { atStart: cpuLoadAtStart, rounds: roundLoads },
    warnings,
  };
  const files = writeJson(RESULTS_DIR, report, 'http');
  console.log(`wrote ${files.map((f) => path.relative(REPO_ROOT, f)).join(', ')}`);
  process.exit(0);
}
