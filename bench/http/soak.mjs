#!/usr/bin/env node
/**
 * `npm run bench:soak -- [DURATION]` (default 1m; e.g. `10m`, `90s`): a soak of issue 16.
 *
 *   1. start redis-server (no persistence, noeviction) and two `node dist/cli.js serve --redis`
 *      processes with the same secret (short lifetimes, so that Redis reaches its steady state
 *      within the warm-up: challenges 30 s, tokens 60 s);
 *   2. drive a mixed load across both, SOAK_WORKERS (default 8) loops each picking one of:
 *      redeem (a challenge from one server, calls 1 to 5, solved, redeemed on the other), use a
 *      token's call, replay (another solution of a redeemed challenge: must be refused; the same
 *      one: must get the same token), check a token without spending, malformed input, /healthz;
 *   3. every interval (30 s, 10 s for runs under 5 minutes; SOAK_INTERVAL_S) print a row:
 *      elapsed, requests and errors in the interval, p50/p99 latency, the peak RSS of each serve
 *      process (/proc/<pid>/status VmRSS) and the floor of its V8 heap in use (its /metrics),
 *      both sampled every 2 s (memory is a sawtooth: one sample lands at any phase), the RSS of Redis
 *      (INFO memory), Redis's key count, and the
 *      machine's 1-minute load average (other work on the machine moves the latencies);
 *   4. at the end, a verdict on flatness: after the warm-up (the first 20% of the run, at most
 *      90 s), the mean of the last third of the rows against the mean of the first third.
 *
 * An error is any answer outside what the request may get (e.g. a 500, a refused valid token,
 * a malformed body answered 200). A violation is worse: a call passed more often than its token
 * bought (counted per token, over the whole run, whatever the order of the answers), a `used`
 * count seen twice, or a challenge redeemed into a second token. The run fails on either.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startRedisServer } from '../lib/redis-server.mjs';

const root = new URL('../..', import.meta.url);
const cli = fileURLToPath(new URL('dist/cli.js', root));
const { MemoryReplayStore, verifySolution } = await import(new URL('dist/index.js', root).href);
const { Redis } = await import('ioredis');

/** `10m`, `90s`, `1h` or a number of seconds. */
function seconds(text) {
  const match = /^(\d+(?:\.\d+)?)(s|m|h)?$/.exec(String(text).trim());
  if (!match) throw new Error(`expected a duration such as 10m or 90s, not ${text}`);
  return Number(match[1]) * { s: 1, m: 60, h: 3600 }[match[2] ?? 's'];
}

const DURATION_S = seconds(process.argv[2] ?? '1m');
const INTERVAL_S = Number(process.env.SOAK_INTERVAL_S ?? (DURATION_S >= 300 ? 30 : 10));
const WORKERS = Number(process.env.SOAK_WORKERS ?? 8);
const WARMUP_S = Math.min(90, DURATION_S * 0.2);
const SECRET = process.env.POWGATE_SECRET ?? 'the soak bench secret, 32 bytes or more, 0123456789';
const POOL = 1000; // tokens and redeemed challenges kept for reuse (a FIFO: the bench's own memory stays flat)

const children = [];
process.on('exit', () => children.forEach((child) => child.exitCode === null && child.kill('SIGKILL')));

async function startRedis() {
  const redis = await startRedisServer(['--maxmemory-policy', 'noeviction']);
  children.push(redis.child);
  return redis;
}

function startServe(redisUrl) {
  const args = [
    cli,
    'serve',
    '--port',
    '0',
    '--redis',
    redisUrl,
    '--base-difficulty',
    '4',
    '--max-difficulty',
    '8',
    '--free-requests',
    '1000000000',
    '--challenge-ttl',
    '30s',
    '--token-ttl',
    '60s',
    '--log-level',
    'warn',
    '--metrics-port',
    '0',
  ];
  const child = spawn(process.execPath, args, { env: { ...process.env, POWGATE_SECRET: SECRET }, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once('line', (line) => {
      try {
        const { url, metrics } = JSON.parse(line);
        resolve({ child, url, metrics });
      } catch {
        reject(new Error(`powgate serve did not start: ${line}`));
      }
      // Warnings (Redis outages) go on to stderr, numbered by the run's errors anyway.
      lines.on('line', (more) => /"level":[4-6]\d/.test(more) && process.stderr.write(`serve: ${more}\n`));
    });
    child.once('exit', (code) => reject(new Error(`powgate serve exited with ${code}`)));
  });
}

const redis = await startRedis();
const servers = await Promise.all([0, 1].map(() => startServe(redis.url)));
const admin = new Redis(redis.url);
const agent = new Agent({ keepAlive: true, maxSockets: WORKERS * 2 });

// ---------------------------------------------------------------- measuring

let latencies = [];
let requests = 0;
let errors = 0;
let totalErrors = 0;
let totalRequests = 0;
const violations = [];
const examples = [];

/** One request: `{ status, json, text }`; its latency is recorded. */
function call(url, path, body, raw = false) {
  const payload = body === undefined ? undefined : raw ? body : JSON.stringify(body);
  const started = performance.now();
  return new Promise((resolve) => {
    const req = request(
      new URL(path, url),
      {
        method: payload === undefined ? 'GET' : 'POST',
        agent,
        headers: payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      },
      (res) => {
        let text = '';
        res
          .setEncoding('utf8')
          .on('data', (chunk) => (text += chunk))
          .on('end', () => {
            latencies.push(performance.now() - started);
            requests++;
            let json;
            try {
              json = JSON.parse(text);
            } catch {}
            resolve({ status: res.statusCode, json, text });
          });
      },
    );
    req.on('error', (error) => {
      latencies.push(performance.now() - started);
      requests++;
      resolve({ status: 0, text: error.message });
    });
    req.end(payload);
  });
}

function error(what, reply) {
  errors++;
  totalErrors++;
  if (examples.length < 10) examples.push(`${what}: ${reply.status} ${String(reply.text).slice(0, 200)}`);
}

function violation(text) {
  if (violations.length < 20) violations.push(text);
  else violations.length++;
}

// ---------------------------------------------------------------- the load

/** Redeemed challenges: { challenge, solutions: [first, other], token, calls, passes, used: Set }. */
const pool = [];
const pick = () => pool[Math.floor(Math.random() * pool.length)];
const server = () => servers[Math.floor(Math.random() * 2)].url;

/** Two valid solutions of a one-sub-puzzle challenge (a few dozen nonces at 4 to 8 bits). */
async function twoSolutions(challenge) {
  const found = [];
  for (let n = Math.floor(Math.random() * 2 ** 40); found.length < 2; n++) {
    const solution = { v: 1, id: challenge.id, nonces: [n.toString(16).padStart(16, '0')] };
    if ((await verifySolution(challenge, solution, { secret: SECRET, store: new MemoryReplayStore({ since: 0 }) })).ok) found.push(solution);
  }
  return found;
}

async function redeem() {
  const from = Math.floor(Math.random() * 2);
  const calls = 1 + Math.floor(Math.random() * 5);
  const issued = await call(servers[from].url, '/api/challenge', { calls });
  if (issued.status !== 200) return error('challenge', issued);
  const { challenge } = issued.json;
  const solutions = await twoSolutions(challenge);
  const redeemed = await call(servers[1 - from].url, '/api/verify', { challenge, solution: solutions[0] });
  if (redeemed.status !== 200) return error('redeem', redeemed);
  pool.push({ challenge, solutions, token: redeemed.json.token, calls, passes: 0, used: new Set(), inFlight: 0, exhausted: false });
  if (pool.length > POOL) retired.push(pool.shift());
}

/** Tokens out of the pool, judged (then dropped) once none of their calls is in flight. */
let retired = [];
let lostCalls = 0;
/** A token refused as exhausted before every call it bought passed: a call was counted but never answered as passed. */
function judge(entries) {
  for (const entry of entries) if (entry.inFlight === 0 && entry.exhausted && entry.passes < entry.calls) lostCalls++;
}
function judgeRetired() {
  judge(retired.filter((entry) => entry.inFlight === 0));
  retired = retired.filter((entry) => entry.inFlight > 0);
}

async function use() {
  const entry = pick();
  if (!entry) return;
  entry.inFlight++;
  const reply = await call(server(), '/api/token/verify', { token: entry.token });
  entry.inFlight--;
  if (reply.status === 200 && reply.json?.valid === true) {
    entry.passes++;
    const used = reply.json.used;
    if (entry.passes > entry.calls) violation(`token of ${entry.calls} calls passed ${entry.passes} times`);
    if (entry.used.has(used)) violation(`call number ${used} of one token passed twice`);
    entry.used.add(used);
  } else if (reply.status === 200 && reply.json?.reason === 'token_exhausted') {
    // Judged once no call of the token is in flight (answers to concurrent calls arrive in any order).
    entry.exhausted = true;
  } else if (!(reply.status === 200 && reply.json?.reason === 'expired')) error('use', reply);
}

async function replay() {
  const entry = pick();
  if (!entry) return;
  const other = Math.random() < 0.5;
  const reply = await call(server(), '/api/verify', { challenge: entry.challenge, solution: entry.solutions[other ? 1 : 0] });
  if (reply.status === 200) {
    // A retry of the winning solution gets its own token again; anything else accepted is a second redemption.
    if (other || reply.json.token !== entry.token) violation(`challenge ${entry.challenge.id} redeemed twice (${other ? 'another solution' : 'another token'})`);
  } else if (!(reply.status === 409 && reply.json?.error === 'replayed') && !(reply.status === 403 && reply.json?.error === 'expired')) error('replay', reply);
}

async function check() {
  const entry = pick();
  if (!entry) return;
  const reply = await call(server(), '/api/token/verify', { token: entry.token, check_only: true });
  if (reply.status !== 200 || typeof reply.json?.valid !== 'boolean') error('check', reply);
}

const MALFORMED = [
  ['/api/verify', '{"challenge":', 400],
  ['/api/verify', JSON.stringify({ challenge: 'x', solution: [] }), 400],
  ['/api/challenge', JSON.stringify({ calls: 0 }), 400],
  ['/api/token/verify', JSON.stringify({ token: 'pgt2.garbage.garbage' }), 200],
  ['/api/token/verify', JSON.stringify([1, 2, 3]), 200], // One answer shape for every input.
  ['/nowhere', '{}', 404],
];

async function malformed() {
  const [path, body, status] = MALFORMED[Math.floor(Math.random() * MALFORMED.length)];
  const reply = await call(server(), path, body, true);
  if (reply.status !== status || (status === 200 && reply.json?.valid !== false)) error(`malformed ${path}`, reply);
}

async function health() {
  const reply = await call(server(), '/healthz');
  if (reply.status !== 200 || reply.json?.store !== 'up' || reply.json?.counter !== 'up') error('healthz', reply);
}

const MIX = [
  [redeem, 25],
  [use, 45],
  [replay, 10],
  [check, 5],
  [malformed, 10],
  [health, 5],
];
const WEIGHT = MIX.reduce((sum, [, w]) => sum + w, 0);
function choose() {
  let roll = Math.random() * WEIGHT;
  for (const [action, weight] of MIX) if ((roll -= weight) < 0) return action;
  return health;
}

// ---------------------------------------------------------------- reporting

/** The V8 heap in use (prom-client's default gauge on the metrics listener), in MB: a leak shows here first. */
async function heapMb(metricsUrl) {
  const reply = await call(metricsUrl, '');
  requests--; // A scrape is not part of the load.
  latencies.pop();
  const match = /^\w*nodejs_heap_size_used_bytes (\S+)$/m.exec(reply.text);
  return match ? Number(match[1]) / 1048576 : NaN;
}
const rssMb = (pid) => {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
};
const percentile = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN);
const fixed = (value, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : '-');
const pad = (text, width) => String(text).padStart(width);

/** Memory sampled every 2 s within a row: RSS peaks and heap floors (one sample per row would land at any phase of V8's sawtooth). */
let samples = { rssA: -Infinity, rssB: -Infinity, heapA: Infinity, heapB: Infinity };
async function sample() {
  const heaps = await Promise.all(servers.map((s) => heapMb(s.metrics)));
  samples = {
    rssA: Math.max(samples.rssA, rssMb(servers[0].child.pid)),
    rssB: Math.max(samples.rssB, rssMb(servers[1].child.pid)),
    heapA: Math.min(samples.heapA, heaps[0]),
    heapB: Math.min(samples.heapB, heaps[1]),
  };
}

const rows = [];
async function report(elapsed) {
  await sample();
  judgeRetired();
  const sorted = latencies.sort((a, b) => a - b);
  const info = await admin.info('memory');
  const row = {
    elapsed,
    requests,
    errors,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    ...samples,
    redisRss: Number(/used_memory_rss:(\d+)/.exec(info)?.[1]) / 1048576,
    keys: await admin.dbsize(),
    load: Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]),
  };
  rows.push(row);
  samples = { rssA: -Infinity, rssB: -Infinity, heapA: Infinity, heapB: Infinity };
  latencies = [];
  requests = 0;
  errors = 0;
  totalRequests += row.requests;
  console.log(
    [
      pad(`${Math.round(elapsed)}s`, 7),
      pad(row.requests, 9),
      pad(fixed(row.requests / INTERVAL_S, 0), 6),
      pad(row.errors, 6),
      pad(fixed(row.p50), 7),
      pad(fixed(row.p99), 7),
      pad(fixed(row.rssA), 8),
      pad(fixed(row.rssB), 8),
      pad(fixed(row.heapA), 9),
      pad(fixed(row.heapB), 9),
      pad(fixed(row.redisRss), 9),
      pad(row.keys, 7),
      pad(fixed(row.load, 2), 6),
    ].join(' '),
  );
}

const cpu = readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1] ?? 'unknown CPU';
console.log(`MB; rssA pk, rssB pk: the peak RSS of each serve in the row; heapA fl, heapB fl: the floor of its V8 heap in use (both sampled every 2 s)`);
console.log(
  `soak: ${DURATION_S} s, a row every ${INTERVAL_S} s, ${WORKERS} workers, two powgate serve --redis (pids ${servers.map((s) => s.child.pid).join(', ')}), redis-server on ${redis.port}; node ${process.version}; ${cpu}`,
);
console.log(
  ['elapsed', 'requests', 'req/s', 'errors', 'p50 ms', 'p99 ms', 'rssA pk', 'rssB pk', 'heapA fl', 'heapB fl', 'redis MB', 'keys', 'load1']
    .map((h, i) => pad(h, [7, 9, 6, 6, 7, 7, 8, 8, 9, 9, 9, 7, 6][i]))
    .join(' '),
);

const started = performance.now();
const deadline = started + DURATION_S * 1000;
let next = started + INTERVAL_S * 1000;
let lastSample = started;
const timer = setInterval(() => {
  if (performance.now() - lastSample >= 2000) {
    lastSample = performance.now();
    void sample();
  }
  if (performance.now() >= next) {
    void report((next - started) / 1000);
    next += INTERVAL_S * 1000;
  }
}, 200);
await Promise.all(
  Array.from({ length: WORKERS }, async () => {
    while (performance.now() < deadline) await choose()();
  }),
);
clearInterval(timer);
if (rows.length < Math.floor(DURATION_S / INTERVAL_S)) await report(DURATION_S);

// ---------------------------------------------------------------- the verdict

judgeRetired();
judge(pool);
if (lostCalls > 0) examples.push(`${lostCalls} tokens refused as exhausted before every call they bought passed`);
totalErrors += lostCalls;

const measured = rows.filter((row) => row.elapsed > WARMUP_S);
const third = Math.max(1, Math.floor(measured.length / 3));
const mean = (list, key) => list.reduce((sum, row) => sum + row[key], 0) / list.length;
const [first, last] = [measured.slice(0, third), measured.slice(-third)];
// Flat: the mean of the rows' RSS peaks, of their heap floors (what is left after V8's
// collections: a leak lifts it) and of Redis's RSS grow by at most 10% (or 5 MB) from the first
// third to the last; p99 by at most 50% (or 5 ms; it moves with the machine's other load too:
// see load1). And no error, no violation at all.
const memory = (a, b) => b - a <= Math.max(5, a * 0.1);
const checks = [
  ['rss A MB', 'rssA', memory],
  ['rss B MB', 'rssB', memory],
  ['heap A MB', 'heapA', memory],
  ['heap B MB', 'heapB', memory],
  ['redis MB', 'redisRss', memory],
  ['p99 ms', 'p99', (a, b) => b - a <= Math.max(5, a * 0.5)],
];
console.log(
  `\nflatness after ${Math.round(WARMUP_S)} s of warm-up, mean of the first ${first.length} rows -> mean of the last ${last.length} (flat: memory +10% or +5 MB at most, p99 +50% or +5 ms at most):`,
);
let flat = measured.length >= 2;
for (const [name, key, ok] of checks) {
  const [a, b] = [mean(first, key), mean(last, key)];
  const pass = measured.length >= 2 && ok(a, b);
  flat &&= pass;
  console.log(`  ${name.padEnd(9)} ${fixed(a)} -> ${fixed(b)}  ${pass ? 'flat' : 'NOT FLAT'}`);
}
const tokens = pool.length;
console.log(
  `requests ${totalRequests}, errors ${totalErrors}, violations ${violations.length} (a call passed more often than bought, a call count seen twice, a challenge redeemed twice)`,
);
for (const line of examples) console.log(`  error: ${line}`);
for (const line of violations.slice(0, 20)) console.log(`  VIOLATION: ${line}`);
const verdict = flat && totalErrors === 0 && violations.length === 0;
console.log(`verdict: ${verdict ? 'FLAT, no errors, nothing accepted twice' : 'FAILED'} (${tokens} tokens in the final pool)`);

admin.disconnect();
agent.destroy();
for (const { child } of servers) child.kill('SIGTERM');
redis.child.kill('SIGTERM');
process.exitCode = verdict ? 0 : 1;
