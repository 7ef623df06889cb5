/**
 * Latency of the public `solve()`, measured directly (not with benny) over many samples:
 * a trivial challenge end to end with a warm pool, and cancellation, i.e. the time from
 * `controller.abort()` to the rejection and until the solver threads stop using the CPU.
 */
import { distribution } from '../lib/stats.mjs';

/** Only for challenges this bench makes and solves itself. */
const SECRET = 'powgate bench secret (not for use) 0123456789abcdef';

/** Distinct trivial challenges, used in turn. */
const TRIVIAL_CHALLENGES = 64;

/** Sleeps without running the event loop, so this thread adds no CPU time of its own. */
const sleepBlocking = (() => {
  const cell = new Int32Array(new SharedArrayBuffer(4));
  return (ms) => Atomics.wait(cell, 0, 0, ms);
})();

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const cpuMicros = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

/**
 * `solve()` of a difficulty-1, one-sub-puzzle challenge (about two hashes), timed from
 * the call to the resolved solution, after `warmup` solves. Each of the first 64
 * solutions is checked with `verifySolution`. Returns the distribution in µs.
 */
export async function trivialSolveLatency(powgate, { backend, threads, samples, warmup }) {
  const challenges = Array.from({ length: TRIVIAL_CHALLENGES }, () => powgate.createChallenge({ secret: SECRET, difficulty: 1, subPuzzles: 1 }));
  const options = { backend, threads };
  for (let i = 0; i < warmup; i++) await powgate.solve(challenges[i % challenges.length], options);
  const micros = [];
  const solutions = [];
  for (let i = 0; i < samples; i++) {
    const challenge = challenges[i % challenges.length];
    const start = performance.now();
    const solution = await powgate.solve(challenge, options);
    micros.push((performance.now() - start) * 1000);
    if (i < challenges.length) solutions.push([challenge, solution]);
  }
  const store = new powgate.MemoryReplayStore();
  for (const [challenge, solution] of solutions) {
    const verdict = await powgate.verifySolution(challenge, solution, { secret: SECRET, store });
    if (!verdict.ok) throw new Error(`solve() on ${backend.name} returned a solution that verifySolution refuses: ${verdict.reason}`);
  }
  return { ...distribution(micros), verified: solutions.length };
}

/**
 * Watches this process's CPU time for `ms` after a rejection, in blocking windows of about
 * 1 ms (each costs the watcher some 40 µs). Returns when the last window in which the
 * process used more than half a core ended, or null when none did. A solver thread still
 * hashing uses a whole core; Linux accounts a thread's time when it goes to sleep.
 */
function lastBusyWindow(ms, windowMs = 1, busyShare = 0.5) {
  const start = performance.now();
  let lastBusyEnd = null;
  let before = cpuMicros();
  let windowStart = start;
  while (windowStart - start < ms) {
    sleepBlocking(windowMs);
    const now = performance.now();
    const cpu = cpuMicros();
    if (cpu - before > busyShare * (now - windowStart) * 1000) lastBusyEnd = now;
    before = cpu;
    windowStart = now;
  }
  return lastBusyEnd;
}

/** CPU ms this process uses over the next `ms` while this thread sleeps (≈ 0 when every solver thread has stopped). */
function cpuWhileSleeping(ms) {
  const before = cpuMicros();
  sleepBlocking(ms);
  return (cpuMicros() - before) / 1000;
}

/** One cancelled solve: run for `runMs`, abort, wait for the rejection, then watch the CPU. */
async function abortOnce(powgate, challenge, { backend, threads, runMs, watchMs, idleMs }) {
  const controller = new AbortController();
  const solving = powgate.solve(challenge, { backend, threads, signal: controller.signal }).then(
    () => 'solved',
    (error) => error.code,
  );
  const cpuBefore = cpuMicros();
  const runStart = performance.now();
  await sleep(runMs);
  const busyCores = (cpuMicros() - cpuBefore) / ((performance.now() - runStart) * 1000);
  const aborted = performance.now();
  controller.abort();
  const outcome = await solving;
  const rejected = performance.now();
  if (outcome !== 'ERR_ABORTED') throw new Error(`an aborted solve() on ${backend.name} ended with ${outcome}, not ERR_ABORTED`);
  const lastBusy = lastBusyWindow(watchMs);
  return {
    rejectMicros: (rejected - aborted) * 1000,
    quietMs: (lastBusy ?? rejected) - aborted,
    cpuMsNext: cpuWhileSleeping(idleMs),
    busyCores,
  };
}

/**
 * Abort latency: `solve()` of a difficulty-40 challenge (hours of work), aborted after
 * `runMs` of solving. Per sample: µs from `abort()` to the rejection; ms from `abort()` to
 * the end of the last ~1 ms window, within `watchMs` of the rejection, in which the process
 * used more than half a core (the threads are quiet from then on); the process's CPU ms over
 * the `idleMs` after that (≈ 0 when every thread stopped); and how many cores were busy
 * before the abort (≈ threads, else the sample proves nothing).
 */
export async function abortLatency(powgate, { backend, threads, samples, runMs = 20, watchMs = 30, idleMs = 50 }) {
  const challenge = powgate.createChallenge({ secret: SECRET, difficulty: 40, subPuzzles: 1 });
  const options = { backend, threads, runMs, watchMs, idleMs };
  await abortOnce(powgate, challenge, options); // warm-up: pool and code paths
  const runs = [];
  for (let i = 0; i < samples; i++) runs.push(await abortOnce(powgate, challenge, options));
  const field = (name) => distribution(runs.map((r) => r[name]));
  return {
    runMs,
    watchMs,
    idleMs,
    rejectMicros: field('rejectMicros'),
    quietMs: field('quietMs'),
    cpuMsNext: field('cpuMsNext'),
    busyCoresBefore: field('busyCores'),
  };
}
