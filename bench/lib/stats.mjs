/** Small order statistics for benchmark rounds; inputs are never mutated. */

/** The median of a non-empty list of numbers (mean of the middle two when even). */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** `{ median, min, max }` of a non-empty list, or all null when it is empty. */
export function summarize(values) {
  if (values.length === 0) return { median: null, min: null, max: null };
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

/** Applies `fn` to each field of a `{ median, min, max }` summary, keeping nulls. */
export function mapSummary(summary, fn) {
  const apply = (v) => (v === null ? null : fn(v));
  return { median: apply(summary.median), min: apply(summary.min), max: apply(summary.max) };
}

/** Rounds to `digits` decimals (for JSON that people read). */
export function round(value, digits = 3) {
  if (value === null || value === undefined) return null;
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** The p-th percentile (0..100) of a non-empty list, interpolating linearly between neighbours. */
export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p / 100) * (sorted.length - 1);
  const below = Math.floor(at);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below] + (sorted[above] - sorted[below]) * (at - below);
}

/** `{ samples, median, p90, min, max }` of a non-empty list of latencies. */
export function distribution(values) {
  return { samples: values.length, median: median(values), p90: percentile(values, 90), min: Math.min(...values), max: Math.max(...values) };
}
