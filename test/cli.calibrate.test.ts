// `powgate bench` and `powgate calibrate` as subprocesses: output shapes, the maths they
// print, exit codes. Short durations: these check behaviour, never speed.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectedHashes, thresholdForSteps } from '../src/protocol/difficulty.js';
import { expectUsageError, runCli } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'powgate-calibrate-'));
const _KERNELS: Record<string, string> = { wasm: 'wasm-simd128', js: 'node:crypto' };

describe('powgate bench', () => {
  it('--json: the machine facts and one row per backend, kernel and thread count', async () => {
    const result = await runCli(['bench', '--json', '--duration', '250ms', '--threads', '1']);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({
      powgate: expect.stringMatching(/^\d+\.\d+\.\d+$/),
      machine: {
        cpuModel: expect.any(String),
        threads: expect.any(Number),
        nativeIsas: expect.any(Array),
        node: process.version,
        serving: { backend: expect.any(String), isa: expect.any(String) },
      },
      durationSeconds: 0.25,
    });
    const expected = [...report.machine.nativeIsas.map((isa: string) => `native/${isa}`), 'wasm/wasm-simd128', 'js/node:crypto'];
    expect(report.results.map((r: { backend: string; isa: string }) => `${r.backend}/${r.isa}`)).toEqual(expected);
    for (const row of report.results) {
      expect(row.threads).toBe(1);
      expect(row.hashes).toBeGreaterThan(0);
      expect(row.seconds).toBeGreaterThan(0);
      expect(row.hashesPerSecond).toBeCloseTo(row.hashes / row.seconds, 3);
      expect(row.hashesPerSecondPerThread).toBe(row.hashesPerSecond);
    }
  });

  it('prints a table with the machine facts by default', async () => {
    const result = await runCli(['bench', '--backend', 'wasm', '--duration', '250ms']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^CPU {6}.+\nkernels .+serving: \w+\/.+\nNode {5}v\d+/);
    expect(result.stdout).toMatch(/backend +kernel +threads +rate +per thread\n/);
    expect(result.stdout).toMatch(/\nwasm[ *]+wasm-simd128 +1 +[\d.]+ [kMG]?H\/s/);
    expect(result.stdout).not.toMatch(/\n(native|js) /);
  });

  it.each([
    [['bench', '--duration', '100ms'], /from 200ms to 10m for --duration/],
    [['bench', '--backend', 'cuda'], /expected one of native, wasm, js for --backend but received 'cuda'/],
    [['bench', '--threads', '1.5'], /for --threads but received '1.5'/],
    [['bench', 'now'], /unexpected argument 'now'/],
  ])('refuses %j with exit code 2', async (args, message) => {
    expectUsageError(await runCli(args), message);
  });
});

describe('powgate calibrate', () => {
  it('--json: a difficulty whose predicted percentile is the target, checked by real solves', async () => {
    const plot = join(dir, 'plot.svg');
    const args = ['calibrate', '--json', '--target', '40ms', '--percentile', '90', '--sub-puzzles', '4', '--threads', '1', '--duration', '1s', '--verify', '25', '--plot', plot];
    const result = await runCli(args);
    const report = JSON.parse(result.stdout);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(report.verification.pass ? 0 : 1);

    expect(report.target).toEqual({ seconds: 0.04, percentile: 90 });
    expect(report.perCall).toMatchObject({ calls: 1, challengeDifficulty: report.recommendation.difficulty, priceBits: report.recommendation.difficulty + 2 });
    for (const c of report.perCall.ceilings) expect(c.callsPerMinute).toBeCloseTo(60 / c.meanSecondsPerCall, 6);
    expect(report.perCall.ceilings[0].meanSecondsPerCall).toBe(report.recommendation.predicted.mean);
    expect(report.solver).toMatchObject({ threads: 1, hashesPerSecond: expect.any(Number), durationSeconds: 1, overheadSeconds: expect.any(Number) });
    const rec = report.recommendation;
    expect(rec.subPuzzles).toBe(4);
    expect(Number.isInteger(rec.difficulty * 65536)).toBe(true);
    const threshold = thresholdForSteps(rec.difficulty * 65536);
    expect(rec.threshold).toBe(threshold.toString(16).padStart(16, '0'));
    expect(rec.expectedHashesPerSubPuzzle).toBe(expectedHashes(threshold));
    expect(rec.predicted.p90).toBeCloseTo(0.04, 4);
    expect(rec.predicted.p50).toBeLessThan(rec.predicted.p90);
    expect(rec.predicted.p99).toBeGreaterThan(rec.predicted.p90);
    // mean = overhead + k E[hashes] / rate: the closed form.
    expect(rec.predicted.mean).toBeCloseTo(report.solver.overheadSeconds + (4 * rec.expectedHashesPerSubPuzzle) / report.solver.hashesPerSecond, 9);
    // One puzzle meets the same p90 with a harder difficulty and a wider spread.
    expect(report.onePuzzle.predicted.p90).toBeCloseTo(0.04, 4);
    expect(report.onePuzzle.difficulty).toBeGreaterThan(rec.difficulty);
    expect(report.onePuzzle.predicted.p99 / report.onePuzzle.predicted.p50).toBeGreaterThan(rec.predicted.p99 / rec.predicted.p50);

    const others = report.otherSolvers;
    expect(others.filter((o: { measured: boolean }) => o.measured)).toHaveLength(report.solver.backend === 'wasm' ? 0 : 1);
    for (const other of others) {
      expect(other.predicted.mean).toBeCloseTo((4 * rec.expectedHashesPerSubPuzzle) / other.hashesPerSecond, 9);
      if (!other.measured) expect(other.source).toMatch(/https:\/\//);
    }
    expect(others.some((o: { name: string }) => /GPU/.test(o.name))).toBe(true);
    expect(others.some((o: { name: string }) => /browser/.test(o.name))).toBe(true);

    const v = report.verification;
    expect(v.solves).toBe(25);
    expect(v.secondsEach).toHaveLength(25);
    expect(v.percentiles.map((p: { percentile: number }) => p.percentile)).toEqual([50, 90, 99]);
    for (const p of v.percentiles) {
      expect(p.predicted).toBe(rec.predicted[`p${p.percentile}`]);
      expect(p.inside).toBe((p.lower ?? -Infinity) <= p.predicted && p.predicted <= (p.upper ?? Infinity));
      expect(p.coverage).toBeGreaterThanOrEqual(0.95);
    }
    expect(v.percentiles[2].upper).toBeNull(); // p99 of 25 solves has no finite upper bound
    expect(v.pass).toBe(v.percentiles.every((p: { inside: boolean }) => p.inside));

    expect(report.plot).toBe(plot);
    const svg = readFileSync(plot, 'utf8');
    expect(svg).toMatch(/^<\?xml[^>]*\?>\s*<svg /);
    expect(svg).toContain('n = 25');
  });

  it('prints the recommendation, both spreads, other solvers and the verification as text', async () => {
    // The defaults: p90, 8 sub-puzzles; 4 calls a token.
    const result = await runCli(['calibrate', '--target', '30ms', '--calls', '4', '--backend', 'wasm', '--duration', '1s', '--verify', '5']);
    expect(result.stderr).toBe('');
    expect([0, 1]).toContain(result.code);
    const out = result.stdout;
    expect(out).toMatch(/\nsolver {3}wasm\/wasm-simd128 on \d+ threads: [\d.]+ [kMG]?H\/s \(the median of up to five measurements in 1 s\)/);
    expect(out).toMatch(/\nRecommended: difficulty [\d.]+ x 8 sub-puzzles \(threshold [0-9a-f]{16}\),\nso that p90 of solve times on this solver is 30.0 ms\./);
    const difficulty = Number(/Recommended: difficulty ([\d.]+)/.exec(out)![1]);
    expect(out).toContain(`That is the price of one call: ${(difficulty + 3).toFixed(2)} bits of work`);
    expect(out).toMatch(/powgate serve --difficulty [\d.]+ --sub-puzzles 8 --calls 4\n/);
    expect(out).toContain(`a token of 4 calls: its challenge is difficulty ${(difficulty + 2).toFixed(4)}`);
    expect(out).toMatch(/ {2}8 sub-puzzles at [\d.]+ +[\d.]+ ms +30.0 ms +[\d.]+ ms/);
    expect(out).toMatch(/ {2}1 puzzle at [\d.]+ +[\d.]+ [mµ]?s +30.0 ms/);
    expect(out).toMatch(/A runaway loop's ceiling at this price/);
    expect(out).toMatch(/ {2}this machine, wasm\/wasm-simd128 \(\d+ threads\) +[\d.]+ ms +\d+/);
    expect(out).toMatch(/The same challenge for other solvers/);
    expect(out).not.toMatch(/\(measured\)/); // the solver measured was already the wasm one
    expect(out).toMatch(/Verification: 5 real solves/);
    expect(out).toMatch(/ {2}p50 +[\d.]+ ms +[\d.]+ [mµ]?s +[[(].+[\])] +(ok|OUTSIDE)/);
  });

  it("says when no difficulty is easy enough for the target (10 µs: below any solver's start-up)", async () => {
    const result = await runCli(['calibrate', '--json', '--target', '0.01ms', '--backend', 'js', '--threads', '1', '--duration', '1s']);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.recommendation).toMatchObject({ difficulty: 1, clamped: 'min' });
    const text = await runCli(['calibrate', '--target', '0.01ms', '--backend', 'js', '--threads', '1', '--duration', '1s']);
    expect(text.stdout).toMatch(/WARNING: the target cannot be met: even difficulty 1 takes longer/);
  });

  it.each([
    [['calibrate'], /--target is required/],
    [['calibrate', '--target', 'soon'], /for --target but received 'soon'/],
    [['calibrate', '--target', '5s', '--percentile', '100'], /from 0.1 to 99.9 for --percentile but received '100'/],
    [['calibrate', '--target', '5s', '--sub-puzzles', '65'], /from 1 to 64 for --sub-puzzles/],
    [['calibrate', '--target', '5s', '--verify', '0'], /for --verify but received '0'/],
    [['calibrate', '--target', '5s', '--duration', '100ms'], /from 1s to 10m for --duration/],
    [['calibrate', '--target', '5s', '--plot', '/no/such/dir/plot.svg'], /cannot write --plot \/no\/such\/dir\/plot.svg: ENOENT/],
  ])('refuses %j with exit code 2 before measuring', async (args, message) => {
    expectUsageError(await runCli(args), message);
  });

  it('stops cleanly on Ctrl-C with exit code 130', async () => {
    const result = await runCli(['calibrate', '--target', '5s', '--duration', '10s'], { started: (child) => setTimeout(() => child.kill('SIGINT'), 1_500) });
    expect(result).toMatchObject({ code: 130, stdout: '' });
    expect(result.stderr).toBe('powgate calibrate: cancelled\n');
  });
});
