#!/usr/bin/env node
/**
 * `npm run bench:l402`: what checking an L402 credential costs a server, against a powgate
 * token's check in the same run.
 *
 *   1. print machine facts and how busy the CPU is;
 *   2. agreement before timing (exit 1 if anything is wrong): the credential verifies, a
 *      wrong preimage and a flipped signature byte are refused, and the warm gate gives the
 *      cold verdict;
 *   3. interleaved rounds, each timing every case over a fresh batch of calls:
 *      - cold: verifyL402 (base64 and V2 decoding, the HMAC chain, SHA-256 of the preimage);
 *      - warm: Gate.useL402 without spending (a credential seen before: its verdict remembered);
 *      - warm and spent: Gate.useL402 spending one call in the memory store;
 *      - the same three for a powgate token (verifyToken, Gate.useToken), the baseline;
 *   4. print medians (µs per call) and ratios, write bench/results/l402-*.json.
 *
 * Env: BENCH_ROUNDS (default 5), BENCH_QUICK=1 (2 short rounds).
 */
import { createHash, randomBytes } from 'node:crypto';
import { cpuLoadBetween, cpuSnapshot, describeCpuLoad } from '../lib/machine.mjs';
import { writeJson } from '../lib/report.mjs';
import { RESULTS_DIR, fail, startBench } from '../lib/settings.mjs';
import { median } from '../lib/stats.mjs';

const { startedAt, config, powgate, machine, cpuLoadAtStart } = await startBench();
const { Gate, verifyL402, verifyToken } = powgate;
const SECRET = 'a bench secret that is at least 32 bytes long';
const CALLS = config.quick ? 20_000 : 100_000;

/** A node that knows its preimages: offers are minted exactly as for a real one. */
const preimages = new Map();
const node = {
  kind: 'bench',
  async createInvoice({ amountSats, expirySeconds }) {
    const preimage = randomBytes(32);
    const paymentHash = createHash('sha256').update(preimage).digest('hex');
    preimages.set(paymentHash, preimage.toString('hex'));
    return { paymentHash, bolt11: `lnbc${amountSats}bench${paymentHash}`, amountSats, expiresAt: Date.now() + expirySeconds * 1000 };
  },
  async lookupInvoice() {
    return { state: 'open' };
  },
};

const gate = new Gate({ secret: SECRET, difficulty: 8, maxCalls: 1_048_576, scopes: { search: undefined }, lightning: { backend: node } });
const offered = await gate.lightningOffer('bench', { scope: 'search', calls: 1_048_576 });
if (!offered?.ok) fail('no Lightning offer');
const credential = `${offered.offer.macaroon}:${preimages.get(offered.offer.paymentHash)}`;
const token = powgate.issueToken({ secret: SECRET, scope: 'search', calls: 1_048_576, price: 8 });

// Agreement before timing.
const cold = verifyL402(credential, { secret: SECRET });
if (!cold.valid || cold.calls !== 1_048_576) fail(`the credential does not verify: ${JSON.stringify(cold)}`);
if (verifyL402(`${offered.offer.macaroon}:${'00'.repeat(32)}`, { secret: SECRET }).reason !== 'bad_preimage') fail('a wrong preimage passed');
const flipped = Buffer.from(offered.offer.macaroon, 'base64');
flipped[flipped.length - 1] ^= 1;
if (verifyL402(`${flipped.toString('base64')}:${preimages.get(offered.offer.paymentHash)}`, { secret: SECRET }).valid) fail('a flipped signature passed');
const warm = await gate.useL402(credential, { scope: 'search', spend: false });
if (!warm.ok || warm.grant.calls !== cold.calls || warm.grant.scope !== cold.scope) fail('the warm gate disagrees with the cold check');

const cases = {
  'L402 cold: verifyL402': () => verifyL402(credential, { secret: SECRET }),
  'L402 warm: Gate.useL402, no spend': () => gate.useL402(credential, { scope: 'search', spend: false }),
  'L402 warm + spend (memory)': () => gate.useL402(credential, { scope: 'search' }),
  'token cold: verifyToken': () => verifyToken(token, { secret: SECRET }),
  'token warm: Gate.useToken, no spend': () => gate.useToken(token, { scope: 'search', spend: false }),
  'token warm + spend (memory)': () => gate.useToken(token, { scope: 'search' }),
};

/** µs per call over `n` calls (awaiting each: the way a server uses it). */
async function time(fn, n) {
  const started = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await fn();
  return Number(process.hrtime.bigint() - started) / 1000 / n;
}

const perRound = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
const before = cpuSnapshot();
for (const fn of Object.values(cases)) await time(fn, 2_000); // warm-up
for (let round = 0; round < config.rounds; round++) {
  const n = Math.round(CALLS / 10);
  for (const [name, fn] of Object.entries(cases)) perRound[name].push(await time(fn, n));
}
const load = cpuLoadBetween(before, cpuSnapshot());

const rows = Object.entries(perRound).map(([name, values]) => ({ name, medianMicros: median(values), minMicros: Math.min(...values), rounds: values }));
const byName = Object.fromEntries(rows.map((r) => [r.name, r.medianMicros]));
const ratios = {
  coldL402OverColdToken: byName['L402 cold: verifyL402'] / byName['token cold: verifyToken'],
  warmL402OverWarmToken: byName['L402 warm: Gate.useL402, no spend'] / byName['token warm: Gate.useToken, no spend'],
  spentL402OverSpentToken: byName['L402 warm + spend (memory)'] / byName['token warm + spend (memory)'],
};
console.log(`\n${config.rounds} interleaved rounds, ${Math.round(CALLS / 10)} calls per case per round; ${describeCpuLoad(load)}`);
for (const r of rows) console.log(`${r.name.padEnd(40)} ${r.medianMicros.toFixed(2).padStart(8)} µs median   ${r.minMicros.toFixed(2).padStart(8)} µs min`);
console.log(
  `\nL402 / token: cold ${ratios.coldL402OverColdToken.toFixed(2)}x, warm ${ratios.warmL402OverWarmToken.toFixed(2)}x, warm + spend ${ratios.spentL402OverSpentToken.toFixed(2)}x`,
);
const target = byName['L402 warm: Gate.useL402, no spend'] < 10;
console.log(`target (a warm L402 check under 10 µs): ${target ? 'met' : 'NOT met'}`);
const files = writeJson(RESULTS_DIR, { startedAt, machine, config, cpuLoadAtStart, cpuLoad: load, rows, ratios, targetMet: target }, 'l402');
console.log(`wrote ${files.join(', ')}`);
await gate.close();
