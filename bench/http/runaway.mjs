#!/usr/bin/env node
/**
 * `npm run bench:runaway`: the runaway bound of issue 12. A gate that prices every call must
 * hold an agent loop that solves as fast as this machine can, on all cores, to about
 * T / (seconds per call) calls in T seconds, whatever the loop does: however it reuses its
 * tokens, it pays for every call.
 *
 *   1. print machine facts and how busy the CPU is;
 *   2. measure this machine's fastest solver (native, all threads) and its per-solve start-up
 *      overhead, and pick a FIXED per-call difficulty whose mean solve time is about
 *      BENCH_TARGET_SECONDS (0.25 s): 2^d x subPuzzles expected hashes / rate + overhead;
 *   3. HTTP leg: the README's Express example (Gate, PowgateService, powgateMiddleware with
 *      scope 'search', GET /search) in a child process at that fixed difficulty (not the
 *      README's adaptive default, which raises the price while the loop runs and would skew
 *      the comparison), and an agent loop here for BENCH_SECONDS (60) calling GET /search.
 *      The agent is powgate's own client (powgate/client, this checkout's dist/client.js):
 *      `wrapFetchWithPowgate(fetch, { maxSecondsPerWindow: Infinity, threads })`, which on a
 *      402 solves on all threads, redeems, retries, and presents the token for as many calls
 *      as it bought (BENCH_AGENT=loop: the hand-written loop of issue 12 instead, which keeps
 *      presenting a token until the server refuses it: the one to point at an older build);
 *   4. MCP leg: the same against a gated tool (`registerGatedTool(server, gate, 'search')`)
 *      over Streamable HTTP (docs/MCP.md's stateless server), with the SDK's own Client,
 *      wrapped by the client's `wrapMcpClientWithPowgate` (the hand-written loop with
 *      BENCH_AGENT=loop);
 *   5. the legs interleaved: each leg's BENCH_SECONDS run in BENCH_CHUNKS chunks, in the order
 *      http mcp | mcp http | ..., the hash rate re-measured (median of 3 x 1 s) before every
 *      chunk and after the last; per leg the prediction is the sum over its chunks of
 *      t / mu (mu = overhead + subPuzzles x 2^64/threshold / rate, the mean seconds per call,
 *      with the mean of the mu's at the rates measured on either side of the chunk), the
 *      renewal model's spread (per chunk variance t sigma^2 / mu^3, i.e. sd = sqrt(T/mu) x
 *      sigma/mu; sigma, the solve time's sd, is the hashing mean for one sub-puzzle), the
 *      count of calls served (200s / successful tool results, cross-checked against the
 *      backend's own count), the ratio and the 95% band; target 0.75 <= ratio <= 1.25. The
 *      solver's own rate during the loop (solve()'s progress reports) is printed beside it:
 *      when a neighbour slowed the solver, that says so;
 *   6. write bench/results/runaway-*.json, print a summary; exit 1 when a leg misses. A
 *      count far above the prediction (an old gate: one token, any number of calls) is
 *      called out as a runaway that the gate does not bound.
 *
 * Env: BENCH_SECONDS (loop length per leg, default 60), BENCH_CHUNKS (4), BENCH_TARGET_SECONDS (0.25),
 *      BENCH_DIFFICULTY (skip the choice: this per-call difficulty), BENCH_LEGS (http,mcp),
 *      BENCH_WAIT_IDLE (seconds to wait for an idle CPU, default 0),
 *      BENCH_AGENT (client: powgate's client, the default; loop: the hand-written loop),
 *      POWGATE_DIST (the built package whose servers to bench, default ./dist: point it at an
 *      older build, with BENCH_AGENT=loop, to see what its gate lets through; the client
 *      always comes from this checkout's dist).
 */
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';

const SELF = fileURLToPath(import.meta.url);
const REPO_ROOT = path.resolve(path.dirname(SELF), '..', '..');
const DIST = path.resolve(process.env.POWGATE_DIST ?? path.join(REPO_ROOT, 'dist'));
/** The package's own dependencies (the MCP SDK, zod), as the dist under test resolves them: one copy of each. */
const DIST_MODULES = path.join(DIST, '..', 'node_modules');
const SECRET = 'the runaway bench secret, 32 bytes or more';
const fromDist = (file) => import(pathToFileURL(path.join(DIST, file)).href);
const fromDistModules = (file) => import(pathToFileURL(path.join(DIST_MODULES, file)).href);

const mode = process.argv[2];
if (mode === '--express') await expressChild(Number(process.argv[3]));
else if (mode === '--mcp') await mcpChild(Number(process.argv[3]));
else await main();

// ---------------------------------------------------------------- the servers (child modes)

/** The first stdout line of a child: where it listens. Also counts what the paid backend actually ran. */
function announce(server) {
  console.log(JSON.stringify({ msg: 'listening', url: `http://127.0.0.1:${server.address().port}` }));
  process.on('SIGTERM', () => {
    server.closeAllConnections?.();
    server.close(() => process.exit(0));
  });
}

/** README.md, "In front of an Express API", with a fixed per-call difficulty. */
async function expressChild(difficulty) {
  const { Gate } = await fromDist('index.js');
  const { PowgateService, powgateMiddleware } = await fromDist('http.js');
  const { default: express } = await import('express');
  let served = 0;

  const gate = new Gate({ secret: SECRET, difficulty });
  const app = express();
  app.get('/bench/served', (_req, res) => res.json({ served })); // the bench's view of the paid backend; not gated
  app.use(new PowgateService(gate).handle); // /api/challenge, /api/verify, /api/token/verify, /healthz
  app.use('/search', powgateMiddleware(gate, { scope: 'search' })); // 402 without a token
  app.get('/search', (req, res) => {
    served++;
    res.json({ results: [], paidBy: req.powgate.method });
  });
  const server = app.listen(0, '127.0.0.1', () => announce(server));
}

/** docs/MCP.md's stateless Streamable HTTP server: a server and a transport per request, one gate for all. */
async function mcpChild(difficulty) {
  const { Gate } = await fromDist('index.js');
  const { registerGatedTool } = await fromDist('mcp.js');
  const { McpServer } = await fromDistModules('@modelcontextprotocol/sdk/dist/esm/server/mcp.js');
  const { StreamableHTTPServerTransport } = await fromDistModules('@modelcontextprotocol/sdk/dist/esm/server/streamableHttp.js');
  const { z } = await fromDistModules('zod/index.js');
  let served = 0;

  const gate = new Gate({ secret: SECRET, difficulty }); // one gate: one replay store
  const search = async ({ query }) => {
    served++;
    return { content: [{ type: 'text', text: `results for ${query}` }] };
  };
  const server = createServer(async (req, res) => {
    if (req.url === '/bench/served') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ served }));
      return;
    }
    const mcp = new McpServer({ name: 'search', version: '1.0.0' });
    registerGatedTool(mcp, gate, 'search', { inputSchema: { query: z.string() } }, search);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      void transport.close();
      void mcp.close();
    });
    try {
      await mcp.connect(transport);
      await transport.handleRequest(req, res);
    } catch {
      if (!res.headersSent) res.writeHead(500).end();
    }
  });
  server.keepAliveTimeout = 5000;
  server.listen(0, '127.0.0.1', () => announce(server));
}

// ---------------------------------------------------------------- the bench

async function main() {
  const { busyWarning, checkIdle, cpuLoadBetween, cpuSnapshot, describeCpuLoad, describeMachine, loadAverage, machineFacts } = await import('../lib/machine.mjs');
  const { writeJson } = await import('../lib/report.mjs');
  const { median, round } = await import('../lib/stats.mjs');
  const fail = (message) => {
    console.error(`bench: ${message}`);
    process.exit(1);
  };

  const env = process.env;
  const startedAt = new Date().toISOString();
  const seconds = Number(env.BENCH_SECONDS ?? 60);
  const targetSeconds = Number(env.BENCH_TARGET_SECONDS ?? 0.25);
  const legs = (env.BENCH_LEGS ?? 'http,mcp')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const waitIdle = Number(env.BENCH_WAIT_IDLE ?? 0);
  const chunks = Number(env.BENCH_CHUNKS ?? 4);
  const agentKind = env.BENCH_AGENT ?? 'client';
  if (!(seconds >= 1)) fail('BENCH_SECONDS must be a number >= 1');
  if (!(Number.isInteger(chunks) && chunks >= 1)) fail('BENCH_CHUNKS must be an integer >= 1');
  if (!(targetSeconds > 0)) fail('BENCH_TARGET_SECONDS must be a number > 0');
  if (legs.some((leg) => leg !== 'http' && leg !== 'mcp')) fail('BENCH_LEGS is a comma-separated list of http and mcp');
  if (agentKind !== 'client' && agentKind !== 'loop') fail('BENCH_AGENT is client or loop');
  const RATIO = { min: 0.75, max: 1.25 };

  // 1. Machine facts.
  let powgate;
  try {
    powgate = await fromDist('index.js');
  } catch (error) {
    fail(`cannot load ${path.join(DIST, 'index.js')} (run \`npm run build\` first): ${error.message}`);
  }
  const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
  const { StreamableHTTPClientTransport } = await import('@modelcontextprotocol/sdk/client/streamableHttp.js');
  const info = powgate.backendInfo();
  const machine = { ...machineFacts({ backendInfo: info, version: info.version }), cpuid: cpuid() };
  const distRevision = revisionOf(DIST);
  console.log(describeMachine(machine).join('\n'));
  const flags = Object.entries(machine.isaFlags)
    .filter(([, on]) => on)
    .map(([f]) => f)
    .join(' ');
  const machineLine =
    `machine: ${machine.cpuModel} (family ${machine.cpuid.family}, model ${machine.cpuid.model}, stepping ${machine.cpuid.stepping}), ` +
    `ISA ${flags || 'none of sha_ni/avx2/avx512'}, ${machine.threads} threads, load ${machine.loadAverageAtStart.map((l) => l.toFixed(2)).join(' ')}`;
  console.log(machineLine);
  console.log(`dist      ${DIST}${distRevision ? ` (its checkout is at commit ${distRevision}; the build may include uncommitted changes)` : ''}`);
  const cpuLoadAtStart = await checkIdle(waitIdle);

  // 2. The solver and the price.
  const threads = os.availableParallelism();
  const backend = info.backend === 'native' ? 'native' : info.backend; // the fastest this machine has; native when it loads
  const measureRate = async () => {
    const rates = [];
    for (let i = 0; i < 3; i++) rates.push(await powgate.measureHashRate({ backend, threads, durationMs: 1000 }));
    rates.sort((a, b) => a.hashesPerSecond - b.hashesPerSecond);
    return rates[1];
  };
  const rate0 = await measureRate();
  const solver = { name: rate0.backend, isa: rate0.isa };
  const overheadSeconds = await solveOverhead(powgate, solver, threads);
  const subPuzzles = 1; // the Gate's default, as the README's example has it
  let difficulty;
  if (env.BENCH_DIFFICULTY) {
    difficulty = Number(env.BENCH_DIFFICULTY);
    if (!(difficulty >= 1 && difficulty <= 64)) fail('BENCH_DIFFICULTY must be from 1 to 64');
  } else {
    const hashes = Math.max(2, ((targetSeconds - overheadSeconds) * rate0.hashesPerSecond) / subPuzzles);
    difficulty = Math.round(Math.log2(hashes) * 256) / 256; // a multiple of 1/256 bit: exact in the protocol's 1/65536 steps
  }
  console.log('');
  console.log(
    `solver    ${rate0.backend}/${rate0.isa} on ${threads} threads: ${(rate0.hashesPerSecond / 1e6).toFixed(2)} M hash/s (median of 3 x 1 s); ` +
      `start-up overhead per solve ${(overheadSeconds * 1000).toFixed(1)} ms (median of 7 trivial solves)`,
  );
  console.log(
    `price     a FIXED ${difficulty} bits per call (${subPuzzles} sub-puzzle): mean ${(overheadSeconds + (subPuzzles * 2 ** difficulty) / rate0.hashesPerSecond).toFixed(3)} s per call on this solver ` +
      `(target ${targetSeconds} s). Fixed, not the README's adaptive default: adaptive pricing would raise the price as the loop runs and skew the comparison.`,
  );
  console.log(
    `loop      ${seconds} s per leg; legs: ${legs.join(', ')}; agent: ${
      agentKind === 'client'
        ? "powgate's client (wrapFetchWithPowgate; wrapMcpClientWithPowgate over the SDK's Client), maxSecondsPerWindow Infinity"
        : 'the hand-written loop (each token presented until refused)'
    }, ${threads} solver threads`,
  );

  const children = [];
  const stopAll = () => children.forEach((child) => child.exitCode === null && child.kill('SIGKILL'));
  process.on('exit', stopAll);

  /** Starts a server process; resolves its URL from its first stdout line (the rest is drained). */
  function start(args) {
    const child = spawn(process.execPath, [SELF, ...args], { env: { ...process.env }, stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    return new Promise((resolve, reject) => {
      const lines = createInterface({ input: child.stdout });
      lines.once('line', (line) => {
        lines.close();
        child.stdout.resume();
        try {
          resolve({ child, url: JSON.parse(line).url });
        } catch {
          reject(new Error(`${args[0]} did not start: ${line}`));
        }
      });
      child.once('exit', (code) => reject(new Error(`${args[0]} exited with ${code} before listening`)));
    });
  }
  const stop = (child) =>
    new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', resolve);
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 3000).unref();
    });
  const processSeconds = (pid) => {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      return (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {
      return null;
    }
  };

  /** A fresh chunk's counters, as the agents keep them. */
  const newStats = () => ({
    served: 0,
    refusals: 0,
    reasons: {},
    solves: 0,
    solveSeconds: [],
    difficulties: new Set(),
    thresholds: new Set(),
    tokenCalls: new Set(),
    abandoned: 0,
    protocolSeconds: 0,
    progressHashes: 0,
    progressMs: 0,
  });

  /**
   * The hand-written agent (BENCH_AGENT=loop): calls the paid endpoint for `seconds`, with its
   * current token when it has one, presenting it until the server refuses it.
   * `call(token)` answers `{ ok: true }` or `{ ok: false, envelope }` (the 402 envelope);
   * `redeem(envelope, challenge, solution)` answers `{ token, calls }`.
   */
  async function agentLoop({ call, redeem }, seconds) {
    const stats = newStats();
    const deadline = AbortSignal.timeout(seconds * 1000);
    const started = performance.now();
    let token;
    while (!deadline.aborted) {
      const t0 = performance.now();
      const answer = await call(token);
      if (deadline.aborted) break; // an answer after the deadline does not count
      if (answer.ok) {
        stats.served++;
        stats.protocolSeconds += (performance.now() - t0) / 1000;
        continue;
      }
      stats.refusals++;
      const reason = answer.envelope?.cause?.reason ?? 'unknown';
      stats.reasons[reason] = (stats.reasons[reason] ?? 0) + 1;
      const challenge = answer.envelope?.accepts?.[0]?.challenge;
      if (!challenge) throw new Error(`a refusal without a challenge: ${JSON.stringify(answer.envelope).slice(0, 300)}`);
      stats.difficulties.add(challenge.difficulty);
      stats.thresholds.add(challenge.threshold);
      stats.protocolSeconds += (performance.now() - t0) / 1000;
      const s0 = performance.now();
      let solution;
      let progress;
      try {
        // The progress reports (about ten a second) say how fast the solver hashed during the loop.
        solution = await powgate.solve(challenge, { threads, backend: solver, signal: deadline, onProgress: (p) => (progress = p) });
      } catch (error) {
        if (deadline.aborted) {
          stats.abandoned++;
          break;
        }
        throw error;
      }
      stats.solveSeconds.push((performance.now() - s0) / 1000);
      stats.solves++;
      if (progress) {
        stats.progressHashes += progress.hashes;
        stats.progressMs += progress.elapsedMs;
      }
      const r0 = performance.now();
      const redeemed = await redeem(answer.envelope, challenge, solution);
      stats.protocolSeconds += (performance.now() - r0) / 1000;
      token = redeemed.token;
      stats.tokenCalls.add(redeemed.calls ?? 'none (no allowance in this protocol)');
    }
    stats.elapsed = (performance.now() - started) / 1000;
    return stats;
  }

  // ---- the HTTP agent
  const httpAgent = (base) => ({
    async call(token) {
      const response = await fetch(new URL('/search', base), { headers: token ? { authorization: `Bearer ${token}` } : {} });
      const body = await response.json().catch(() => null);
      if (response.status === 200) return { ok: true, remaining: response.headers.get('powgate-calls-remaining') };
      if (response.status === 402) return { ok: false, envelope: body };
      throw new Error(`GET /search answered ${response.status} ${JSON.stringify(body).slice(0, 300)}`);
    },
    async redeem(envelope, challenge, solution) {
      const url = new URL(envelope.accepts[0].redeem?.url ?? '/api/verify', base);
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ challenge, solution }) });
      const body = await response.json().catch(() => null);
      if (response.status !== 200 || typeof body?.token !== 'string') throw new Error(`POST ${url.pathname} answered ${response.status} ${JSON.stringify(body).slice(0, 300)}`);
      return { token: body.token, calls: body.calls };
    },
  });

  // ---- the MCP agent: the SDK's Client over Streamable HTTP
  const mcpAgent = (client) => ({
    async call(token) {
      const result = await client.callTool({ name: 'search', arguments: token ? { query: 'runaway', powgate_token: token } : { query: 'runaway' } });
      if (!result.isError) return { ok: true };
      const envelope = result.structuredContent?.accepts ? result.structuredContent : result._meta?.['powgate/refusal'];
      if (!envelope?.accepts) throw new Error(`search failed without a refusal: ${JSON.stringify(result).slice(0, 300)}`);
      return { ok: false, envelope };
    },
    async redeem(envelope, challenge, solution) {
      const tool = envelope.accepts[0].redeem?.tool ?? 'powgate_verify';
      const result = await client.callTool({ name: tool, arguments: { challenge, solution } });
      const body = result.structuredContent ?? JSON.parse(result.content?.[0]?.text ?? 'null');
      if (result.isError || typeof body?.token !== 'string') throw new Error(`${tool} failed: ${JSON.stringify(result).slice(0, 300)}`);
      return { token: body.token, calls: body.calls };
    },
  });

  // ---- powgate's client as the agent (BENCH_AGENT=client)
  /**
   * The client's options, and how the bench watches it: payments (each one solve: its
   * CPU-seconds over the threads are the solve's wall time) and progress go to the chunk's
   * counters. The price is the bench's own measured rate (one thread's share), so the client
   * does not measure again inside the first chunk; the window budget is off (a loop is the
   * point), the per-call one left at its default.
   */
  const watched = (chunk) => {
    let progress;
    return {
      maxSecondsPerWindow: Infinity,
      threads,
      hashRate: rate0.hashesPerSecond / threads,
      onProgress: (p) => (progress = p),
      onPayment: (p) => {
        const stats = chunk.stats;
        const solveSeconds = (p.cpuSeconds ?? 0) / threads;
        stats.solves++;
        stats.solveSeconds.push(solveSeconds);
        stats.solvingSeconds = (stats.solvingSeconds ?? 0) + solveSeconds;
        stats.tokenCalls.add(p.calls ?? 'unknown');
        if (progress) {
          stats.progressHashes += progress.hashes;
          stats.progressMs += progress.elapsedMs;
          progress = undefined;
        }
      },
    };
  };
  /** Counts a refusal of the gated call that the client is about to pay (read only: the client reads its own copy). */
  const sawRefusal = (chunk, envelope) => {
    const stats = chunk.stats;
    stats.refusals++;
    const reason = envelope?.cause?.reason ?? 'unknown';
    stats.reasons[reason] = (stats.reasons[reason] ?? 0) + 1;
    const challenge = envelope?.accepts?.find?.((a) => a?.method === 'pow')?.challenge;
    if (challenge) {
      stats.difficulties.add(challenge.difficulty);
      stats.thresholds.add(challenge.threshold);
    }
  };

  /** The HTTP agent: `wrapFetchWithPowgate` over fetch (a fetch that also counts the 402s of /search). */
  const httpClientAgent = (client, base) => {
    const chunk = { stats: newStats() };
    const counting = async (url, init) => {
      const response = await fetch(url, init);
      if (response.status === 402 && new URL(url).pathname === '/search')
        sawRefusal(
          chunk,
          await response
            .clone()
            .json()
            .catch(() => null),
        );
      return response;
    };
    const pay = client.wrapFetchWithPowgate(counting, watched(chunk));
    return {
      chunk,
      async call(signal) {
        const response = await pay(new URL('/search', base).href, { signal });
        const body = await response.text();
        if (response.status !== 200) throw new Error(`GET /search answered ${response.status} ${body.slice(0, 300)}`);
      },
    };
  };

  /** The MCP agent: `wrapMcpClientWithPowgate` over the SDK's Client (its callTool also counts the refusals of 'search'). */
  const mcpClientAgent = (client, sdkClient) => {
    const chunk = { stats: newStats() };
    const counting = {
      async callTool(params, resultSchema, options) {
        const result = await sdkClient.callTool(params, resultSchema, options);
        if (params?.name === 'search' && result?.isError) sawRefusal(chunk, result.structuredContent?.accepts ? result.structuredContent : result._meta?.['powgate/refusal']);
        return result;
      },
      listTools: (params, options) => sdkClient.listTools(params, options),
      getServerVersion: () => sdkClient.getServerVersion(),
      get transport() {
        return sdkClient.transport;
      },
    };
    const paid = client.wrapMcpClientWithPowgate(counting, watched(chunk));
    return {
      chunk,
      async call(signal) {
        // A signal of its own per call: the SDK adds an abort listener to the signal of every
        // request and never removes it, which on the chunk's one deadline piles up (Node warns at 11).
        const result = await paid.callTool({ name: 'search', arguments: { query: 'runaway' } }, undefined, { signal: AbortSignal.any([signal]) });
        if (result.isError) throw new Error(`search failed: ${JSON.stringify(result).slice(0, 300)}`);
      },
    };
  };

  /** The client's loop: calls for `seconds`, as many as it gets; the same counters as agentLoop's. */
  async function clientLoop(agent, seconds) {
    const stats = (agent.chunk.stats = newStats());
    const deadline = AbortSignal.timeout(seconds * 1000);
    const started = performance.now();
    while (!deadline.aborted) {
      const t0 = performance.now();
      const solvingBefore = stats.solvingSeconds ?? 0;
      try {
        await agent.call(deadline);
      } catch (error) {
        if (deadline.aborted) {
          stats.abandoned++; // a call (its solve, mostly) cut at the deadline
          break;
        }
        throw error;
      }
      if (deadline.aborted) break; // an answer after the deadline does not count
      stats.served++;
      // Round trips: the call's time less its solve (the refusal, the redeem, the call again).
      stats.protocolSeconds += (performance.now() - t0) / 1000 - ((stats.solvingSeconds ?? 0) - solvingBefore);
    }
    stats.elapsed = (performance.now() - started) / 1000;
    return stats;
  }

  // 3-5. The legs, interleaved: each leg's loop runs in BENCH_CHUNKS chunks, in the order
  // http mcp | mcp http | http mcp ..., with the hash rate measured before every chunk and after
  // the last, so that each chunk's prediction uses the rates measured on either side of it
  // (a neighbour that slows the solver for a while shows in those measurements, on both legs).
  const legInfo = {
    http: { name: 'HTTP: README Express example, GET /search', flag: '--express' },
    mcp: { name: "MCP: gated tool 'search' over Streamable HTTP", flag: '--mcp' },
  };
  const servers = {};
  const agents = {};
  let mcpClient;
  try {
    const client = agentKind === 'client' ? await (await import('../lib/settings.mjs')).importPowgateClient() : undefined;
    if (client && legs.includes('mcp') && typeof client.wrapMcpClientWithPowgate !== 'function') {
      throw new Error('dist/client.js has no wrapMcpClientWithPowgate: rebuild (npm run build), or run BENCH_LEGS=http, or BENCH_AGENT=loop');
    }
    for (const leg of legs) {
      servers[leg] = await start([legInfo[leg].flag, String(difficulty)]);
      if (leg === 'http') agents.http = client ? httpClientAgent(client, servers.http.url) : httpAgent(servers.http.url);
      else {
        mcpClient = new Client({ name: 'runaway-bench', version: '1.0.0' });
        await mcpClient.connect(new StreamableHTTPClientTransport(new URL('/mcp', servers.mcp.url)));
        agents.mcp = client ? mcpClientAgent(client, mcpClient) : mcpAgent(mcpClient);
      }
    }
  } catch (error) {
    stopAll();
    fail(error.message);
  }
  const schedule = [];
  for (let c = 0; c < chunks; c++) schedule.push(...(c % 2 === 0 ? legs : [...legs].reverse()));
  const chunkSeconds = seconds / chunks;
  console.log(`schedule  ${schedule.join(' ')}: ${chunks} chunks of ${chunkSeconds.toFixed(1)} s per leg, the rate measured (median of 3 x 1 s) between chunks`);
  console.log('');

  const perLeg = Object.fromEntries(legs.map((leg) => [leg, { chunks: [], loads: [] }]));
  let rateBefore = await measureRate();
  const rates = [rateBefore];
  for (const [i, leg] of schedule.entries()) {
    const before = cpuSnapshot();
    const serverBefore = processSeconds(servers[leg].child.pid);
    let stats;
    try {
      stats = await (agentKind === 'client' ? clientLoop(agents[leg], chunkSeconds) : agentLoop(agents[leg], chunkSeconds));
    } catch (error) {
      stopAll();
      fail(`${leg} leg: ${error.message}`);
    }
    const load = cpuLoadBetween(before, cpuSnapshot());
    const serverAfter = processSeconds(servers[leg].child.pid);
    if (serverBefore !== null && serverAfter !== null && load.others !== null) {
      load.server = (serverAfter - serverBefore) / load.seconds;
      load.others = Math.max(0, load.others - load.server);
    }
    const rateAfter = await measureRate();
    rates.push(rateAfter);
    perLeg[leg].chunks.push({ stats, rateBefore, rateAfter });
    perLeg[leg].loads.push(load);
    console.log(
      `chunk ${String(i + 1).padStart(2)}/${schedule.length} ${leg.padEnd(4)} ${String(stats.served).padStart(4)} calls, ${String(stats.solves).padStart(4)} solves; ` +
        `rate before ${(rateBefore.hashesPerSecond / 1e6).toFixed(1)}, after ${(rateAfter.hashesPerSecond / 1e6).toFixed(1)} M hash/s; cpu ${describeCpuLoad(load)}`,
    );
    rateBefore = rateAfter;
  }
  const backendServed = {};
  for (const leg of legs)
    backendServed[leg] = await fetch(new URL('/bench/served', servers[leg].url))
      .then((r) => r.json())
      .then((b) => b.served)
      .catch(() => null);
  await mcpClient?.close();
  await Promise.all(legs.map((leg) => stop(servers[leg].child)));

  const results = [];
  const cpuLoads = [];
  for (const leg of legs) {
    const { chunks: done, loads } = perLeg[leg];
    const name = legInfo[leg].name;
    const all = (field) => done.flatMap((c) => c.stats[field]);
    const sum = (field) => done.reduce((acc, c) => acc + c.stats[field], 0);
    const stats = {
      served: sum('served'),
      solves: sum('solves'),
      refusals: sum('refusals'),
      abandoned: sum('abandoned'),
      protocolSeconds: sum('protocolSeconds'),
      progressHashes: sum('progressHashes'),
      progressMs: sum('progressMs'),
      solveSeconds: all('solveSeconds'),
      reasons: {},
      difficulties: new Set(done.flatMap((c) => [...c.stats.difficulties])),
      thresholds: new Set(done.flatMap((c) => [...c.stats.thresholds])),
      tokenCalls: new Set(done.flatMap((c) => [...c.stats.tokenCalls])),
    };
    for (const c of done) for (const [k, v] of Object.entries(c.stats.reasons)) stats.reasons[k] = (stats.reasons[k] ?? 0) + v;
    const load = {
      seconds: loads.reduce((a, l) => a + l.seconds, 0),
      ...Object.fromEntries(
        ['own', 'all', 'others', 'steal', 'server'].map((k) => [
          k,
          loads.some((l) => l[k] === null || l[k] === undefined) ? null : loads.reduce((a, l) => a + l[k] * l.seconds, 0) / loads.reduce((a, l) => a + l.seconds, 0),
        ]),
      ),
    };
    cpuLoads.push(load);

    // The model: one call per solve at the gate's per-call price; a solve's time is the
    // overhead plus an exponential (Erlang, for k sub-puzzles) hashing time. Each chunk's
    // calls are a renewal count: mean t/mu, variance t sigma^2 / mu^3; the chunks add up.
    const threshold = [...stats.thresholds][0];
    const hashesPerSubPuzzle = threshold ? 2 ** 64 / Number(BigInt(`0x${threshold}`)) : 2 ** difficulty;
    const unit = (rate) => hashesPerSubPuzzle / rate.hashesPerSecond; // one sub-puzzle's mean hashing time
    const muOf = (rate) => overheadSeconds + subPuzzles * unit(rate);
    let predicted = 0;
    let variance = 0;
    const chunkRows = done.map((c) => {
      const mu = (muOf(c.rateBefore) + muOf(c.rateAfter)) / 2;
      const sigma = (Math.sqrt(subPuzzles) * (unit(c.rateBefore) + unit(c.rateAfter))) / 2;
      predicted += chunkSeconds / mu;
      variance += (chunkSeconds * sigma ** 2) / mu ** 3;
      return {
        served: c.stats.served,
        solves: c.stats.solves,
        predicted: round(chunkSeconds / mu, 1),
        rateBefore: Math.round(c.rateBefore.hashesPerSecond),
        rateAfter: Math.round(c.rateAfter.hashesPerSecond),
      };
    });
    const mu = seconds / predicted; // the mean seconds per call over the run
    const sd = Math.sqrt(variance);
    const band = [predicted - 1.96 * sd, predicted + 1.96 * sd];
    const ratio = stats.served / predicted;
    const legRates = done.flatMap((c) => [c.rateBefore.hashesPerSecond, c.rateAfter.hashesPerSecond]);
    const loopRate = stats.progressMs > 0 ? stats.progressHashes / (stats.progressMs / 1000) : null;
    const predictedAtLoopRate = loopRate ? seconds / muOf({ hashesPerSecond: loopRate }) : null;
    const meanSolve = stats.solveSeconds.length ? stats.solveSeconds.reduce((a, b) => a + b, 0) / stats.solveSeconds.length : null;
    const callsPerSolve = stats.solves ? stats.served / stats.solves : null;
    const pass = ratio >= RATIO.min && ratio <= RATIO.max;
    const row = {
      leg,
      name,
      seconds,
      chunks: chunkRows,
      difficulty,
      subPuzzles,
      hashesPerCall: Math.round(subPuzzles * hashesPerSubPuzzle),
      solver: { backend: rate0.backend, isa: rate0.isa, threads: rate0.threads },
      rates: { first: Math.round(legRates[0]), last: Math.round(legRates.at(-1)), min: Math.round(Math.min(...legRates)), max: Math.round(Math.max(...legRates)) },
      overheadSeconds: round(overheadSeconds, 4),
      meanSecondsPerCall: round(mu, 4),
      predictedFromFirstRate: round(seconds / muOf({ hashesPerSecond: legRates[0] }), 1),
      predictedFromLastRate: round(seconds / muOf({ hashesPerSecond: legRates.at(-1) }), 1),
      predicted: round(predicted, 1),
      sd: round(sd, 1),
      band95: band.map((x) => round(x, 1)),
      served: stats.served,
      servedByBackend: backendServed[leg],
      ratio: round(ratio, 3),
      ratioBand95: band.map((x) => round(x / predicted, 3)),
      target: { ...RATIO, pass },
      rateDuringLoop:
        loopRate === null
          ? null
          : {
              hashesPerSecond: Math.round(loopRate),
              from: "solve()'s progress reports",
              predicted: round(predictedAtLoopRate, 1),
              ratio: round(stats.served / predictedAtLoopRate, 3),
            },
      solves: stats.solves,
      abandonedAtDeadline: stats.abandoned,
      callsPerSolve: callsPerSolve === null ? null : round(callsPerSolve, 2),
      refusals: stats.refusals,
      refusalReasons: stats.reasons,
      callsPerToken: [...stats.tokenCalls],
      challengeDifficulties: [...stats.difficulties],
      meanSolveSeconds: meanSolve === null ? null : round(meanSolve, 4),
      medianSolveSeconds: stats.solveSeconds.length ? round(median(stats.solveSeconds), 4) : null,
      protocolSecondsPerCall: stats.served ? round(stats.protocolSeconds / stats.served, 4) : null,
      cpuLoad: load,
    };
    results.push(row);

    const M = (x) => (x / 1e6).toFixed(1);
    console.log('');
    console.log(`== ${name}`);
    console.log(
      `rate      measured around its chunks: first ${M(legRates[0])}, last ${M(legRates.at(-1))}, min ${M(Math.min(...legRates))}, max ${M(Math.max(...legRates))} M hash/s ` +
        `(at the first rate alone the prediction is ${row.predictedFromFirstRate}, at the last ${row.predictedFromLastRate}; each chunk uses the two on either side)`,
    );
    if (loopRate !== null) {
      console.log(
        `          during the loop (solve()'s progress reports) ${M(loopRate)} M hash/s: at that rate the prediction is ${predictedAtLoopRate.toFixed(1)} ` +
          `(ratio ${(stats.served / predictedAtLoopRate).toFixed(3)}x; a diagnostic: a busy machine slows the solver, not the gate)`,
      );
    }
    console.log(
      `model     ${row.hashesPerCall} hashes per call at ${difficulty} bits: mean ${mu.toFixed(4)} s per call (overhead ${(overheadSeconds * 1000).toFixed(1)} ms); a solve's sd equals its hashing mean (exponential)`,
    );
    console.log(
      `observed  ${stats.solves} solves, mean ${meanSolve === null ? '-' : meanSolve.toFixed(4)} s (median ${row.medianSolveSeconds ?? '-'} s); ` +
        `round trips ${row.protocolSecondsPerCall === null ? '-' : (row.protocolSecondsPerCall * 1000).toFixed(1)} ms per call served (not in the model); ` +
        `challenge difficulties seen: ${row.challengeDifficulties.join(', ') || '-'}`,
    );
    console.log(
      `tokens    calls per token: ${row.callsPerToken.join(', ') || '-'}; refusals ${stats.refusals} (${Object.entries(stats.reasons)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')})`,
    );
    console.log(
      `served    ${stats.served} calls in ${seconds} s (the backend counted ${backendServed[leg] ?? '?'}, including any call answered after a chunk's deadline); ` +
        `predicted ${predicted.toFixed(1)} +- ${sd.toFixed(1)} (sd; 95% band ${band[0].toFixed(0)} to ${band[1].toFixed(0)})`,
    );
    console.log(
      `ratio     ${ratio.toFixed(3)}x the prediction (95% band of the model ${(band[0] / predicted).toFixed(3)}x to ${(band[1] / predicted).toFixed(3)}x); ` +
        `target ${RATIO.min}x to ${RATIO.max}x: ${pass ? 'met' : 'NOT met'}`,
    );
    if (ratio > 2) {
      console.log(
        `RUNAWAY: the gate does not bound a runaway loop: ${stats.served} calls served for ${stats.solves} solve${stats.solves === 1 ? '' : 's'} ` +
          `(${callsPerSolve === null ? '-' : callsPerSolve.toFixed(0)} calls per solve), ${ratio.toFixed(1)}x what the price allows`,
      );
    }
    console.log(`cpu       ${describeCpuLoad(load)}${load.server === null || load.server === undefined ? '' : `, server ${load.server.toFixed(2)}`}`);
  }
  stopAll();

  // 6. Summary and results.
  console.log('');
  const header = ['leg', 'difficulty', 's/call', 'predicted', '95% band', 'served', 'ratio', 'calls/solve', 'target'];
  const table = [
    header,
    ...results.map((r) => [
      r.leg,
      String(r.difficulty),
      r.meanSecondsPerCall.toFixed(3),
      r.predicted.toFixed(1),
      `${r.band95[0].toFixed(0)}-${r.band95[1].toFixed(0)}`,
      String(r.served),
      `${r.ratio.toFixed(3)}x`,
      r.callsPerSolve === null ? '-' : r.callsPerSolve.toFixed(2),
      r.target.pass ? 'met' : 'NOT met',
    ]),
  ];
  const widths = header.map((_, i) => Math.max(...table.map((row) => row[i].length)));
  for (const row of table) console.log(row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  '));
  console.log(`target: ${RATIO.min}x <= calls served / predicted <= ${RATIO.max}x on every leg (${seconds} s per leg)`);
  const warnings = [busyWarning(cpuLoadAtStart, 'before the run'), ...cpuLoads.map((l, i) => busyWarning(l, `during the ${results[i].leg} leg (on average)`))].filter(Boolean);
  for (const warning of warnings) console.log(warning);

  const report = {
    startedAt,
    machine: { ...machine, loadAverageAtEnd: loadAverage() },
    machineLine,
    dist: DIST,
    distRevision,
    settings: {
      seconds,
      chunks,
      chunkSeconds: seconds / chunks,
      schedule,
      targetSeconds,
      difficulty,
      subPuzzles,
      threads,
      solver,
      overheadSeconds: round(overheadSeconds, 4),
      legs,
      gate: `new Gate({ secret, difficulty: ${difficulty} }) (fixed price)`,
      agent:
        agentKind === 'client'
          ? `powgate/client: wrapFetchWithPowgate(fetch, opts) (HTTP), wrapMcpClientWithPowgate(client, opts) (MCP); opts = { maxSecondsPerWindow: Infinity, threads: ${threads}, hashRate: the bench's rate / threads }`
          : 'the hand-written loop: each token presented until the server refuses it',
    },
    results,
    target: RATIO,
    pass: results.every((r) => r.target.pass),
    warnings,
  };
  let files;
  if (path.resolve(DIST) === path.join(REPO_ROOT, 'dist')) files = writeJson(path.join(REPO_ROOT, 'bench', 'results'), report, 'runaway');
  else {
    // Another build (e.g. an older commit): its own file, not runaway-latest.json.
    const dir = path.join(REPO_ROOT, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `runaway-${distRevision ?? 'other'}-${startedAt.replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    files = [file];
  }
  console.log(`wrote ${files.map((f) => path.relative(REPO_ROOT, f)).join(', ')}`);
  process.exit(report.pass ? 0 : 1);
}

/** The median wall time of trivial solves (difficulty 1), from the call to the solution: what every solve pays besides hashing. */
async function solveOverhead(powgate, solver, threads) {
  const times = [];
  for (let i = 0; i < 7; i++) {
    const challenge = powgate.createChallenge({ secret: SECRET, difficulty: 1 });
    const started = performance.now();
    await powgate.solve(challenge, { threads, backend: solver });
    times.push((performance.now() - started) / 1000);
  }
  times.sort((a, b) => a - b);
  return times[3];
}

/** CPU family, model and stepping, as lscpu shows them (from /proc/cpuinfo). */
function cpuid() {
  try {
    const first = readFileSync('/proc/cpuinfo', 'utf8').split(/\n\s*\n/)[0];
    const field = (name) => first.match(new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm'))?.[1]?.trim() ?? '?';
    return { family: field('cpu family'), model: field('model'), stepping: field('stepping') };
  } catch {
    return { family: '?', model: '?', stepping: '?' };
  }
}

/** The short commit of the checkout a dist directory sits in, or null. */
function revisionOf(dist) {
  try {
    return execFileSync('git', ['-C', path.dirname(dist), 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}
