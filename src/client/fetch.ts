// fetch that pays: on a powgate or L402 402, pay a door within budget and send the request again.
import { PowgateError } from '../errors.js';
import { checkInteger, invalid } from '../validate.js';
import { PowgateClient, type PowgateClientOptions } from './client.js';
import type { Lease } from './credential.js';
import { readHttpRefusal } from './http-envelope.js';
import type { FetchResponse } from './http-read.js';
import { httpTransport } from './http-transport.js';
import { replayable, type FetchInput, type ReplayableRequest } from './replay.js';

/** The header a powgate server says a credential's calls left in. */
const REMAINING_HEADER = 'powgate-calls-remaining';
/** Most paths remembered with the scope their refusal named. */
const MAX_ROUTES = 1_000;
/** Requests one call sends at most: without a credential (or with a cached one), with a cached one, with one just bought. */
const MAX_SENDS = 3;

/** Options of {@link wrapFetchWithPowgate}: the client's (budget, wallet, doors, progress), or a client to share, and HTTP bounds. */
export interface PowgateFetchOptions extends PowgateClientOptions {
  /** A client to share (its budget, cache and wallet); the client options above are then ignored. Default: one made from them. */
  client?: PowgateClient;
  /** Largest 402 body read, in bytes; a larger one is refused (ERR_BAD_ENVELOPE). Default 65,536. */
  maxEnvelopeBytes?: number;
  /** Largest streamed request body kept in memory to send again after paying, in bytes. Default 1,048,576. */
  maxReplayBytes?: number;
}

/** A fetch that pays, with the client it pays through. */
export type PowgateFetch = ((input: FetchInput, init?: RequestInit) => Promise<FetchResponse>) & { readonly client: PowgateClient };

/**
 * Wraps any WHATWG fetch so that a 402 from a powgate gate (or a plain L402 / Aperture server)
 * is paid and the request sent again with the credential:
 *
 * ```js
 * const pay = wrapFetchWithPowgate(fetch, { maxSecondsPerCall: 5 });
 * const res = await pay('https://api.example/search?q=x'); // solves, redeems, retries; later calls reuse the token
 * ```
 *
 * On a 402 it reads the refusal (bounded; redeem URLs only on the same origin), picks a door
 * by `prefer` and the budget (priced before any work), pays (solving on every core, or through
 * the wallet), redeems, and sends the request once more with the credential. Credentials are
 * cached per origin and scope with their calls left (`Powgate-Calls-Remaining`) and expiry;
 * concurrent calls share one purchase and never present more calls than it has; a
 * `token_exhausted` refusal buys again. Bodies are kept to be sent again (a stream is read
 * into memory, at most `maxReplayBytes`). The request's signal aborts the solve too.
 * A token goes in `Authorization: Bearer`, or in `X-Powgate-Token` when the request has its
 * own Authorization (then redirects are not followed, so the token cannot leave the origin).
 *
 * Throws ERR_UNSUPPORTED_CHALLENGE for a 402 it cannot pay (after one request, never a loop),
 * ERR_BAD_ENVELOPE, ERR_BUDGET_EXCEEDED, ERR_PAYMENT_DECLINED, ERR_PAYMENT_FAILED, ERR_ABORTED.
 * Every other answer (200, 503, ...) is returned as it is.
 */
export function wrapFetchWithPowgate(fetch: (input: string, init: RequestInit) => Promise<FetchResponse>, options: PowgateFetchOptions = {}): PowgateFetch {
  if (typeof fetch !== 'function') throw invalid('a fetch function', 'fetch', fetch);
  if (typeof options !== 'object' || options === null) throw invalid('an options object', 'options', options);
  if (options.client !== undefined && !(options.client instanceof PowgateClient)) throw invalid('a PowgateClient', 'client', options.client);
  const client = options.client ?? new PowgateClient(options);
  const maxEnvelopeBytes = checkInteger(options.maxEnvelopeBytes ?? 65_536, 'maxEnvelopeBytes', 1_024, 16_777_216);
  const maxReplayBytes = checkInteger(options.maxReplayBytes ?? 1_048_576, 'maxReplayBytes', 0, 2 ** 31 - 1);
  // The scope each path's refusal named: a later call to it presents the cached credential at once.
  const routes = new Map<string, string | undefined>();
  const remember = (route: string, scope: string | undefined) => {
    routes.delete(route);
    routes.set(route, scope);
    if (routes.size > MAX_ROUTES) routes.delete(routes.keys().next().value!);
  };

  const paying = async (input: FetchInput, init?: RequestInit): Promise<FetchResponse> => {
    const request = await replayable(input, init, maxReplayBytes);
    const { url } = request;
    const origin = url.origin;
    const route = origin + url.pathname;
    const signal = request.init.signal ?? undefined;
    // The request's own Authorization header stays: then L402 credentials cannot be presented.
    const l402 = !request.headers.has('authorization');
    // A path whose scope is known: a cached credential, or the purchase in flight for it, rather than a request bound to be refused.
    let lease = routes.has(route) ? await client.wait(origin, routes.get(route), { signal, l402 }) : undefined;
    for (let sent = 1; ; sent++) {
      let response: FetchResponse;
      try {
        response = await fetch(url.href, attempt(request, lease));
      } catch (error) {
        lease?.release();
        throw error;
      }
      if (response.status !== 402) {
        lease?.release(remainingOf(response));
        return response;
      }
      if (response.url && new URL(response.url).origin !== origin) {
        lease?.release();
        await response.body?.cancel().catch(() => undefined);
        throw new PowgateError('ERR_UNSUPPORTED_CHALLENGE', 'the 402 came from another origin, after a redirect: nothing was paid');
      }
      let reason: string | undefined;
      try {
        const envelope = await readHttpRefusal(response, url, maxEnvelopeBytes);
        reason = envelope.reason;
        lease?.refused(reason);
        if (lease?.bought || sent >= MAX_SENDS) {
          throw new PowgateError('ERR_PAYMENT_FAILED', `the server refused the credential${lease?.bought ? ' just bought' : ''} (${reason ?? 'no reason given'})`);
        }
        remember(route, envelope.scope);
        lease = undefined;
        lease = await client.acquire(envelope, httpTransport(fetch, url), { origin, signal, l402 });
      } catch (error) {
        lease?.refused(reason);
        throw error;
      }
    }
  };
  return Object.defineProperty(paying, 'client', { value: client, enumerable: true }) as PowgateFetch;
}

/** The init of one attempt: the request's, with the lease's credential. */
function attempt(request: ReplayableRequest, lease: Lease | undefined): RequestInit {
  const headers = new Headers(request.headers);
  let redirect = request.init.redirect;
  const credential = lease?.credential;
  if (credential?.kind === 'l402') headers.set('authorization', `L402 ${credential.macaroon}:${credential.preimage}`);
  else if (credential && !headers.has('authorization')) headers.set('authorization', `Bearer ${credential.token}`);
  else if (credential) {
    headers.set('x-powgate-token', credential.token);
    // Fetch drops Authorization on a redirect to another origin, not this header: do not follow.
    if ((redirect ?? 'follow') === 'follow') redirect = 'manual';
  }
  return { ...request.init, headers, body: request.body, ...(redirect === undefined ? {} : { redirect }) };
}

/** The calls left that the answer reports, when it does. */
function remainingOf(response: FetchResponse): number | undefined {
  const value = response.headers.get(REMAINING_HEADER);
  return value !== null && /^[0-9]{1,9}$/.test(value) ? Number(value) : undefined;
}
