import { createHash } from 'node:crypto';
import { decode } from 'light-bolt11-decoder';
import { checkInteger, invalid } from '../validate.js';
import { type InvoiceRequest, type LightningInvoice, LightningUnavailable } from './backend.js';

/** Longest BOLT11 string accepted from a node. */
const MAX_BOLT11_LENGTH = 2048;
const MAX_AMOUNT_SATS = 2_100_000_000_000_000;
const MAX_MEMO_LENGTH = 256;
const MAX_EXPIRY_SECONDS = 31_536_000;
/** BOLT11's expiry when the invoice has no expiry tag. */
const DEFAULT_BOLT11_EXPIRY_SECONDS = 3600;
const HEX64 = /^[0-9a-fA-F]{64}$/;
const BOLT11 = /^ln[0-9a-z]+$/;

/** Checks an InvoiceRequest (a programmer error throws ERR_INVALID_ARGUMENT). */
export function checkInvoiceRequest(request: unknown): InvoiceRequest {
  if (typeof request !== 'object' || request === null) throw invalid('an object', 'the invoice request', request);
  const { amountSats, memo, expirySeconds } = request as Record<string, unknown>;
  checkInteger(amountSats, 'amountSats', 1, MAX_AMOUNT_SATS);
  if (typeof memo !== 'string' || memo.length > MAX_MEMO_LENGTH) throw invalid(`a string of at most ${MAX_MEMO_LENGTH} characters`, 'memo', memo);
  checkInteger(expirySeconds, 'expirySeconds', 1, MAX_EXPIRY_SECONDS);
  return { amountSats: amountSats as number, memo, expirySeconds: expirySeconds as number };
}

/** Checks a payment hash argument: 64 lowercase hex characters. */
export function checkPaymentHash(value: unknown): string {
  if (typeof value !== 'string' || !HEX64.test(value) || value !== value.toLowerCase()) {
    throw invalid('64 lowercase hex characters', 'paymentHash', value);
  }
  return value;
}

/** A 32-byte value from a node as lowercase hex, from hex text; undefined when it is not one. */
export function hexOf32(value: unknown): string | undefined {
  return typeof value === 'string' && HEX64.test(value) ? value.toLowerCase() : undefined;
}

/** A 32-byte value from a node as lowercase hex, from (url-safe or standard) base64; undefined when it is not one. */
export function hexOf32Base64(value: unknown): string | undefined {
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/_-]{43}=?$/.test(value)) return undefined;
  const bytes = Buffer.from(value, 'base64');
  return bytes.length === 32 ? bytes.toString('hex') : undefined;
}

/** Whether SHA-256 of a preimage (hex) is the payment hash (hex). */
export function preimageMatches(preimage: string, paymentHash: string): boolean {
  return createHash('sha256').update(Buffer.from(preimage, 'hex')).digest('hex') === paymentHash;
}

/**
 * Accepts a node's invoice only when its BOLT11 decodes, carries the payment hash the
 * node reported and asks for the requested amount; its expiry is read from the BOLT11.
 */
export function acceptInvoice(name: string, paymentHash: unknown, bolt11: unknown, amountSats: number): LightningInvoice {
  const hash = hexOf32(paymentHash);
  if (hash === undefined) throw new LightningUnavailable(`${name} returned no valid payment hash`);
  if (typeof bolt11 !== 'string' || bolt11.length > MAX_BOLT11_LENGTH || !BOLT11.test(bolt11)) {
    throw new LightningUnavailable(`${name} returned no valid BOLT11 invoice`);
  }
  let sections: readonly { name: string; value?: unknown }[];
  try {
    sections = decode(bolt11).sections;
  } catch {
    throw new LightningUnavailable(`${name} returned a BOLT11 invoice that cannot be decoded`);
  }
  const value = (section: string) => sections.find((s) => s.name === section)?.value;
  const mismatch = value('payment_hash') !== hash ? 'payment hash' : value('amount') !== String(BigInt(amountSats) * 1000n) ? 'amount' : undefined;
  if (mismatch) throw new LightningUnavailable(`${name} returned an invoice that does not match the request (its ${mismatch} differs)`);
  const timestamp = value('timestamp');
  const expiry = value('expiry') ?? DEFAULT_BOLT11_EXPIRY_SECONDS;
  if (!Number.isSafeInteger(timestamp) || !Number.isSafeInteger(expiry)) {
    throw new LightningUnavailable(`${name} returned a BOLT11 invoice without a valid timestamp or expiry`);
  }
  const expiresAt = ((timestamp as number) + (expiry as number)) * 1000;
  if (expiresAt <= Date.now()) throw new LightningUnavailable(`${name} returned an invoice that has already expired`);
  return { paymentHash: hash, bolt11, amountSats, expiresAt };
}

/** A node's answer as a JSON object, or LightningUnavailable. */
export function asObject(name: string, json: unknown): Record<string, unknown> {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new LightningUnavailable(`${name} returned something other than a JSON object`);
  return json as Record<string, unknown>;
}
