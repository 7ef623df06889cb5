// Bounded reads of untrusted HTTP answers.
import { PowgateError } from '../errors.js';

/** Fetch's Response, as far as the client reads it. */
export type FetchResponse = Awaited<ReturnType<typeof fetch>>;

/**
 * The body's bytes, at most `maxBytes`; undefined (the rest cancelled, the connection freed)
 * when the Content-Length or the bytes read say more.
 */
export async function readBounded(response: FetchResponse, maxBytes: number): Promise<Uint8Array | undefined> {
  const declared = Number(response.headers.get('content-length'));
  if (declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    return undefined;
  }
  if (!response.body) return new Uint8Array(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

/** The body as JSON, at most `maxBytes`; undefined when larger or not JSON. */
export async function readJson(response: FetchResponse, maxBytes: number): Promise<{ json: unknown } | undefined> {
  const bytes = await readBounded(response, maxBytes);
  if (!bytes) return undefined;
  try {
    return { json: JSON.parse(Buffer.from(bytes).toString('utf8')) };
  } catch {
    return undefined;
  }
}

/** ERR_PAYMENT_FAILED for a refused redeem, with the server's short reason when it gave one. */
export function redeemRefused(what: string, status: number, json: unknown, cause?: unknown): PowgateError {
  const error = typeof json === 'object' && json !== null ? (json as { error?: unknown }).error : undefined;
  const reason = typeof error === 'string' && /^[a-z_]{1,64}$/.test(error) ? ` (${error})` : '';
  return new PowgateError('ERR_PAYMENT_FAILED', `${what} was refused: HTTP ${status}${reason}`, cause === undefined ? undefined : { cause });
}
