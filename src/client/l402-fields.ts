// Checks of the untrusted L402 parts of a refusal: macaroons, invoices, pow bits.
import { createHash } from 'node:crypto';
import { decode } from 'light-bolt11-decoder';
import { PowgateError } from '../errors.js';
import { macaroonFromBase64, type Macaroon } from '../protocol/macaroon.js';

/** Longest BOLT11 invoice read. */
const MAX_INVOICE_CHARS = 2048;
/** Highest proof-of-work bits read (Aperture's caveat holds whole bits). */
const MAX_APERTURE_BITS = 64;
const BOLT11 = /^ln[0-9a-z]+$/;
const HEX64 = /^[0-9a-f]{64}$/;

/** An ERR_BAD_ENVELOPE error. */
export function badEnvelope(detail: string): PowgateError {
  return new PowgateError('ERR_BAD_ENVELOPE', `the 402 is malformed or hostile: ${detail}; nothing was solved, paid or sent`);
}

/** A macaroon from base64, or ERR_BAD_ENVELOPE. */
export function macaroonOf(text: unknown): Macaroon {
  const macaroon = typeof text === 'string' ? macaroonFromBase64(text) : undefined;
  if (!macaroon) throw badEnvelope('the macaroon is not a well-formed V2 macaroon of at most 4096 bytes');
  return macaroon;
}

/** The payment hash a macaroon's identifier names (powgate's and Aperture's layout: u16 version 0, hash, token id), if it has that layout. */
export function macaroonPaymentHash(macaroon: Macaroon): string | undefined {
  const id = macaroon.identifier;
  return id.length === 66 && id.readUInt16BE(0) === 0 ? id.toString('hex', 2, 34) : undefined;
}

/** The token id Aperture's proof of work hashes: the identifier's last 32 bytes. */
export function macaroonTokenId(macaroon: Macaroon): string {
  const id = macaroon.identifier;
  if (id.length < 32) throw badEnvelope('the macaroon identifier is shorter than a token id');
  return id.toString('hex', id.length - 32);
}

/** The earliest `*_valid_until=<unix seconds>` caveat, in ms, when there is one (Aperture's and powgate's expiry caveats). */
export function macaroonExpiry(macaroon: Macaroon): number | undefined {
  let earliest: number | undefined;
  for (const caveat of macaroon.caveats) {
    const m = /^[\x21-\x7e]{0,64}_valid_until=([0-9]{1,12})$/.exec(caveat.toString('latin1'));
    if (m) earliest = Math.min(earliest ?? Infinity, Number(m[1]) * 1000);
  }
  return earliest;
}

/** An invoice's amount (sats) and payment hash, read from the BOLT11 itself; ERR_BAD_ENVELOPE when it has none. */
export function invoiceTerms(text: unknown): { invoice: string; amountSats: number; paymentHash: string } {
  if (typeof text !== 'string' || text.length > MAX_INVOICE_CHARS) throw badEnvelope(`the invoice is not a string of at most ${MAX_INVOICE_CHARS} characters`);
  const invoice = text.toLowerCase();
  if (!BOLT11.test(invoice)) throw badEnvelope('the invoice is not BOLT11');
  let sections: readonly { name: string; value?: unknown }[];
  try {
    sections = decode(invoice).sections;
  } catch {
    throw badEnvelope('the invoice does not decode');
  }
  const value = (name: string) => sections.find((s) => s.name === name)?.value;
  const msat = value('amount');
  const paymentHash = value('payment_hash');
  if (typeof msat !== 'string' || !/^[1-9][0-9]{0,20}$/.test(msat) || BigInt(msat) % 1000n !== 0n) {
    throw badEnvelope('the invoice has no whole amount in sats');
  }
  if (typeof paymentHash !== 'string' || !HEX64.test(paymentHash)) throw badEnvelope('the invoice has no payment hash');
  const amountSats = Number(BigInt(msat) / 1000n);
  if (!Number.isSafeInteger(amountSats)) throw badEnvelope('the invoice amount is out of range');
  return { invoice, amountSats, paymentHash };
}

/** Whether a hex preimage (64 hex) hashes to a payment hash. */
export function preimagePays(preimage: string, paymentHash: string): boolean {
  return HEX64.test(preimage) && createHash('sha256').update(Buffer.from(preimage, 'hex')).digest('hex') === paymentHash;
}

/** Aperture bits from a number or decimal text, 1 to 64; ERR_BAD_ENVELOPE otherwise. */
export function powBits(value: unknown): number {
  const bits = typeof value === 'string' && /^[0-9]{1,3}$/.test(value) ? Number(value) : value;
  if (typeof bits !== 'number' || !Number.isInteger(bits) || bits < 1 || bits > MAX_APERTURE_BITS) {
    throw badEnvelope(`the proof-of-work bits are not an integer from 1 to ${MAX_APERTURE_BITS}`);
  }
  return bits;
}
