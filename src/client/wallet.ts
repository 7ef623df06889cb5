// Wallets for the Lightning door: one small interface, a callback, and LND's REST API.
import { PowgateError } from '../errors.js';
import { checkMacaroon } from '../lightning/lnd-rest.js';
import { checkNodeUrl, checkPemCertificate, NodeClient } from '../lightning/node-request.js';
import { hexOf32Base64 } from '../lightning/invoice-check.js';
import { checkInteger, invalid } from '../validate.js';

/**
 * Pays BOLT11 invoices. `pay` resolves with the payment's preimage (64 hex characters),
 * the proof of payment an L402 credential carries, and rejects when the payment failed.
 * Any wallet fits: wrap Nostr Wallet Connect (`@getalby/sdk`'s `NWCClient.payInvoice`),
 * LNbits or a hardware signer in {@link callbackWallet}.
 */
export interface Wallet {
  pay(invoice: string, signal?: AbortSignal): Promise<string>;
}

/**
 * A wallet from a function: `callbackWallet(async (invoice) => (await nwc.payInvoice({ invoice })).preimage)`.
 * The preimage may be hex or (as some wallets return it) base64; it is given back as lowercase hex.
 */
export function callbackWallet(pay: (invoice: string, signal?: AbortSignal) => Promise<string> | string): Wallet {
  if (typeof pay !== 'function') throw invalid('a function', 'pay', pay);
  return {
    async pay(invoice, signal) {
      const preimage = await pay(invoice, signal);
      const hex = preimageHex(preimage);
      if (hex === undefined) throw new PowgateError('ERR_PAYMENT_FAILED', 'the wallet returned no preimage (expected 32 bytes as hex or base64)');
      return hex;
    },
  };
}

/** A preimage as 64 lowercase hex, from hex or base64 text; undefined otherwise. */
function preimageHex(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  if (/^[0-9a-fA-F]{64}$/.test(value)) return value.toLowerCase();
  return hexOf32Base64(value);
}

/** Options of {@link LndRestWallet}. */
export interface LndRestWalletOptions {
  /** LND's REST address, e.g. `https://127.0.0.1:8080`; plain http only to a loopback address. Required. */
  url: string;
  /** A macaroon allowed to send payments (`admin.macaroon`, or one baked with `offchain:write`), as hex or bytes. Required. */
  macaroon: string | Uint8Array;
  /** The certificate (PEM) to trust, for LND's self-signed `tls.cert`. Default: the system's CAs only. */
  tlsCert?: string | Uint8Array;
  /** Longest a payment may take, in ms from 1 to 60,000. Default 60,000. */
  timeoutMs?: number;
  /** Most routing fees a payment may pay, in sats (LND's `fee_limit.fixed`). Default 10. */
  maxFeeSats?: number;
}

/**
 * Pays through LND's REST API: SendPaymentSync (`POST /v1/channels/transactions` with
 * `payment_request` and `fee_limit`, the macaroon in `Grpc-Metadata-macaroon`). A
 * `payment_error` or a missing preimage rejects with ERR_PAYMENT_FAILED; so does a node
 * that cannot be reached (its error is the `cause`). Messages never hold the macaroon.
 */
export class LndRestWallet implements Wallet {
  readonly #client: NodeClient;
  readonly #maxFeeSats: number;

  constructor(options: LndRestWalletOptions) {
    if (typeof options !== 'object' || options === null) throw invalid('an object', 'the options of LndRestWallet', options);
    const base = checkNodeUrl(options.url, 'url');
    const headers = { 'grpc-metadata-macaroon': checkMacaroon(options.macaroon, 'macaroon') };
    const ca = options.tlsCert === undefined ? undefined : checkPemCertificate(options.tlsCert, 'tlsCert');
    const timeoutMs = checkInteger(options.timeoutMs ?? 60_000, 'timeoutMs', 1, 60_000);
    this.#maxFeeSats = checkInteger(options.maxFeeSats ?? 10, 'maxFeeSats', 0, 1_000_000);
    this.#client = new NodeClient(base, 'LND', timeoutMs, headers, ca);
  }

  async pay(invoice: string, signal?: AbortSignal): Promise<string> {
    if (typeof invoice !== 'string' || invoice.length === 0 || invoice.length > 2048) throw invalid('a BOLT11 invoice', 'invoice', invoice);
    let json: unknown;
    try {
      ({ json } = await this.#client.request('POST', '/v1/channels/transactions', { payment_request: invoice, fee_limit: { fixed: String(this.#maxFeeSats) } }, signal));
    } catch (cause) {
      if (signal?.aborted) throw new PowgateError('ERR_ABORTED', 'the payment was aborted (it may still complete)', { cause });
      throw new PowgateError('ERR_PAYMENT_FAILED', `LND did not pay: ${(cause as Error).message}`, { cause });
    }
    const answer = (typeof json === 'object' && json !== null ? json : {}) as Record<string, unknown>;
    if (typeof answer.payment_error === 'string' && answer.payment_error !== '') {
      throw new PowgateError('ERR_PAYMENT_FAILED', `LND did not pay: ${answer.payment_error.slice(0, 200)}`);
    }
    const preimage = preimageHex(answer.payment_preimage);
    if (preimage === undefined) throw new PowgateError('ERR_PAYMENT_FAILED', 'LND answered without a preimage');
    return preimage;
  }
}
