// `powgate calibrate --plot FILE.svg`: the predicted solve-time CDF against the measured solves,
// as a self-contained SVG. The text is written by hand: no dependencies, every string escaped, and
// every coordinate printed with fixed decimals so that the same input gives byte-identical output.
import { PowgateError } from '../errors.js';
import { describe, invalid } from '../validate.js';

/** What `renderSolveTimePlot` draws. */
export interface SolveTimePlotInput {
  /** The heading at the top of the plot; escaped, so any text is safe. */
  title: string;
  /** The predicted share of solves done within `seconds`: non-decreasing, from 0 to 1. */
  cdf: (seconds: number) => number;
  /** Measured solve times in seconds, in any order, each drawn as one point of the empirical CDF. Default: none. */
  measuredSeconds?: readonly number[];
  /** The target solve time, in seconds (> 0): a vertical line. */
  targetSeconds: number;
  /** The percentile (1 to 99) that should take `targetSeconds`: a horizontal line at percentile / 100. */
  percentile: number;
  /**
   * Where the seconds axis should reach, in seconds (> 0); the axis ends at the next round tick.
   * Default: the largest of the curve's 99.9th percentile (found by bisection on `cdf`), the largest
   * measured time and `targetSeconds`. Measured times beyond an explicit end are drawn at the end.
   */
  xMaxSeconds?: number;
}

/**
 * The canvas and the plot area inside the axes, in SVG user units. Seconds map linearly from 0 at
 * `left` to the axis end at `left + width`; share of solves from 0 at `top + height` up to 1 at `top`.
 */
export const PLOT_LAYOUT = Object.freeze({
  canvasWidth: 720,
  canvasHeight: 460,
  left: 72,
  top: 56,
  width: 624,
  height: 320,
});

/** Samples along the predicted curve: enough that straight segments look smooth at this size. */
const CURVE_SAMPLES = 240;
/** The curve's quantile used for the default axis end: p99.9 shows the tail without flattening the rest. */
const DEFAULT_TAIL_SHARE = 0.999;
/** A cdf may wobble by this much from floating-point error; more than this is a bug in the cdf. */
const CDF_TOLERANCE = 1e-9;

const COLOURS = Object.freeze({ predicted: '#1f5fbf', measured: '#d95f02', target: '#b2182b', axis: '#333333', grid: '#e3e3e3' });

/**
 * Renders the solve-time plot of `powgate calibrate --plot` as an SVG document (UTF-8 text with an
 * XML declaration, ending in a newline). Throws a PowgateError `ERR_INVALID_ARGUMENT` for nonsense
 * input: a target that is not a positive number, a percentile outside 1..99, a cdf that returns
 * values outside 0..1, decreases, or never reaches 0.999 (when the axis end is left to the default).
 */
export function renderSolveTimePlot(input: SolveTimePlotInput): string {
  const plot = checkInput(input);
  const measured = [...plot.measuredSeconds].sort((a, b) => a - b);
  const requestedEnd = plot.xMaxSeconds ?? Math.max(quantile(plot.cdf, DEFAULT_TAIL_SHARE, plot.targetSeconds), measured.at(-1) ?? 0, plot.targetSeconds);
  const axis = secondsAxis(requestedEnd);
  const x = (seconds: number): number => PLOT_LAYOUT.left + (Math.min(seconds, axis.end) / axis.end) * PLOT_LAYOUT.width;
  const y = (share: number): number => PLOT_LAYOUT.top + (1 - share) * PLOT_LAYOUT.height;
  const offScale = measured.filter((seconds) => seconds > axis.end).length;

  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${PLOT_LAYOUT.canvasWidth}" height="${PLOT_LAYOUT.canvasHeight}" viewBox="0 0 ${PLOT_LAYOUT.canvasWidth} ${PLOT_LAYOUT.canvasHeight}" font-family="system-ui, sans-serif" font-size="12">`,
    `<title>${escapeXml(plot.title)}</title>`,
    `<rect x="0" y="0" width="${PLOT_LAYOUT.canvasWidth}" height="${PLOT_LAYOUT.canvasHeight}" fill="#ffffff"/>`,
    `<text class="title" x="${fixed(PLOT_LAYOUT.canvasWidth / 2)}" y="32" text-anchor="middle" font-size="16" font-weight="bold">${escapeXml(plot.title)}</text>`,
    `<g class="plot-area" data-x-max="${escapeXml(axis.labels.at(-1)!)}">`,
    ...gridAndAxes(axis, x, y),
    ...targetLines(plot, x, y),
    predictedCurve(plot.cdf, axis.end, x, y),
    ...measuredPoints(measured, x, y),
    '</g>',
    ...legend(plot, measured.length, offScale),
    '</svg>',
    '',
  ].join('\n');
}

// ---- input ---------------------------------------------------------------------------------

interface CheckedInput {
  title: string;
  cdf: (seconds: number) => number;
  measuredSeconds: readonly number[];
  targetSeconds: number;
  percentile: number;
  xMaxSeconds: number | undefined;
}

function checkInput(input: SolveTimePlotInput): CheckedInput {
  if (typeof input !== 'object' || input === null) throw invalid('an object', 'the plot input', input);
  const { title, cdf, measuredSeconds = [], targetSeconds, percentile, xMaxSeconds } = input;
  if (typeof title !== 'string') throw invalid('a string', 'title', title);
  if (typeof cdf !== 'function') throw invalid('a function', 'cdf', cdf);
  if (!isPositive(targetSeconds)) throw invalid('a positive number of seconds', 'targetSeconds', targetSeconds);
  if (typeof percentile !== 'number' || !(percentile >= 1 && percentile <= 99)) throw invalid('a number from 1 to 99', 'percentile', percentile);
  if (xMaxSeconds !== undefined && !isPositive(xMaxSeconds)) throw invalid('a positive number of seconds', 'xMaxSeconds', xMaxSeconds);
  if (!Array.isArray(measuredSeconds)) throw invalid('an array of seconds', 'measuredSeconds', measuredSeconds);
  measuredSeconds.forEach((seconds: unknown, i) => {
    if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) throw invalid('a finite number of seconds >= 0', `measuredSeconds[${i}]`, seconds);
  });
  return { title, cdf, measuredSeconds, targetSeconds, percentile, xMaxSeconds };
}

function isPositive(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}

/** cdf(seconds), checked to be a share; values a rounding error outside 0..1 are clamped. */
function share(cdf: (seconds: number) => number, seconds: number): number {
  const value = cdf(seconds);
  if (typeof value !== 'number' || !(value >= -CDF_TOLERANCE && value <= 1 + CDF_TOLERANCE)) {
    throw new PowgateError('ERR_INVALID_ARGUMENT', `expected cdf to return a share from 0 to 1 but cdf(${seconds}) returned ${describe(value)}`);
  }
  return Math.min(1, Math.max(0, value));
}

/** The smallest t with cdf(t) >= p, to bisection precision: double from `start` until reached, then halve the bracket. */
function quantile(cdf: (seconds: number) => number, p: number, start: number): number {
  let hi = start;
  for (let doublings = 0; share(cdf, hi) < p; doublings++) {
    // 2^200 times the target is beyond any solve anyone would plot.
    if (doublings === 200) {
      throw new PowgateError('ERR_INVALID_ARGUMENT', `expected a cdf that reaches ${p} but cdf(${hi}) is still ${share(cdf, hi)}; pass xMaxSeconds to choose the axis yourself`);
    }
    hi *= 2;
  }
  let lo = 0;
  for (let i = 0; i < 64; i++) {
    const mid = (lo + hi) / 2;
    if (share(cdf, mid) < p) lo = mid;
    else hi = mid;
  }
  return hi;
}

// ---- axes ----------------------------------------------------------------------------------

interface SecondsAxis {
  /** The axis end in seconds: a whole number of ticks. */
  end: number;
  ticks: number[];
  labels: string[];
}

/** Round ticks (1, 2, 2.5 or 5 times a power of ten) from 0 to at least `requestedEnd`, 4 to 10 of them. */
function secondsAxis(requestedEnd: number): SecondsAxis {
  const rough = requestedEnd / 6;
  const power = 10 ** Math.floor(Math.log10(rough));
  const multiple = [1, 2, 2.5, 5, 10].find((m) => m * power >= rough * (1 - 1e-12))!;
  const step = multiple * power;
  // A 2.5 step needs one more decimal than its power of ten shows.
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9) + (multiple === 2.5 ? 1 : 0));
  const count = Math.max(1, Math.ceil(requestedEnd / step - 1e-9));
  const ticks: number[] = [];
  const labels: string[] = [];
  for (let i = 0; i <= count; i++) {
    // Round through the label so that 3 * 0.1 is the tick 0.3, not 0.30000000000000004.
    const label = trimZeros((i * step).toFixed(decimals));
    ticks.push(Number(label));
    labels.push(label);
  }
  return { end: ticks.at(-1)!, ticks, labels };
}

const SHARE_TICKS = [0, 0.25, 0.5, 0.75, 1];

function gridAndAxes(axis: SecondsAxis, x: (s: number) => number, y: (p: number) => number): string[] {
  const { left, top, width, height } = PLOT_LAYOUT;
  const bottom = top + height;
  const lines: string[] = [];
  axis.ticks.forEach((seconds, i) => {
    const px = fixed(x(seconds));
    lines.push(`<line class="grid" x1="${px}" y1="${fixed(top)}" x2="${px}" y2="${fixed(bottom)}" stroke="${COLOURS.grid}" stroke-width="1"/>`);
    lines.push(`<line class="tick" x1="${px}" y1="${fixed(bottom)}" x2="${px}" y2="${fixed(bottom + 5)}" stroke="${COLOURS.axis}" stroke-width="1"/>`);
    lines.push(`<text class="tick-label" x="${px}" y="${fixed(bottom + 20)}" text-anchor="middle">${escapeXml(axis.labels[i]!)}</text>`);
  });
  for (const p of SHARE_TICKS) {
    const py = fixed(y(p));
    lines.push(`<line class="grid" x1="${fixed(left)}" y1="${py}" x2="${fixed(left + width)}" y2="${py}" stroke="${COLOURS.grid}" stroke-width="1"/>`);
    lines.push(`<line class="tick" x1="${fixed(left - 5)}" y1="${py}" x2="${fixed(left)}" y2="${py}" stroke="${COLOURS.axis}" stroke-width="1"/>`);
    lines.push(`<text class="tick-label" x="${fixed(left - 9)}" y="${fixed(y(p) + 4)}" text-anchor="end">${String(p)}</text>`);
  }
  lines.push(`<line class="axis" x1="${fixed(left)}" y1="${fixed(bottom)}" x2="${fixed(left + width)}" y2="${fixed(bottom)}" stroke="${COLOURS.axis}" stroke-width="1.5"/>`);
  lines.push(`<line class="axis" x1="${fixed(left)}" y1="${fixed(top)}" x2="${fixed(left)}" y2="${fixed(bottom)}" stroke="${COLOURS.axis}" stroke-width="1.5"/>`);
  lines.push(`<text class="axis-label" x="${fixed(left + width / 2)}" y="${fixed(bottom + 46)}" text-anchor="middle">seconds</text>`);
  lines.push(
    `<text class="axis-label" x="${fixed(left - 50)}" y="${fixed(top + height / 2)}" text-anchor="middle" transform="rotate(-90 ${fixed(left - 50)} ${fixed(top + height / 2)})">share of solves</text>`,
  );
  return lines;
}

// ---- data ----------------------------------------------------------------------------------

function targetLines(plot: CheckedInput, x: (s: number) => number, y: (p: number) => number): string[] {
  const { left, top, width, height } = PLOT_LAYOUT;
  const px = fixed(x(plot.targetSeconds));
  const py = fixed(y(plot.percentile / 100));
  const dash = `stroke="${COLOURS.target}" stroke-width="1.5" stroke-dasharray="6 4"`;
  const targetText = escapeXml(`target ${formatSeconds(plot.targetSeconds)} s`);
  return [
    `<line class="target-seconds" x1="${px}" y1="${fixed(top)}" x2="${px}" y2="${fixed(top + height)}" ${dash}/>`,
    `<line class="target-percentile" x1="${fixed(left)}" y1="${py}" x2="${fixed(left + width)}" y2="${py}" ${dash}/>`,
    // Near the right edge the label goes on the line's left, so it stays on the canvas.
    x(plot.targetSeconds) > left + width - 90
      ? `<text class="target-label" x="${fixed(x(plot.targetSeconds) - 4)}" y="${fixed(top + 14)}" text-anchor="end" fill="${COLOURS.target}">${targetText}</text>`
      : `<text class="target-label" x="${fixed(x(plot.targetSeconds) + 4)}" y="${fixed(top + 14)}" fill="${COLOURS.target}">${targetText}</text>`,
    `<text class="target-label" x="${fixed(left + 4)}" y="${fixed(y(plot.percentile / 100) - 4)}" fill="${COLOURS.target}">${escapeXml(`p${formatNumber(plot.percentile)}`)}</text>`,
  ];
}

/** The predicted CDF as one path; a cdf that goes down by more than rounding error is refused. */
function predictedCurve(cdf: (seconds: number) => number, end: number, x: (s: number) => number, y: (p: number) => number): string {
  const points: string[] = [];
  let previous = 0;
  for (let i = 0; i <= CURVE_SAMPLES; i++) {
    const seconds = (end * i) / CURVE_SAMPLES;
    const value = share(cdf, seconds);
    if (value < previous - CDF_TOLERANCE) {
      throw new PowgateError('ERR_INVALID_ARGUMENT', `expected a non-decreasing cdf but cdf(${seconds}) = ${value} is below an earlier ${previous}`);
    }
    previous = Math.max(previous, value);
    points.push(`${i === 0 ? 'M' : 'L'}${fixed(x(seconds))} ${fixed(y(previous))}`);
  }
  return `<path class="predicted" d="${points.join(' ')}" fill="none" stroke="${COLOURS.predicted}" stroke-width="2" stroke-linejoin="round"/>`;
}

/** The empirical CDF: the i-th smallest of n solve times (i from 1) at height (i - 0.5) / n. */
function measuredPoints(sorted: readonly number[], x: (s: number) => number, y: (p: number) => number): string[] {
  const n = sorted.length;
  return sorted.map(
    (seconds, index) =>
      `<circle class="measured" cx="${fixed(x(seconds))}" cy="${fixed(y((index + 0.5) / n))}" r="3.5" fill="${COLOURS.measured}" fill-opacity="0.85" stroke="#ffffff" stroke-width="0.75"/>`,
  );
}

// ---- legend --------------------------------------------------------------------------------

/** Bottom right inside the plot: a CDF rises to the upper right, so that corner stays empty. */
function legend(plot: CheckedInput, measuredCount: number, offScale: number): string[] {
  const rows: { swatch: string; text: string }[] = [{ swatch: `<line x1="0" y1="0" x2="22" y2="0" stroke="${COLOURS.predicted}" stroke-width="2"/>`, text: 'predicted' }];
  if (measuredCount > 0) {
    const beyond = offScale > 0 ? `; ${offScale} beyond the axis, drawn at its end` : '';
    rows.push({ swatch: `<circle cx="11" cy="0" r="3.5" fill="${COLOURS.measured}"/>`, text: `measured (n = ${measuredCount}${beyond})` });
  }
  rows.push({
    swatch: `<line x1="0" y1="0" x2="22" y2="0" stroke="${COLOURS.target}" stroke-width="1.5" stroke-dasharray="6 4"/>`,
    text: `target: p${formatNumber(plot.percentile)} at ${formatSeconds(plot.targetSeconds)} s`,
  });
  const rowHeight = 18;
  // About 6.6 units per character at font-size 12; a deterministic estimate, not a measurement.
  const boxWidth = Math.ceil(50 + 6.6 * Math.max(...rows.map((row) => row.text.length)));
  const boxHeight = rows.length * rowHeight + 10;
  const boxX = PLOT_LAYOUT.left + PLOT_LAYOUT.width - boxWidth - 10;
  const boxY = PLOT_LAYOUT.top + PLOT_LAYOUT.height - boxHeight - 10;
  return [
    `<g class="legend" transform="translate(${fixed(boxX)} ${fixed(boxY)})">`,
    `<rect x="0" y="0" width="${boxWidth}" height="${boxHeight}" fill="#ffffff" fill-opacity="0.9" stroke="#bbbbbb"/>`,
    ...rows.flatMap((row, i) => {
      const rowY = fixed(14 + i * rowHeight);
      return [`<g transform="translate(10 ${rowY})">${row.swatch}</g>`, `<text x="40" y="${fixed(14 + i * rowHeight + 4)}">${escapeXml(row.text)}</text>`];
    }),
    '</g>',
  ];
}

// ---- text ----------------------------------------------------------------------------------

/** Escapes text for XML content and double- or single-quoted attributes. */
function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** Coordinates with two decimals, never "-0.00". */
function fixed(value: number): string {
  const text = value.toFixed(2);
  return text === '-0.00' ? '0.00' : text;
}

function trimZeros(text: string): string {
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}

/** Seconds for labels: three significant figures, no exponent above a microsecond. */
function formatSeconds(seconds: number): string {
  if (seconds >= 100) return seconds.toFixed(0);
  if (seconds >= 1e-6) return trimZeros(seconds.toFixed(Math.max(0, 2 - Math.floor(Math.log10(seconds)))));
  return seconds.toExponential(2);
}

function formatNumber(value: number): string {
  return trimZeros(value.toFixed(2));
}
