import { readFileSync } from 'node:fs';
import type { KeyEntry, KeyOptions } from '../protocol/keys.js';
import { UsageError, stringFlag, type OptionSpecs, type Parsed } from './args.js';
import type { Io } from './command.js';

/** The flags of every command that needs the secret. */
export const SECRET_OPTIONS: OptionSpecs = {
  'secret-file': { type: 'string' },
  'keys-file': { type: 'string' },
  kid: { type: 'string' },
};

export const SECRET_USAGE = `  --secret-file FILE   read the secret (32 bytes or more) from FILE; default: $POWGATE_SECRET
  --kid ID             the key's id (for rotation); default: derived from the secret
  --keys-file FILE     several keys, one "<kid> <secret> [derivation=1]" a line ('#' comments): the first
                       signs, every one verifies (rotate by adding a new first line)`;

const MAX_SECRET_FILE_BYTES = 64 * 1024;

/**
 * The key options from `--secret-file` or `POWGATE_SECRET`, never from an argument.
 * One trailing newline of a file is dropped: editors add it.
 */
export function secretOptions(parsed: Parsed, io: Io): KeyOptions {
  const keysFile = stringFlag(parsed, 'keys-file');
  if (keysFile !== undefined) {
    if (stringFlag(parsed, 'secret-file') !== undefined || stringFlag(parsed, 'kid') !== undefined) {
      throw new UsageError('--keys-file names every key: it does not go with --secret-file or --kid');
    }
    return { keys: readKeysFile(keysFile) };
  }
  const file = stringFlag(parsed, 'secret-file');
  let secret: string | Uint8Array | undefined;
  if (file !== undefined) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch (error) {
      throw new UsageError(`cannot read --secret-file ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    if (bytes.length > MAX_SECRET_FILE_BYTES) throw new UsageError(`--secret-file ${file} is larger than ${MAX_SECRET_FILE_BYTES} bytes`);
    // The bytes as they are (a binary key must not be decoded as text), less a final newline.
    const end = bytes.at(-1) === 0x0a ? (bytes.at(-2) === 0x0d ? bytes.length - 2 : bytes.length - 1) : bytes.length;
    secret = bytes.subarray(0, end);
  } else {
    secret = io.env.POWGATE_SECRET;
  }
  if (!secret?.length) throw new UsageError('no secret: set POWGATE_SECRET or use --secret-file FILE');
  const kid = stringFlag(parsed, 'kid');
  return kid === undefined ? { secret } : { keys: [{ kid, secret }] };
}

/**
 * `<kid> <secret>` lines, optionally ending ` derivation=1` for a key that signed before key
 * derivation 2 (docs/PROTOCOL.md, "Keys"); blank lines and `#` comments skipped; secrets never
 * appear in messages.
 */
function readKeysFile(file: string): KeyEntry[] {
  let text: string;
  try {
    const bytes = readFileSync(file);
    if (bytes.length > MAX_SECRET_FILE_BYTES) throw new UsageError(`--keys-file ${file} is larger than ${MAX_SECRET_FILE_BYTES} bytes`);
    text = bytes.toString('utf8');
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`cannot read --keys-file ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  const keys: KeyEntry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const match = /^(\S+)\s+(\S.*?)(?:\s+derivation=([12]))?$/.exec(line);
    if (!match) throw new UsageError(`--keys-file ${file} line ${i + 1}: expected "<kid> <secret> [derivation=1]"`);
    keys.push({ kid: match[1]!, secret: match[2]!, ...(match[3] === '1' ? { derivation: 1 as const } : {}) });
  });
  if (keys.length === 0) throw new UsageError(`--keys-file ${file} holds no key`);
  return keys;
}
