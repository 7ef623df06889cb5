/** A hash rate with an SI prefix: `48.5 MH/s`. */
export function formatRate(hashesPerSecond: number): string {
  const units: [number, string][] = [
    [1e12, 'TH/s'],
    [1e9, 'GH/s'],
    [1e6, 'MH/s'],
    [1e3, 'kH/s'],
  ];
  for (const [scale, unit] of units) if (hashesPerSecond >= scale) return `${(hashesPerSecond / scale).toPrecision(3)} ${unit}`;
  return `${hashesPerSecond.toPrecision(3)} H/s`;
}

const TIME_UNITS: [number, string][] = [
  [1e-6, 'µs'],
  [1e-3, 'ms'],
  [1, 's'],
  [60, 'min'],
  [3_600, 'h'],
  [86_400, 'days'],
  [31_557_600, 'years'],
];

/** A duration in seconds, in the largest unit that reads as 1 or more: `850 µs`, `1.23 s`, `4.20 h`. */
export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return seconds > 0 ? '∞' : '-∞';
  // Minutes only from 2 on: 90 s reads better than 1.50 min.
  let chosen = TIME_UNITS[0]!;
  for (const unit of TIME_UNITS) {
    const shown = Number((Math.abs(seconds) / unit[0]).toPrecision(3));
    if (shown >= (unit[1] === 'min' ? 2 : 1)) chosen = unit;
  }
  return `${(seconds / chosen[0]).toPrecision(3)} ${chosen[1]}`;
}

/** Left-aligned columns, two spaces apart. */
export function formatTable(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '));
}
