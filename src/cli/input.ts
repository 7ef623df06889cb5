import { readFile } from 'node:fs/promises';
import { UsageError } from './args.js';
import type { Io } from './command.js';

/** Challenges, solutions and pairs are small: anything bigger is refused unread. */
const MAX_INPUT_BYTES = 1 << 20;

/** The JSON value in FILE, or on stdin for `-` or no FILE. Unreadable or invalid input is a UsageError. */
export async function readJson(file: string | undefined, io: Io, what: string): Promise<unknown> {
  const source = file === undefined || file === '-' ? 'stdin' : file;
  let text: string;
  try {
    text = source === 'stdin' ? await readStdin(io.stdin) : await readFile(source, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${what} from ${source}: ${(error as Error).message}`);
  }
  if (Buffer.byteLength(text) > MAX_INPUT_BYTES) throw new UsageError(`${what} in ${source} is larger than ${MAX_INPUT_BYTES} bytes`);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`expected ${what} as JSON in ${source}: ${(error as Error).message}`);
  }
}

async function readStdin(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += bytes.length;
    // Stop reading early: a stream without end must not fill memory.
    if (size > MAX_INPUT_BYTES) throw new Error(`more than ${MAX_INPUT_BYTES} bytes`);
    chunks.push(bytes);
  }
  return Buffer.concat(chunks).toString('utf8');
}
