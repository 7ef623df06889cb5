import { randomBytes } from 'node:crypto';
import { parseInteger, stringFlag } from '../args.js';
import { println, type Command } from '../command.js';

export const secretCommand: Command = {
  name: 'secret',
  summary: 'print a new random secret (base64url) for POWGATE_SECRET or a key file',
  usage: `Usage: powgate secret [options]

Prints a new secret drawn from the system's random source, as base64url on one line.

  POWGATE_SECRET=$(powgate secret)
  powgate secret > secret.key && chmod 600 secret.key

Options:
  --bytes N            random bytes, 32 to 1024; default 32
  -h, --help           this text`,
  options: { bytes: { type: 'string' } },
  maxPositionals: 0,
  async run(parsed, io) {
    const text = stringFlag(parsed, 'bytes');
    const bytes = text === undefined ? 32 : parseInteger(text, 'bytes', 32, 1024);
    println(io.stdout, randomBytes(bytes).toString('base64url'));
    return 0;
  },
};
