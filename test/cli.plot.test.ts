// renderSolveTimePlot: well-formed SVG (checked by a small XML reader here, which is itself shown
// to reject broken input), a monotone curve inside the plot area that follows the cdf, one point
// per measured solve at its empirical-CDF position, the target lines, the default axis end, escaped
// text, byte-identical output for the same input, and clear errors for nonsense.
import { describe, expect, it } from 'vitest';
import { PLOT_LAYOUT, renderSolveTimePlot, type SolveTimePlotInput } from '../src/cli/plot.js';
import { expectCode } from './helpers/errors.js';

// ---- a tiny XML reader: enough to check what the renderer writes --------------------------

interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  /** The element's own text content, entities decoded. */
  text: string;
}

const ENTITY = /&(amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);/g;
const BARE_AMPERSAND = /&(?!(amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);)/;

function decode(text: string): string {
  const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
  return text.replace(ENTITY, (_, name: string) =>
    name.startsWith('#x') ? String.fromCodePoint(parseInt(name.slice(2), 16)) : name.startsWith('#') ? String.fromCodePoint(Number(name.slice(1))) : named[name]!,
  );
}

/** Parses `xml` or throws: balanced tags, quoted attributes, escaped text, exactly one root element. */
function parseXml(xml: string): XmlElement {
  const body = xml.replace(/^<\?xml[^?]*\?>/, '');
  const tokens = body.match(/<[^<>]*>|[^<]+/g) ?? [];
  if (tokens.join('') !== body) throw new Error('a "<" that does not open a tag');
  const stack: XmlElement[] = [];
  const roots: XmlElement[] = [];
  for (const token of tokens) {
    if (!token.startsWith('<')) {
      if (BARE_AMPERSAND.test(token)) throw new Error(`unescaped & in text ${JSON.stringify(token)}`);
      if (token.includes('>')) throw new Error(`unescaped > in text ${JSON.stringify(token)}`);
      if (stack.length === 0) {
        if (token.trim() !== '') throw new Error(`text outside the root: ${JSON.stringify(token)}`);
      } else {
        stack.at(-1)!.text += decode(token);
      }
      continue;
    }
    const closing = /^<\/([A-Za-z_][\w.:-]*)\s*>$/.exec(token);
    if (closing) {
      const open = stack.pop();
      if (!open || open.name !== closing[1]) throw new Error(`</${closing[1]}> closes <${open?.name ?? 'nothing'}>`);
      continue;
    }
    const opening = /^<([A-Za-z_][\w.:-]*)((?:\s+[A-Za-z_][\w.:-]*="[^"]*")*)\s*(\/?)>$/.exec(token);
    if (!opening) throw new Error(`malformed tag ${token}`);
    const attributes: Record<string, string> = {};
    for (const [, name, value] of opening[2]!.matchAll(/\s+([A-Za-z_][\w.:-]*)="([^"]*)"/g)) {
      if (BARE_AMPERSAND.test(value!)) throw new Error(`unescaped & in attribute ${name}`);
      if (name! in attributes) throw new Error(`attribute ${name} repeated`);
      attributes[name!] = decode(value!);
    }
    const element: XmlElement = { name: opening[1]!, attributes, children: [], text: '' };
    if (stack.length === 0) roots.push(element);
    else stack.at(-1)!.children.push(element);
    if (opening[3] !== '/') stack.push(element);
  }
  if (stack.length > 0) throw new Error(`<${stack.at(-1)!.name}> is never closed`);
  if (roots.length !== 1) throw new Error(`expected one root element but found ${roots.length}`);
  return roots[0]!;
}

function all(root: XmlElement, match: (element: XmlElement) => boolean): XmlElement[] {
  const found: XmlElement[] = [];
  const visit = (element: XmlElement): void => {
    if (match(element)) found.push(element);
    element.children.forEach(visit);
  };
  visit(root);
  return found;
}

const byClass = (root: XmlElement, name: string): XmlElement[] => all(root, (element) => element.attributes.class === name);
const num = (element: XmlElement, attribute: string): number => Number(element.attributes[attribute]);

// ---- fixtures: the axis maps, computed here from the layout ------------------------------

const { left, top, width, height } = PLOT_LAYOUT;
const pixelX = (seconds: number, axisEnd: number): number => left + (seconds / axisEnd) * width;
const pixelY = (share: number): number => top + (1 - share) * height;

/** Exponential solve times with mean `mean` seconds: the CDF of a single sub-puzzle. */
const exponential =
  (mean: number) =>
  (seconds: number): number =>
    1 - Math.exp(-seconds / mean);

// Shuffled on purpose: the renderer must sort.
const MEASURED = [7.1, 0.4, 3.3, 12.9, 1.2, 5.0, 2.2, 0.9, 9.6, 4.4];

function input(overrides: Partial<SolveTimePlotInput> = {}): SolveTimePlotInput {
  return { title: 'difficulty 22.4 on this machine', cdf: exponential(5), measuredSeconds: MEASURED, targetSeconds: 5, percentile: 50, xMaxSeconds: 20, ...overrides };
}

function curvePoints(svg: XmlElement): { x: number; y: number }[] {
  const [path] = byClass(svg, 'predicted');
  expect(path).toBeDefined();
  const d = path!.attributes.d!;
  expect(d).toMatch(/^M[\d.]+ [\d.]+( L[\d.]+ [\d.]+)+$/);
  return [...d.matchAll(/[ML]([\d.]+) ([\d.]+)/g)].map(([, x, y]) => ({ x: Number(x), y: Number(y) }));
}

// ---- the XML reader itself can fail ---------------------------------------------------------

describe('the test XML reader', () => {
  it('accepts a minimal well-formed document and decodes entities', () => {
    const root = parseXml('<?xml version="1.0"?>\n<svg a="x &amp; y"><t>1 &lt; 2</t><g/></svg>\n');
    expect(root.name).toBe('svg');
    expect(root.attributes.a).toBe('x & y');
    expect(root.children[0]!.text).toBe('1 < 2');
  });

  it.each([
    ['an unclosed tag', '<svg><g></svg>'],
    ['a stray closing tag', '<svg></g></svg>'],
    ['two roots', '<svg/><svg/>'],
    ['a bare & in text', '<svg>A & B</svg>'],
    ['a bare & in an attribute', '<svg a="A & B"/>'],
    ['a < in text', '<svg>1 < 2</svg>'],
    ['a < in an attribute', '<svg a="<"/>'],
    ['an unquoted attribute', '<svg a=1/>'],
    ['a > in text', '<svg>2 > 1</svg>'],
  ])('rejects %s', (_, xml) => {
    expect(() => parseXml(xml)).toThrow();
  });
});

// ---- the plot -------------------------------------------------------------------------------

describe('renderSolveTimePlot', () => {
  it('writes a well-formed SVG document: one <svg> root with the SVG namespace and a viewBox', () => {
    const text = renderSolveTimePlot(input());
    expect(text.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<svg ')).toBe(true);
    const svg = parseXml(text);
    expect(svg.name).toBe('svg');
    expect(svg.attributes.xmlns).toBe('http://www.w3.org/2000/svg');
    expect(svg.attributes.viewBox).toBe(`0 0 ${PLOT_LAYOUT.canvasWidth} ${PLOT_LAYOUT.canvasHeight}`);
    expect(text).not.toMatch(/NaN|Infinity|undefined/);
  });

  it('draws the predicted curve monotone in x and y, inside the plot area, through cdf at each sample', () => {
    const cdf = exponential(5);
    const points = curvePoints(parseXml(renderSolveTimePlot(input({ cdf }))));
    expect(points.length).toBeGreaterThan(100);
    expect(points[0]!.x).toBeCloseTo(left, 2);
    expect(points.at(-1)!.x).toBeCloseTo(left + width, 2);
    points.forEach((point, i) => {
      expect(point.x).toBeGreaterThanOrEqual(left);
      expect(point.x).toBeLessThanOrEqual(left + width);
      expect(point.y).toBeGreaterThanOrEqual(top);
      expect(point.y).toBeLessThanOrEqual(top + height);
      if (i > 0) {
        expect(point.x).toBeGreaterThan(points[i - 1]!.x);
        expect(point.y).toBeLessThanOrEqual(points[i - 1]!.y); // SVG y grows downwards
      }
      // The axis ends at 20 s (a round value), so each point is the cdf at its own x.
      const seconds = ((point.x - left) / width) * 20;
      expect(Math.abs(point.y - pixelY(cdf(seconds)))).toBeLessThan(0.05);
    });
  });

  it('draws each measured time as one point at (i-th smallest, (i - 0.5) / n)', () => {
    const svg = parseXml(renderSolveTimePlot(input()));
    const circles = byClass(svg, 'measured');
    expect(circles).toHaveLength(MEASURED.length);
    const sorted = [...MEASURED].sort((a, b) => a - b);
    circles.forEach((circle, index) => {
      expect(Math.abs(num(circle, 'cx') - pixelX(sorted[index]!, 20))).toBeLessThanOrEqual(0.005);
      expect(Math.abs(num(circle, 'cy') - pixelY((index + 0.5) / sorted.length))).toBeLessThanOrEqual(0.005);
    });
  });

  it('draws no points and says nothing about measurements when there are none', () => {
    const text = renderSolveTimePlot(input({ measuredSeconds: [] }));
    expect(byClass(parseXml(text), 'measured')).toHaveLength(0);
    expect(text).not.toContain('measured (');
  });

  it('puts a measured time beyond an explicit axis end at the end, and says so in the legend', () => {
    const text = renderSolveTimePlot(input({ measuredSeconds: [1, 2, 30], xMaxSeconds: 10 }));
    const circles = byClass(parseXml(text), 'measured');
    expect(circles).toHaveLength(3);
    expect(num(circles[2]!, 'cx')).toBeCloseTo(left + width, 2);
    expect(text).toContain('1 beyond the axis');
  });

  it('marks the target: a vertical line at the target seconds and a horizontal one at the percentile', () => {
    const svg = parseXml(renderSolveTimePlot(input({ targetSeconds: 5, percentile: 90 })));
    const [vertical] = byClass(svg, 'target-seconds');
    const [horizontal] = byClass(svg, 'target-percentile');
    expect(num(vertical!, 'x1')).toBeCloseTo(pixelX(5, 20), 2);
    expect(num(vertical!, 'x2')).toBeCloseTo(pixelX(5, 20), 2);
    expect(num(vertical!, 'y1')).toBeCloseTo(top, 2);
    expect(num(vertical!, 'y2')).toBeCloseTo(top + height, 2);
    expect(num(horizontal!, 'y1')).toBeCloseTo(pixelY(0.9), 2);
    expect(num(horizontal!, 'x1')).toBeCloseTo(left, 2);
    expect(num(horizontal!, 'x2')).toBeCloseTo(left + width, 2);
    expect(byClass(svg, 'target-label').map((label) => label.text)).toEqual(['target 5 s', 'p90']);
  });

  it('labels both axes and ticks the seconds axis from 0 to the axis end', () => {
    const svg = parseXml(renderSolveTimePlot(input()));
    expect(byClass(svg, 'axis-label').map((label) => label.text)).toEqual(['seconds', 'share of solves']);
    const labels = byClass(svg, 'tick-label').map((label) => label.text);
    expect(labels).toEqual(expect.arrayContaining(['0', '5', '10', '20', '0.5', '1']));
    expect(byClass(svg, 'title')[0]!.text).toBe('difficulty 22.4 on this machine');
    expect(all(svg, (element) => element.name === 'title')[0]!.text).toBe('difficulty 22.4 on this machine');
  });

  it("by default reaches the curve's p99.9 (found by bisection) and the largest measured time", () => {
    const p999 = 5 * Math.log(1000); // exponential with mean 5 s: 34.54 s
    const curveOnly = parseXml(renderSolveTimePlot(input({ xMaxSeconds: undefined, measuredSeconds: [] })));
    const end = Number(byClass(curveOnly, 'plot-area')[0]!.attributes['data-x-max']);
    expect(end).toBeGreaterThanOrEqual(p999);
    expect(end).toBeLessThan(p999 * 1.5);
    // The curve's last point is at or above 0.999 of the way up.
    expect(curvePoints(curveOnly).at(-1)!.y).toBeLessThanOrEqual(pixelY(0.999) + 0.005);

    const withLateSolve = parseXml(renderSolveTimePlot(input({ xMaxSeconds: undefined, measuredSeconds: [...MEASURED, 80] })));
    const lateEnd = Number(byClass(withLateSolve, 'plot-area')[0]!.attributes['data-x-max']);
    expect(lateEnd).toBeGreaterThanOrEqual(80);
    const circles = byClass(withLateSolve, 'measured');
    expect(num(circles.at(-1)!, 'cx')).toBeCloseTo(pixelX(80, lateEnd), 2);
    expect(num(circles.at(-1)!, 'cx')).toBeLessThanOrEqual(left + width);
  });

  it('escapes the title: markup and quotes come out as text, never as elements', () => {
    const title = `A & B <script>alert("x")</script> 'q'`;
    const text = renderSolveTimePlot(input({ title }));
    expect(text).not.toContain('<script');
    expect(text).toContain('A &amp; B &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &apos;q&apos;');
    const svg = parseXml(text);
    expect(all(svg, (element) => element.name === 'script')).toHaveLength(0);
    expect(byClass(svg, 'title')[0]!.text).toBe(title);
  });

  it('is deterministic: the same input (in any order) gives the same bytes, with fixed decimals', () => {
    const first = renderSolveTimePlot(input());
    expect(renderSolveTimePlot(input())).toBe(first);
    expect(renderSolveTimePlot(input({ measuredSeconds: [...MEASURED].reverse() }))).toBe(first);
    const svg = parseXml(first);
    for (const circle of byClass(svg, 'measured')) {
      expect(circle.attributes.cx).toMatch(/^\d+\.\d{2}$/);
      expect(circle.attributes.cy).toMatch(/^\d+\.\d{2}$/);
    }
    for (const line of [...byClass(svg, 'target-seconds'), ...byClass(svg, 'target-percentile')]) {
      for (const attribute of ['x1', 'y1', 'x2', 'y2']) expect(line.attributes[attribute]).toMatch(/^\d+\.\d{2}$/);
    }
  });

  it('accepts a cdf that stays below 0.999 when the axis end is given', () => {
    expect(() => parseXml(renderSolveTimePlot(input({ cdf: () => 0.5 })))).not.toThrow();
  });

  it.each<[string, Partial<SolveTimePlotInput>, RegExp]>([
    ['a negative target', { targetSeconds: -1 }, /targetSeconds/],
    ['a zero target', { targetSeconds: 0 }, /targetSeconds/],
    ['an infinite target', { targetSeconds: Infinity }, /targetSeconds/],
    ['percentile 0', { percentile: 0 }, /percentile/],
    ['percentile 100', { percentile: 100 }, /percentile/],
    ['percentile NaN', { percentile: NaN }, /percentile/],
    ['a negative axis end', { xMaxSeconds: -3 }, /xMaxSeconds/],
    ['a measured NaN', { measuredSeconds: [1, NaN] }, /measuredSeconds\[1\]/],
    ['a negative measured time', { measuredSeconds: [-1] }, /measuredSeconds\[0\]/],
    ['a cdf above 1', { cdf: () => 1.5 }, /share from 0 to 1/],
    ['a cdf returning NaN', { cdf: () => NaN }, /share from 0 to 1/],
    ['a decreasing cdf', { cdf: (s: number) => Math.max(0, 1 - s / 20) }, /non-decreasing/],
    ['a cdf that never reaches 0.999, with the default axis', { cdf: () => 0.5, xMaxSeconds: undefined }, /reaches 0.999/],
    ['a title that is not a string', { title: 42 as unknown as string }, /title/],
    ['a cdf that is not a function', { cdf: 'x' as unknown as SolveTimePlotInput['cdf'] }, /cdf/],
  ])('refuses %s with ERR_INVALID_ARGUMENT', (_, overrides, message) => {
    expectCode(() => renderSolveTimePlot(input(overrides)), 'ERR_INVALID_ARGUMENT', message);
  });
});
