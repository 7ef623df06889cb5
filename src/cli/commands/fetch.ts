import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import type { ClientProgress, PaymentInfo, PowgateFetch } from '../../client/index.js';
import type { PaymentMethod } from '../../client/offers.js';
import { PowgateError, type PaymentPrice } from '../../errors.js';
import { MAX_CALLS } from '../../protocol/price.js';
import { UsageError, optional, parseDuration, parseInteger, parseNumber, stringFlag, type Parsed } from '../args.js';
import { println, type Command, type Io } from '../command.js';
import { formatSeconds } from '../format.js';
import { ProgressBar } from '../progress.js';
import { walletFromEnv } from '../wallet-env.js';

/** Largest request body read from --data-file (a file or stdin): it is kept in memory, to be sent again after paying. */
const MAX_DATA_BYTES = 64 * 1024 * 1024;
const METHODS: readonly PaymentMethod[] = ['pow', 'l402-pow', 'l402'];
/** RFC 9110 `token`: a method or a header name. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

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

export const fetchCommand: Command = {
  name: 'fetch',
  summary: 'send an HTTP request, paying a 402 (proof of work, L402) within a budget',
  usage: `Usage: powgate fetch URL [options]

Sends one HTTP request. When a powgate gate or an L402 server (Aperture's proof-of-work
dialect too) answers 402, pays within the budget (solves the proof of work on every core,
or, with --max-sats, pays the invoice through your wallet), redeems, and sends the request
again with the credential. The answer's body goes to stdout; what was paid, one line per
payment, to stderr. On a terminal, stderr shows the solver's progress. Ctrl-C cancels (130).

Exit codes: 0 for a 2xx or 3xx answer; 1 for a 4xx or 5xx answer (its body still on stdout),
a price over budget (ERR_BUDGET_EXCEEDED, with the price asked), a 402 this command cannot
pay (ERR_UNSUPPORTED_CHALLENGE) or a malformed one (ERR_BAD_ENVELOPE), a failed payment,
a network error or --timeout; 2 for a mistake on the command line.

Options:
  -X, --method METHOD    the request's method; default GET, or POST with a body
  -H, --header 'NAME: VALUE'
                         a request header; repeatable
  -d, --data TEXT        the request's body (Content-Type application/x-www-form-urlencoded
                         unless a -H sets one)
  --data-file FILE|-     the body from FILE, or stdin for -, as bytes (at most 64 MiB)
  -L, --location         follow redirects; default: a 3xx answer is the answer
  --max-seconds S        most CPU-seconds (core-seconds) one call may cost, checked before
                         any work from the challenge and this machine's hash rate; default 30
  --max-sats N           most sats one call may cost; default 0 (Lightning never used). Above
                         0, pays through the LND node named by POWGATE_WALLET_LND_URL +
                         POWGATE_WALLET_LND_MACAROON[_FILE] (+ POWGATE_WALLET_LND_TLS_CERT_FILE),
                         a macaroon that can send payments (at most 10 sats of routing fees)
  --prefer LIST          the doors to use, in order, among pow, l402-pow, l402; default
                         pow,l402-pow,l402 (Lightning when the work is over --max-seconds)
  --threads N            solver threads; default: all (${availableParallelism()} here)
  --calls N              calls to buy per payment, where the server lets the client choose
                         (the limits are per call: N calls may cost N times them); default:
                         what the 402 offers (this command makes one call)
  --timeout DURATION     give up after this long, e.g. 30s (exit 1); default: never
  --json                 write what happened as one line of JSON on stderr (status, headers,
                         what was paid, how long it took, CPU-seconds, sats; or the error)
                         instead of the lines above
  --progress             draw progress even when stderr is not a terminal
  --no-progress          never draw progress
  -h, --help             this text`,
  options: {
    method: { type: 'string', short: 'X' },
    header: { type: 'string', short: 'H', multiple: true },
    data: { type: 'string', short: 'd' },
    'data-file': { type: 'string' },
    location: { type: 'boolean', short: 'L' },
    'max-seconds': { type: 'string' },
    'max-sats': { type: 'string' },
    prefer: { type: 'string' },
    threads: { type: 'string' },
    calls: { type: 'string' },
    timeout: { type: 'string' },
    json: { type: 'boolean' },
    progress: { type: 'boolean' },
    'no-progress': { type: 'boolean' },
  },
  maxPositionals: 1,
  async run(parsed, io) {
    // Every flag is checked before any request.
    const url = targetUrl(parsed.positionals[0]);
    const headers = requestHeaders((parsed.values.header as string[] | undefined) ?? []);
    const maxSeconds = optional(stringFlag(parsed, 'max-seconds'), (text) => parseNumber(text, 'max-seconds', 0, 1e9));
    const maxSats = optional(stringFlag(parsed, 'max-sats'), (text) => parseInteger(text, 'max-sats', 0, 1e9));
    const prefer = optional(stringFlag(parsed, 'prefer'), preferOf);
    const threads = parseInteger(stringFlag(parsed, 'threads') ?? String(availableParallelism()), 'threads', 1, 256);
    const calls = optional(stringFlag(parsed, 'calls'), (text) => parseInteger(text, 'calls', 1, MAX_CALLS));
    const timeoutMs = optional(stringFlag(parsed, 'timeout'), (text) => Math.min(2 ** 31 - 1, Math.round(parseDuration(text, 'timeout') * 1000)));
    const json = parsed.values.json === true;
    const drawn = parsed.values.progress === true || (parsed.values['no-progress'] !== true && io.stderr.isTTY === true);
    // The wallet's variables are read only when sats are allowed.
    const wallet = maxSats !== undefined && maxSats > 0 ? walletFromEnv(io.env) : undefined;
    if (maxSats !== undefined && maxSats > 0 && !wallet) {
      throw new UsageError('--max-sats pays through a wallet: set POWGATE_WALLET_LND_URL and POWGATE_WALLET_LND_MACAROON (or POWGATE_WALLET_LND_MACAROON_FILE)');
    }
    const body = await requestBody(parsed, io);
    if (body !== undefined && !headers.has('content-type')) headers.set('content-type', 'application/x-www-form-urlencoded');
    const method = requestMethod(stringFlag(parsed, 'method'), body !== undefined);

    // Loaded here, not at the top: every other command would pay for the client.
    const [{ wrapFetchWithPowgate }, { apertureRatePerThread, solverRatePerThread }] = await Promise.all([
      import('../../client/index.js'),
      import('../../client/hash-rate.js'),
    ]);
    const paid: PaidReport[] = [];
    let bar: ProgressBar | undefined;
    const pay: PowgateFetch = wrapFetchWithPowgate(fetch, {
      // One call: the per-call limits are the budget; the windows (for long-running agents) are not.
      maxSecondsPerCall: maxSeconds,
      maxSecondsPerWindow: Infinity,
      maxSatsPerCall: maxSats,
      maxSatsPerWindow: Infinity,
      wallet,
      prefer,
      threads,
      calls,
      // Asked once the budget allows a price, before any work: the moment to size the progress bar.
      // The rates are the client's own, measured (and cached) when it priced the door.
      approve: drawn
        ? async (price) => {
            if (price.method === 'l402' || price.seconds === undefined) return true;
            const rate = price.method === 'pow' ? await solverRatePerThread(threads) : await apertureRatePerThread();
            bar = new ProgressBar(io.stderr, 'solving', Math.max(1, price.seconds * rate));
            return true;
          }
        : undefined,
      onProgress: (progress: ClientProgress) => bar?.update(progress),
      onPayment: (payment: PaymentInfo) => {
        bar?.clear();
        bar = undefined;
        const report = paidReport(payment);
        paid.push(report);
        if (!json) println(io.stderr, `powgate fetch: ${describePaid(report)}`);
      },
    });

    // Ctrl-C or --timeout, whichever comes first (AbortSignal.any is newer than Node 20.0).
    const controller = new AbortController();
    const cancel = () => controller.abort(io.signal.reason);
    if (io.signal.aborted) cancel();
    else io.signal.addEventListener('abort', cancel, { once: true });
    let timedOut = false;
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => ((timedOut = true), controller.abort(new Error('--timeout'))), timeoutMs);
    const signal = controller.signal;
    const started = performance.now();
    const report = (): FetchReport => {
      const spent = pay.client.budget.spent();
      return { url: url.href, method, status: null, statusText: null, headers: {}, elapsedMs: performance.now() - started, paid, spent: { cpuSeconds: spent.seconds, sats: spent.sats } };
    };
    try {
      const response = await pay(url.href, { method, headers, body, redirect: parsed.values.location === true ? 'follow' : 'manual', signal });
      await writeBody(response, io.stdout);
      const ok = response.status >= 200 && response.status < 400;
      if (json) {
        const done: FetchReport = { ...report(), status: response.status, statusText: response.statusText, headers: Object.fromEntries(response.headers) };
        println(io.stderr, JSON.stringify(done));
      } else if (!ok) {
        println(io.stderr, `powgate fetch: the server answered ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`);
      }
      return ok ? 0 : 1;
    } catch (caught) {
      bar?.clear();
      // Ctrl-C: the command line's own cancel (exit 130).
      if (io.signal.aborted) throw new PowgateError('ERR_ABORTED', 'the call was aborted', { cause: caught });
      const error = failureOf(caught, url, timedOut ? timeoutMs : undefined);
      if (json) println(io.stderr, JSON.stringify({ ...report(), error }));
      // powgate's codes lead the line; a system code (ECONNREFUSED) is already in the message.
      else println(io.stderr, `powgate fetch: ${error.code?.startsWith('ERR_') ? `${error.code}: ` : ''}${error.message}`);
      return 1;
    } finally {
      clearTimeout(timer);
      io.signal.removeEventListener('abort', cancel);
    }
  },
};

function targetUrl(text: string | undefined): URL {
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

function requestHeaders(lines: readonly string[]): Headers {
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

function requestMethod(text: string | undefined, hasBody: boolean): string {
  if (text === undefined) return hasBody ? 'POST' : 'GET';
  if (!TOKEN.test(text)) throw new UsageError(`expected an HTTP method for --method but received '${text.slice(0, 40)}'`);
  const method = /^(get|head|post|put|delete|options|patch)$/i.test(text) ? text.toUpperCase() : text;
  if (hasBody && (method === 'GET' || method === 'HEAD')) throw new UsageError(`a ${method} request cannot have a body (--data, --data-file)`);
  return method;
}

async function requestBody(parsed: Parsed, io: Io): Promise<string | Buffer | undefined> {
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

function preferOf(text: string): PaymentMethod[] {
  const list = text.split(',').map((m) => m.trim());
  if (list.length === 0 || list.some((m, i) => !(METHODS as readonly string[]).includes(m) || list.indexOf(m) !== i)) {
    throw new UsageError(`expected a comma-separated list of distinct doors among ${METHODS.join(', ')} for --prefer but received '${text.slice(0, 80)}'`);
  }
  return list as PaymentMethod[];
}

/** Streams the answer's body to stdout as bytes, waiting for the last write (process.exit follows). */
async function writeBody(response: Awaited<ReturnType<typeof fetch>>, out: NodeJS.WritableStream): Promise<void> {
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

function paidReport(p: PaymentInfo): PaidReport {
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
function describePaid(p: PaidReport): string {
  const amount = p.sats !== null ? `${p.sats} sat${p.sats === 1 ? '' : 's'}` : `${(p.cpuSeconds ?? 0).toPrecision(3)} CPU-seconds`;
  const what = p.calls === null ? 'an L402 credential' : `${p.calls} call${p.calls === 1 ? '' : 's'}`;
  const scope = p.scope === null || p.scope === '' ? '' : ` of scope ${JSON.stringify(p.scope)}`;
  return `paid ${amount} (${p.method}, in ${formatSeconds(p.elapsedMs / 1000)}) for ${what}${scope} at ${p.origin}`;
}

/** The one-line reason of a failure, with the PowgateError code (or the system's) and the price asked. */
function failureOf(error: unknown, url: URL, timeoutMs: number | undefined): NonNullable<FetchReport['error']> {
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
