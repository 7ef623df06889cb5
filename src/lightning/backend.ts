/** An invoice a node issued: its payment hash (64 lowercase hex) and BOLT11 string. */
export interface LightningInvoice {
  /** SHA-256 of the preimage, 64 lowercase hex characters. */
  paymentHash: string;
  /** The BOLT11 payment request, lowercase, checked against the hash and amount. */
  bolt11: string;
  /** The amount the invoice asks for, in sats. */
  amountSats: number;
  /** When the invoice stops being payable, in ms since the epoch (read from the BOLT11 itself). */
  expiresAt: number;
}

/** What to ask a node for. */
export interface InvoiceRequest {
  /** An integer from 1 to 2,100,000,000,000,000. */
  amountSats: number;
  /** The invoice's description, at most 256 characters. */
  memo: string;
  /** How long the invoice stays payable, an integer from 1 to 31,536,000 seconds. */
  expirySeconds: number;
}

/**
 * Where an invoice stands: `open` (payable), `settled` (paid), `canceled` (the node
 * will never accept a payment: canceled, failed, or unknown to the node) or `expired`.
 */
export type InvoiceState = 'open' | 'settled' | 'canceled' | 'expired';

/** One Lightning node, as powgate needs it: issue an invoice, then ask whether it was paid. */
export interface LightningBackend {
  /** 'lnd' | 'lnbits' | ... for status pages; never a URL or credential. */
  readonly kind: string;
  /**
   * Asks the node for an invoice. Rejects with LightningUnavailable when the node is
   * down, slow, refuses, or returns an invoice that does not match the request.
   */
  createInvoice(request: InvoiceRequest, signal?: AbortSignal): Promise<LightningInvoice>;
  /**
   * Asks the node where an invoice stands. `preimage` (64 lowercase hex, whose SHA-256
   * is the payment hash) is given for settled invoices only, when the node reports it.
   */
  lookupInvoice(paymentHash: string, signal?: AbortSignal): Promise<{ state: InvoiceState; preimage?: string }>;
}

/**
 * Thrown by backends when the node cannot answer (down, slow, refused, nonsense), and
 * when the caller's AbortSignal fires (its reason is the `cause`). `message` is
 * secret-free: no URL credentials, no macaroon, no key.
 */
export class LightningUnavailable extends Error {
  /** Stable, machine-readable error code. */
  readonly code = 'ERR_LIGHTNING_UNAVAILABLE';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LightningUnavailable';
  }
}
