// L402 credentials (bLIP-0026; lightninglabs/L402 macaroon-spec): the macaroons powgate mints
// for a Lightning invoice, or for proof of work in Aperture's dialect, and their checks.
// Layout and caveats are in docs/PROTOCOL.md, "L402".
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { PowgateError } from '../errors.js';
import { checkInteger, describe } from '../validate.js';
import { KeyRing, type Key, type KeyOptions } from './keys.js';
import { macaroonSignatureValid, macaroonToBase64, mintMacaroon } from './macaroon.js';
import { MAX_CALLS } from './price.js';
import type { Refusal } from './refusal.js';
import { isScope, isTimestamp } from './shape.js';
import { CAVEATS, MAX_POW_BITS, fold, powHolds, splitCredential, type Credential, type L402Mode } from './l402-caveats.js';

export { APERTURE_POW_CAVEAT, CAVEATS, MAX_POW_BITS, POW_SENTINEL, type L402Mode } from './l402-caveats.js';

const ROOT_KEY_LABEL = 'powgate/l402/root/v1';
const COUNT_LABEL = 'powgate/l402/count/v1';
/** The macaroons' location: informative only (not under any MAC). */
const L402_LOCATION = 'powgate';
/** Identifier layout version (macaroon-spec: u16 version, payment hash, token id). */
const IDENTIFIER_VERSION = 0;
const IDENTIFIER_BYTES = 66;
/** Longest credential read (`<base64 macaroon>:<preimage>`); longer ones are refused unread. */
const MAX_CREDENTIAL_CHARS = 6_000;
/** Most caveats an L402 macaroon may carry here: powgate signs five and an Aperture client appends one; more is refused before any hashing. */
const MAX_L402_CAVEATS = 16;
/** Most sats one call may cost. */
export const MAX_SATS_PER_CALL = 1_000_000;
/** What powgate signs into a new L402 macaroon. */
export interface L402Terms {
  mode: L402Mode;
  /** The invoice's payment hash (lightning); pow macaroons draw a random one, as Aperture does. */
  paymentHash?: Uint8Array;
  scope: string;
  calls: number;
  /** ms since the epoch; signed in whole seconds, rounded down. */
  expiresAt: number;
  /** lightning: sats per call. */
  satsPerCall?: number;
  /** pow: the leading zero bits SHA-256(token id || nonce) must have. */
  powBits?: number;
}

/** A minted macaroon: base64 for the wire, and the ids it carries (hex). */
export interface MintedL402 {
  macaroon: string;
  paymentHash: string;
  tokenId: string;
}

/** A credential whose macaroon, payment and caveats hold. */
export interface ValidL402 {
  valid: true;
  mode: L402Mode;
  kid: string;
  scope: string;
  calls: number;
  expiresAt: number;
  /** lightning: sats per call; pow: the bits proven per call (bundle bits - log2 calls). */
  price: number;
  paymentHash: string;
  tokenId: string;
  /** 16 bytes, base64url: the key its calls are counted under, shared with a powgate token it is redeemed for. */
  countId: string;
  /**
   * When its calls must stay counted until: the expiry powgate signed, which a holder may
   * have shortened (`expiresAt`) but which a copy without that caveat still carries.
   */
  countUntil: number;
  /** Exactly as minted (plus Aperture's pow caveat): the one text of this credential worth remembering. */
  canonical: boolean;
}

export type L402Verdict = ValidL402 | { valid: false; reason: Refusal };

function rootKey(key: Key, mode: L402Mode, identifier: Uint8Array): Buffer {
  // The mode is bound into the root key, so that no holder can turn a Lightning macaroon into a pow one by appending caveats.
  return createHmac('sha256', key.l402).update(`${ROOT_KEY_LABEL}\0${mode}\0`, 'latin1').update(identifier).digest();
}

/** The count key: one per payment hash (lightning: one invoice, one allowance, however many macaroons name it), or per token id (pow). */
function countId(mode: L402Mode, identifier: Buffer): string {
  const id = mode === 'lightning' ? identifier.subarray(2, 34) : identifier.subarray(34, 66);
  return createHash('sha256').update(`${COUNT_LABEL}\0${mode}\0`, 'latin1').update(id).digest().subarray(0, 16).toString('base64url');
}

function checkTerms(t: L402Terms): void {
  const bad = (what: string, name: string, value: unknown) => new PowgateError('ERR_INVALID_ARGUMENT', `expected ${what} for ${name} but received ${describe(value)}`);
  if (t.mode !== 'lightning' && t.mode !== 'pow') throw bad("'lightning' or 'pow'", 'mode', t.mode);
  if (!isScope(t.scope)) throw bad('printable ASCII of at most 256 characters', 'scope', t.scope);
  if (!Number.isInteger(t.calls) || t.calls < 1 || t.calls > MAX_CALLS) throw bad(`an integer from 1 to ${MAX_CALLS}`, 'calls', t.calls);
  if (!Number.isSafeInteger(t.expiresAt) || t.expiresAt < 0) throw bad('ms since the epoch', 'expiresAt', t.expiresAt);
  if (t.mode === 'lightning') {
    if (!(t.paymentHash instanceof Uint8Array) || t.paymentHash.length !== 32) throw bad('32 bytes', 'paymentHash', t.paymentHash);
    const sats = t.satsPerCall;
    if (!Number.isInteger(sats) || sats! < 1 || sats! > MAX_SATS_PER_CALL) throw bad(`an integer from 1 to ${MAX_SATS_PER_CALL}`, 'satsPerCall', sats);
  } else if (!Number.isInteger(t.powBits) || t.powBits! < 1 || t.powBits! > MAX_POW_BITS) {
    throw bad(`an integer from 1 to ${MAX_POW_BITS}`, 'powBits', t.powBits);
  }
}

/** Mints an L402 macaroon signed with the signing key of `keys`: stateless, any instance holding the key verifies it. */
export function mintL402(keys: KeyOptions, terms: L402Terms): MintedL402 {
  checkTerms(terms);
  const key = KeyRing.from(keys).signing;
  const paymentHash = terms.mode === 'lightning' ? terms.paymentHash! : randomBytes(32);
  return signL402(key, terms, paymentHash, randomBytes(32));
}

/** Mints checked terms under a given payment hash and token id, 32 bytes each (the test vectors fix them; mintL402 draws them). */
export function signL402(key: Key, terms: L402Terms, paymentHash: Uint8Array, tokenId: Uint8Array): MintedL402 {
  if (paymentHash.length !== 32 || tokenId.length !== 32) throw new PowgateError('ERR_INVALID_ARGUMENT', 'expected 32 bytes for paymentHash and tokenId');
  const identifier = Buffer.alloc(IDENTIFIER_BYTES);
  identifier.writeUInt16BE(IDENTIFIER_VERSION, 0);
  identifier.set(paymentHash, 2);
  identifier.set(tokenId, 34);
  const caveats = [
    `${CAVEATS.kid}=${key.kid}`,
    `${CAVEATS.scope}=${terms.scope}`,
    `${CAVEATS.calls}=${terms.calls}`,
    `${CAVEATS.validUntil}=${Math.floor(terms.expiresAt / 1000)}`,
    terms.mode === 'lightning' ? `${CAVEATS.satsPerCall}=${terms.satsPerCall}` : `${CAVEATS.powBits}=${terms.powBits}`,
  ];
  const macaroon = mintMacaroon(rootKey(key, terms.mode, identifier), identifier, { location: L402_LOCATION, caveats });
  return { macaroon: macaroonToBase64(macaroon), paymentHash: identifier.toString('hex', 2, 34), tokenId: identifier.toString('hex', 34, 66) };
}

/**
 * The L402 credential of an `Authorization: L402 <macaroon>:<preimage>` value (the older
 * `LSAT` scheme name too, bLIP-0026): what follows the scheme, or undefined for another scheme.
 */
export function l402Credential(authorization: string): string | undefined {
  const space = authorization.indexOf(' ');
  const scheme = authorization.slice(0, space).toLowerCase();
  return space > 0 && (scheme === 'l402' || scheme === 'lsat') ? authorization.slice(space + 1).trim() : undefined;
}

/** Options of {@link verifyL402}. */
export interface VerifyL402Options extends KeyOptions {
  /** ms since the epoch. Default Date.now(). */
  now?: number;
  /** Clock-skew allowance in ms. Default 5,000. */
  skewMs?: number;
  /** When set, the credential's scope must equal it. */
  scope?: string;
}

/**
 * Checks an L402 credential (`<macaroon>:<preimage>`, the part of `Authorization: L402 ...`
 * after the scheme): the macaroon's HMAC chain from the root key its kid derives, that the
 * preimage hashes to the identifier's payment hash (or, for `:POW`, that a `pow` caveat
 * proves the signed bits), its lifetime and scope. Untrusted input never throws. Spends nothing.
 */
export function verifyL402(credential: unknown, options: VerifyL402Options): L402Verdict {
  if (typeof options !== 'object' || options === null) throw new PowgateError('ERR_INVALID_ARGUMENT', `expected an options object but received ${describe(options)}`);
  const ring = KeyRing.from(options);
  const now = options.now ?? Date.now();
  if (!isTimestamp(now)) throw new PowgateError('ERR_INVALID_ARGUMENT', `expected ms since the epoch for now but received ${describe(now)}`);
  const skewMs = checkInteger(options.skewMs ?? 5_000, 'skewMs', 0, 86_400_000);
  if (typeof credential !== 'string' || credential.length > MAX_CREDENTIAL_CHARS) return refuse('malformed');
  const parsed = splitCredential(credential);
  if (!parsed) return refuse('malformed');
  const { macaroon, mode } = parsed;
  if (macaroon.caveats.length > MAX_L402_CAVEATS) return refuse('malformed');
  const identifier = macaroon.identifier;
  if (identifier.length !== IDENTIFIER_BYTES || identifier.readUInt16BE(0) !== IDENTIFIER_VERSION) return refuse('malformed');
  const f = fold(macaroon.caveats);
  if (!f || f.kid === undefined) return refuse('malformed');
  const key = ring.find(f.kid);
  if (!key) return refuse('unknown_key');
  // The payment first: one SHA-256 turns away an unpaid credential before the HMAC chain.
  const tokenId = identifier.subarray(34, 66);
  if (mode === 'lightning') {
    const paid = createHash('sha256').update(parsed.preimage!).digest();
    if (!timingSafeEqual(paid, identifier.subarray(2, 34))) return refuse('bad_preimage');
  } else if (f.powBits === undefined || f.pow.length === 0 || !f.pow.every((value) => powHolds(tokenId, value, f.powBits!))) {
    return refuse('bad_solution');
  }
  if (!macaroonSignatureValid(macaroon, rootKey(key, mode, identifier))) return refuse('bad_signature');
  // Signed by powgate, so these are present unless minted by another version.
  const perCall = mode === 'lightning' ? f.satsPerCall : f.powBits;
  if (f.scopes.length === 0 || f.calls === undefined || f.signedValidUntil === undefined || perCall === undefined) return refuse('malformed');
  if (f.calls < 1) return refuse('token_exhausted');
  if (now > f.validUntil! * 1000 + skewMs) return refuse('expired');
  const scope = f.scopes[0]!;
  if (f.scopes.some((s) => s !== scope) || (options.scope !== undefined && scope !== options.scope)) return refuse('scope_mismatch');
  const calls = Math.min(f.calls, MAX_CALLS);
  return {
    valid: true,
    mode,
    kid: key.kid,
    scope,
    calls,
    expiresAt: f.validUntil! * 1000,
    countUntil: f.signedValidUntil * 1000,
    canonical: isCanonical(credential, parsed, mode),
    price: mode === 'lightning' ? perCall : perCall - Math.log2(calls),
    paymentHash: identifier.subarray(2, 34).toString('hex'),
    tokenId: tokenId.toString('hex'),
    countId: countId(mode, identifier),
  };
}

/** The minted text: powgate's location and caveats only (and one pow caveat), standard padded base64, lowercase hex. */
function isCanonical(credential: string, parsed: Credential, mode: L402Mode): boolean {
  const { macaroon } = parsed;
  const colon = credential.lastIndexOf(':');
  const payment = credential.slice(colon + 1);
  return (
    macaroon.location === L402_LOCATION &&
    macaroon.caveats.length === (mode === 'lightning' ? 5 : 6) &&
    credential.slice(0, colon) === macaroonToBase64(macaroon) &&
    (mode === 'pow' || payment === parsed.preimage!.toString('hex'))
  );
}

function refuse(reason: Refusal): L402Verdict {
  return { valid: false, reason };
}
