import { availableParallelism } from 'node:os';
import { loadBackend } from '../../backend/loader.js';
import type { NativeIsa, Sha256Backend } from '../../backend/types.js';
import { parseChallenge } from '../../protocol/challenge.js';
import { expectedHashes } from '../../protocol/difficulty.js';
import { solve } from '../../solver/solve.js';
import { UsageError, optional, parseChoice, parseDuration, parseInteger, parseNumber, stringFlag, type Parsed } from '../args.js';
import { println, type Command } from '../command.js';
import { readJson } from '../input.js';
import { ProgressBar } from '../progress.js';

export const BACKEND_USAGE = `  --backend B          native, wasm or js; default: the serving backend
  --isa I              native kernel: avx512, shani, avx2 or scalar; default: the CPU's best`;

export const BACKEND_OPTIONS = { backend: { type: 'string' }, isa: { type: 'string' } } as const;

/** The backend and kernel the flags ask for, or undefined for the serving one. */
export async function chosenBackend(parsed: Parsed): Promise<Sha256Backend | undefined> {
  const name = stringFlag(parsed, 'backend');
  const isa = stringFlag(parsed, 'isa');
  if (name === undefined && isa === undefined) return undefined;
  const backend = name === undefined ? 'native' : parseChoice(name, 'backend', ['native', 'wasm', 'js'] as const);
  if (isa !== undefined && backend !== 'native') throw new UsageError('--isa applies only to --backend native');
  const kernel = isa === undefined ? undefined : parseChoice(isa, 'isa', ['avx512', 'shani', 'avx2', 'scalar'] as NativeIsa[]);
  return loadBackend(backend, { isa: kernel });
}

export const solveCommand: Command = {
  name: 'solve',
  summary: 'solve a challenge on every core (solution JSON on stdout)',
  usage: `Usage: powgate solve [FILE|-] [options]

Reads a challenge (JSON, from FILE or stdin), solves it and prints the solution as one
line of JSON. On a terminal, stderr shows progress. Ctrl-C cancels (exit code 130).

Options:
  --threads N          solver threads; default: all (${availableParallelism()} here)
  --timeout DURATION   give up after this long (exit code 1), e.g. 30s; default: 5m
  --max-difficulty B   refuse a challenge of more than B bits of work in all; default: 40
${BACKEND_USAGE}
  --progress           draw progress even when stderr is not a terminal
  --no-progress        never draw progress
  -h, --help           this text`,
  options: {
    threads: { type: 'string' },
    timeout: { type: 'string' },
    'max-difficulty': { type: 'string' },
    progress: { type: 'boolean' },
    'no-progress': { type: 'boolean' },
    ...BACKEND_OPTIONS,
  },
  maxPositionals: 1,
  async run(parsed, io) {
    const threads = optional(stringFlag(parsed, 'threads'), (text) => parseInteger(text, 'threads', 1, 256));
    const timeout = optional(stringFlag(parsed, 'timeout'), (text) => Math.min(2 ** 31 - 1, Math.round(parseDuration(text, 'timeout') * 1000)));
    const maxDifficulty = optional(stringFlag(parsed, 'max-difficulty'), (text) => parseNumber(text, 'max-difficulty', 1, 70));
    const backend = await chosenBackend(parsed);
    const challenge = await readJson(parsed.positionals[0], io, 'a challenge');
    const known = parseChallenge(challenge);
    if (!known) throw new UsageError('expected a powgate challenge (docs/PROTOCOL.md) but the JSON is something else');
    const drawn = parsed.values.progress === true || (parsed.values['no-progress'] !== true && io.stderr.isTTY === true);
    const bar = drawn ? new ProgressBar(io.stderr, 'solving', known.json.subPuzzles * expectedHashes(known.threshold)) : undefined;
    try {
      const solution = await solve(known.json, {
        threads,
        timeoutMs: timeout,
        maxDifficulty,
        signal: io.signal,
        onProgress: bar && ((progress) => bar.update(progress)),
        backend,
      });
      bar?.clear();
      println(io.stdout, JSON.stringify(solution));
      return 0;
    } catch (error) {
      bar?.clear();
      throw error;
    }
  },
};
