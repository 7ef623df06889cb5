#!/usr/bin/env node
/**
 * `npm run bench:verify`: how cheaply powgate verifies, the defender's side of proof of work,
 * judged against the shared yardstick and against ALTCHA in one process run.
 *
 *   1. print machine facts and how busy the CPU is;
 *   2. agreement before timing (exit 1 if anything is wrong): every backend's checkProofs
 *      gives node:crypto's verdicts on the timed batch and on tail batches; verifySolutions
 *      accepts every valid pair, refuses exactly the tampered one, refuses every flood pair
 *      for the right reason, gives the same verdicts with every backend, and spends (a
 *      second spend is `replayed`); ALTCHA accepts its pairs and refuses a tampered one;
 *   3. interleaved benny rounds: checkProofs per backend (proofs/s) and verification rows
 *      (pairs/s), with the yardstick before the first, after the middle and after the last round;
 *   4. direct timing: verifySolution latency per call (a fresh valid pair each), and
 *      verifySolutions on freshly parsed objects every call, with the cost of JSON.parse;
 *   5. print the tables, ratios and targets, write bench/results/verify-*.json.
 *
 * Env: BENCH_ROUNDS (default 5), BENCH_QUICK=1 (2 short rounds, fewer direct samples),
 *      BENCH_WAIT_IDLE (seconds to wait for an idle machine), POWGATE_YARDSTICK (the probe).
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { backendTag, loadBackends } from '../lib/cases.mjs';
import { busyWarning, cpuLoadBetween, cpuSnapshot, describeCpuLoad, loadAverage, roundWarnings } from '../lib/machine.mjs';
import { addonFacts } from '../lib/nonce-search.mjs';
import { formatYardstick, writeJson } from '../lib/report.mjs';
import { measureRounds, warmUp } from '../lib/rounds.mjs';
import { REPO_ROOT, RESULTS_DIR, fail, startBench } from '../lib/settings.mjs';
import { summarize } from '../lib/stats.mjs';
import {
  ALTCHA_PATHS,
  ALTCHA_PER_CALL,
  FLOOD_DIFFICULTY,
  ONE_BY_ONE,
  PAIR_BATCH,
  PROOF_BATCH,
  PROOF_TAIL,
  SECRET,
  altchaCase,
  altchaPairs,
  altchaTampered,
  altchaVerify,
  checkProofsGap,
  firstWrongVerdict,
  freshStore,
  oneByOneCase,
  pairTexts,
  parsePairs,
  proofBatch,
  proofCase,
  tamperedCopy,
  verifyBatchCase,
} from './cases.mjs';
import { formatDirect, formatPairTable, formatProofTable, formatVerdicts, latencyDistribution, verifyRows, verifyVerdicts } from './report.mjs';
import { yardstickMedian, yardstickPath } from '../lib/yardstick.mjs';

/** Direct-timed samples: per-call latencies and fresh-object batches. */
const DIRECT_SAMPLES = {
  full: { latency: 20_000, latencyJs: 5_000, latencyAltcha: 2_000, warmup: 1_000, fresh: 20 },
  quick: { latency: 3_000, latencyJs: 1_000, latencyAltcha: 300, warmup: 300, fresh: 5 },
};

const cpuMicros = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

// ---------------------------------------------------------------- backends and checkProofs agreement

/**
 * Every backend bench/hash/hash.mjs measures (each native ISA this CPU and build run, wasm, js),
 * and those among them whose checkProofs works. What cannot run is skipped with its reason.
 */
async function loadProofBackends(powgate, skipped) {
  const loaded = await loadBackends(powgate.loadBackend);
  for (const s of loaded.skipped) {
    const what = s.isa ? `${s.backend}/${s.isa}` : s.backend;
    skipped.push({ what, reason: `${s.code}: ${s.reason.split('\n')[0]}` });
    console.log(`skipped ${what}: ${s.code}: ${s.reason.split('\n')[0]}`);
  }
  const all = [...loaded.native, loaded.wasm, loaded.js].filter(Boolean);
  const proofs = all.filter((backend) => {
    const gap = checkProofsGap(backend);
    if (gap) {
      skipped.push({ what: `${backendTag(backend)} checkProofs`, reason: gap });
      console.log(`skipped ${backendTag(backend)} checkProofs: ${gap}`);
    }
    return !gap;
  });
  return { ...loaded, all, proofs };
}

/** Exits 1, timing nothing, unless every checkProofs gives node:crypto's verdict on every proof. */
function requireProofAgreement(backends, batches) {
  const mismatches = [];
  for (const backend of backends) {
    for (const batch of batches) {
      try {
        const at = firstWrongVerdict(backend, batch);
        if (at >= 0) mismatches.push(`${backendTag(backend)} on ${batch.key}: first wrong verdict at proof ${at} (expected ${batch.expected[at]})`);
      } catch (error) {
        mismatches.push(`${backendTag(backend)} on ${batch.key}: threw ${error.message.split('\n')[0]}`);
      }
    }
  }
  if (mismatches.length) {
    console.error("bench: checkProofs DISAGREES with node:crypto's verdicts; nothing was timed.");
    for (const m of mismatches) console.error(`  ${m}`);
    process.exit(1);
  }
  const timed = batches[0];
  console.log(
    `agreement: checkProofs of ${backends.map(backendTag).join(', ') || 'no backend'} on ${batches.map((b) => b.key).join(', ')}: ` +
      `node:crypto's verdicts (${timed.passing} of ${timed.count} timed proofs pass)`,
  );
  return { checked: backends.length * batches.length, backends: backends.map(backendTag), passing: timed.passing, proofs: timed.count };
}

// ---------------------------------------------------------------- pairs and their agreement

/** Every pair text the bench needs, made before anything is timed; prints how long it took. */
async function makeInputs(powgate, samples, now) {
  const started = performance.now();
  const valid = (count) => pairTexts(powgate, { count, now, kind: 'valid' });
  const inputs = {
    valid: valid(PAIR_BATCH),
    badSolution: pairTexts(powgate, { count: PAIR_BATCH, now, kind: 'bad_solution' }),
    badSignature: pairTexts(powgate, { count: PAIR_BATCH, now, kind: 'bad_signature' }),
    latencyWarmup: valid(samples.warmup),
    latency: valid(samples.latency),
    latencyJs: valid(samples.latencyJs),
    altcha: {},
  };
  for (const p of ALTCHA_PATHS) inputs.altcha[p] = await altchaPairs(ALTCHA_PER_CALL, p);
  const count = PAIR_BATCH * 3 + samples.warmup + samples.latency + samples.latencyJs;
  console.log(
    `inputs: ${count} powgate pairs (createChallenge, nonces found with node:crypto) and ${ALTCHA_PER_CALL} ALTCHA pairs per path in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  return inputs;
}

/** What a verdict list looks like, for a message: "9999 ok, 1 bad_signature". */
function tally(verdicts) {
  const counts = new Map();
  for (const v of verdicts) counts.set(v?.ok ? 'ok' : String(v?.reason), (counts.get(v?.ok ? 'ok' : String(v?.reason)) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${n} ${k}`).join(', ');
}

/** Indexes where `verdicts` differ from `expected` (a reason, or 'ok' with the pair's id). */
function wrongVerdicts(verdicts, expected) {
  if (!Array.isArray(verdicts) || verdicts.length !== expected.length)
    return [`expected ${expected.length} verdicts, got ${Array.isArray(verdicts) ? verdicts.length : typeof verdicts}`];
  const wrong = [];
  for (let i = 0; i < expected.length && wrong.length < 5; i++) {
    const e = expected[i];
    const v = verdicts[i];
    const good = e.ok ? v?.ok === true && v.id === e.id : v?.ok === false && v.reason === e.reason;
    if (!good) wrong.push(`item ${i}: expected ${e.ok ? `ok (id ${e.id})` : e.reason}, got ${JSON.stringify(v)}`);
  }
  return wrong;
}

const okFor = (pairs) => pairs.map((p) => ({ ok: true, id: p.challenge.id }));
const refused = (count, reason) => Array.from({ length: count }, () => ({ ok: false, reason }));

/**
 * Exits 1, timing nothing, unless verification behaves: the timed batches get exactly the
 * verdicts the rows claim, a tampered copy is refused for that item only, every backend
 * gives the same verdicts on a mixed batch, a spent id is `replayed`, verifySolution
 * accepts single pairs, and ALTCHA accepts its pairs and refuses a tampered one.
 */
async function requirePairAgreement(powgate, backends, inputs, now) {
  const failures = [];
  const notes = [];
  const verify = (pairs, extra = {}) => powgate.verifySolutions(pairs, { secret: SECRET, store: freshStore(powgate, pairs.length, now), now, ...extra });
  const expectBatch = async (what, pairs, expected, extra) => {
    try {
      const wrong = wrongVerdicts(await verify(pairs, extra), expected);
      if (wrong.length) failures.push(`${what}: ${wrong.join('; ')}`);
      return wrong.length === 0;
    } catch (error) {
      failures.push(`${what}: threw ${error.message.split('\n')[0]}`);
      return false;
    }
  };

  const valid = parsePairs(inputs.valid);
  await expectBatch(`verifySolutions, ${valid.length} valid pairs`, valid, okFor(valid));
  const t = valid.length >> 1;
  const tampered = okFor(valid);
  tampered[t] = { ok: false, reason: 'bad_signature' };
  await expectBatch(`verifySolutions, valid pairs with item ${t}'s signature altered`, tamperedCopy(inputs.valid, t), tampered);
  await expectBatch(`verifySolutions, ${PAIR_BATCH} wrong nonces`, parsePairs(inputs.badSolution), refused(PAIR_BATCH, 'bad_solution'));
  await expectBatch(`verifySolutions, ${PAIR_BATCH} forged signatures`, parsePairs(inputs.badSignature), refused(PAIR_BATCH, 'bad_signature'));

  // A mixed batch on every backend: 1000 valid, 500 wrong nonces, 500 forged, 1 tampered, 1 malformed.
  const mixedPairs = [
    ...parsePairs(inputs.valid.slice(0, 1000)),
    ...parsePairs(inputs.badSolution.slice(0, 500)),
    ...parsePairs(inputs.badSignature.slice(0, 500)),
    tamperedCopy(inputs.valid.slice(1000, 1001), 0)[0],
    { challenge: null, solution: {} },
  ];
  const mixedExpected = [...okFor(mixedPairs.slice(0, 1000)), ...refused(500, 'bad_solution'), ...refused(501, 'bad_signature'), { ok: false, reason: 'malformed' }];
  for (const backend of backends.all) {
    const tag = backendTag(backend);
    const gap = checkProofsGap(backend);
    const before = failures.length;
    await expectBatch(`verifySolutions with backend ${tag}, mixed batch`, mixedPairs, mixedExpected, { backend });
    if (failures.length > before && gap) notes.push(`verifySolutions with backend ${tag} not checked (${gap}): ${failures.splice(before).join('; ')}`);
  }

  // The store really spends: the same pairs again, on the same store, are replayed.
  try {
    const store = freshStore(powgate, 100, now);
    const some = valid.slice(0, 10);
    await powgate.verifySolutions(some, { secret: SECRET, store, now });
    const again = await powgate.verifySolutions(some, { secret: SECRET, store, now });
    if (!again.every((v) => v.ok === false && v.reason === 'replayed')) failures.push(`verifySolutions twice on one store: expected 10 replayed, got ${tally(again)}`);
  } catch (error) {
    failures.push(`verifySolutions replay check threw ${error.message.split('\n')[0]}`);
  }

  // verifySolution, one pair at a time, default options and the js backend; then a replay.
  for (const backend of [undefined, backends.js]) {
    const label = backend ? 'verifySolution with backend js' : 'verifySolution';
    const store = freshStore(powgate, 10, now);
    const options = { secret: SECRET, store, now, ...(backend ? { backend } : {}) };
    const pairs = parsePairs(inputs.valid.slice(2000, 2005));
    for (const p of pairs) {
      const v = await powgate.verifySolution(p.challenge, p.solution, options);
      if (v?.ok !== true || v.id !== p.challenge.id) failures.push(`${label}: expected ok (id ${p.challenge.id}), got ${JSON.stringify(v)}`);
    }
    const replay = await powgate.verifySolution(pairs[0].challenge, pairs[0].solution, options);
    if (replay?.reason !== 'replayed') failures.push(`${label} of a spent pair: expected replayed, got ${JSON.stringify(replay)}`);
  }

  for (const p of ALTCHA_PATHS) {
    const pairs = inputs.altcha[p];
    let accepted = 0;
    for (const options of pairs) if (await altchaVerify(options)) accepted++;
    if (accepted !== pairs.length) failures.push(`altcha-lib verifySolution (${p}): accepted ${accepted} of ${pairs.length} valid pairs`);
    if (await altchaVerify(altchaTampered(pairs[0]))) failures.push(`altcha-lib verifySolution (${p}): accepted a tampered signature`);
  }

  if (failures.length) {
    console.error('bench: verification gives WRONG verdicts; nothing was timed.');
    for (const f of failures) console.error(`  ${f}`);
    process.exit(1);
  }
  for (const n of notes) console.log(`note: ${n}`);
  console.log(
    `agreement: verifySolutions accepts all ${PAIR_BATCH} valid pairs and refuses only the tampered one; floods refused as bad_solution / bad_signature; ` +
      `mixed batch identical on ${backends.all.length - notes.length} backends; spent ids replayed; ALTCHA accepts its pairs and refuses a tampered one`,
  );
  return { ok: true, backendsChecked: backends.all.map(backendTag), notes };
}

// ---------------------------------------------------------------- cases

/** The benny rows: checkProofs per backend on the batch the agreement check used, then the verification rows and the baselines. */
function buildCases(powgate, backends, batch, inputs, now, defaultTag) {
  const valid = parsePairs(inputs.valid);
  const oneByOne = valid.slice(0, ONE_BY_ONE);
  return [
    ...backends.proofs.map((backend) => proofCase(backend, batch)),
    verifyBatchCase(powgate, { id: `verifySolutions x${PAIR_BATCH} valid (default: ${defaultTag})`, role: 'target', pairs: valid, now }),
    verifyBatchCase(powgate, { id: `verifySolutions x${PAIR_BATCH} valid, backend js`, role: 'batchJs', pairs: valid, now, backend: backends.js }),
    verifyBatchCase(powgate, { id: `flood: verifySolutions x${PAIR_BATCH} wrong nonces (d=${FLOOD_DIFFICULTY})`, role: 'flood', pairs: parsePairs(inputs.badSolution), now }),
    verifyBatchCase(powgate, { id: `flood: verifySolutions x${PAIR_BATCH} forged signatures`, role: 'flood', pairs: parsePairs(inputs.badSignature), now }),
    oneByOneCase(powgate, { id: `verifySolution 1-by-1 x${ONE_BY_ONE} (default options)`, role: 'oneByOne', pairs: oneByOne, now }),
    oneByOneCase(powgate, { id: `verifySolution 1-by-1 x${ONE_BY_ONE}, backend js (node:crypto)`, role: 'cryptoOneByOne', pairs: oneByOne, now, backend: backends.js }),
    ...ALTCHA_PATHS.map((p) => altchaCase(p, inputs.altcha[p])),
  ];
}

// ---------------------------------------------------------------- direct timing

/**
 * verifySolution latency: each call a fresh valid pair (parsed beforehand), one store for all,
 * timed with process.hrtime.bigint around each await. Every verdict must be ok.
 */
async function singleLatency(powgate, { texts, warmupTexts, now, backend }) {
  const pairs = parsePairs(texts);
  const warmup = parsePairs(warmupTexts);
  const options = { secret: SECRET, store: freshStore(powgate, pairs.length + warmup.length, now), now, ...(backend ? { backend } : {}) };
  for (const p of warmup) await powgate.verifySolution(p.challenge, p.solution, options);
  const micros = new Array(pairs.length);
  let refusals = 0;
  for (let i = 0; i < pairs.length; i++) {
    const { challenge, solution } = pairs[i];
    const start = process.hrtime.bigint();
    const verdict = await powgate.verifySolution(challenge, solution, options);
    micros[i] = Number(process.hrtime.bigint() - start) / 1000;
    if (!verdict.ok) refusals++;
  }
  if (refusals) throw new Error(`verifySolution refused ${refusals} of ${pairs.length} fresh valid pairs during the latency run`);
  return latencyDistribution(micros);
}

/** altcha-lib verifySolution latency, cycling over its distinct pairs (it keeps no replay record). */
async function altchaLatency(pairs, samples) {
  for (let i = 0; i < Math.min(100, samples); i++) await altchaVerify(pairs[i % pairs.length]);
  const micros = new Array(samples);
  for (let i = 0; i < samples; i++) {
    const options = pairs[i % pairs.length];
    const start = process.hrtime.bigint();
    const ok = await altchaVerify(options);
    micros[i] = Number(process.hrtime.bigint() - start) / 1000;
    if (!ok) throw new Error('altcha-lib refused a valid pair during the latency run');
  }
  return latencyDistribution(micros);
}

/**
 * verifySolutions on objects parsed afresh for every call (JSON.parse of each pair's text,
 * timed apart): what a server sees, with nothing left warm from the last call. One untimed
 * call first. Returns pairs/s per call, cores used, and JSON.parse µs per pair.
 */
async function freshBatches(powgate, texts, now, samples, label) {
  const perSecond = [];
  const parseMicros = [];
  let cpu = 0;
  let wall = 0;
  for (let s = -1; s < samples; s++) {
    const parseStart = performance.now();
    const pairs = texts.map((text) => JSON.parse(text));
    const parsed = performance.now();
    const store = freshStore(powgate, pairs.length, now);
    const cpuStart = cpuMicros();
    const start = performance.now();
    const verdicts = await powgate.verifySolutions(pairs, { secret: SECRET, store, now });
    const end = performance.now();
    const cpuUsed = cpuMicros() - cpuStart;
    if (!verdicts.every((v) => v.ok)) throw new Error(`verifySolutions on fresh objects: ${tally(verdicts)}`);
    if (s < 0) continue; // warm-up
    parseMicros.push(((parsed - parseStart) * 1000) / texts.length);
    perSecond.push(texts.length / ((end - start) / 1000));
    cpu += cpuUsed;
    wall += (end - start) * 1000;
  }
  const perSec = summarize(perSecond);
  const cores = cpu / wall;
  return {
    label,
    samples,
    perSecondPerCall: perSecond,
    perSec,
    cores,
    perCore: perSec.median / Math.max(1, cores),
    parseMicrosPerPair: summarize(parseMicros),
  };
}

/**
 * Which builds were measured: the addon (path, build time, SHA-256) and dist/index.js's
 * build time. Others rebuild both while kernels change, so a figure is tied to a build.
 */
function buildFacts(skipped) {
  let addon = null;
  try {
    addon = addonFacts(REPO_ROOT);
    console.log(`addon     ${addon.path}, built ${addon.builtAt}, sha256 ${addon.sha256.slice(0, 16)}...`);
  } catch (error) {
    skipped.push({ what: 'addon facts', reason: error.message.split('\n')[0] });
  }
  const distBuiltAt = statSync(path.join(REPO_ROOT, 'dist', 'index.js')).mtime.toISOString();
  console.log(`dist      dist/index.js built ${distBuiltAt}`);
  return { addon, distBuiltAt };
}

async function measureDirect(powgate, backends, inputs, now, samples, defaultTag) {
  const latency = [];
  const row = async (label, extra, measure) => {
    const result = await measure();
    latency.push({ label, ...extra, ...result });
    console.log(`  ${label}: median ${result.median.toFixed(2)} µs, p90 ${result.p90.toFixed(2)}, p99 ${result.p99.toFixed(2)}`);
  };
  await row('powgate verifySolution (default options)', { target: true }, () => singleLatency(powgate, { texts: inputs.latency, warmupTexts: inputs.latencyWarmup, now }));
  await row('powgate verifySolution, backend js (node:crypto)', { target: false }, () =>
    singleLatency(powgate, { texts: inputs.latencyJs, warmupTexts: inputs.latencyWarmup, now, backend: backends.js }),
  );
  for (const p of ALTCHA_PATHS) {
    await row(`altcha-lib v2 verifySolution (${p === 'keySignature' ? 'key signature' : 're-derive'})`, { target: false, altchaPath: p }, () =>
      altchaLatency(inputs.altcha[p], samples.latencyAltcha),
    );
  }
  const fresh = await freshBatches(powgate, inputs.valid, now, samples.fresh, `x${PAIR_BATCH} valid (default: ${defaultTag})`);
  console.log(`  verifySolutions on fresh objects: median ${(fresh.perSec.median / 1e3).toFixed(1)}k pairs/s, JSON.parse ${fresh.parseMicrosPerPair.median.toFixed(3)} µs/pair`);
  return { latency, fresh };
}

// ---------------------------------------------------------------- main

async function main() {
  const { startedAt, config, powgate, machine, cpuLoadAtStart } = await startBench();
  const samples = DIRECT_SAMPLES[config.mode];
  const skipped = [];
  const builds = buildFacts(skipped);

  const backends = await loadProofBackends(powgate, skipped);
  const batches = [proofBatch(PROOF_BATCH, 0x5eed), proofBatch(PROOF_TAIL, 0x7a11), proofBatch(1, 0x0001)];
  const proofAgreement = requireProofAgreement(backends.proofs, batches);

  const serving = await powgate.getBackend();
  const defaultTag = backendTag(serving);
  const now = Date.now();
  const inputs = await makeInputs(powgate, samples, now);
  const pairAgreement = await requirePairAgreement(powgate, backends, inputs, now);

  const cases = buildCases(powgate, backends, batches[0], inputs, now, defaultTag);
  console.log(`\n${config.mode} mode: ${config.rounds} rounds x ${cases.length} cases, benny maxTime ${config.timing.maxTime}s per case`);
  console.log('one proof = one SHA-256 block compression (a 48-byte work message), so proofs/s compares directly with the yardstick.\n');
  await warmUp(cases, config.quick ? 50 : 200);
  for (const c of cases) c.resetMeter();
  const probe = yardstickPath(REPO_ROOT);
  const { opsByCase, yardRuns, roundLoads } = await measureRounds(cases, config, probe);

  console.log('\ndirect timing ...');
  const directStart = cpuSnapshot();
  const direct = await measureDirect(powgate, backends, inputs, now, samples, defaultTag);
  const cpuLoadDirect = cpuLoadBetween(directStart, cpuSnapshot());

  const yard = yardstickMedian(yardRuns);
  const rows = verifyRows(cases, opsByCase, yard.median);
  const verdicts = verifyVerdicts(rows, direct, yard.median, skipped);
  console.log(`\n${formatYardstick({ runs: yardRuns, ...yard }).join('\n')}\n`);
  console.log(formatProofTable(rows));
  console.log('');
  console.log(formatPairTable(rows));
  console.log("\ncores = process CPU time ÷ wall time over the row's calls; per core = median ÷ max(1, cores). Ratios use per-core medians;");
  console.log("x altcha is against altcha-lib's faster path. ALTCHA keeps no replay record; every powgate row spends in a MemoryReplayStore.\n");
  console.log(formatDirect(direct));
  console.log('');
  console.log(formatVerdicts(verdicts).join('\n'));

  const loadAverageAtEnd = loadAverage();
  console.log(`\nload average at start ${machine.loadAverageAtStart.map((l) => l.toFixed(2)).join(' ')}, at end ${loadAverageAtEnd.map((l) => l.toFixed(2)).join(' ')}`);
  roundLoads.forEach((load, i) => console.log(`round ${i + 1}: ${describeCpuLoad(load)}`));
  console.log(`direct timing: ${describeCpuLoad(cpuLoadDirect)}`);
  const warnings = [busyWarning(cpuLoadAtStart, 'before the run'), ...roundWarnings(roundLoads), busyWarning(cpuLoadDirect, 'during the direct timing')].filter(Boolean);
  for (const warning of warnings) console.log(warning);

  const report = {
    schema: 1,
    startedAt,
    finishedAt: new Date().toISOString(),
    mode: config.mode,
    rounds: config.rounds,
    benny: config.timing,
    machine: { ...machine, ...builds, servingBackend: defaultTag, loadAverageAtEnd, cpuLoadAtStart, cpuLoadPerRound: roundLoads, cpuLoadDirect, warnings },
    sizes: { proofBatch: PROOF_BATCH, pairBatch: PAIR_BATCH, oneByOne: ONE_BY_ONE, altchaPerCall: ALTCHA_PER_CALL, floodDifficulty: FLOOD_DIFFICULTY, directSamples: samples },
    skipped,
    agreement: { proofs: proofAgreement, pairs: pairAgreement },
    yardstick: { path: probe, runs: yardRuns, median: yard.median, note: yard.note },
    rows,
    direct,
    targets: verdicts,
  };
  const files = writeJson(RESULTS_DIR, report, 'verify');
  console.log(`\nwrote ${files.map((f) => path.relative(REPO_ROOT, f)).join(', ')}`);
}

main().catch((error) => fail(error.stack ?? String(error)));
