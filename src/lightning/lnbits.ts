import { checkOptions, invalid } from '../validate.js';
import { type InvoiceRequest, type InvoiceState, type LightningBackend, type LightningInvoice, LightningUnavailable } from './backend.js';
import { acceptInvoice, asObject, checkInvoiceRequest, checkPaymentHash, hexOf32, preimageMatches } from './invoice-check.js';
import { checkNodeUrl, checkTimeout, NodeClient } from './node-request.js';

const MAX_KEY_LENGTH = 256;

/** Options of LnbitsBackend. */
export interface LnbitsBackendOptions {
  /** The LNbits instance, e.g. `https://lnbits.example.com` (a path prefix is kept); plain http only to a loopback address. Required. */
  url: string;
  /** The wallet's invoice/read key (never the admin key: receiving needs no more). Required. */
  invoiceKey: string;
  /** Longest a call may wait for the node, in ms from 1 to 60,000. Default 2000. */
  timeoutMs?: number;
}

/** Checks an LNbits API key (printable ASCII, no spaces); messages give its length only. */
export function checkApiKey(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_KEY_LENGTH || !/^[\x21-\x7e]+$/.test(value)) {
    throw invalid(`an API key of at most ${MAX_KEY_LENGTH} printable characters without spaces`, what, value);
  }
  return value;
}

/** An LNbits wallet through its REST API (`/api/v1/payments`), authenticated by `X-Api-Key`. */
export class LnbitsBackend implements LightningBackend {
  /** Always `'lnbits'`. */
  readonly kind = 'lnbits';
  readonly #client: NodeClient;

  /** Checks the options (ERR_INVALID_ARGUMENT); connects lazily, on the first call. */
  constructor(options: LnbitsBackendOptions) {
    const { url, invoiceKey, timeoutMs } = checkOptions(options, 'the options of LnbitsBackend');
    const base = checkNodeUrl(url, 'url');
    const headers = { 'x-api-key': checkApiKey(invoiceKey, 'invoiceKey') };
    this.#client = new NodeClient(base, 'LNbits', checkTimeout(timeoutMs), headers);
  }

  /** `POST /api/v1/payments` (`bolt11`, or `payment_request` from older LNbits), cross-checked against its BOLT11. */
  async createInvoice(request: InvoiceRequest, signal?: AbortSignal): Promise<LightningInvoice> {
    const { amountSats, memo, expirySeconds } = checkInvoiceRequest(request);
    const body = { out: false, amount: amountSats, unit: 'sat', memo, expiry: expirySeconds };
    const { json } = await this.#client.request('POST', '/api/v1/payments', body, signal);
    const answer = asObject('LNbits', json);
    return acceptInvoice('LNbits', answer.payment_hash, answer.bolt11 ?? answer.payment_request, amountSats);
  }

  /**
   * `GET /api/v1/payments/{hash}`. `paid` is `settled`; an unpaid invoice is `expired`
   * when `details.status` says so or `details.expiry` (seconds or ISO date) has passed,
   * `canceled` when `details.status` is `failed` or LNbits does not know it, else
   * `open`. A preimage that does not hash to the payment hash (some funding sources
   * report a placeholder) is left out rather than trusted.
   */
  async lookupInvoice(paymentHash: string, signal?: AbortSignal): Promise<{ state: InvoiceState; preimage?: string }> {
    const hash = checkPaymentHash(paymentHash);
    const { json } = await this.#client.request('GET', `/api/v1/payments/${hash}`, undefined, signal, true);
    if (json === undefined) return { state: 'canceled' };
    const answer = asObject('LNbits', json);
    if (typeof answer.paid !== 'boolean') throw new LightningUnavailable('LNbits returned a payment without a paid flag');
    const details = typeof answer.details === 'object' && answer.details !== null ? (answer.details as Record<string, unknown>) : {};
    if (answer.paid) {
      const preimage = hexOf32(answer.preimage ?? details.preimage);
      return preimage !== undefined && preimageMatches(preimage, hash) ? { state: 'settled', preimage } : { state: 'settled' };
    }
    if (details.status === 'failed') return { state: 'canceled' };
    const expiresAt = timeOf(details.expiry);
    if (details.status === 'expired' || (expiresAt !== undefined && Date.now() >= expiresAt)) return { state: 'expired' };
    return { state: 'open' };
  }
}

/** An LNbits time in ms: seconds since the epoch, or an ISO date (UTC when it names no zone). */
function timeOf(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return value * 1000;
  if (typeof value !== 'string' || value.length > 64) return undefined;
  const zoned = /(Z|[+-]\d\d:?\d\d)$/i.test(value) ? value : `${value}Z`;
  const ms = Date.parse(zoned);
  return Number.isFinite(ms) ? ms : undefined;
}
