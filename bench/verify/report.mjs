/**
 * The verification bench's figures: proofs/s and pairs/s per row (per core: divided by the
 * cores the process used during the row's calls), ratios to the yardstick and to the
 * baselines, the direct-timed latency and fresh-object tables, and the targets.
 */
import { fmt, formatColumns, ratio } from '../lib/report.mjs';
import { mapSummary, median, percentile, summarize } from '../lib/stats.mjs';

/** The targets, stated once. */
export const VERIFY_TARGETS = {
  proofsVsYardstick: 0.6, // native/avx512 checkProofs per core, × yardstick avx512_16
  pairsPerSecondPerCore: 1_000_000, // verifySolutions, valid pairs, per core
  pairsVsAltcha: 100, // verifySolutions per core ÷ altcha-lib verifySolution per core
  singleMedianMicros: 5, // verifySolution of one fresh valid pair, median
};

/** `{ samples, median, p90, p99, min, max }` of a non-empty list of latencies. */
export function latencyDistribution(values) {
  return {
    samples: values.length,
    median: median(values),
    p90: percentile(values, 90),
    p99: percentile(values, 99),
    min: Math.min(...values),
    max: Math.max(...values),
  };
}

/**
 * One row per case. `perSec` is units (proofs or pairs) per second of wall time, from
 * benny's ops/s × units per call; `cores` the process's CPU time ÷ wall time over the row's
 * calls (all rounds); `perCore` the median ÷ max(1, cores). Ratios compare per-core medians.
 */
export function verifyRows(cases, opsByCase, yard) {
  const base = cases.map((c) => {
    const ops = summarize(opsByCase.get(c.id));
    const perSec = mapSummary(ops, (o) => o * c.unitsPerCall);
    const cores = c.meter.wallMicros > 0 ? c.meter.cpuMicros / c.meter.wallMicros : null;
    return {
      id: c.id,
      kind: c.kind,
      role: c.role ?? null,
      backend: c.backend ?? null,
      isa: c.isa ?? null,
      altchaPath: c.altchaPath ?? null,
      unitsPerCall: c.unitsPerCall,
      opsPerRound: opsByCase.get(c.id),
      perSec,
      cores,
      calls: c.meter.calls,
      perCore: perSec.median === null ? null : perSec.median / Math.max(1, cores ?? 1),
    };
  });
  const jsProofs = base.find((r) => r.kind === 'proofs' && r.backend === 'js')?.perCore ?? null;
  const altcha = bestAltcha(base)?.perCore ?? null;
  const cryptoOneByOne = base.find((r) => r.role === 'cryptoOneByOne')?.perCore ?? null;
  return base.map((r) => ({
    ...r,
    microsPerUnit: r.perCore ? 1e6 / r.perCore : null,
    ratio:
      r.kind === 'proofs'
        ? { avx512_16: ratio(r.perCore / 1e6, yard?.avx512_16), shani_best: ratio(r.perCore / 1e6, yard?.shani_best), js: ratio(r.perCore, jsProofs) }
        : { altcha: ratio(r.perCore, altcha), cryptoOneByOne: ratio(r.perCore, cryptoOneByOne) },
  }));
}

/** The faster ALTCHA row (per core): the ratio to ALTCHA is taken against its better path. */
export function bestAltcha(rows) {
  const altcha = rows.filter((r) => r.role === 'altcha' && r.perCore);
  return altcha.length ? altcha.reduce((a, b) => (b.perCore > a.perCore ? b : a)) : null;
}

const mega = (v) => (v === null ? null : v / 1e6);
const kilo = (v) => (v === null ? null : v / 1e3);

/** Proof rows: M proofs/s, cores, per core, × yardstick, × node:crypto. */
export function formatProofTable(rows) {
  const header = ['checkProofs row', 'M proofs/s med', 'min', 'max', 'cores', 'per core', 'x avx512_16', 'x shani_best', 'x js'];
  const body = rows
    .filter((r) => r.kind === 'proofs')
    .map((r) => [
      r.id,
      fmt(mega(r.perSec.median), 3),
      fmt(mega(r.perSec.min), 3),
      fmt(mega(r.perSec.max), 3),
      fmt(r.cores, 2),
      fmt(mega(r.perCore), 3),
      fmt(r.ratio.avx512_16, 3),
      fmt(r.ratio.shani_best, 3),
      fmt(r.ratio.js, 1),
    ]);
  return formatColumns(header, body);
}

/** Pair rows: k pairs/s, cores, per core, µs per pair, × ALTCHA, × powgate one-by-one with node:crypto. */
export function formatPairTable(rows) {
  const header = ['verification row', 'k pairs/s med', 'min', 'max', 'cores', 'per core', 'µs/pair', 'x altcha', 'x node:crypto 1-by-1'];
  const body = rows
    .filter((r) => r.kind === 'pairs')
    .map((r) => [
      r.id,
      fmt(kilo(r.perSec.median), 1),
      fmt(kilo(r.perSec.min), 1),
      fmt(kilo(r.perSec.max), 1),
      fmt(r.cores, 2),
      fmt(kilo(r.perCore), 1),
      fmt(r.microsPerUnit, 3),
      fmt(r.ratio.altcha, 1),
      fmt(r.ratio.cryptoOneByOne, 2),
    ]);
  return formatColumns(header, body);
}

/** The per-call latency table (µs) and the fresh-object batch table. */
export function formatDirect(direct) {
  const latency = formatColumns(
    ['one call, a fresh valid pair each', 'samples', 'median µs', 'p90', 'p99', 'min', 'max'],
    direct.latency.map((l) => [l.label, String(l.samples), fmt(l.median, 2), fmt(l.p90, 2), fmt(l.p99, 2), fmt(l.min, 2), fmt(l.max, 1)]),
  );
  const f = direct.fresh;
  const fresh = f
    ? formatColumns(
        ['verifySolutions, freshly parsed objects every call', 'samples', 'k pairs/s med', 'min', 'max', 'cores', 'per core', 'JSON.parse µs/pair'],
        [
          [
            f.label,
            String(f.samples),
            fmt(kilo(f.perSec.median), 1),
            fmt(kilo(f.perSec.min), 1),
            fmt(kilo(f.perSec.max), 1),
            fmt(f.cores, 2),
            fmt(kilo(f.perCore), 1),
            fmt(f.parseMicrosPerPair.median, 3),
          ],
        ],
      )
    : 'verifySolutions with fresh objects: not measured';
  const context = f
    ? `\ncontext: JSON.parse of one pair's text (a server's request body) takes ${fmt(f.parseMicrosPerPair.median, 3)} µs (median), ` +
      `${fmt(f.parseMicrosPerPair.median / (1e6 / f.perCore), 2)}x what verifySolutions spends per pair on those objects (${fmt(1e6 / f.perCore, 3)} µs)`
    : '';
  return `${latency}\n\n${fresh}${context}`;
}

/** A verdict's record: `pass` null when it cannot be judged (no yardstick, no such row). */
const verdict = (target, measured, pass, note = null) => ({ target, measured, pass, ...(note ? { note } : {}) });

function proofVerdict(rows, yard, skipped) {
  const target = `raw proof check, native/avx512 checkProofs: >= ${VERIFY_TARGETS.proofsVsYardstick}x yardstick avx512_16 per core`;
  const row = rows.find((r) => r.kind === 'proofs' && r.backend === 'native/avx512');
  if (!row) {
    const why = skipped.find((s) => s.what === 'native/avx512 checkProofs' || s.what === 'native/avx512');
    return verdict(target, why ? `not measured: ${why.reason}` : 'no AVX-512 on this machine', null);
  }
  const r = row.ratio.avx512_16;
  const worst = ratio(row.perSec.min / Math.max(1, row.cores ?? 1) / 1e6, yard?.avx512_16);
  const measured = `${fmt(mega(row.perCore), 2)} M proofs/s per core = ${fmt(r, 3)}x avx512_16 (${fmt(yard?.avx512_16, 1)} M compr/s; slowest round ${fmt(worst, 3)}x)`;
  return verdict(target, measured, r === null ? null : r >= VERIFY_TARGETS.proofsVsYardstick);
}

function batchVerdicts(rows, fresh) {
  const row = rows.find((r) => r.role === 'target');
  const rateTarget = `verifySolutions, ${row?.unitsPerCall ?? ''} valid pairs: >= ${VERIFY_TARGETS.pairsPerSecondPerCore.toLocaleString('en-US')} pairs/s per core`;
  const altchaTarget = `verifySolutions >= ${VERIFY_TARGETS.pairsVsAltcha}x altcha-lib verifySolution (per core, its faster path)`;
  if (!row) return [verdict(rateTarget, 'not measured', null), verdict(altchaTarget, 'not measured', null)];
  const freshNote =
    fresh && fresh.perCore < VERIFY_TARGETS.pairsPerSecondPerCore && row.perCore >= VERIFY_TARGETS.pairsPerSecondPerCore
      ? `with freshly parsed objects every call it did ${fmt(kilo(fresh.perCore), 0)}k pairs/s per core, below the target`
      : null;
  const freshText = fresh ? `; fresh objects every call: ${fmt(kilo(fresh.perCore), 0)}k` : '';
  const rate = verdict(
    rateTarget,
    `${fmt(kilo(row.perCore), 0)}k pairs/s per core (${fmt(row.microsPerUnit, 3)} µs/pair, ${fmt(row.cores, 2)} cores)${freshText}`,
    row.perCore >= VERIFY_TARGETS.pairsPerSecondPerCore,
    freshNote,
  );
  const best = bestAltcha(rows);
  const vs = row.ratio.altcha;
  const altcha = best
    ? verdict(
        altchaTarget,
        `${fmt(vs, 1)}x (altcha-lib ${best.altchaPath}: ${fmt(kilo(best.perCore), 2)}k pairs/s per core)`,
        vs === null ? null : vs >= VERIFY_TARGETS.pairsVsAltcha,
      )
    : verdict(altchaTarget, 'altcha-lib not measured', null);
  return [rate, altcha];
}

function latencyVerdict(latency) {
  const row = latency.find((l) => l.target);
  const target = `verifySolution of one fresh valid pair: median < ${VERIFY_TARGETS.singleMedianMicros} µs`;
  if (!row) return verdict(target, 'not measured', null);
  return verdict(target, `${fmt(row.median, 2)} µs (p90 ${fmt(row.p90, 2)}, p99 ${fmt(row.p99, 2)}; ${row.label})`, row.median < VERIFY_TARGETS.singleMedianMicros);
}

/** Every target with its figures and whether it is met (null: cannot be judged here). */
export function verifyVerdicts(rows, direct, yard, skipped) {
  return [proofVerdict(rows, yard, skipped), ...batchVerdicts(rows, direct.fresh), latencyVerdict(direct.latency)];
}

/** `target: ...: met` lines, with a note under a verdict that has one. */
export function formatVerdicts(verdicts) {
  return verdicts.flatMap((v) => {
    const state = v.pass === null ? 'N/A' : v.pass ? 'met' : 'NOT MET';
    return [`target: ${v.target}: ${v.measured}: ${state}`, ...(v.note ? [`        note: ${v.note}`] : [])];
  });
}
