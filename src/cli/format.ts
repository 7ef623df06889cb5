/** A hash rate with an SI prefix: `48.5 MH/s`. */
export function formatRate(hashesPerSecond: number): string {
  const units: [number, string][] = [[1e12, 'TH/s'], [1e9, 'GH/s'], [1e6, 'MH/s'], [1e3, 'kH/s']];
  for (const [scale, unit] of units) if (hashesPerSecond >= scale) return `${(hashesPerSecond / scale).toPrecision(3)} ${unit}`;
  return `${hashesPerSecond.toPrecision(3)} H/s`;
}

/** A duration in seconds, readable from microseconds to years: `850 µs`, `1.23 s`, `4.2 h`. */
export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return seconds > 0 ? '∞' : '-∞';
  const abs = Math.abs(seconds);
  if (abs < 1e-3) return `${(seconds * 1e6).toPrecision(3)} µs`;
  if (abs < 1) return `${(seconds * 1e3).toPrecision(3)} ms`;
  if (abs < 120) return `${seconds.toPrecision(3)} s`;
  if (abs < 7_200) return `${(seconds / 60).toPrecision(3)} min`;
  if (abs < 172_800) return `${(seconds / 3_600).toPrecision(3)} h`;
  if (abs < 63_072_000) return `${(seconds / 86_400).toPrecision(3)} days`;
  return `${(seconds / 31_557_600).toPrecision(3)} years`;
}

/** Left-aligned columns, two spaces apart. */
export function formatTable(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '));
}
