import { PowgateError } from '../errors.js';
import { packageInfo } from '../package-info.js';
import { UsageError, parseCommandLine } from './args.js';
import { println, type Command, type Io } from './command.js';
import { auditCommand } from './commands/audit.js';
import { benchCommand } from './commands/bench.js';
import { calibrateCommand } from './commands/calibrate.js';
import { fetchCommand } from './commands/fetch.js';
import { issueCommand } from './commands/issue.js';
import { mcpCommand } from './commands/mcp.js';
import { secretCommand } from './commands/secret.js';
import { serveCommand } from './commands/serve.js';
import { solveCommand } from './commands/solve.js';
import { verifyCommand } from './commands/verify.js';

const COMMANDS: readonly Command[] = [
  benchCommand,
  calibrateCommand,
  solveCommand,
  issueCommand,
  verifyCommand,
  serveCommand,
  mcpCommand,
  fetchCommand,
  auditCommand,
  secretCommand,
];

/** Exit codes: 0 success, 1 a failure or a refusal, 2 a mistake on the command line, 130 cancelled. */
const EXIT = { ok: 0, failed: 1, usage: 2, cancelled: 130 } as const;

const MAIN_USAGE = `Usage: powgate <command> [options]

SHA-256 proof of work for gating APIs and MCP servers.

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`).join('\n')}

Run 'powgate <command> --help' for a command's options.
The secret comes from POWGATE_SECRET or --secret-file, never from the command line.`;

/** Runs one command line; resolves to the exit code. Never throws. */
export async function run(argv: readonly string[], io: Io): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) return usageError(io, 'missing command', MAIN_USAGE);
  if (name === '--help' || name === '-h' || name === 'help') {
    const command = COMMANDS.find((c) => c.name === rest[0]);
    println(io.stdout, command?.usage ?? MAIN_USAGE);
    return EXIT.ok;
  }
  if (name === '--version' || name === '-v') {
    println(io.stdout, packageInfo().version);
    return EXIT.ok;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) return usageError(io, `unknown command '${name}'`, MAIN_USAGE);
  try {
    const dash = command.passThrough ? rest.indexOf('--') : -1;
    const parsed = parseCommandLine(dash < 0 ? rest : rest.slice(0, dash), command.options, command.maxPositionals);
    if (dash >= 0) parsed.passThrough = rest.slice(dash + 1);
    if (parsed.values.help) {
      println(io.stdout, command.usage);
      return EXIT.ok;
    }
    return await command.run(parsed, io);
  } catch (error) {
    return failure(io, command, error);
  }
}

function usageError(io: Io, message: string, usage: string): number {
  println(io.stderr, `powgate: ${message}\n\n${usage}`);
  return EXIT.usage;
}

function failure(io: Io, command: Command, error: unknown): number {
  const prefix = `powgate ${command.name}:`;
  // Options built from flags reach the library as they were typed: its refusals are the user's to fix.
  if (
    error instanceof UsageError ||
    (error instanceof PowgateError && ['ERR_INVALID_ARGUMENT', 'ERR_WEAK_SECRET', 'ERR_INVALID_ENV', 'ERR_ISA_UNSUPPORTED'].includes(error.code))
  ) {
    println(io.stderr, `${prefix} ${error.message}\n\n${command.usage}`);
    return EXIT.usage;
  }
  if (error instanceof PowgateError && error.code === 'ERR_ABORTED') {
    println(io.stderr, `${prefix} cancelled`);
    return EXIT.cancelled;
  }
  const text = error instanceof Error ? error.message : String(error);
  println(io.stderr, `${prefix} ${text.split('\n')[0]}`);
  if (io.env.POWGATE_DEBUG && error instanceof Error && error.stack) println(io.stderr, error.stack);
  return EXIT.failed;
}
