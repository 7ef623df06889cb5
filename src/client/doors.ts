// Paying one door: solve and redeem (powgate), solve and attenuate (Aperture), or pay the invoice (Lightning).
import { PowgateError } from '../errors.js';
import { APERTURE_POW_CAVEAT, POW_SENTINEL } from '../protocol/l402.js';
import { addFirstPartyCaveat, macaroonFromBase64, macaroonToBase64 } from '../protocol/macaroon.js';
import { solve, type SolveProgress } from '../solver/solve.js';
import { solveAperturePow } from './aperture-pow.js';
import type { CachedCredential } from './credential.js';
import { preimagePays } from './l402-fields.js';
import type { AperturePowOffer, L402Offer, PowOffer } from './offers.js';
import type { DoorTransport } from './transport.js';
import type { Wallet } from './wallet.js';

/** What paying a door cost, measured. */
export interface DoorReceipt {
  /** CPU-seconds the proof of work took (solving time times threads; one thread for Aperture's). */
  cpuSeconds?: number;
  /** Sats paid. */
  sats?: number;
}

/** Options every door takes. */
export interface DoorOptions {
  /** Stops the proof of work (ERR_ABORTED) and the redeem. Default: none. */
  signal?: AbortSignal;
  /** Progress of the proof of work, at most about ten times a second. Default: none. */
  onProgress?: (progress: SolveProgress) => void;
}

/** Solves a powgate challenge on `threads` threads and redeems it through the transport: a token. */
export async function payPow(offer: PowOffer, transport: DoorTransport, options: DoorOptions & { threads: number }): Promise<{ bought: CachedCredential; receipt: DoorReceipt }> {
  const started = performance.now();
  const solution = await solve(offer.challenge, { threads: options.threads, signal: options.signal, onProgress: options.onProgress });
  const cpuSeconds = ((performance.now() - started) / 1000) * options.threads;
  const grant = await transport.redeemPow(offer, solution, options.signal);
  return {
    bought: { credential: { kind: 'token', token: grant.token }, method: 'pow', calls: grant.calls, expiresAt: grant.expiresAt },
    receipt: { cpuSeconds },
  };
}

/** Solves Aperture's puzzle, appends the `pow=<bits>:<nonce>` caveat and presents `:POW`. */
export async function payAperturePow(offer: AperturePowOffer, options: DoorOptions): Promise<{ bought: CachedCredential; receipt: DoorReceipt }> {
  const found = await solveAperturePow(offer.tokenId, offer.bits, options);
  const macaroon = macaroonFromBase64(offer.macaroon)!; // checked when the envelope was read
  const attenuated = macaroonToBase64(addFirstPartyCaveat(macaroon, `${APERTURE_POW_CAVEAT}=${offer.bits}:${found.nonce}`));
  return {
    bought: {
      credential: { kind: 'l402', macaroon: attenuated, preimage: POW_SENTINEL },
      method: 'l402-pow',
      calls: offer.callsKnown ? offer.calls : Infinity,
      expiresAt: offer.expiresAt ?? Infinity,
    },
    receipt: { cpuSeconds: found.elapsedMs / 1000 },
  };
}

/**
 * Pays the invoice with the wallet and checks the preimage against the invoice's hash;
 * then presents `L402 <macaroon>:<preimage>`, or, with `redeem` and a transport that can,
 * the token it is redeemed for (same calls, counted together).
 */
export async function payL402(
  offer: L402Offer,
  wallet: Wallet,
  options: { signal?: AbortSignal; redeem?: DoorTransport },
): Promise<{ bought: CachedCredential; receipt: DoorReceipt }> {
  let preimage: string;
  try {
    preimage = await wallet.pay(offer.invoice, options.signal);
  } catch (cause) {
    if (cause instanceof PowgateError) throw cause;
    throw new PowgateError('ERR_PAYMENT_FAILED', `the wallet did not pay the invoice: ${(cause as Error)?.message ?? cause}`, { cause });
  }
  if (typeof preimage !== 'string' || !preimagePays(preimage.toLowerCase(), offer.paymentHash)) {
    throw new PowgateError('ERR_PAYMENT_FAILED', "the wallet returned a preimage that does not match the invoice's payment hash");
  }
  preimage = preimage.toLowerCase();
  const receipt = { sats: offer.amountSats };
  const expiresAt = offer.expiresAt ?? Infinity;
  // Paid either way: a redeem that fails leaves the L402 credential itself, which serves the same calls.
  const grant = options.redeem?.redeemL402 ? await options.redeem.redeemL402(offer, preimage, options.signal).catch(() => undefined) : undefined;
  if (grant) return { bought: { credential: { kind: 'token', token: grant.token }, method: 'l402', calls: grant.calls, expiresAt: grant.expiresAt }, receipt };
  return { bought: { credential: { kind: 'l402', macaroon: offer.macaroon, preimage }, method: 'l402', calls: offer.callsKnown ? offer.calls : Infinity, expiresAt }, receipt };
}
