import { createChallenge } from '../../protocol/challenge.js';
import { PROTOCOL_MAX_DIFFICULTY } from '../../protocol/difficulty.js';
import { UsageError, parseDuration, parseInteger, parseNumber, stringFlag } from '../args.js';
import { println, type Command } from '../command.js';
import { SECRET_OPTIONS, SECRET_USAGE, secretOptions } from '../secret.js';

export const issueCommand: Command = {
  name: 'issue',
  summary: 'issue a signed challenge (JSON on stdout)',
  usage: `Usage: powgate issue --difficulty D [options]

Issues a signed challenge and prints it as one line of JSON.

Options:
  --difficulty D       bits per sub-puzzle, fractional allowed, 1 to ${PROTOCOL_MAX_DIFFICULTY} (required;
                       'powgate calibrate' recommends one)
  --sub-puzzles K      independent proofs required, 1 to 64; default 1
  --scope S            what solving it unlocks; default '' (anything)
  --ttl DURATION       lifetime, e.g. 2m or 90s; default 2m
${SECRET_USAGE}
  -h, --help           this text`,
  options: {
    difficulty: { type: 'string' },
    'sub-puzzles': { type: 'string' },
    scope: { type: 'string' },
    ttl: { type: 'string' },
    ...SECRET_OPTIONS,
  },
  maxPositionals: 0,
  async run(parsed, io) {
    const difficulty = stringFlag(parsed, 'difficulty');
    if (difficulty === undefined) throw new UsageError('--difficulty is required');
    const ttl = stringFlag(parsed, 'ttl');
    const subPuzzles = stringFlag(parsed, 'sub-puzzles');
    const challenge = createChallenge({
      ...secretOptions(parsed, io),
      difficulty: parseNumber(difficulty, 'difficulty', 1, PROTOCOL_MAX_DIFFICULTY),
      maxDifficulty: PROTOCOL_MAX_DIFFICULTY,
      subPuzzles: subPuzzles === undefined ? 1 : parseInteger(subPuzzles, 'sub-puzzles', 1, 64),
      scope: stringFlag(parsed, 'scope') ?? '',
      ttlMs: ttl === undefined ? 120_000 : Math.round(parseDuration(ttl, 'ttl') * 1000),
    });
    println(io.stdout, JSON.stringify(challenge));
    return 0;
  },
};
