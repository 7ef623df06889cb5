/** Turns per-round ops/s into hashes and compressions per second, ratios to the yardstick, a table and JSON. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { mapSummary, round, summarize } from './stats.mjs';

/** The target this bench exists to check: AVX-512, 40 B messages, batches of 4096 or more. */
export const TARGET = { isa: 'avx512', method: 'hashUniform', messages: '40 B', minBatch: 4096, minRatio: 0.6, against: 'avx512_16' };

/** `value / reference`, or null when either is missing. */
export function ratio(value, reference) {
  return value === null || !reference ? null : value / reference;
}

/**
 * One case's figures. The bench is single-threaded, so measured per second is
 * per core and compares directly with the yardstick's per-core numbers.
 */
export function caseResult(c, opsPerRound, yard) {
  const ops = summarize(opsPerRound);
  const mhash = mapSummary(ops, (o) => (o * c.input.batch) / 1e6);
  const mcomp = mapSummary(ops, (o) => (o * c.input.compressions) / 1e6);
  const vs = (field) => ({ median: ratio(mcomp.median, yard?.[field]), min: ratio(mcomp.min, yard?.[field]) });
  return {
    id: c.id,
    backend: c.backend.name,
    isa: c.backend.isa,
    method: c.input.method,
    messages: c.input.messages,
    batch: c.input.batch,
    compressionsPerMessage: c.input.compressions / c.input.batch,
    opsPerRound,
    ops,
    mhashPerSec: mhash,
    mcompPerSec: mcomp,
    ratio: { avx512_16: vs('avx512_16'), shani_best: vs('shani_best') },
  };
}

/** Pass/fail for every case that the target covers; `pass` is null when there is no yardstick or no such case. */
export function targetVerdict(results) {
  const covered = results.filter((r) => r.isa === TARGET.isa && r.method === TARGET.method && r.messages === TARGET.messages && r.batch >= TARGET.minBatch);
  const rows = covered.map((r) => {
    const { median: value, min: worstRound } = r.ratio[TARGET.against];
    return { id: r.id, ratio: value, worstRoundRatio: worstRound, pass: value === null ? null : value >= TARGET.minRatio };
  });
  const known = rows.filter((r) => r.pass !== null);
  return { ...TARGET, rows, pass: known.length && known.length === rows.length ? known.every((r) => r.pass) : null };
}

/** A number with `digits` decimals, or `-` when it is missing. */
export const fmt = (v, digits = 2) => (v === null || v === undefined ? '-' : v.toFixed(digits));

/** Fixed-width text table: the first column left-aligned, the others right-aligned. */
export function formatColumns(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** Fixed-width text table of the medians (min and max alongside) with both yardstick ratios. */
export function formatTable(results) {
  const header = ['case', 'M hash/s med', 'min', 'max', 'compr/msg', 'M compr/s med', 'x avx512_16', 'x shani_best'];
  const rows = results.map((r) => [
    r.id,
    fmt(r.mhashPerSec.median),
    fmt(r.mhashPerSec.min),
    fmt(r.mhashPerSec.max),
    fmt(r.compressionsPerMessage),
    fmt(r.mcompPerSec.median),
    fmt(r.ratio.avx512_16.median),
    fmt(r.ratio.shani_best.median),
  ]);
  return formatColumns(header, rows);
}

/** The yardstick line of the report: each run and the medians the ratios use. */
export function formatYardstick(yardstick) {
  const runs = yardstick.runs.map((r) => (r.ok ? `${r.label}: shani_best ${r.values.shani_best}, avx512_16 ${r.values.avx512_16}` : `${r.label}: FAILED (${r.error})`));
  const med = yardstick.median;
  const summary = med ? `median shani_1 ${med.shani_1}, shani_best ${med.shani_best}, avx512_16 ${med.avx512_16} ${med.unit}` : 'no yardstick';
  return [...runs, summary, ...(yardstick.note ? [`note: ${yardstick.note}`] : [])];
}

/** Rounds every number in a JSON-able value to 4 decimals, so the files stay readable. */
function tidy(value) {
  if (typeof value === 'number') return Number.isInteger(value) ? value : round(value, 4);
  if (Array.isArray(value)) return value.map(tidy);
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, tidy(v)]));
  }
  return value;
}

/** Writes `<name>-<ISO time>.json` and `<name>-latest.json`; returns both paths. */
export function writeJson(dir, report, name = 'hash') {
  mkdirSync(dir, { recursive: true });
  const stamp = report.startedAt.replace(/[:.]/g, '-');
  const text = `${JSON.stringify(tidy(report), null, 2)}\n`;
  const files = [path.join(dir, `${name}-${stamp}.json`), path.join(dir, `${name}-latest.json`)];
  for (const file of files) writeFileSync(file, text);
  return files;
}
