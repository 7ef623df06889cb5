import type { OptionSpecs, Parsed } from './args.js';

/** What a command may touch: injected, so that tests and the binary share one code path. */
export interface Io {
  stdout: NodeJS.WritableStream;
  /** `isTTY` decides whether progress is drawn. */
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stdin: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
  /** Aborted on Ctrl-C (SIGINT) or SIGTERM: long commands stop and exit 130. */
  signal: AbortSignal;
}

/** One subcommand of `powgate`. */
export interface Command {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** The full `--help` text. */
  usage: string;
  options: OptionSpecs;
  /** Most positional arguments accepted. */
  maxPositionals: number;
  /** Whether everything after `--` is another command line (in `parsed.passThrough`), not this command's. Default false. */
  passThrough?: boolean;
  /** Resolves to the exit code. Throws UsageError for mistakes on the command line. */
  run(parsed: Parsed, io: Io): Promise<number>;
}

/** Writes one line. */
export function println(stream: NodeJS.WritableStream, line = ''): void {
  stream.write(`${line}\n`);
}
