import type { IncomingMessage, ServerResponse } from 'node:http';

/** A request body read as JSON, or the HTTP refusal of it. `value` is undefined for an empty body. */
export type BodyResult =
  | { ok: true; value: unknown }
  | { ok: false; status: 400 | 408 | 413 | 415; error: 'malformed' | 'body_timeout' | 'payload_too_large' | 'unsupported_media_type'; detail: string }
  | { ok: false; status: 0; error: 'aborted'; detail: string };

/** `application/json`, or any `application/*+json`, parameters (charset) allowed. */
function isJsonMediaType(contentType: string): boolean {
  const semicolon = contentType.indexOf(';');
  const type = (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

const unsupported = (): BodyResult => ({
  ok: false,
  status: 415,
  error: 'unsupported_media_type',
  detail: 'send the body as JSON with Content-Type: application/json',
});

const tooLarge = (maxBytes: number): BodyResult => ({
  ok: false,
  status: 413,
  error: 'payload_too_large',
  detail: `the body must be at most ${maxBytes} bytes`,
});

/**
 * Reads a JSON request body of at most `maxBytes`, within `timeoutMs` (default: no
 * deadline of its own; a late body is refused with 408 `body_timeout`). A body announced larger is
 * refused before a byte of it is read; a chunked one is refused as soon as it
 * passes the cap (nothing more is kept). An empty body, without a Content-Type
 * or with a JSON one, is `{ ok: true, value: undefined }`. A body that a
 * framework already parsed (Express's `express.json()`) is taken as it is.
 */
export function readJsonBody(req: IncomingMessage, maxBytes: number, timeoutMs?: number): Promise<BodyResult> {
  const parsed = (req as { body?: unknown }).body;
  if (parsed !== undefined && req.readableEnded) {
    if (Buffer.isBuffer(parsed) || typeof parsed === 'string') return Promise.resolve(parseJson(parsed.toString()));
    return Promise.resolve({ ok: true, value: parsed });
  }
  const contentType = req.headers['content-type'];
  const length = req.headers['content-length'];
  const chunked = req.headers['transfer-encoding'] !== undefined;
  if (contentType !== undefined && !isJsonMediaType(contentType)) return Promise.resolve(unsupported());
  if (length !== undefined && Number(length) > maxBytes) return Promise.resolve(tooLarge(maxBytes));
  if (!chunked && (length === undefined || length === '0')) return Promise.resolve({ ok: true, value: undefined });
  if (contentType === undefined && length !== undefined && length !== '0') return Promise.resolve(unsupported());
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    // A body that trickles in holds memory and a socket: it gets a deadline of its own.
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => finish(lateBody(timeoutMs)), timeoutMs);
    const finish = (result: BodyResult) => {
      if (settled) return;
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        chunks.length = 0;
        finish(tooLarge(maxBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      if (size === 0) finish({ ok: true, value: undefined });
      else if (contentType === undefined) finish(unsupported());
      else finish(parseJson(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks, size).toString('utf8')));
    };
    const onError = () => finish({ ok: false, status: 0, error: 'aborted', detail: 'the request was aborted' });
    const onClose = () => finish({ ok: false, status: 0, error: 'aborted', detail: 'the request was aborted' });
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}

const lateBody = (timeoutMs: number): BodyResult => ({
  ok: false,
  status: 408,
  error: 'body_timeout',
  detail: `the body must arrive within ${timeoutMs} ms of the headers`,
});

function parseJson(text: string): BodyResult {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    // V8's message quotes the start of the text; the client sent it, and it is never logged.
    return { ok: false, status: 400, error: 'malformed', detail: `the body is not valid JSON: ${(error as Error).message}` };
  }
}

const JSON_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
} as const;

/** Writes `body` as JSON with `status` and extra `headers`, and ends the response. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers?: Record<string, string>): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...JSON_HEADERS, 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}
