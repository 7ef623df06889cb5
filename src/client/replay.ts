// A request that can be sent again: its URL, its init and a body kept in a replayable form.
import { PowgateError } from '../errors.js';

/** A request body fetch takes. */
type Body = NonNullable<RequestInit['body']>;

/** A fetch input: a URL (string or URL) or a Request. */
export type FetchInput = string | URL | Request;

/** A request, ready to be sent any number of times. */
export interface ReplayableRequest {
  url: URL;
  /** Everything but `headers` and `body`, as given. */
  init: RequestInit;
  headers: Headers;
  /** A body fetch can send again (string, bytes, URLSearchParams, Blob, FormData), or undefined. */
  body: Body | undefined;
}

function isRequest(input: unknown): input is Request {
  return (
    typeof input === 'object' && input !== null && !(input instanceof URL) && typeof (input as Request).url === 'string' && typeof (input as Request).arrayBuffer === 'function'
  );
}

/** Reads a stream (or an async iterable of chunks) into memory, at most `maxBytes`; ERR_INVALID_ARGUMENT beyond. */
async function readAll(source: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array | string>, maxBytes: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const iterable = Symbol.asyncIterator in source ? (source as AsyncIterable<Uint8Array | string>) : streamChunks(source as ReadableStream<Uint8Array>);
  for await (const chunk of iterable) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += bytes.byteLength;
    if (size > maxBytes) {
      throw new PowgateError(
        'ERR_INVALID_ARGUMENT',
        `a streamed request body of more than ${maxBytes} bytes (maxReplayBytes) cannot be kept to send again after paying: pass it as a string, bytes or a Blob, or raise maxReplayBytes`,
      );
    }
    chunks.push(bytes);
  }
  return Buffer.concat(chunks);
}

async function* streamChunks(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

/** A body fetch can send again as it is (a view is copied, so later changes to it do not leak into a retry). */
async function replayableBody(body: unknown, maxBytes: number): Promise<Body | undefined> {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string' || body instanceof ArrayBuffer || body instanceof URLSearchParams || body instanceof Blob || body instanceof FormData) return body;
  if (ArrayBuffer.isView(body)) return Buffer.from(new Uint8Array(body.buffer, body.byteOffset, body.byteLength));
  if (typeof (body as ReadableStream).getReader === 'function' || (typeof body === 'object' && Symbol.asyncIterator in body)) {
    return readAll(body as ReadableStream<Uint8Array>, maxBytes);
  }
  return body as Body; // anything else fetch turns into text itself, the same each time
}

/**
 * Captures a fetch call's request so that it can be sent again after paying: a stream body
 * (or a Request's body) is read into memory, at most `maxBytes` (ERR_INVALID_ARGUMENT beyond).
 */
export async function replayable(input: FetchInput, init: RequestInit | undefined, maxBytes: number): Promise<ReplayableRequest> {
  if (isRequest(input)) {
    const r = input;
    const base: RequestInit = {
      method: r.method,
      signal: r.signal,
      redirect: r.redirect,
      keepalive: r.keepalive,
      credentials: r.credentials,
      integrity: r.integrity,
      referrerPolicy: r.referrerPolicy,
    };
    const { headers, body, ...rest } = init ?? {};
    const own = body !== undefined ? body : r.body;
    const method = (rest.method ?? r.method).toUpperCase();
    return {
      url: new URL(r.url),
      init: { ...base, ...rest },
      headers: new Headers(headers ?? r.headers),
      body: method === 'GET' || method === 'HEAD' ? undefined : await replayableBody(own, maxBytes),
    };
  }
  const { headers, body, ...rest } = init ?? {};
  return { url: new URL(String(input)), init: rest, headers: new Headers(headers), body: await replayableBody(body, maxBytes) };
}
