// Cold probes of HTTP routes, as a registry scanner or a careless client sends them: no body,
// an empty JSON body, a wrong Accept, a bogus token; each answer judged by the client's own
// readers of a 402 (src/client), which an agent would have to get through.
import { PowgateError } from '../../errors.js';
import { readHttpRefusal } from '../../client/http-envelope.js';
import { l402Challenges } from '../../client/envelope.js';
import type { Envelope } from '../../client/offers.js';
import { parseWwwAuthenticate } from '../../client/www-authenticate.js';
import { routeName, type Route } from './http-targets.js';
import { MAX_ANSWER_BYTES, sendProbe, type HttpAnswer, type HttpProbeRequest } from './http-request.js';
import type { AuditRow } from './report.js';

/** A token of powgate's shape that no server issued: a gate must refuse it with a reason and the way through. */
const BOGUS_TOKEN = 'pgt2.audit.not-a-token';

/** The probes of one route: none carries a credential that pays. */
const HTTP_PROBES: readonly { name: string; request: (method: string) => HttpProbeRequest }[] = [
  { name: 'no body', request: (method) => ({ method, headers: {} }) },
  { name: '{} body', request: (method) => ({ method, headers: { 'content-type': 'application/json' }, body: '{}' }) },
  { name: 'Accept: text/html', request: (method) => ({ method, headers: { accept: 'text/html' } }) },
  { name: 'bogus token', request: (method) => ({ method, headers: { authorization: `Bearer ${BOGUS_TOKEN}` } }) },
];

/** Every probe of every route, one route at a time; `free` routes are expected to answer. Stops early once `signal` aborts. */
export async function probeRoutes(origin: URL, routes: readonly Route[], free: ReadonlySet<string>, timeoutMs: number, signal?: AbortSignal): Promise<AuditRow[]> {
  const rows: AuditRow[] = [];
  for (const route of routes) {
    const url = new URL(route.path, origin);
    const isFree = free.has(routeName(route));
    for (const probe of HTTP_PROBES) {
      if (signal?.aborted) return rows;
      const answer = await sendProbe(url, probe.request(route.method), timeoutMs, signal);
      const judged = isFree ? judgeFree(answer) : await judgeGated(answer, url);
      rows.push({ door: 'http', target: routeName(route), probe: probe.name, ...judged });
    }
  }
  return rows;
}

type Judged = Pick<AuditRow, 'status' | 'reason' | 'complete' | 'verdict' | 'note'>;

function judgeFree(answer: HttpAnswer): Judged {
  if (!answer.ok) return { status: 'no answer', reason: null, complete: null, verdict: 'fail', note: `no answer (${answer.error})` };
  if (answer.status >= 500 && answer.status !== 503) return { status: String(answer.status), reason: null, complete: null, verdict: 'fail', note: `crashes (${answer.status})` };
  return { status: String(answer.status), reason: null, complete: null, verdict: 'free', note: null };
}

/**
 * A gated route's answer: a 2xx answers without payment; a refusal must carry a complete
 * envelope (see {@link envelopeGaps}); a 503 `store_unavailable` (the gate failing closed)
 * is a warning; any other 5xx is a crash.
 */
async function judgeGated(answer: HttpAnswer, url: URL): Promise<Judged> {
  if (!answer.ok) return { status: 'no answer', reason: null, complete: null, verdict: 'fail', note: `no answer (${answer.error})` };
  const status = String(answer.status);
  if (answer.status >= 200 && answer.status < 300) return { status, reason: null, complete: null, verdict: 'fail', note: 'answers without payment' };
  if (answer.status >= 300 && answer.status < 400) {
    return { status, reason: null, complete: null, verdict: 'warn', note: `redirects (to ${answer.headers.get('location')?.slice(0, 80) ?? 'nowhere'}): audit that route` };
  }
  const body = jsonOf(answer);
  if (answer.status === 503 && (body as { error?: unknown } | undefined)?.error === 'store_unavailable') {
    const reason = (body as { cause?: { reason?: unknown } }).cause?.reason;
    return { status, reason: typeof reason === 'string' ? reason.slice(0, 64) : null, complete: null, verdict: 'warn', note: 'the gate cannot reach its store (failing closed)' };
  }
  let envelope: Envelope;
  try {
    // The client's own reader: what an agent could pay is what the audit calls a way through.
    envelope = await readHttpRefusal(new Response(answer.body, { status: answer.status, headers: answer.headers }), url, MAX_ANSWER_BYTES);
  } catch (error) {
    const why = error instanceof PowgateError && error.code === 'ERR_BAD_ENVELOPE' ? `malformed envelope: ${envelopeFault(error.message)}` : 'refuses without its on-ramp';
    if (answer.status >= 500) return { status, reason: null, complete: null, verdict: 'fail', note: `crashes (${answer.status})` };
    return { status, reason: reasonOf(answer, body), complete: false, verdict: 'fail', note: why };
  }
  const gaps = envelopeGaps(envelope);
  if (answer.status === 402 && answer.headers.get('www-authenticate') === null) gaps.push('no WWW-Authenticate challenge');
  gaps.push(...lightningGaps(envelope, answer));
  if (gaps.length > 0) return { status, reason: envelope.reason ?? null, complete: false, verdict: 'fail', note: `incomplete envelope: ${gaps.join('; ')}` };
  return { status, reason: envelope.reason ?? null, complete: true, verdict: 'pass', note: null };
}

/**
 * What a read envelope lacks to be complete, any transport: a machine-readable reason, and a
 * way through (a proof-of-work challenge with where to redeem it, or an invoice). Empty when complete.
 */
export function envelopeGaps(envelope: Envelope): string[] {
  const gaps: string[] = [];
  if (envelope.reason === undefined) gaps.push('no machine-readable reason');
  if (envelope.offers.length === 0) gaps.push('no way through (no door a client can use)');
  else if (envelope.source === 'powgate' && !envelope.offers.some((o) => o.method === 'pow')) gaps.push('no proof-of-work door');
  return gaps;
}

/** Lightning, where offered, offered everywhere: an L402 door in the header must be in the body, and the body's in the header (L402 clients read only the header). */
function lightningGaps(envelope: Envelope, answer: Extract<HttpAnswer, { ok: true }>): string[] {
  if (envelope.source !== 'powgate') return [];
  const header = l402Challenges(parseWwwAuthenticate(answer.headers.get('www-authenticate')));
  const inHeader = header.some((c) => c.params.invoice !== undefined);
  const inBody = envelope.offers.some((o) => o.method === 'l402');
  if (inHeader && !inBody) return ["the header's Lightning door is missing from the body"];
  if (inBody && !inHeader) return ["the body's Lightning door is missing from WWW-Authenticate"];
  return [];
}

function jsonOf(answer: Extract<HttpAnswer, { ok: true }>): unknown {
  try {
    return JSON.parse(Buffer.from(answer.body).toString('utf8'));
  } catch {
    return undefined;
  }
}

/** A short reason a refusal without an envelope still gave (a JSON `error`, or the PowGate challenge's `error`), for the table. */
function reasonOf(answer: Extract<HttpAnswer, { ok: true }>, body: unknown): string | null {
  const cause = (body as { cause?: { reason?: unknown } } | undefined)?.cause?.reason;
  const error = (body as { error?: unknown } | undefined)?.error;
  // `payment_required` names the body, not why.
  for (const value of [cause, error]) if (typeof value === 'string' && value !== 'payment_required' && /^[a-z_]{1,64}$/.test(value)) return value;
  const powgate = parseWwwAuthenticate(answer.headers.get('www-authenticate')).find((c) => c.scheme.toLowerCase() === 'powgate');
  const param = powgate?.params.error;
  return param !== undefined && /^[a-z_]{1,64}$/.test(param) ? param : null;
}

/** What a client's ERR_BAD_ENVELOPE says is wrong, without the words it addresses to a payer. */
export function envelopeFault(message: string): string {
  const line = message
    .split('\n')[0]!
    .replace(/^the 402 is malformed or hostile: /, '')
    .replace(/; nothing was solved, paid or sent$/, '');
  return line.length > 100 ? `${line.slice(0, 97)}...` : line;
}
