/**
 * The shared yardstick: a C probe that prints this core's SHA-256 compression
 * ceiling (SHA-NI and AVX-512). It is noisy, so the bench runs it several times
 * in the same process lifetime as the timed rounds and uses the median.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { median } from './stats.mjs';

const run = promisify(execFile);

/** Fields of the probe's JSON line that the ratios use. */
export const YARDSTICK_FIELDS = ['shani_1', 'shani_best', 'avx512_16'];

/** `$POWGATE_YARDSTICK`, else `../shared/yardstick/run` beside the repo root. */
export function yardstickPath(repoRoot) {
  return process.env.POWGATE_YARDSTICK || path.join(repoRoot, '..', 'shared', 'yardstick', 'run');
}

/** The probe's last line is JSON; earlier lines are commentary kept for the record. */
function parseOutput(stdout) {
  const lines = stdout
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const values = JSON.parse(lines.at(-1));
  for (const field of YARDSTICK_FIELDS) {
    if (typeof values[field] !== 'number') throw new Error(`its JSON line has no number "${field}"`);
  }
  return { values, lines: lines.slice(0, -1) };
}

/**
 * Runs the probe once. Never throws: a missing or failing probe yields
 * `{ ok: false, error }` so the bench still reports its own figures.
 */
export async function runYardstick(probe, label) {
  const at = new Date().toISOString();
  if (!existsSync(probe)) return { label, at, ok: false, error: `not found: ${probe}` };
  try {
    const { stdout } = await run(probe, [], { timeout: 120_000, maxBuffer: 1 << 20 });
    return { label, at, ok: true, ...parseOutput(stdout) };
  } catch (error) {
    return { label, at, ok: false, error: `${probe} failed: ${error.message.split('\n')[0]}` };
  }
}

/** Per-field median over the successful runs, or null (with a note) when none succeeded. */
export function yardstickMedian(runs) {
  const good = runs.filter((r) => r.ok);
  if (good.length === 0) {
    return { median: null, note: 'yardstick unavailable in every run; ratios are null' };
  }
  const fields = Object.keys(good[0].values).filter((k) => typeof good[0].values[k] === 'number');
  const med = Object.fromEntries(fields.map((f) => [f, median(good.map((r) => r.values[f]))]));
  const note = good.length < runs.length ? `${runs.length - good.length} of ${runs.length} yardstick runs failed` : null;
  return { median: { ...med, unit: good[0].values.unit, runs: good.length }, note };
}

/**
 * After which rounds the probe runs: before the first (0), after the middle one
 * and after the last, so machine drift during the bench shows up in both.
 */
export function yardstickSchedule(rounds) {
  return [0, Math.ceil(rounds / 2), rounds];
}
