import { checkOptions, invalid } from '../validate.js';
import { type InvoiceRequest, type InvoiceState, type LightningBackend, type LightningInvoice, LightningUnavailable } from './backend.js';
import { acceptInvoice, asObject, checkInvoiceRequest, checkPaymentHash, hexOf32Base64, preimageMatches } from './invoice-check.js';
import { checkNodeUrl, checkPemCertificate, checkTimeout, NodeClient } from './node-request.js';

const MAX_MACAROON_HEX_LENGTH = 32_768;

/** Options of LndRestBackend. */
export interface LndRestBackendOptions {
  /** LND's REST address, e.g. `https://127.0.0.1:8080`; plain http only to a loopback address. Required. */
  url: string;
  /** A macaroon allowed to add and read invoices (`invoice.macaroon`), as hex or raw bytes. Required. */
  macaroon: string | Uint8Array;
  /** The certificate (PEM) to trust, for LND's self-signed `tls.cert`. Default: the system's CAs only. */
  tlsCert?: string | Uint8Array;
  /** Longest a call may wait for the node, in ms from 1 to 60,000. Default 2000. */
  timeoutMs?: number;
}

/** Checks a macaroon (hex text or bytes) and returns it as lowercase hex; messages give its length only. */
export function checkMacaroon(value: unknown, what: string): string {
  const hex = value instanceof Uint8Array ? Buffer.from(value).toString('hex') : value;
  if (typeof hex !== 'string' || hex.length === 0 || hex.length > MAX_MACAROON_HEX_LENGTH || hex.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(hex)) {
    throw invalid(`a macaroon as hex (an even number of at most ${MAX_MACAROON_HEX_LENGTH} hex characters) or bytes`, what, value);
  }
  return hex.toLowerCase();
}

/**
 * An LND node through its REST API (AddInvoice, LookupInvoice), authenticated by a
 * macaroon in the `Grpc-Metadata-macaroon` header.
 */
export class LndRestBackend implements LightningBackend {
  /** Always `'lnd'`. */
  readonly kind = 'lnd';
  readonly #client: NodeClient;

  /** Checks the options (ERR_INVALID_ARGUMENT); connects lazily, on the first call. */
  constructor(options: LndRestBackendOptions) {
    const { url, macaroon, tlsCert, timeoutMs } = checkOptions(options, 'the options of LndRestBackend');
    const base = checkNodeUrl(url, 'url');
    const headers = { 'grpc-metadata-macaroon': checkMacaroon(macaroon, 'macaroon') };
    const ca = tlsCert === undefined ? undefined : checkPemCertificate(tlsCert, 'tlsCert');
    this.#client = new NodeClient(base, 'LND', checkTimeout(timeoutMs), headers, ca);
  }

  /** AddInvoice (`POST /v1/invoices`), its answer cross-checked against its BOLT11. */
  async createInvoice(request: InvoiceRequest, signal?: AbortSignal): Promise<LightningInvoice> {
    const { amountSats, memo, expirySeconds } = checkInvoiceRequest(request);
    const body = { value: String(amountSats), memo, expiry: String(expirySeconds) };
    const { json } = await this.#client.request('POST', '/v1/invoices', body, signal);
    const answer = asObject('LND', json);
    return acceptInvoice('LND', hexOf32Base64(answer.r_hash), answer.payment_request, amountSats);
  }

  /**
   * LookupInvoice (`GET /v1/invoice/{hash}`). ACCEPTED (a held payment) is `open`; an
   * open or canceled invoice past its expiry is `expired` (LND cancels those itself);
   * one LND does not know is `canceled`. The preimage is checked against the hash.
   */
  async lookupInvoice(paymentHash: string, signal?: AbortSignal): Promise<{ state: InvoiceState; preimage?: string }> {
    const hash = checkPaymentHash(paymentHash);
    const { json } = await this.#client.request('GET', `/v1/invoice/${hash}`, undefined, signal, true);
    if (json === undefined) return { state: 'canceled' };
    const answer = asObject('LND', json);
    if (answer.r_hash !== undefined && hexOf32Base64(answer.r_hash) !== hash) {
      throw new LightningUnavailable('LND returned another invoice than the one looked up');
    }
    const state = lndState(answer);
    if (state === 'SETTLED') {
      if (answer.r_preimage === undefined) return { state: 'settled' };
      const preimage = hexOf32Base64(answer.r_preimage);
      if (preimage === undefined || !preimageMatches(preimage, hash)) throw new LightningUnavailable('LND returned a preimage that does not match the invoice');
      return { state: 'settled', preimage };
    }
    if (state === 'ACCEPTED') return { state: 'open' };
    const expiresAt = (Number(answer.creation_date) + Number(answer.expiry)) * 1000;
    if (Number.isFinite(expiresAt) && expiresAt > 0 && Date.now() >= expiresAt) return { state: 'expired' };
    return { state: state === 'CANCELED' ? 'canceled' : 'open' };
  }
}

/** The invoice's state; the deprecated `settled` flag stands in when `state` is absent. */
function lndState(answer: Record<string, unknown>): 'OPEN' | 'SETTLED' | 'CANCELED' | 'ACCEPTED' {
  const { state, settled } = answer;
  if (state === 'OPEN' || state === 'SETTLED' || state === 'CANCELED' || state === 'ACCEPTED') return state;
  if (state === undefined && typeof settled === 'boolean') return settled ? 'SETTLED' : 'OPEN';
  throw new LightningUnavailable('LND returned an invoice without a known state');
}
