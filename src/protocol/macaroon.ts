// Macaroons with first-party caveats, in the V2 binary format of go-macaroon and libmacaroons (what L402 servers send).
import { isUtf8 } from 'node:buffer';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { invalid } from '../validate.js';

/** A first-party-caveat macaroon (third-party caveats are not supported: an L402 server never needs them). */
export interface Macaroon {
  /** A hint of where it is used; not signed. '' when absent. */
  location: string;
  identifier: Buffer;
  /** First-party caveats, oldest first. */
  caveats: readonly Buffer[];
  /** The last link of the HMAC chain: 32 bytes. */
  signature: Buffer;
}

/** Encoded macaroons longer than this are refused unread (and never encoded). */
export const MAX_MACAROON_BYTES = 4096;
/** Macaroons with more caveats are refused (and never minted). */
export const MAX_CAVEATS = 64;

const MAX_BASE64_CHARS = Math.ceil(MAX_MACAROON_BYTES / 3) * 4;
const BASE64 = /^([A-Za-z0-9+/]*|[A-Za-z0-9_-]*)(={0,2})$/;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

// libmacaroons' constant; HMAC zero-pads short keys, so padding it to 32 bytes (libmacaroons) or not (go-macaroon) is the same key.
const KEY_GENERATOR = Buffer.from('macaroons-key-generator', 'latin1');

const LOCATION = 1;
const IDENTIFIER = 2;
const SIGNATURE = 6;
const SIGNATURE_BYTES = 32;

function hmac(key: Uint8Array, message: Uint8Array): Buffer {
  return createHmac('sha256', key).update(message).digest();
}

function chain(rootKey: Uint8Array, identifier: Uint8Array, caveats: readonly Uint8Array[]): Buffer {
  let sig = hmac(hmac(KEY_GENERATOR, rootKey), identifier);
  for (const caveat of caveats) sig = hmac(sig, caveat);
  return sig;
}

function caveatBytes(caveat: unknown, what: string): Buffer {
  if (typeof caveat === 'string') return Buffer.from(caveat, 'utf8');
  if (caveat instanceof Uint8Array) return Buffer.from(caveat);
  throw invalid('a string or a Uint8Array', what, caveat);
}

/**
 * Mints a macaroon, go-macaroon / libmacaroons compatible:
 * sig0 = HMAC-SHA256(HMAC-SHA256("macaroons-key-generator", rootKey), identifier); sig_i = HMAC-SHA256(sig_{i-1}, caveat_i).
 * `rootKey` may have any length (L402 uses 32 bytes). Options: `location` default '', `caveats` default none
 * (strings are UTF-8), at most MAX_CAVEATS. Inputs are copied.
 */
export function mintMacaroon(rootKey: Uint8Array, identifier: Uint8Array, options: { location?: string; caveats?: readonly (string | Uint8Array)[] } = {}): Macaroon {
  if (!(rootKey instanceof Uint8Array)) throw invalid('a Uint8Array', 'rootKey', rootKey);
  if (!(identifier instanceof Uint8Array)) throw invalid('a Uint8Array', 'identifier', identifier);
  if (typeof options !== 'object' || options === null) throw invalid('an options object', 'options', options);
  const location = options.location ?? '';
  if (typeof location !== 'string') throw invalid('a string', 'location', location);
  const list = options.caveats ?? [];
  if (!Array.isArray(list) || list.length > MAX_CAVEATS) throw invalid(`an array of at most ${MAX_CAVEATS} caveats`, 'caveats', list);
  const caveats = list.map((c, i) => caveatBytes(c, `caveats[${i}]`));
  const id = Buffer.from(identifier);
  return { location, identifier: id, caveats, signature: chain(rootKey, id, caveats) };
}

/**
 * Attenuation: appends a first-party caveat, extending the chain from the current signature
 * (what a holder, e.g. an Aperture PoW client, does). Returns a new Macaroon; throws beyond MAX_CAVEATS.
 */
export function addFirstPartyCaveat(macaroon: Macaroon, caveat: string | Uint8Array): Macaroon {
  if (macaroon.caveats.length >= MAX_CAVEATS) throw invalid(`a macaroon with fewer than ${MAX_CAVEATS} caveats`, 'macaroon', macaroon.caveats);
  const c = caveatBytes(caveat, 'caveat');
  return { ...macaroon, caveats: [...macaroon.caveats, c], signature: hmac(macaroon.signature, c) };
}

// Bytes of a length varint; three stands for any longer one, which is over MAX_MACAROON_BYTES anyway.
const varintBytes = (n: number): number => (n < 0x80 ? 1 : n < 0x4000 ? 2 : 3);

function putVarint(out: Buffer, at: number, n: number): number {
  while (n >= 0x80) {
    out[at++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  out[at++] = n;
  return at;
}

function putPacket(out: Buffer, at: number, type: number, data: Uint8Array): number {
  out[at++] = type;
  at = putVarint(out, at, data.length);
  out.set(data, at);
  return at + data.length;
}

/** V2 binary encoding (go-macaroon's MarshalBinary for V2). Throws when the result would exceed MAX_MACAROON_BYTES. */
export function encodeMacaroon(macaroon: Macaroon): Buffer {
  const location = Buffer.from(macaroon.location, 'utf8');
  const packet = (n: number): number => 1 + varintBytes(n) + n;
  let size = 1 + (location.length > 0 ? packet(location.length) : 0) + packet(macaroon.identifier.length) + 1;
  for (const c of macaroon.caveats) size += packet(c.length) + 1;
  size += 1 + packet(macaroon.signature.length);
  if (size > MAX_MACAROON_BYTES) throw invalid(`a macaroon of at most ${MAX_MACAROON_BYTES} bytes encoded`, 'macaroon', size);

  const out = Buffer.allocUnsafe(size);
  out[0] = 2;
  let at = 1;
  if (location.length > 0) at = putPacket(out, at, LOCATION, location);
  at = putPacket(out, at, IDENTIFIER, macaroon.identifier);
  out[at++] = 0;
  for (const c of macaroon.caveats) {
    at = putPacket(out, at, IDENTIFIER, c);
    out[at++] = 0;
  }
  out[at++] = 0;
  putPacket(out, at, SIGNATURE, macaroon.signature);
  return out;
}

// One pass; fields are views into `b`. Only the canonical encoding is accepted, so encode(decode(b)) equals b.
function parse(b: Buffer): Macaroon | undefined {
  const n = b.length;
  if (n > MAX_MACAROON_BYTES || b[0] !== 2) return undefined;
  let at = 1;
  // A field type is one byte: every known type is below 0x80, so a longer varint is overlong or unknown.
  const type = (): number => (at < n ? b[at++]! : -1);
  // A payload after its length: a minimal varint of at most two bytes (three would exceed MAX_MACAROON_BYTES).
  const payload = (): Buffer | undefined => {
    if (at >= n) return undefined;
    let len = b[at++]!;
    if (len >= 0x80) {
      const high = at < n ? b[at++]! : 0;
      if (high === 0 || high >= 0x80) return undefined;
      len = (len & 0x7f) | (high << 7);
    }
    if (len > n - at) return undefined;
    at += len;
    return b.subarray(at - len, at);
  };

  let location = '';
  let t = type();
  if (t === LOCATION) {
    const loc = payload();
    // Encoders omit an empty location; an unsigned hint must still be text.
    if (!loc || loc.length === 0 || !isUtf8(loc)) return undefined;
    location = loc.toString('utf8');
    t = type();
  }
  if (t !== IDENTIFIER) return undefined;
  const identifier = payload();
  if (!identifier || type() !== 0) return undefined;

  const caveats: Buffer[] = [];
  for (t = type(); t !== 0; t = type()) {
    // A location or a verification id here would make a third-party caveat.
    if (t !== IDENTIFIER || caveats.length === MAX_CAVEATS) return undefined;
    const caveat = payload();
    if (!caveat || type() !== 0) return undefined;
    caveats.push(caveat);
  }

  if (type() !== SIGNATURE) return undefined;
  const signature = payload();
  if (signature?.length !== SIGNATURE_BYTES || at !== n) return undefined;
  return { location, identifier, caveats, signature };
}

/**
 * Strict V2 binary decoding of untrusted bytes: never throws; undefined for anything that is not exactly one
 * well-formed, canonically encoded V2 macaroon with first-party caveats only (bad version byte, bad/overlong varints,
 * unknown or out-of-order field types, trailing bytes, third-party caveats, oversize, more than MAX_CAVEATS,
 * signature not 32 bytes). The result does not share memory with `bytes`.
 */
export function decodeMacaroon(bytes: Uint8Array): Macaroon | undefined {
  if (!(bytes instanceof Uint8Array) || bytes.length > MAX_MACAROON_BYTES) return undefined;
  return parse(Buffer.from(bytes));
}

/** Decodes base64 (standard or URL-safe, padded or not; canonical) of at most the bounded length, then decodeMacaroon. Never throws. */
export function macaroonFromBase64(text: string): Macaroon | undefined {
  if (typeof text !== 'string' || text.length > MAX_BASE64_CHARS) return undefined;
  const m = BASE64.exec(text);
  if (!m) return undefined;
  const body = m[1]!;
  const rest = body.length % 4;
  if (rest === 1 || (m[2]!.length > 0 && (rest === 0 || (body.length + m[2]!.length) % 4 !== 0))) return undefined;
  if (rest > 1) {
    // Bits past the last byte must be zero, so that each macaroon has one text.
    const last = body[body.length - 1]!;
    const value = last === '-' ? 62 : last === '_' ? 63 : ALPHABET.indexOf(last);
    if ((value & (rest === 2 ? 0x0f : 0x03)) !== 0) return undefined;
  }
  return parse(Buffer.from(body, 'base64'));
}

/** Standard base64, padded (what L402 clients expect). */
export function macaroonToBase64(macaroon: Macaroon): string {
  return encodeMacaroon(macaroon).toString('base64');
}

/** Recomputes the chain with rootKey and compares with the macaroon's signature in constant time (crypto.timingSafeEqual). */
export function macaroonSignatureValid(macaroon: Macaroon, rootKey: Uint8Array): boolean {
  if (!(rootKey instanceof Uint8Array)) throw invalid('a Uint8Array', 'rootKey', rootKey);
  if (macaroon.signature.length !== SIGNATURE_BYTES) return false;
  return timingSafeEqual(chain(rootKey, macaroon.identifier, macaroon.caveats), macaroon.signature);
}
