import { PROTOCOL_MAX_DIFFICULTY } from '../../protocol/difficulty.js';
import { MemoryReplayStore } from '../../storage/memory.js';
import { RedisReplayStore } from '../../storage/redis.js';
import type { ReplayStore } from '../../storage/types.js';
import { issueToken } from '../../protocol/token.js';
import { verifySolution } from '../../protocol/verify.js';
import { UsageError, optional, parseDuration, parseNumber, stringFlag } from '../args.js';
import { println, type Command } from '../command.js';
import { readJson } from '../input.js';
import { SECRET_OPTIONS, SECRET_USAGE, secretOptions } from '../secret.js';

export const verifyCommand: Command = {
  name: 'verify',
  summary: 'check a solution against its challenge (verdict JSON on stdout)',
  usage: `Usage: powgate verify [FILE|-] [options]

Checks a solution against its challenge and prints the verdict as one line of JSON:
{"ok":true,...} and exit code 0, or {"ok":false,"reason":"..."} and exit code 1.

Input, from FILE or stdin: {"challenge": {...}, "solution": {...}};
with --challenge, the input is the solution alone.

Options:
  --challenge FILE       the challenge, from FILE
  --scope S              the challenge's scope must be S; default: any
  --min-difficulty D     refuse easier challenges; default 1
  --max-difficulty D     refuse harder challenges; default ${PROTOCOL_MAX_DIFFICULTY}
  --skew DURATION        clock-skew allowance; default 5s
  --redis URL            spend the challenge in this Redis (shared by every verifier);
                         without it a replay is caught only within one run
  --token-ttl DURATION   on success, also issue a token of this lifetime ("token" field)
${SECRET_USAGE}
  -h, --help             this text`,
  options: {
    challenge: { type: 'string' },
    scope: { type: 'string' },
    'min-difficulty': { type: 'string' },
    'max-difficulty': { type: 'string' },
    skew: { type: 'string' },
    redis: { type: 'string' },
    'token-ttl': { type: 'string' },
    ...SECRET_OPTIONS,
  },
  maxPositionals: 1,
  async run(parsed, io) {
    const keys = secretOptions(parsed, io);
    const min = optional(stringFlag(parsed, 'min-difficulty'), (text) => parseNumber(text, 'min-difficulty', 1, PROTOCOL_MAX_DIFFICULTY));
    const max = optional(stringFlag(parsed, 'max-difficulty'), (text) => parseNumber(text, 'max-difficulty', 1, PROTOCOL_MAX_DIFFICULTY));
    const skewMs = optional(stringFlag(parsed, 'skew'), (text) => Math.round(parseDuration(text, 'skew') * 1000));
    const tokenTtlMs = optional(stringFlag(parsed, 'token-ttl'), (text) => Math.round(parseDuration(text, 'token-ttl') * 1000));
    const [challenge, solution] = await readPair(parsed.positionals[0], stringFlag(parsed, 'challenge'), io);
    const redis = stringFlag(parsed, 'redis');
    // Without --redis, one run remembers nothing of earlier runs anyway: no epoch to judge by.
    const store: ReplayStore = redis === undefined ? new MemoryReplayStore({ since: 0 }) : new RedisReplayStore({ url: redis });
    try {
      const verdict = await verifySolution(challenge as never, solution as never, {
        ...keys,
        store,
        scope: stringFlag(parsed, 'scope'),
        minDifficulty: min ?? 1,
        maxDifficulty: max ?? PROTOCOL_MAX_DIFFICULTY,
        skewMs: skewMs ?? 5_000,
      });
      if (!verdict.ok) {
        println(io.stdout, JSON.stringify(verdict));
        return 1;
      }
      const token = tokenTtlMs === undefined ? undefined : issueToken({ ...keys, scope: verdict.scope, method: 'pow', ttlMs: tokenTtlMs });
      println(io.stdout, JSON.stringify(token === undefined ? verdict : { ...verdict, token }));
      return 0;
    } finally {
      await store?.close();
    }
  },
};

/** The (challenge, solution) to check: one pair object, or the challenge from --challenge and the solution from the input. */
async function readPair(file: string | undefined, challengeFile: string | undefined, io: Parameters<Command['run']>[1]): Promise<[unknown, unknown]> {
  if (challengeFile !== undefined) {
    if (challengeFile === '-' && (file === undefined || file === '-')) throw new UsageError('only one of the challenge and the solution can come from stdin');
    return [await readJson(challengeFile, io, 'a challenge'), await readJson(file, io, 'a solution')];
  }
  const pair = await readJson(file, io, 'a {"challenge", "solution"} pair');
  if (typeof pair !== 'object' || pair === null || !('challenge' in pair) || !('solution' in pair)) {
    throw new UsageError('expected a JSON object with "challenge" and "solution" (or use --challenge FILE)');
  }
  return [pair.challenge, pair.solution];
}
