/**
 * Interleaved benny rounds with the yardstick in between: every case once per
 * round, the first case rotating, the probe before the first, after the middle
 * and after the last round. Each round also records how much CPU other processes
 * used meanwhile, so a round spoilt by a neighbour shows in the results.
 */
import b from 'benny';
import { cpuLoadBetween, cpuSnapshot } from './machine.mjs';
import { runYardstick, yardstickSchedule } from './yardstick.mjs';

/**
 * benny decides whether a case is asynchronous by calling it once before timing
 * (`prepareCaseFn`): for `() => fn` with `fn` returning a promise, it calls `fn()` once
 * and does not wait for it. A search left running would steal the timed calls' threads,
 * so the first call here is a no-op; every later one runs `run`.
 */
function benchFunction(c) {
  if (!c.async) return c.run;
  let probed = false;
  const fn = () => {
    if (probed) return c.run();
    probed = true;
    return Promise.resolve();
  };
  return () => fn;
}

/** Warm-up so JIT, page faults, thread pools and CPU frequency settle before round 1. */
export async function warmUp(cases, ms = 100) {
  for (const c of cases) {
    const end = performance.now() + ms;
    do await c.run();
    while (performance.now() < end);
  }
}

/**
 * One benny suite with every case; the starting case rotates each round so no
 * case is always first (or last) after the yardstick. Returns ops/s by case id.
 * A case is `{ id, run, async? }`: `run` returns a promise when `async` is set.
 */
export async function runRound(cases, index, total, timing) {
  const order = [...cases.slice(index % cases.length), ...cases.slice(0, index % cases.length)];
  const summary = await b.suite(
    `round ${index + 1}/${total}`,
    ...order.map((c) => b.add(c.id, benchFunction(c))),
    b.cycle((result) => {
      console.log(`  ${result.name.padEnd(48)} ${result.ops.toFixed(1).padStart(12)} ops/s  ±${result.margin}%`);
    }),
    b.complete(() => {}),
    b.configure({ cases: timing, minDisplayPrecision: 2 }),
  );
  return new Map(summary.results.map((r) => [r.name, r.ops]));
}

/** Runs the yardstick for every schedule slot equal to `position` (rounds done so far). */
async function yardstickAt(position, schedule, probe, runs) {
  for (const slot of schedule) {
    if (slot !== position) continue;
    const label = position === 0 ? 'before round 1' : `after round ${position}`;
    console.log(`yardstick (${label}) ...`);
    const result = await runYardstick(probe, label);
    console.log(result.ok ? `  avx512_16 ${result.values.avx512_16}, shani_best ${result.values.shani_best}` : `  ${result.error}`);
    runs.push(result);
  }
}

/**
 * Rounds with the yardstick interleaved. Returns ops/s per case per round, the
 * yardstick runs and, per round, the CPU load (`cpuLoadBetween`) during that round.
 */
export async function measureRounds(cases, { rounds, timing }, probe) {
  const schedule = yardstickSchedule(rounds);
  const yardRuns = [];
  const roundLoads = [];
  const opsByCase = new Map(cases.map((c) => [c.id, []]));
  await yardstickAt(0, schedule, probe, yardRuns);
  for (let r = 0; r < rounds; r++) {
    const before = cpuSnapshot();
    const ops = await runRound(cases, r, rounds, timing);
    roundLoads.push(cpuLoadBetween(before, cpuSnapshot()));
    for (const [id, value] of ops) opsByCase.get(id).push(value);
    await yardstickAt(r + 1, schedule, probe, yardRuns);
  }
  return { opsByCase, yardRuns, roundLoads };
}
