import type { Readable, Writable } from 'node:stream';
import type { AdaptiveDifficultyOptions } from '../../gate/adaptive-difficulty.js';
import type { GateOptions } from '../../gate/gate.js';
import { PROTOCOL_MAX_DIFFICULTY } from '../../protocol/difficulty.js';
import { RedisReplayStore } from '../../protocol/replay/redis.js';
import { UsageError, optional, parseDuration, parseInteger, parseNumber, stringFlag, type OptionSpecs, type Parsed } from '../args.js';
import { println, type Command, type Io } from '../command.js';
import { SECRET_OPTIONS, SECRET_USAGE, secretOptions } from '../secret.js';

/** The flags that set what a gate charges: shared by the commands that run one. */
export const GATE_OPTIONS: OptionSpecs = {
  difficulty: { type: 'string' },
  'base-difficulty': { type: 'string' },
  'min-difficulty': { type: 'string' },
  'max-difficulty': { type: 'string' },
  'sub-puzzles': { type: 'string' },
  'challenge-ttl': { type: 'string' },
  'token-ttl': { type: 'string' },
  redis: { type: 'string' },
  'fail-open': { type: 'boolean' },
};

export const GATE_USAGE = `  --difficulty D         a fixed difficulty (bits per sub-puzzle, fractional allowed);
                         default: adaptive, rising with each client's request rate
  --base-difficulty D    adaptive: the price within a client's free rate; default 18
  --min-difficulty D     adaptive: the lowest difficulty issued; default: the base
  --max-difficulty D     adaptive: the highest difficulty issued (and accepted); default 28
  --sub-puzzles K        independent proofs per challenge, 1 to 64; default 1
  --challenge-ttl DUR    challenge lifetime, e.g. 2m; default 2m
  --token-ttl DUR        token lifetime, e.g. 5m; default 5m
  --redis URL            spend challenges in this Redis (shared by every instance);
                         default: in memory, this process only
  --fail-open            when Redis is down, accept valid solutions unspent instead of
                         refusing with store_unavailable (replays become possible)`;

const ms = (text: string, flag: string) => Math.round(parseDuration(text, flag) * 1000);
const bits = (text: string, flag: string) => parseNumber(text, flag, 1, PROTOCOL_MAX_DIFFICULTY);

/** Gate options from the flags of {@link GATE_OPTIONS} and the secret flags; every flag is checked before anything starts. */
export function gateOptionsFromFlags(parsed: Parsed, io: Io): GateOptions {
  const keys = secretOptions(parsed, io);
  const fixed = optional(stringFlag(parsed, 'difficulty'), (t) => bits(t, 'difficulty'));
  const adaptive: AdaptiveDifficultyOptions = {};
  const base = optional(stringFlag(parsed, 'base-difficulty'), (t) => bits(t, 'base-difficulty'));
  const min = optional(stringFlag(parsed, 'min-difficulty'), (t) => bits(t, 'min-difficulty'));
  const max = optional(stringFlag(parsed, 'max-difficulty'), (t) => bits(t, 'max-difficulty'));
  if (base !== undefined) adaptive.base = base;
  if (min !== undefined) adaptive.min = min;
  if (max !== undefined) adaptive.max = max;
  if (fixed !== undefined && Object.keys(adaptive).length > 0) {
    throw new UsageError('--difficulty (fixed) cannot be combined with --base-difficulty, --min-difficulty or --max-difficulty (adaptive)');
  }
  if (min !== undefined && max !== undefined && min > max) throw new UsageError('--min-difficulty must not exceed --max-difficulty');
  const subPuzzles = optional(stringFlag(parsed, 'sub-puzzles'), (t) => parseInteger(t, 'sub-puzzles', 1, 64));
  const challengeTtlMs = optional(stringFlag(parsed, 'challenge-ttl'), (t) => ms(t, 'challenge-ttl'));
  const tokenTtlMs = optional(stringFlag(parsed, 'token-ttl'), (t) => ms(t, 'token-ttl'));
  const redis = stringFlag(parsed, 'redis');
  if (redis !== undefined && !/^rediss?:\/\//.test(redis)) throw new UsageError("expected a redis:// or rediss:// URL for --redis");
  return {
    ...keys,
    difficulty: fixed ?? adaptive,
    ...(subPuzzles === undefined ? {} : { subPuzzles }),
    ...(challengeTtlMs === undefined ? {} : { challengeTtlMs }),
    ...(tokenTtlMs === undefined ? {} : { tokenTtlMs }),
    ...(redis === undefined ? {} : { store: new RedisReplayStore({ url: redis }) }),
    failOpen: parsed.values['fail-open'] === true,
  };
}

export const mcpCommand: Command = {
  name: 'mcp',
  summary: 'serve the gate as an MCP server on stdio (tools: challenge, verify, status)',
  usage: `Usage: powgate mcp [options]

Serves the gate over the Model Context Protocol on stdin/stdout, for an MCP host
(e.g. "command": "npx", "args": ["powgate", "mcp"], with POWGATE_SECRET in "env").
Tools, each with input and output schemas and structured results:
  challenge { scope?, difficulty? }  a signed challenge, priced for this client
  verify    { challenge, solution }  a token for the challenge's scope (each challenge once),
                                     or { ok: false, reason } with isError
  status    {}                       the backend and kernel, and what the gate charges
stdout carries only the protocol; logs go to stderr. The server stops when stdin closes.

Options:
${GATE_USAGE}
${SECRET_USAGE}
  -h, --help             this text`,
  options: { ...GATE_OPTIONS, ...SECRET_OPTIONS },
  maxPositionals: 0,
  async run(parsed, io) {
    const options = gateOptionsFromFlags(parsed, io);
    // Loaded here, not at the top: the SDK costs every other command a quarter of a second to import.
    const [{ Gate }, { createPowgateMcpServer }, { StdioServerTransport }] = await Promise.all([
      import('../../gate/gate.js'),
      import('../../mcp/server.js'),
      import('@modelcontextprotocol/sdk/server/stdio.js'),
    ]);
    let gate;
    try {
      gate = new Gate(options);
    } catch (error) {
      await options.store?.close();
      throw error;
    }
    const log = (line: string) => println(io.stderr, `powgate mcp: ${line}`);
    const server = createPowgateMcpServer(gate, { log });
    const transport = new StdioServerTransport(io.stdin as Readable, io.stdout as Writable);
    const closed = new Promise<'eof' | 'signal'>((resolve) => {
      io.stdin.once('end', () => resolve('eof'));
      io.stdin.once('close', () => resolve('eof'));
      // The client went away mid-reply (EPIPE): the same as closing stdin.
      io.stdout.on('error', () => resolve('eof'));
      if (io.signal.aborted) resolve('signal');
      io.signal.addEventListener('abort', () => resolve('signal'), { once: true });
    });
    transport.onerror = (error) => log(`transport: ${error.message.split('\n')[0]}`);
    await server.connect(transport);
    const d = gate.difficulty;
    log(
      `serving on stdio (difficulty ${d.min === d.max ? d.base : `${d.base}, ${d.min} to ${d.max}`}, ` +
        `${gate.subPuzzles} sub-puzzle${gate.subPuzzles === 1 ? '' : 's'}, store ${options.store ? 'redis' : 'memory'})`,
    );
    const why = await closed;
    await server.close();
    await gate.close();
    return why === 'signal' ? 130 : 0;
  },
};
