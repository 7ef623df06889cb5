import { readFileSync } from 'node:fs';
import type { DiscoveryResource, ReferenceHardware } from '../gate/discovery.js';
import { isScope } from '../protocol/shape.js';
import { UsageError, parseNumber, stringFlag, type OptionSpecs, type Parsed } from './args.js';

/** The flags that describe what a gate guards and the hardware its prices are stated for: shared by `serve` and `mcp`. */
export const DISCOVERY_OPTIONS: OptionSpecs = {
  resource: { type: 'string', multiple: true },
  calibration: { type: 'string' },
  'hash-rate': { type: 'string' },
  'hash-rate-machine': { type: 'string' },
};

export const DISCOVERY_USAGE = `  --resource 'SCOPE=METHOD PATH'
                           a gated entry point, listed under its door in the discovery
                           document (/.well-known/l402.json); repeatable; the scope must be
                           a door (--scope, or '' for the default one)
  --calibration FILE       a \`powgate calibrate --json\` report: the discovery document states
                           each door's seconds per call on that machine
  --hash-rate H/S          or: the reference hash rate (hashes per second of the whole solver)
  --hash-rate-machine TEXT the machine that rate was measured on (required with --hash-rate)
                           without either, seconds_per_call is null: never a guessed figure`;

/** Largest calibration report read, in bytes. */
const MAX_CALIBRATION_BYTES = 1 << 20;

/** The resources and the reference hardware from the flags of {@link DISCOVERY_OPTIONS}, checked before anything starts. */
export function discoveryFromFlags(parsed: Parsed, doors: readonly string[]): { resources: DiscoveryResource[]; reference?: ReferenceHardware } {
  const resources: DiscoveryResource[] = [];
  for (const entry of (parsed.values.resource as string[] | undefined) ?? []) {
    const at = entry.indexOf('=');
    const scope = at < 0 ? '' : entry.slice(0, at);
    const match = /^\s*([A-Za-z]{1,16})\s+(\/\S{0,1024})\s*$/.exec(at < 0 ? entry : entry.slice(at + 1));
    if (!match || !isScope(scope))
      throw new UsageError(`expected SCOPE=METHOD PATH (e.g. 'search=GET /api/search') for --resource but received ${JSON.stringify(entry.slice(0, 80))}`);
    if (!doors.includes(scope)) throw new UsageError(`--resource ${JSON.stringify(entry.slice(0, 80))}: "${scope}" is not a door; declare it with --scope ${scope}`);
    resources.push({ scope, method: match[1]!.toUpperCase(), path: match[2]! });
  }
  const file = stringFlag(parsed, 'calibration');
  const rate = stringFlag(parsed, 'hash-rate');
  const machine = stringFlag(parsed, 'hash-rate-machine');
  if (file !== undefined && (rate !== undefined || machine !== undefined))
    throw new UsageError('--calibration gives the hash rate and the machine: it cannot be combined with --hash-rate');
  if ((rate === undefined) !== (machine === undefined))
    throw new UsageError('--hash-rate and --hash-rate-machine go together: a figure means nothing without the machine it was measured on');
  if (rate !== undefined) return { resources, reference: { hashesPerSecond: parseNumber(rate, 'hash-rate', 1, 1e18), machine: machine!.slice(0, 200) } };
  if (file !== undefined) return { resources, reference: readCalibration(file) };
  return { resources };
}

/** The solver's hash rate and the machine from a `powgate calibrate --json` report. */
function readCalibration(file: string): ReferenceHardware {
  let report: { solver?: { hashesPerSecond?: unknown; backend?: unknown; isa?: unknown; threads?: unknown }; machine?: { cpuModel?: unknown } };
  try {
    const text = readFileSync(file, 'utf8');
    if (text.length > MAX_CALIBRATION_BYTES) throw new Error('too large');
    report = JSON.parse(text) as typeof report;
  } catch (error) {
    // The file's name is the operator's own: it may be said back to them.
    throw new UsageError(`--calibration ${file}: not a readable powgate calibrate --json report (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  const rate = report?.solver?.hashesPerSecond;
  const cpu = report?.machine?.cpuModel;
  const { backend, isa, threads } = report?.solver ?? {};
  if (typeof rate !== 'number' || !(rate > 0) || !Number.isFinite(rate) || typeof cpu !== 'string') {
    throw new UsageError(`--calibration ${file}: expected solver.hashesPerSecond and machine.cpuModel (the output of powgate calibrate --json)`);
  }
  return { hashesPerSecond: rate, machine: `${cpu.slice(0, 120)}, ${String(threads)} threads, ${String(backend)}/${String(isa)} (powgate calibrate)` };
}
