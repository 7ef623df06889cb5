// What `powgate fetch` reports: the answer's body on stdout, a line per payment, and with --json
// one line of JSON on stderr, whatever happened.
import type { PaymentInfo } from '../client/index.js';
import type { PaymentMethod } from '../client/offers.js';
import { PowgateError, type PaymentPrice } from '../errors.js';
import { formatSeconds } from './format.js';

/** What `--json` writes on stderr: one line, whatever happened. */
export interface FetchReport {
  /** The URL asked for. */
  url: string;
  method: string;
  /** The answer, or null when there was none (a refusal to pay, a network error). */
  status: number | null;
  statusText: string | null;
  /** The answer's headers, names in lowercase (repeated ones joined with ", "); {} without an answer. */
  headers: Record<string, string>;
  /** Wall time of the whole command's request, payments included, in ms. */
  elapsedMs: number;
  /** Each payment made (usually none or one). */
  paid: PaidReport[];
  /** What the payments cost altogether: measured CPU-seconds (core-seconds) and sats. */
  spent: { cpuSeconds: number; sats: number };
  /** Why it failed: absent on an answer (even a 4xx or 5xx: see `status`). */
  error?: { code: string | null; message: string; price: PaymentPrice | null };
}

/** One payment, as `onPayment` reported it. */
export interface PaidReport {
  method: PaymentMethod;
  origin: string;
  /** The scope bought for; null for a plain L402 server. */
  scope: string | null;
  /** Calls the credential allows; null when the server did not say (plain L402). */
  calls: number | null;
  /** When the credential expires, ms since the epoch; null when unknown. */
  expiresAt: number | null;
  /** Solving (or paying) and redeeming, in ms. */
  elapsedMs: number;
  /** Measured CPU-seconds of the proof of work; null for Lightning. */
  cpuSeconds: number | null;
  /** Sats paid; null for proof of work. */
  sats: number | null;
  /** The price as asked, priced before paying: expected CPU-seconds or sats, and the calls it buys. */
  price: PaymentPrice;
}

/** Streams the answer's body to stdout as bytes, waiting for the last write (process.exit follows). */
export async function writeBody(response: Awaited<ReturnType<typeof fetch>>, out: NodeJS.WritableStream): Promise<void> {
  if (response.body) {
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!out.write(value)) await new Promise((resolve) => out.once('drain', resolve));
    }
  }
  await new Promise((resolve) => out.write('', resolve));
}

/** A payment as `--json` reports it. */
export function paidReport(p: PaymentInfo): PaidReport {
  return {
    method: p.method,
    origin: p.origin,
    scope: p.scope ?? null,
    calls: p.calls ?? null,
    expiresAt: p.expiresAt ?? null,
    elapsedMs: p.elapsedMs,
    cpuSeconds: p.cpuSeconds ?? null,
    sats: p.sats ?? null,
    price: p.price,
  };
}

/** "paid 0.42 CPU-seconds (pow, in 0.21 s) for 1 call of scope 'search' at http://127.0.0.1:3000" */
export function describePaid(p: PaidReport): string {
  const amount = p.sats !== null ? `${p.sats} sat${p.sats === 1 ? '' : 's'}` : `${(p.cpuSeconds ?? 0).toPrecision(3)} CPU-seconds`;
  const what = p.calls === null ? 'an L402 credential' : `${p.calls} call${p.calls === 1 ? '' : 's'}`;
  const scope = p.scope === null || p.scope === '' ? '' : ` of scope ${JSON.stringify(p.scope)}`;
  return `paid ${amount} (${p.method}, in ${formatSeconds(p.elapsedMs / 1000)}) for ${what}${scope} at ${p.origin}`;
}

/** The one-line reason of a failure, with the PowgateError code (or the system's) and the price asked. */
export function failureOf(error: unknown, url: URL, timeoutMs: number | undefined): NonNullable<FetchReport['error']> {
  if (timeoutMs !== undefined) return { code: 'ERR_TIMEOUT', message: `no answer within --timeout (${formatSeconds(timeoutMs / 1000)})`, price: null };
  if (error instanceof PowgateError) {
    let message = firstLine(error.message);
    if (error.code === 'ERR_BUDGET_EXCEEDED') message += /maxSats/.test(message) ? ' (see --max-sats)' : ' (see --max-seconds)';
    if (error.code === 'ERR_UNSUPPORTED_CHALLENGE' && /needs a wallet/.test(message)) message += ' (see --max-sats)';
    return { code: error.code, message, price: error.price ?? null };
  }
  // fetch's network failures are a TypeError whose cause says what happened.
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  const code = typeof cause?.code === 'string' ? cause.code : null;
  if (error instanceof TypeError && cause !== undefined) {
    return { code, message: `cannot reach ${url.origin}: ${code ?? firstLine(String(cause.message ?? cause))}`, price: null };
  }
  return { code, message: firstLine(error instanceof Error ? error.message : String(error)), price: null };
}

function firstLine(text: string): string {
  return text.split('\n')[0]!;
}
