// One raw HTTP request, as a scanner sends it: any method with any body (a GET with `{}` too,
// which fetch refuses to send), bounded in time and in the bytes read.
import http from 'node:http';
import https from 'node:https';

/** Most bytes of an answer's body kept (the rest is read and dropped). */
export const MAX_ANSWER_BYTES = 256 * 1024;

/** What came back, or why nothing did. */
export type HttpAnswer = { ok: true; status: number; headers: Headers; body: Uint8Array; truncated: boolean } | { ok: false; error: string };

/** One request: method, headers and optional body. */
export interface HttpProbeRequest {
  method: string;
  headers: Record<string, string>;
  body?: string;
}

/**
 * Sends one request to `url` and reads its answer (at most {@link MAX_ANSWER_BYTES} of body).
 * Never throws: a network error or no answer within `timeoutMs` is `{ ok: false, error }`
 * with the system's code (ECONNREFUSED) or `timeout`; `aborted` once `signal` aborts.
 */
export function sendProbe(url: URL, request: HttpProbeRequest, timeoutMs: number, signal?: AbortSignal): Promise<HttpAnswer> {
  const client = url.protocol === 'https:' ? https : http;
  const headers: Record<string, string> = { ...request.headers };
  if (request.body !== undefined) headers['content-length'] = String(Buffer.byteLength(request.body));
  return new Promise((resolve) => {
    let settled = false;
    const done = (answer: HttpAnswer) => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', abort);
        resolve(answer);
      }
    };
    const abort = () => {
      done({ ok: false, error: 'aborted' });
      req.destroy();
    };
    const req = client.request(url, { method: request.method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let truncated = false;
      res.on('data', (chunk: Buffer) => {
        if (size + chunk.length > MAX_ANSWER_BYTES) truncated = true;
        else chunks.push(chunk);
        size += chunk.length;
      });
      res.on('end', () => {
        const answerHeaders = new Headers();
        for (const [name, value] of Object.entries(res.headers)) {
          if (value === undefined) continue;
          for (const one of Array.isArray(value) ? value : [value]) answerHeaders.append(name, one);
        }
        done({ ok: true, status: res.statusCode ?? 0, headers: answerHeaders, body: Buffer.concat(chunks), truncated });
      });
      res.on('error', (error: NodeJS.ErrnoException) => done({ ok: false, error: error.code ?? error.message }));
    });
    const timer = setTimeout(() => {
      done({ ok: false, error: 'timeout' });
      req.destroy();
    }, timeoutMs);
    if (signal?.aborted) abort();
    else signal?.addEventListener('abort', abort, { once: true });
    req.on('error', (error: NodeJS.ErrnoException) => done({ ok: false, error: error.code ?? error.message.split('\n')[0]! }));
    req.end(request.body);
  });
}
