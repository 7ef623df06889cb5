import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { PowgateError } from '../errors.js';
import { checkInteger, describe } from '../validate.js';
import { fromBase64url } from '../base64url.js';
import { ByteReader, ByteWriter } from './bytes.js';
import { KID_PATTERN, KeyRing, type Key, type KeyOptions } from './keys.js';
import { isCalls, isPrice } from './price.js';
import { DIFFICULTY_STEPS } from './difficulty.js';
import { MAX_CALLS } from './price.js';
import { lifetimeRefusal, type Refusal } from './refusal.js';
import { isScope, isTimestamp } from './shape.js';
import { OLD_TOKEN_PREFIX, TOKEN_LABEL, TOKEN_PREFIX } from '../wire.js';

/** How a token was paid for. */
export type TokenMethod = 'pow' | 'l402';
const METHODS: readonly string[] = ['pow', 'l402'];

/** True when a credential is meant as a powgate token of any version (`pgt<version>.`), e.g. in a Bearer header. */
export function looksLikeToken(credential: string): boolean {
  return /^pgt[0-9]\./.test(credential);
}
/** Longer strings are refused unread. */
export const MAX_TOKEN_CHARS = 1024;

/** Options of {@link issueToken}. */
export interface IssueTokenOptions extends KeyOptions {
  /** What the token unlocks. Default ''. */
  scope?: string;
  /** How it was paid for. Default 'pow'. */
  method?: TokenMethod;
  /** Lifetime in ms. Default 300,000 (5 minutes). */
  ttlMs?: number;
  /** Calls it allows, 1 to 1,048,576: a gate spends one per call. Default 1. */
  calls?: number;
  /** What each call was paid: bits for 'pow' (log2 of the hashes per call; a multiple of 1/65536 from 0 to 70), whole sats for 'l402'. Default 0. */
  price?: number;
  /** Issue time in ms since the epoch. Default Date.now(). */
  now?: number;
}

/** Options of {@link verifyToken}. */
export interface VerifyTokenOptions extends KeyOptions {
  /** The time in ms since the epoch. Default Date.now(). */
  now?: number;
  /** Clock-skew allowance in ms. Default 5,000. */
  skewMs?: number;
  /** When set, the token's scope must equal it. */
  scope?: string;
  /**
   * Longest lifetime accepted, in ms from 1 to 366 days: a token whose signed lifetime is longer
   * is accepted only until `issuedAt + maxTokenTtlMs` (with the skew), as if it said so, and
   * the verdict's `expiresAt` says so too. Default: the token's own lifetime.
   */
  maxTokenTtlMs?: number;
}

/** The verdict on a token. */
export type TokenVerdict = ValidToken | { valid: false; reason: Refusal };

/** A token whose MAC and lifetime hold: what it carries. Verifying it spends nothing; a Gate spends its calls. */
export interface ValidToken {
  valid: true;
  method: TokenMethod;
  issuedAt: number;
  expiresAt: number;
  scope: string;
  kid: string;
  /** 16 random bytes, base64url: the key its calls are counted under. */
  id: string;
  /** Calls it allows in all. */
  calls: number;
  /** What each call was paid: bits of work (method 'pow') or sats (method 'l402'). */
  price: number;
}

export interface TokenFields {
  kid: string;
  method: TokenMethod;
  scope: string;
  issuedAt: number;
  expiresAt: number;
  id: Buffer;
  calls: number;
  /** What each call was paid, as the u32 it travels as: 1/65536 bit (method 'pow'), or sats (method 'l402'). */
  priceUnits: number;
}

// The payload is itself the canonical encoding; the MAC covers label + payload.
function encodePayload(t: TokenFields): Buffer {
  return new ByteWriter().u8(2).short(t.kid).short(t.method).long(t.scope).u64(t.issuedAt).u64(t.expiresAt).bytes(t.id).u32(t.calls).u32(t.priceUnits).finish();
}

function decodePayload(payload: Buffer): TokenFields | undefined {
  try {
    const r = new ByteReader(payload);
    if (r.u8() !== 2) return undefined;
    const kid = r.short();
    const method = r.short();
    const scope = r.long();
    const issuedAt = r.u64();
    const expiresAt = r.u64();
    const id = r.bytes(16);
    const calls = r.u32();
    const priceUnits = r.u32();
    r.end();
    if (!KID_PATTERN.test(kid) || !METHODS.includes(method) || !isScope(scope)) return undefined;
    if (!isCalls(calls) || (method === 'pow' && !isPrice(priceUnits / DIFFICULTY_STEPS))) return undefined;
    if (issuedAt > BigInt(Number.MAX_SAFE_INTEGER) || expiresAt > BigInt(Number.MAX_SAFE_INTEGER) || expiresAt < issuedAt) return undefined;
    return { kid, method: method as TokenMethod, scope, issuedAt: Number(issuedAt), expiresAt: Number(expiresAt), id, calls, priceUnits };
  } catch {
    return undefined;
  }
}

function tokenMac(key: Key, payload: Buffer): Buffer {
  return createHmac('sha256', key.token).update(`${TOKEN_LABEL}\0`, 'latin1').update(payload).digest();
}

function checkScope(scope: unknown): string {
  if (!isScope(scope)) {
    throw new PowgateError('ERR_INVALID_ARGUMENT', `expected printable ASCII of at most 256 characters for scope but received ${describe(scope)}`);
  }
  return scope;
}

function checkNow(now: unknown): number {
  if (!isTimestamp(now)) {
    throw new PowgateError('ERR_INVALID_ARGUMENT', `expected milliseconds since the epoch for now but received ${describe(now)}`);
  }
  return now;
}

/** A price as the u32 it travels as: bits in 1/65536 steps (pow), or whole sats (l402). */
export function checkPrice(method: TokenMethod, price: unknown): number {
  if (method === 'l402') return checkInteger(price, 'price (sats per call)', 0, 0xffff_ffff);
  if (!isPrice(price)) {
    throw new PowgateError('ERR_INVALID_ARGUMENT', `expected a multiple of 1/65536 from 0 to 70 for price but received ${describe(price)}`);
  }
  return Math.round(price * DIFFICULTY_STEPS);
}

/** Issues a compact signed token: `pgt2.<payload>.<mac>`, both base64url. */
export function issueToken(options: IssueTokenOptions): string {
  if (typeof options !== 'object' || options === null) {
    throw new PowgateError('ERR_INVALID_ARGUMENT', `expected an options object but received ${describe(options)}`);
  }
  const ring = KeyRing.from(options);
  const method = options.method ?? 'pow';
  if (!METHODS.includes(method)) {
    throw new PowgateError('ERR_INVALID_ARGUMENT', `expected one of ${METHODS.join(', ')} for method but received ${describe(method)}`);
  }
  const issuedAt = checkNow(options.now ?? Date.now());
  const ttlMs = checkInteger(options.ttlMs ?? 300_000, 'ttlMs', 1, 366 * 86_400_000);
  const scope = checkScope(options.scope ?? '');
  const calls = checkInteger(options.calls ?? 1, 'calls', 1, MAX_CALLS);
  const priceUnits = checkPrice(method, options.price ?? 0);
  const fields = { kid: ring.signing.kid, method, scope, issuedAt, expiresAt: issuedAt + ttlMs, id: randomBytes(16), calls, priceUnits };
  return signToken(ring.signing, fields);
}

/** Encodes and signs checked fields (the test vectors fix the id; issueToken draws it). */
export function signToken(key: Key, fields: TokenFields): string {
  const payload = encodePayload(fields);
  return `${TOKEN_PREFIX}${payload.toString('base64url')}.${tokenMac(key, payload).toString('base64url')}`;
}

/** Checks a token. Untrusted input never throws: it yields `{ valid: false, reason }`. */
export function verifyToken(token: unknown, options: VerifyTokenOptions): TokenVerdict {
  if (typeof options !== 'object' || options === null) {
    throw new PowgateError('ERR_INVALID_ARGUMENT', `expected an options object but received ${describe(options)}`);
  }
  const ring = KeyRing.from(options);
  const now = checkNow(options.now ?? Date.now());
  const skewMs = checkInteger(options.skewMs ?? 5_000, 'skewMs', 0, 86_400_000);
  const scope = options.scope === undefined ? undefined : checkScope(options.scope);
  const maxTtl = options.maxTokenTtlMs === undefined ? Infinity : checkInteger(options.maxTokenTtlMs, 'maxTokenTtlMs', 1, 366 * 86_400_000);

  if (typeof token !== 'string' || token.length > MAX_TOKEN_CHARS) return refuse('malformed');
  if (!token.startsWith(TOKEN_PREFIX)) return refuse(token.startsWith(OLD_TOKEN_PREFIX) ? 'unsupported_version' : 'malformed');
  const parts = token.slice(TOKEN_PREFIX.length).split('.');
  if (parts.length !== 2) return refuse('malformed');
  const payload = fromBase64url(parts[0]!, MAX_TOKEN_CHARS);
  const mac = fromBase64url(parts[1]!, 43);
  const t = payload && decodePayload(payload);
  if (!t || mac?.length !== 32) return refuse('malformed');
  const key = ring.find(t.kid);
  if (!key) return refuse('unknown_key');
  if (!timingSafeEqual(tokenMac(key, payload!), mac)) return refuse('bad_signature');
  // A lifetime longer than this verifier allows ends where it would (a leaked or forged long-lived token ages out).
  const expiresAt = Math.min(t.expiresAt, t.issuedAt + maxTtl);
  const late = lifetimeRefusal(t.issuedAt, expiresAt, now, skewMs);
  if (late) return refuse(late);
  if (scope !== undefined && t.scope !== scope) return refuse('scope_mismatch');
  return {
    valid: true,
    method: t.method,
    issuedAt: t.issuedAt,
    expiresAt,
    scope: t.scope,
    kid: t.kid,
    id: t.id.toString('base64url'),
    calls: t.calls,
    price: t.method === 'pow' ? t.priceUnits / DIFFICULTY_STEPS : t.priceUnits,
  };
}

function refuse(reason: Refusal): TokenVerdict {
  return { valid: false, reason };
}
