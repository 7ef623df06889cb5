import { availableParallelism } from 'node:os';
import type { BackendName, NativeIsa } from '../../backend/types.js';
import { packageInfo } from '../../package-info.js';
import { measureHashRate, type HashRate } from '../../solver/measure.js';
import { UsageError, parseChoice, parseDuration, parseInteger, stringFlag } from '../args.js';
import { println, type Command } from '../command.js';
import { formatRate, formatTable } from '../format.js';
import { describeMachine, machineFacts, type MachineFacts } from '../machine.js';

/** `powgate bench --json`, documented in docs/CLI.md. */
export interface BenchReport {
  powgate: string;
  machine: MachineFacts;
  /** How long each row hashed. */
  durationSeconds: number;
  results: (HashRate & { hashesPerSecondPerThread: number })[];
}

export const benchCommand: Command = {
  name: 'bench',
  summary: 'measure hash rates per backend, kernel and thread count',
  usage: `Usage: powgate bench [options]

Measures the solver's SHA-256 hash rate on this machine for every backend and native
kernel, on one thread and on all, and prints them with the machine facts.

Options:
  --backend B          only this backend: native, wasm or js; default: all
  --threads N          only this thread count; default: 1 and all (${availableParallelism()} here)
  --duration DURATION  hashing time per row; default 1s
  --json               print one JSON object (docs/CLI.md) instead of a table
  -h, --help           this text`,
  options: { backend: { type: 'string' }, threads: { type: 'string' }, duration: { type: 'string' }, json: { type: 'boolean' } },
  maxPositionals: 0,
  async run(parsed, io) {
    const only = stringFlag(parsed, 'backend');
    const backend = only === undefined ? undefined : parseChoice(only, 'backend', ['native', 'wasm', 'js'] as const);
    const threadFlag = stringFlag(parsed, 'threads');
    const duration = stringFlag(parsed, 'duration');
    const durationMs = duration === undefined ? 1_000 : Math.round(parseDuration(duration, 'duration') * 1000);
    if (durationMs < 200 || durationMs > 600_000) throw new UsageError(`expected a duration from 200ms to 10m for --duration but received '${duration}'`);
    const threadCounts = threadFlag === undefined ? [...new Set([1, availableParallelism()])] : [parseInteger(threadFlag, 'threads', 1, 256)];
    const machine = machineFacts();
    const json = parsed.values.json === true;
    if (!json) for (const line of describeMachine(machine)) println(io.stdout, line);

    const rows: BenchReport['results'] = [];
    for (const [name, isa] of solvers(machine, backend)) {
      for (const threads of threadCounts) {
        if (io.stderr.isTTY) io.stderr.write(`\rmeasuring ${name}${isa ? `/${isa}` : ''} on ${threads} thread(s)\x1b[K`);
        const rate = await measureHashRate({ backend: name, isa, threads, durationMs, signal: io.signal });
        rows.push({ ...rate, hashesPerSecondPerThread: rate.hashesPerSecond / threads });
      }
    }
    if (json) {
      const report: BenchReport = { powgate: packageInfo().version, machine, durationSeconds: durationMs / 1000, results: rows };
      println(io.stdout, JSON.stringify(report, null, 2));
      return 0;
    }
    if (io.stderr.isTTY) io.stderr.write('\r\x1b[K');
    const serving = (r: HashRate) => r.backend === machine.serving.backend && (r.backend !== 'native' || r.isa === machine.serving.isa);
    println(io.stdout);
    const table = [
      ['backend', 'kernel', 'threads', 'rate', 'per thread'],
      ...rows.map((r) => [r.backend + (serving(r) ? ' *' : ''), r.isa, String(r.threads), formatRate(r.hashesPerSecond), formatRate(r.hashesPerSecondPerThread)]),
    ];
    for (const line of formatTable(table)) println(io.stdout, line);
    println(io.stdout, `\n* serves solve() here. Each row hashed for ${durationMs / 1000} s; rates vary between runs, more so on a VM.`);
    return 0;
  },
};

/** Every backend and native kernel this machine can run, or just the one asked for. */
function solvers(machine: MachineFacts, only: BackendName | undefined): [BackendName, NativeIsa | undefined][] {
  const all: [BackendName, NativeIsa | undefined][] = [...machine.nativeIsas.map((isa): [BackendName, NativeIsa] => ['native', isa]), ['wasm', undefined], ['js', undefined]];
  return all.filter(([name]) => only === undefined || name === only);
}
