import { availableParallelism } from 'node:os';
import type { ClientProgress, PaymentInfo, PowgateFetch } from '../../client/index.js';
import { PowgateError } from '../../errors.js';
import { MAX_CALLS } from '../../protocol/price.js';
import { UsageError, optional, parseDuration, parseInteger, parseNumber, stringFlag } from '../args.js';
import { println, type Command } from '../command.js';
import { describePaid, failureOf, paidReport, writeBody, type FetchReport, type PaidReport } from '../fetch-report.js';
import { preferOf, requestBody, requestHeaders, requestMethod, targetUrl } from '../fetch-request.js';
import { ProgressBar } from '../progress.js';
import { walletFromEnv } from '../wallet-env.js';

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
    const [{ wrapFetchWithPowgate }, { apertureRatePerThread, solverRatePerThread }] = await Promise.all([import('../../client/index.js'), import('../../client/hash-rate.js')]);
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
      return {
        url: url.href,
        method,
        status: null,
        statusText: null,
        headers: {},
        elapsedMs: performance.now() - started,
        paid,
        spent: { cpuSeconds: spent.seconds, sats: spent.sats },
      };
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
