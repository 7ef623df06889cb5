// The request `powgate fetch` sends, from its flags: URL, headers, method, body and doors, each
// checked before anything is sent.
import { readFile } from 'node:fs/promises';
import type { PaymentMethod } from '../client/offers.js';
import { UsageError, stringFlag, type Parsed } from './args.js';
import type { Io } from './command.js';

/** Largest request body read from --data-file (a file or stdin): it is kept in memory, to be sent again after paying. */
const MAX_DATA_BYTES = 64 * 1024 * 1024;
const METHODS: readonly PaymentMethod[] = ['pow', 'l402-pow', 'l402'];
/** RFC 9110 `token`: a method or a header name. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** The URL argument: http or https, without a user or password. */
export function targetUrl(text: string | undefined): URL {
  if (text === undefined) throw new UsageError('missing URL');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`expected an http or https URL but received '${text.slice(0, 200)}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`expected an http or https URL but received '${text.slice(0, 200)}'`);
  // fetch refuses them; a password in a URL would also show in ps and shell history.
  if (url.username || url.password) throw new UsageError('expected a URL without a user or password: send credentials with -H');
  return url;
}

/** The --header lines as Headers. */
export function requestHeaders(lines: readonly string[]): Headers {
  const headers = new Headers();
  for (const line of lines) {
    const at = line.indexOf(':');
    const name = at < 0 ? '' : line.slice(0, at).trim();
    if (!TOKEN.test(name)) throw new UsageError(`expected 'NAME: VALUE' for --header but received '${line.slice(0, 80)}'`);
    try {
      headers.append(name, line.slice(at + 1).trim());
    } catch {
      throw new UsageError(`expected a header value without control characters for --header ${name}`);
    }
  }
  return headers;
}

/** The --method, or GET (POST with a body). */
export function requestMethod(text: string | undefined, hasBody: boolean): string {
  if (text === undefined) return hasBody ? 'POST' : 'GET';
  if (!TOKEN.test(text)) throw new UsageError(`expected an HTTP method for --method but received '${text.slice(0, 40)}'`);
  const method = /^(get|head|post|put|delete|options|patch)$/i.test(text) ? text.toUpperCase() : text;
  if (hasBody && (method === 'GET' || method === 'HEAD')) throw new UsageError(`a ${method} request cannot have a body (--data, --data-file)`);
  return method;
}

/** The body from --data or --data-file (at most 64 MiB), or undefined. */
export async function requestBody(parsed: Parsed, io: Io): Promise<string | Buffer | undefined> {
  const data = stringFlag(parsed, 'data');
  const file = stringFlag(parsed, 'data-file');
  if (data !== undefined && file !== undefined) throw new UsageError('--data and --data-file both give the body: use one');
  if (file === undefined) return data;
  try {
    const bytes = file === '-' ? await readAll(io.stdin) : await readFile(file);
    if (bytes.length > MAX_DATA_BYTES) throw new Error(`more than ${MAX_DATA_BYTES} bytes`);
    return bytes;
  } catch (error) {
    throw new UsageError(`cannot read --data-file ${file === '-' ? 'from stdin' : file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += bytes.length;
    // Stop early: a stream without end must not fill memory.
    if (size > MAX_DATA_BYTES) throw new Error(`more than ${MAX_DATA_BYTES} bytes`);
    chunks.push(bytes);
  }
  return Buffer.concat(chunks);
}

/** The --prefer list of doors. */
export function preferOf(text: string): PaymentMethod[] {
  const list = text.split(',').map((m) => m.trim());
  if (list.length === 0 || list.some((m, i) => !(METHODS as readonly string[]).includes(m) || list.indexOf(m) !== i)) {
    throw new UsageError(`expected a comma-separated list of distinct doors among ${METHODS.join(', ')} for --prefer but received '${text.slice(0, 80)}'`);
  }
  return list as PaymentMethod[];
}
