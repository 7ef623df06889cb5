import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A mistake on the command line: one line on stderr, the usage, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export type OptionSpecs = NonNullable<ParseArgsConfig['options']>;

/** Parsed flags and positionals of one command. */
export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
  /** What followed `--`, for a command that runs another (`powgate audit -- node server.mjs`); undefined without `--`. */
  passThrough?: string[];
}

/** Every command takes --help; flags are strict, so a typo is an error and never silently ignored. */
export function parseCommandLine(argv: readonly string[], options: OptionSpecs, maxPositionals: number): Parsed {
  if (argv.some((arg) => arg === '--secret' || arg.startsWith('--secret='))) {
    throw new UsageError('the secret is never read from the command line (ps and shell history would show it): set POWGATE_SECRET or use --secret-file FILE');
  }
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: { help: { type: 'boolean', short: 'h' }, ...options }, strict: true, allowPositionals: true });
  } catch (error) {
    // node:util's first line names the flag; the rest is advice about '--' that does not apply here.
    throw new UsageError((error as Error).message.split(/\n|\. To specify/)[0]!.replace(/\.$/, ''));
  }
  if (parsed.positionals.length > maxPositionals) {
    throw new UsageError(`unexpected argument '${parsed.positionals[maxPositionals]}'`);
  }
  return { values: parsed.values as Parsed['values'], positionals: parsed.positionals };
}

/** A flag's string value, or undefined when absent. */
export function stringFlag(parsed: Parsed, name: string): string | undefined {
  const value = parsed.values[name];
  return typeof value === 'string' ? value : undefined;
}

/** `parse(text)` for a flag that was given, else undefined: so every flag is checked before any work starts. */
export function optional<T>(text: string | undefined, parse: (text: string) => T): T | undefined {
  return text === undefined ? undefined : parse(text);
}

const UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };

/** A duration such as `5s`, `500ms`, `1.5m` or `2h`; a bare number is seconds. Returns seconds. */
export function parseDuration(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?|\.\d+)(ms|s|m|h)?$/.exec(text.trim());
  const seconds = match ? Number(match[1]) * UNITS[match[2] ?? 's']! : NaN;
  if (!(seconds > 0) || !Number.isFinite(seconds)) {
    throw new UsageError(`expected a duration such as 5s, 500ms or 2m for --${flag} but received '${text}'`);
  }
  return seconds;
}

/** An integer flag within bounds. */
export function parseInteger(text: string, flag: string, min: number, max: number): number {
  const value = /^\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`expected an integer from ${min} to ${max} for --${flag} but received '${text}'`);
  }
  return value;
}

/** A decimal number flag within bounds. */
export function parseNumber(text: string, flag: string, min: number, max: number): number {
  const value = /^\d+(\.\d+)?$|^\.\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!(value >= min && value <= max)) {
    throw new UsageError(`expected a number from ${min} to ${max} for --${flag} but received '${text}'`);
  }
  return value;
}

/** One of a fixed set of words. */
export function parseChoice<T extends string>(text: string, flag: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(text)) {
    throw new UsageError(`expected one of ${choices.join(', ')} for --${flag} but received '${text}'`);
  }
  return text as T;
}
