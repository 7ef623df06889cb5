#!/usr/bin/env node
/**
 * `npm run bench:http`: the hot route of the token service, `POST /api/token/verify`
 * on `powgate serve`, against a bare node:http JSON echo server, both on this machine,
 * measured in the same run with the same autocannon settings.
 *
 *   1. print machine facts and how busy the CPU is;
 *   2. start the servers as their own processes (`node dist/cli.js serve --difficulty 18`,
 *      with its logs as shipped, on the memory store and, when `redis-server` is installed,
 *      on a redis-server of its own started on a free port; and this file with `--echo`);
 *   3. agreement before timing (exit 1 if wrong): powgate answers `valid: true` for the
 *      token and spends one of its calls (`used`, `remaining`), the echo server returns the
 *      body it was sent;
 *      every check spends one of the token's calls, so the tokens carry the protocol's
 *      largest allowance (1,048,576 calls) at the serve's price (18 bits per call), for the
 *      default door (scope ''), and each autocannon run (warm-up or timed) gets a fresh
 *      token; after every run the token's `used` (asked by spending one more) must have grown
 *      by at least the answers counted, and by at most that plus the connections in flight;
 *      powgate is measured: one client's token repeated (as a client presents it on every
 *      call; the gate may remember that its MAC is valid, never skip the spend), a new token
 *      on every request (every check decodes and HMACs in full), and the repeated token with
 *      the calls spent in Redis (no target: requests/s and p99 reported);
 *   4. interleaved rounds (the order alternates), each a warm-up and then a timed
 *      autocannon run per server; any non-2xx answer or error fails the bench;
 *   5. print medians of requests/s and p99 latency, the ratio, the target (the token check
 *      with its spend on the memory store >= 0.7x the echo server), and write
 *      bench/results/http-*.json.
 *
 * Env: BENCH_ROUNDS (default 5), BENCH_QUICK=1 (2 short rounds), BENCH_WAIT_IDLE,
 *      BENCH_CONNECTIONS (default 50), BENCH_SECONDS (seconds per timed run; default 5, quick 2),
 *      BENCH_REDIS=0 (skip the Redis row).
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startRedisServer } from '../lib/redis-server.mjs';

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
  const { busyWarning, cpuLoadBetween, cpuSnapshot, describeCpuLoad, loadAverage, roundWarnings } = await import('../lib/machine.mjs');
  const { writeJson } = await import('../lib/report.mjs');
  const { REPO_ROOT, RESULTS_DIR, fail, startBench } = await import('../lib/settings.mjs');
  const { median, summarize, round } = await import('../lib/stats.mjs');

  const { startedAt, config, powgate, machine, cpuLoadAtStart } = await startBench();
  const env = process.env;
  const connections = Number(env.BENCH_CONNECTIONS ?? 50);
  const seconds = Number(env.BENCH_SECONDS ?? (config.quick ? 2 : 5));
  if (!(connections >= 1 && seconds >= 1)) fail('BENCH_CONNECTIONS and BENCH_SECONDS must be numbers >= 1');
  const warmupSeconds = config.quick ? 1 : 2;

  const secret = 'the http bench secret, 32 bytes or more';
  // Every check spends a call: the protocol's largest allowance, at the serve's price per call
  // (`--difficulty 18`, one sub-puzzle: 18 bits), for the default door '' (serve declares no other).
  const DIFFICULTY = 18;
  const MAX_CALLS = 1_048_576;
  const newToken = () => powgate.issueToken({ secret, scope: '', ttlMs: 3_600_000, calls: MAX_CALLS, price: DIFFICULTY });
  const token = newToken();
  const body = JSON.stringify({ token });
  const children = [];
  const stopAll = () => children.forEach((child) => child.exitCode === null && child.kill('SIGKILL'));
  process.on('exit', stopAll);

  /** redis-server on a free port, without persistence; null when it is not installed or BENCH_REDIS=0. */
  async function startRedis() {
    if (env.BENCH_REDIS === '0' || spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status !== 0) return null;
    const redis = await startRedisServer();
    children.push(redis.child);
    return redis;
  }

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
  const serveArgs = [cli, 'serve', '--port', '0', '--difficulty', String(DIFFICULTY)];
  const redis = await startRedis();
  const targets = await Promise.all([start('powgate serve: POST /api/token/verify', serveArgs, { POWGATE_SECRET: secret }), start('node:http JSON echo', [SELF, '--echo'])]);
  targets[0].path = '/api/token/verify';
  targets[0].spends = true;
  targets[1].path = '/echo';
  // The same server and route with a different token on every request: every check
  // misses the gate's cache of valid tokens (10,000 entries) and decodes and HMACs the token
  // in full. Fewer than the memory store's 100,000 tokens with calls counted (its default
  // maxTokens): beyond that, checks of new tokens are refused store_full, answered 200.
  const DISTINCT = 50_000;
  const distinct = Array.from({ length: DISTINCT }, () => JSON.stringify({ token: newToken() }));
  const eachDistinct = () => {
    let next = 0;
    return [{ setupRequest: (request) => ({ ...request, body: distinct[next++ % DISTINCT] }) }];
  };
  targets.splice(1, 0, { ...targets[0], name: 'powgate serve: same, a new token per request', requests: eachDistinct() });
  // autocannon rebuilds every request when the body changes, which takes CPU from the server on
  // 2 cores: the new-token row is set against the echo server under the same client load.
  targets.push({ ...targets[2], name: 'node:http JSON echo: a new body per request', requests: eachDistinct() });
  // The repeated token with its calls spent in Redis (one round trip per check): no target.
  if (redis) {
    const withRedis = await start('powgate serve --redis: POST /api/token/verify', [...serveArgs, '--redis', redis.url], { POWGATE_SECRET: secret });
    targets.push({ ...withRedis, path: '/api/token/verify', spends: true });
  } else {
    console.log('redis-server not found (or BENCH_REDIS=0): no Redis row');
  }
  const [pgTarget, , echoTarget, , redisTarget] = targets;

  const post = async (target, payload) => {
    const reply = await fetch(new URL(target.path, target.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) });
    return { status: reply.status, json: await reply.json() };
  };
  /**
   * How many of a token's calls were spent before this question: a check-only answer does not
   * read the count (it carries no `used`), so this spends one more and subtracts it.
   */
  const usedOf = async (target, token) => {
    const { json } = await post(target, { token });
    return { valid: json.valid, used: json.valid === true ? json.used - 1 : undefined };
  };

  // Agreement before timing (the distinct tokens are the same kind as the repeated one):
  // valid, spent once by the check, and the check-only answer says so without spending.
  for (const target of [pgTarget, echoTarget, redisTarget].filter(Boolean)) {
    const { status, json } = await post(target, { token });
    let ok;
    if (target.spends) {
      const expected = { valid: true, method: 'pow', scope: '', calls: MAX_CALLS, price: DIFFICULTY };
      const first = status === 200 && Object.entries(expected).every(([k, v]) => json[k] === v) && json.used === 1 && json.remaining === MAX_CALLS - 1;
      const checkOnly = (await post(target, { token, check_only: true })).json;
      const checked = await usedOf(target, token);
      ok = first && checkOnly.valid === true && checkOnly.used === undefined && checked.valid === true && checked.used === 1;
    } else {
      ok = status === 200 && json.token === token;
    }
    if (!ok) {
      stopAll();
      fail(`${target.name} answered ${status} ${JSON.stringify(json).slice(0, 300)}`);
    }
  }
  console.log(
    `agreement: powgate says valid for the token and spends one of its ${MAX_CALLS} calls (used 1, remaining ${MAX_CALLS - 1}), check_only does not spend (the next check says used 2); the echo server returns the body (${body.length} bytes)`,
  );
  console.log(`tokens: scope '' (the default door), ${MAX_CALLS} calls at ${DIFFICULTY} bits per call (serve --difficulty ${DIFFICULTY}); a fresh token for every autocannon run`);
  console.log(`autocannon: ${connections} connections, pipelining 1, ${seconds} s per run after a ${warmupSeconds} s warm-up, ${config.rounds} rounds, order alternating`);

  /**
   * One autocannon run with a fresh token (the echo server gets a body of the same size). On a
   * spending server, the token's `used` afterwards must be at least the 2xx answers counted and
   * at most that plus the requests in flight when the run stopped: every check spent a call
   * (and answered valid: a 200 with `valid: false` would not show as an error).
   */
  const run = async (target, duration) => {
    const fresh = newToken();
    const runBody = JSON.stringify({ token: fresh });
    const result = await new Promise((resolve, reject) => {
      autocannon(
        {
          url: new URL(target.path, target.url).href,
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: runBody,
          connections,
          pipelining: 1,
          duration,
          ...(target.requests ? { requests: target.requests } : {}),
        },
        (error, result) => (error ? reject(error) : resolve(result)),
      );
    });
    if (target.spends && target.requests) {
      // Every distinct token still passes (a refusal, e.g. store_full, is a 200 too).
      const { json } = await post(target, { token: JSON.parse(distinct[Math.floor(Math.random() * DISTINCT)]).token });
      if (json.valid !== true) {
        stopAll();
        fail(`${target.name}: a distinct token answered ${JSON.stringify(json).slice(0, 200)} after the run`);
      }
    }
    if (target.spends && !target.requests) {
      const answered = result['2xx'];
      const { valid, used } = await usedOf(target, fresh);
      if (valid !== true || !(used >= answered && used <= answered + connections)) {
        stopAll();
        fail(`${target.name}: the token's used calls (${used}, valid ${valid}) do not match the ${answered} checks answered`);
      }
      result.spent = used;
    }
    return result;
  };

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
  // Each server process once (rows share processes), and redis-server: all part of the bench.
  const serverPids = [...new Set([...targets.map((t) => t.child.pid), ...(redis ? [redis.child.pid] : [])])];
  const serverSeconds = () => serverPids.map(processSeconds);

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
    children.map(
      (child) =>
        new Promise((resolve) => {
          if (child.exitCode !== null) return resolve();
          child.once('exit', resolve);
          child.kill('SIGTERM');
        }),
    ),
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
  const [pg, cold, echo, echoCold, withRedis] = rows;
  const ratio = pg.requestsPerSecond.median / echo.requestsPerSecond.median;
  const coldRatio = cold.requestsPerSecond.median / echoCold.requestsPerSecond.median;
  const perRound = samples.get(pg.name).map((s, i) => s.requestsPerSecond / samples.get(echo.name)[i].requestsPerSecond);
  const coldPerRound = samples.get(cold.name).map((s, i) => s.requestsPerSecond / samples.get(echoCold.name)[i].requestsPerSecond);
  const target = { minRatio: 0.7 };
  const verdict = ratio >= target.minRatio ? 'met' : 'NOT met';

  console.log('');
  const header = ['server', 'req/s median', 'min', 'max', 'p99 ms median', 'p50 ms median'];
  const table = [
    header,
    ...rows.map((row) => [
      row.name,
      Math.round(row.requestsPerSecond.median).toString(),
      Math.round(row.requestsPerSecond.min).toString(),
      Math.round(row.requestsPerSecond.max).toString(),
      row.p99Ms.median.toString(),
      row.p50Ms.median.toString(),
    ]),
  ];
  const widths = header.map((_, i) => Math.max(...table.map((r) => r[i].length)));
  for (const row of table) console.log(row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  '));
  console.log('');
  console.log(`ratio (powgate / echo, medians): ${ratio.toFixed(3)}x; per round: ${perRound.map((x) => x.toFixed(2)).join(' ')} (median ${median(perRound).toFixed(3)}x)`);
  console.log(
    `ratio with a new token per request (against the echo server with a new body per request): ${coldRatio.toFixed(3)}x; per round: ${coldPerRound.map((x) => x.toFixed(2)).join(' ')}`,
  );
  console.log(`target: >= ${target.minRatio}x of the echo server's requests/s (a client's token, repeated, each check spending a call in memory): ${verdict}`);
  if (withRedis) {
    console.log(
      `Redis (calls spent in redis-server, one round trip per check; no target): ${Math.round(withRedis.requestsPerSecond.median)} req/s median, p99 ${withRedis.p99Ms.median} ms median (${(withRedis.requestsPerSecond.median / echo.requestsPerSecond.median).toFixed(3)}x the echo server)`,
    );
  }
  const warnings = [busyWarning(cpuLoadAtStart, 'before the run'), ...roundWarnings(roundLoads)].filter(Boolean);
  for (const warning of warnings) console.log(warning);

  const report = {
    startedAt,
    mode: config.mode,
    machine: { ...machine, loadAverageAtEnd: loadAverage() },
    settings: {
      connections,
      pipelining: 1,
      seconds,
      warmupSeconds,
      rounds: config.rounds,
      bodyBytes: body.length,
      logs: 'powgate serve as shipped (token checks answered 200 logged at debug, hidden at the default info), stdout drained',
      serve: `powgate serve --difficulty ${DIFFICULTY}`,
      tokens: { scope: '', calls: MAX_CALLS, price: DIFFICULTY, freshPerRun: true, spendsPerCheck: true },
      redis: redis ? 'redis-server --save "" --appendonly no, on loopback' : null,
    },
    results: rows.map((row) => ({ ...row, rounds: row.rounds.map((s) => ({ ...s, requestsPerSecond: round(s.requestsPerSecond, 1) })) })),
    ratio: round(ratio, 3),
    ratioPerRound: perRound.map((x) => round(x, 3)),
    ratioNewTokenPerRequest: round(coldRatio, 3),
    ratioNewTokenPerRequestPerRound: coldPerRound.map((x) => round(x, 3)),
    redis: withRedis
      ? {
          requestsPerSecond: round(withRedis.requestsPerSecond.median, 1),
          p99Ms: withRedis.p99Ms.median,
          ratioToEcho: round(withRedis.requestsPerSecond.median / echo.requestsPerSecond.median, 3),
        }
      : null,
    target: { ...target, verdict },
    cpuLoad: { atStart: cpuLoadAtStart, rounds: roundLoads },
    warnings,
  };
  const files = writeJson(RESULTS_DIR, report, 'http');
  console.log(`wrote ${files.map((f) => path.relative(REPO_ROOT, f)).join(', ')}`);
  process.exit(0);
}
