import { readFileSync } from 'node:fs';
import type { KeyOptions } from '../protocol/keys.js';
import { UsageError, stringFlag, type OptionSpecs, type Parsed } from './args.js';
import type { Io } from './command.js';

/** The flags of every command that needs the secret. */
export const SECRET_OPTIONS: OptionSpecs = {
  'secret-file': { type: 'string' },
  kid: { type: 'string' },
};

export const SECRET_USAGE = `  --secret-file FILE   read the secret (32 bytes or more) from FILE; default: $POWGATE_SECRET
  --kid ID             the key's id (for rotation); default: derived from the secret`;

const MAX_SECRET_FILE_BYTES = 64 * 1024;

/**
 * The key options from `--secret-file` or `POWGATE_SECRET`, never from an argument.
 * One trailing newline of a file is dropped: editors add it.
 */
export function secretOptions(parsed: Parsed, io: Io): KeyOptions {
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
