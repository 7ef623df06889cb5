import { X509Certificate } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { PowgateError } from '../errors.js';
import { checkInteger, invalid } from '../validate.js';
import { LightningUnavailable } from './backend.js';

/** Largest answer read from a node, in bytes; a bigger one is refused. */
const MAX_ANSWER_BYTES = 64 * 1024;
/** Most connections open to one node at a time; further calls wait for one (within their timeout). */
const MAX_SOCKETS = 16;
const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

/**
 * Checks a node's base URL: https, or plain http to a loopback address only (a
 * credential must not cross a network in the clear). Messages never quote the URL.
 */
export function checkNodeUrl(value: unknown, what: string): URL {
  const expected = 'an https URL (or http to a loopback address)';
  if (typeof value !== 'string' || value.length === 0 || value.length > 2048) throw invalid(expected, what, value);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid(expected, what, value);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.test(url.hostname))) {
    throw invalid(expected, what, value);
  }
  if (url.username || url.password) {
    throw new PowgateError('ERR_INVALID_ARGUMENT', `expected a URL without a user or password for ${what}: pass the credential as its own option`);
  }
  if (url.search || url.hash) throw new PowgateError('ERR_INVALID_ARGUMENT', `expected a URL without a query or fragment for ${what}`);
  return url;
}

/** Checks the common `timeoutMs` option: an integer from 1 to 60,000; default 2000. */
export function checkTimeout(value: unknown): number {
  return value === undefined ? 2000 : checkInteger(value, 'timeoutMs', 1, 60_000);
}

/** Checks a PEM certificate (string or bytes) to trust; returns it as text. */
export function checkPemCertificate(value: unknown, what: string): string {
  const text = typeof value === 'string' ? value : value instanceof Uint8Array ? Buffer.from(value).toString('utf8') : undefined;
  const expected = 'a PEM certificate (string or bytes)';
  if (text === undefined || text.length > MAX_ANSWER_BYTES || !text.includes('-----BEGIN CERTIFICATE-----')) throw invalid(expected, what, value);
  try {
    new X509Certificate(text);
  } catch {
    throw invalid(expected, what, value);
  }
  return text;
}

/** A node's answer: its HTTP status and, for a 2xx, its parsed JSON. */
export interface NodeAnswer {
  status: number;
  json: unknown;
}

/**
 * One node's HTTP(S) endpoint (internal): keeps connections alive, bounds every call
 * by `timeoutMs` and the caller's signal, reads at most MAX_ANSWER_BYTES, parses JSON,
 * and turns every failure into a secret-free LightningUnavailable naming the node.
 */
export class NodeClient {
  readonly #base: URL;
  readonly #name: string;
  readonly #timeoutMs: number;
  readonly #headers: Record<string, string>;
  readonly #agent: http.Agent;

  constructor(base: URL, name: string, timeoutMs: number, headers: Record<string, string>, ca?: string) {
    this.#base = base;
    this.#name = name;
    this.#timeoutMs = timeoutMs;
    this.#headers = headers;
    const settings = { keepAlive: true, maxSockets: MAX_SOCKETS };
    this.#agent = base.protocol === 'https:' ? new https.Agent(ca === undefined ? settings : { ...settings, ca }) : new http.Agent(settings);
  }

  /**
   * Sends one request (`path` is appended to the base URL's path). Resolves for a 2xx,
   * and for a 404 when `notFoundIsAnswer` (with `json` undefined); rejects otherwise.
   */
  request(method: 'GET' | 'POST', path: string, body: unknown, signal: AbortSignal | undefined, notFoundIsAnswer = false): Promise<NodeAnswer> {
    const name = this.#name;
    const aborted = () => new LightningUnavailable(`the request to ${name} was aborted`, { cause: signal?.reason });
    if (signal?.aborted) return Promise.reject(aborted());
    return new Promise<NodeAnswer>((resolve, reject) => {
      let done = false;
      let request: http.ClientRequest | undefined;
      const finish = (error: Error | undefined, answer?: NodeAnswer) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (error) {
          request?.destroy();
          reject(error);
        } else {
          resolve(answer!);
        }
      };
      const timer = setTimeout(() => finish(new LightningUnavailable(`${name} did not answer within ${this.#timeoutMs} ms`)), this.#timeoutMs);
      const onAbort = () => finish(aborted());
      signal?.addEventListener('abort', onAbort, { once: true });

      const payload = body === undefined ? undefined : JSON.stringify(body);
      const headers: Record<string, string | number> = { ...this.#headers, accept: 'application/json' };
      if (payload !== undefined) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = Buffer.byteLength(payload);
      }
      const base = this.#base;
      try {
        request = (base.protocol === 'https:' ? https : http).request({
          protocol: base.protocol,
          hostname: base.hostname.replace(/^\[(.*)\]$/, '$1'),
          port: base.port,
          path: base.pathname.replace(/\/+$/, '') + path,
          method,
          headers,
          agent: this.#agent,
        });
      } catch (cause) {
        finish(new LightningUnavailable(`the request to ${name} could not be made`, { cause }));
        return;
      }
      request.on('error', (cause: NodeJS.ErrnoException) => finish(unreachable(name, cause)));
      request.on('response', (response) => {
        const tooLarge = () => finish(new LightningUnavailable(`${name}'s answer is larger than ${MAX_ANSWER_BYTES} bytes`));
        if (Number(response.headers['content-length']) > MAX_ANSWER_BYTES) return tooLarge();
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_ANSWER_BYTES) tooLarge();
          else chunks.push(chunk);
        });
        response.on('error', (cause: NodeJS.ErrnoException) => finish(unreachable(name, cause)));
        response.on('close', () => {
          if (!response.complete) finish(new LightningUnavailable(`${name} closed the connection before the end of its answer`));
        });
        response.on('end', () => {
          const status = response.statusCode ?? 0;
          if (status === 404 && notFoundIsAnswer) return finish(undefined, { status, json: undefined });
          if (status === 401 || status === 403) {
            return finish(new LightningUnavailable(`${name} refused the credential (HTTP ${status})${nodeSays(chunks, this.#headers)}`));
          }
          if (status < 200 || status > 299) return finish(new LightningUnavailable(`${name} answered HTTP ${status}${nodeSays(chunks, this.#headers)}`));
          let json: unknown;
          try {
            json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            // No cause: the parser's message quotes the answer.
            return finish(new LightningUnavailable(`${name}'s answer is not JSON`));
          }
          finish(undefined, { status, json });
        });
      });
      request.end(payload);
    });
  }
}

function unreachable(name: string, cause: NodeJS.ErrnoException): LightningUnavailable {
  const code = typeof cause.code === 'string' ? cause.code : 'no error code';
  const tls = /CERT|SSL|TLS/.test(code);
  return new LightningUnavailable(tls ? `${name}'s TLS certificate is not trusted (${code})` : `${name} could not be reached (${code})`, { cause });
}

/**
 * A node's own short error text (`message` from LND, `detail` from LNbits), for the
 * operator; scrubbed of the credentials sent and of anything long enough to be one.
 */
function nodeSays(chunks: Buffer[], headers: Record<string, string>): string {
  let text: unknown;
  try {
    const json = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown> | null;
    text = json?.message ?? json?.detail;
  } catch {
    return '';
  }
  if (typeof text !== 'string') return '';
  for (const secret of Object.values(headers)) text = (text as string).split(secret).join('...');
  const clean = (text as string)
    .replace(/[A-Za-z0-9+/=_-]{20,}/g, '...')
    .replace(/[^\x20-\x7e]/g, '')
    .slice(0, 160);
  return clean ? `: "${clean}"` : '';
}
