import type { AdaptiveDifficultyOptions } from '../gate/adaptive-difficulty.js';
import type { GateOptions } from '../gate/gate.js';
import { lightningFromEnv } from '../lightning/from-env.js';
import { PROTOCOL_MAX_DIFFICULTY } from '../protocol/difficulty.js';
import { MAX_SATS_PER_CALL } from '../protocol/l402.js';
import { MAX_CALLS } from '../protocol/price.js';
import { isScope } from '../protocol/shape.js';
import { importIoredis } from '../storage/redis-connection.js';
import { UsageError, optional, parseDuration, parseInteger, parseNumber, stringFlag, type OptionSpecs, type Parsed } from './args.js';
import type { Io } from './command.js';
import { REDIS_OPTIONS, REDIS_USAGE, type RedisFromFlags, redisFromFlags } from './redis-flags.js';
import { SECRET_OPTIONS, secretOptions } from './secret.js';

/** The flags that set what a gate charges and where it keeps state: shared by `serve` and `mcp`. */
export const GATE_OPTIONS: OptionSpecs = {
  difficulty: { type: 'string' },
  'base-difficulty': { type: 'string' },
  'min-difficulty': { type: 'string' },
  'max-difficulty': { type: 'string' },
  'free-requests': { type: 'string' },
  'rate-window': { type: 'string' },
  'sub-puzzles': { type: 'string' },
  scope: { type: 'string', multiple: true },
  calls: { type: 'string' },
  'max-calls': { type: 'string' },
  'challenge-ttl': { type: 'string' },
  'token-ttl': { type: 'string' },
  ...REDIS_OPTIONS,
  'fail-open': { type: 'boolean' },
  sats: { type: 'string' },
  'aperture-pow': { type: 'boolean' },
  ...SECRET_OPTIONS,
};

export const GATE_USAGE = `  --difficulty D           the price of one call, fixed (bits), 1 to ${PROTOCOL_MAX_DIFFICULTY}; or let it adapt
                           to the calls each client buys:
  --base-difficulty D      difficulty within the free rate; default 18
  --min-difficulty D       lowest difficulty issued or accepted; default: the base
  --max-difficulty D       highest difficulty issued or accepted; default 28
  --free-requests N        calls bought per window before the price rises; default 10
  --rate-window DURATION   the rate's window; default 1m
  --sub-puzzles K          sub-puzzles per challenge, 1 to 64; default 1
  --scope NAME[=D]         a door clients may buy calls for, at D bits per call (default:
                           the gate's difficulty); repeatable; '' is always a door
  --calls N                calls a challenge buys unless the client asks; default 1
  --max-calls N            most calls one challenge (one token) may buy; default 100
  --challenge-ttl DURATION challenge lifetime; default 2m
  --token-ttl DURATION     token lifetime; default 5m
${REDIS_USAGE}
  --fail-open              when the store cannot answer, issue challenges at the base
                           difficulty and accept solutions unspent (replays possible);
                           default: refuse with store_unavailable (fail closed)
  --sats N                 open the Lightning (L402) door at N sats per call, on the node
                           named by POWGATE_LND_URL + POWGATE_LND_MACAROON[_FILE]
                           (+ POWGATE_LND_TLS_CERT_FILE), or POWGATE_LNBITS_URL +
                           POWGATE_LNBITS_KEY[_FILE]; docs/L402.md
  --aperture-pow           also offer proof of work in Aperture's L402 dialect`;

/**
 * Gate options from the flags of {@link GATE_OPTIONS}, every flag checked before
 * anything starts. With `--redis`, the replay store and the rate counter live there.
 */
export function gateOptionsFromFlags(parsed: Parsed, io: Io, onRedisError?: (error: Error) => void): GateOptions & { redis?: RedisFromFlags } {
  const keys = secretOptions(parsed, io);
  const bits = (flag: string) => optional(stringFlag(parsed, flag), (text) => parseNumber(text, flag, 1, PROTOCOL_MAX_DIFFICULTY));
  const ms = (flag: string) => optional(stringFlag(parsed, flag), (text) => Math.round(parseDuration(text, flag) * 1000));
  const fixed = bits('difficulty');
  const adaptive: AdaptiveDifficultyOptions = {
    base: bits('base-difficulty'),
    min: bits('min-difficulty'),
    max: bits('max-difficulty'),
    freeRequests: optional(stringFlag(parsed, 'free-requests'), (text) => parseInteger(text, 'free-requests', 1, 1e9)),
    windowMs: ms('rate-window'),
  };
  const given = Object.values(adaptive).some((value) => value !== undefined);
  if (fixed !== undefined && given) {
    throw new UsageError('--difficulty fixes the difficulty: it cannot be combined with --base-difficulty, --min-difficulty, --max-difficulty, --free-requests or --rate-window');
  }
  const { base, min, max } = adaptive;
  if (min !== undefined && max !== undefined && min > max) throw new UsageError(`--min-difficulty ${min} is above --max-difficulty ${max}`);
  if (base !== undefined && ((min !== undefined && base < min) || (max !== undefined && base > max))) {
    throw new UsageError(`--base-difficulty ${base} is outside [${min ?? 'min'}, ${max ?? 'max'}]`);
  }
  const subPuzzles = optional(stringFlag(parsed, 'sub-puzzles'), (text) => parseInteger(text, 'sub-puzzles', 1, 64));
  const maxCalls = optional(stringFlag(parsed, 'max-calls'), (text) => parseInteger(text, 'max-calls', 1, MAX_CALLS));
  const calls = optional(stringFlag(parsed, 'calls'), (text) => parseInteger(text, 'calls', 1, maxCalls ?? 100));
  const scopes: Record<string, number | undefined> = {};
  for (const entry of (parsed.values.scope as string[] | undefined) ?? []) {
    const at = entry.lastIndexOf('=');
    const name = at < 0 ? entry : entry.slice(0, at);
    if (!isScope(name)) throw new UsageError(`expected printable ASCII of at most 256 characters for --scope but received ${JSON.stringify(String(name).slice(0, 40))}`);
    scopes[name] = at < 0 ? undefined : parseNumber(entry.slice(at + 1), 'scope', 1, PROTOCOL_MAX_DIFFICULTY);
  }
  const sats = optional(stringFlag(parsed, 'sats'), (text) => parseInteger(text, 'sats', 1, MAX_SATS_PER_CALL));
  // The node's variables are read only when the door is asked for.
  const backend = sats === undefined ? undefined : lightningFromEnv(io.env);
  if (sats !== undefined && backend === undefined) {
    throw new UsageError('--sats opens the Lightning door: set POWGATE_LND_URL and POWGATE_LND_MACAROON (or _FILE), or POWGATE_LNBITS_URL and POWGATE_LNBITS_KEY (or _FILE)');
  }
  const redis = redisFromFlags(parsed, io, onRedisError);
  return {
    ...keys,
    difficulty: fixed ?? adaptive,
    subPuzzles,
    calls,
    maxCalls,
    scopes,
    challengeTtlMs: ms('challenge-ttl'),
    tokenTtlMs: ms('token-ttl'),
    failOpen: parsed.values['fail-open'] === true,
    aperturePow: parsed.values['aperture-pow'] === true,
    ...(sats === undefined ? {} : { lightning: { backend: backend!, satsPerCall: sats } }),
    ...(redis === undefined ? {} : { store: redis.store, counter: redis.counter, redis }),
  };
}

/** The doors the flags declare: '' and every --scope. */
export function doorsOf(options: GateOptions): string[] {
  return ['', ...Object.keys(options.scopes ?? {})];
}

/**
 * Checks at start-up that ioredis can be loaded when `--redis` asked for it; if not, closes
 * the store and counter made from the flags and throws the PowgateError
 * `ERR_REDIS_CLIENT_MISSING` that names `npm install ioredis`.
 */
export async function requireRedisClient(options: GateOptions): Promise<void> {
  try {
    await importIoredis('--redis');
  } catch (error) {
    await Promise.all([options.store?.close(), options.counter?.close()]);
    throw error;
  }
}
