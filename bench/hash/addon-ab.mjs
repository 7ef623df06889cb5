// A/B of two builds of the addon in one process, on one core, rounds interleaved (each round
// alternates which build goes first): the kernels' hash rates, for telling whether a change to
// native/ cost speed. Only ratios of the same run mean anything.
//   node bench/hash/addon-ab.mjs <before.node> [after.node, default build/Release/powgate.node]
// Build the "before" addon in a worktree of the older commit (npm run build:native there), and
// copy both .node files aside first: a rebuild under a running bench replaces the file it maps.
// ROUNDS (default 21) sets the rounds; each case runs about 0.6 s a round and build.
import { createRequire } from 'node:module';
import path from 'node:path';
import { describeMachine, machineFacts } from '../lib/machine.mjs';
import { REPO_ROOT } from '../lib/settings.mjs';
import { median } from '../lib/stats.mjs';

const [before, after = path.join(REPO_ROOT, 'build', 'Release', 'powgate.node')] = process.argv.slice(2);
if (!before) {
  console.error('usage: node bench/hash/addon-ab.mjs <before.node> [after.node]');
  process.exit(2);
}
const require = createRequire(import.meta.url);
const builds = { before: require(path.resolve(before)), after: require(path.resolve(after)) };
const ROUNDS = Number(process.env.ROUNDS ?? 21);
const ISA = { scalar: 0, shani: 1, avx2: 2, avx512: 3 };
const TUNING = { intel: 0, zen: 1 };
const features = builds.after.cpuFeatures();
const isas = ['scalar', 'shani', 'avx2', 'avx512'].filter((isa) => isa === 'scalar' || features[isa]);

const BATCH = 4096;
const data = new Uint8Array(40 * BATCH).map((_, i) => (i * 31) & 255);
const out = new Uint8Array(32 * BATCH);
const prefix = new Uint8Array(40).map((_, i) => i);

/** Millions of hashes a second from calling `fn` (each call `perCall` hashes) for about 0.6 s. */
function rate(fn, perCall) {
  const start = process.hrtime.bigint();
  let calls = 0;
  let seconds;
  do {
    fn();
    calls++;
    seconds = Number(process.hrtime.bigint() - start) / 1e9;
  } while (seconds < 0.6);
  return (calls * perCall) / seconds / 1e6;
}

const cases = [];
for (const isa of isas) cases.push({ name: `hashUniform ${isa} 40 B x${BATCH}`, run: (a) => rate(() => a.hashUniform(ISA[isa], data, 40, out), BATCH) });
for (const isa of isas.filter((name) => name !== 'scalar')) {
  for (const [tuning, id] of Object.entries(TUNING)) {
    // The threshold 0 is never met: every nonce of the range is hashed.
    const count = 2 ** 21;
    cases.push({ name: `searchNonces ${isa} ${tuning}`, run: (a) => rate(() => a.searchNonces(ISA[isa], prefix, 0, 0, count, 0, 0, id), count) });
  }
}

console.log(describeMachine(machineFacts({ backendInfo: { backend: 'native', isa: isas.join(','), threads: 1 }, version: 'A/B' })).join('\n'));
console.log(`before ${before}\nafter  ${after}\n${ROUNDS} rounds, one thread\n`);
const rates = new Map(cases.map((c) => [c.name, { before: [], after: [] }]));
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 === 0 ? ['before', 'after'] : ['after', 'before'];
  for (const c of cases) for (const which of order) rates.get(c.name)[which].push(c.run(builds[which]));
}
for (const [name, r] of rates) {
  const ratios = r.after.map((value, i) => value / r.before[i]);
  console.log(
    `${name.padEnd(30)} before ${median(r.before).toFixed(1).padStart(6)}  after ${median(r.after).toFixed(1).padStart(6)} MH/s` +
      `  after/before ${median(ratios).toFixed(3)} (rounds ${Math.min(...ratios).toFixed(3)} to ${Math.max(...ratios).toFixed(3)})`,
  );
}
