import { createHash, createHmac, scryptSync } from 'node:crypto';
import { PowgateError } from '../errors.js';
import { MAX_MAC_KEYS } from '../backend/types.js';
import { prepareMacKey, type MacKey } from '../backend/mac-key.js';
import { describe } from '../validate.js';
import { MIN_SECRET_BITS, estimateSecretBits } from './secret-strength.js';

/**
 * A MAC secret: at least 32 bytes (a string counts its UTF-8 bytes) that do not look
 * guessable (a repeated word, a run, a short hex string: see secret-strength.ts). Generate
 * one with `powgate secret` or `openssl rand -base64 32`.
 */
export type Secret = string | Uint8Array;

/** A key with an id, for rotation: sign with the first, verify with any. */
export interface KeyEntry {
  /** 1 to 64 characters from `A-Z a-z 0-9 . _ -`; travels in challenges and tokens. */
  kid: string;
  secret: Secret;
  /**
   * How subkeys come from the secret (docs/PROTOCOL.md, "Keys"): 2 stretches the secret with
   * scrypt first; 1 is the fast derivation of powgate 0.1, only for a key that signed before the
   * upgrade and whose challenges and tokens should still verify. Default 2.
   */
  derivation?: KeyDerivation;
}

/** The key derivations: see {@link KeyEntry.derivation}. */
export type KeyDerivation = 1 | 2;

/** Either one `secret` (its key id is derived from it) or a list of `keys`, the first of which signs. */
export interface KeyOptions {
  secret?: Secret;
  keys?: readonly KeyEntry[];
  /**
   * With a single `secret`, also verify (never sign) with the key derivation 1 made of it, under
   * its old key id, so that challenges, tokens and macaroons signed before the upgrade to
   * derivation 2 keep working until they expire. Default true.
   */
  acceptDerivation1?: boolean;
}

/** A key ready for use: its id and one derived subkey per purpose, so that no MAC can stand in for another. */
export interface Key {
  kid: string;
  challenge: Buffer;
  token: Buffer;
  /** Derives each L402 macaroon's root key (docs/PROTOCOL.md, "L402"). */
  l402: Buffer;
}

const MIN_SECRET_BYTES = 32;
export const KID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Derivation 2's stretch: one guess at the secret costs an attacker this scrypt, whichever public
 * value (key id or MAC) they check it against. Its salt is a fixed label: a deployment's secret is
 * its own salt, being random (see secret-strength.ts).
 */
const KEY_STRETCH = { salt: 'powgate/key/v2', N: 2 ** 14, r: 8, p: 1, bytes: 32 } as const;

/** Derivation 1 keys from the secret itself; derivation 2 from its stretch. */
function derive(base: Buffer, derivation: KeyDerivation, purpose: string): Buffer {
  return createHmac('sha256', base).update(`powgate/v${derivation}/${purpose}`).digest();
}

function stretch(secret: Buffer): Buffer {
  // A server passes the same secret on every call, often as a new object: cache by content.
  const cacheKey = createHash('sha256').update('powgate/key-cache\0').update(secret).digest('base64');
  let master = stretched.get(cacheKey);
  if (!master) {
    const { salt, N, r, p, bytes } = KEY_STRETCH;
    master = scryptSync(secret, salt, bytes, { N, r, p, maxmem: 256 * N * r });
    if (stretched.size >= CACHE_LIMIT) stretched.clear();
    stretched.set(cacheKey, master);
  }
  return master;
}

function secretBytes(secret: unknown, what: string): Buffer {
  const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret instanceof Uint8Array ? Buffer.from(secret) : undefined;
  if (!bytes || bytes.length < MIN_SECRET_BYTES) {
    // Never echo the secret: describe() gives only its type and length.
    throw new PowgateError('ERR_INVALID_ARGUMENT', `expected a string or Uint8Array of at least ${MIN_SECRET_BYTES} bytes for ${what} but received ${describe(secret)}`);
  }
  const bits = estimateSecretBits(bytes);
  if (bits < MIN_SECRET_BITS) {
    throw new PowgateError(
      'ERR_WEAK_SECRET',
      `expected a random secret for ${what} but it looks guessable (about ${Math.floor(bits)} bits estimated, ${MIN_SECRET_BITS} needed): ` +
        'use 32 random bytes, e.g. the output of `npx powgate secret` or `openssl rand -base64 32`',
    );
  }
  return bytes;
}

/** Derived key ids start with the derivation's letter, so that the two never meet. */
const KID_PREFIX = { 1: 'k', 2: 's' } as const;

function makeKey(secret: Buffer, derivation: KeyDerivation, kid?: string): Key {
  const base = derivation === 2 ? stretch(secret) : secret;
  return {
    kid: kid ?? `${KID_PREFIX[derivation]}${derive(base, derivation, 'kid').toString('base64url').slice(0, 11)}`,
    challenge: derive(base, derivation, 'challenge'),
    token: derive(base, derivation, 'token'),
    l402: derive(base, derivation, 'l402'),
  };
}

function secretKeys(secret: Buffer, acceptDerivation1: boolean | undefined): Key[] {
  const signing = makeKey(secret, 2);
  return acceptDerivation1 === false ? [signing] : [signing, makeKey(secret, 1)];
}

/** Most keys in one ring: batch MAC checks index keys with a byte. */
const MAX_KEYS = MAX_MAC_KEYS;

/** The keys a call may sign and verify with. */
export class KeyRing {
  readonly signing: Key;
  /** Every key, the signing key first. */
  readonly keys: readonly Key[];
  /** Each key's challenge subkey prepared for HMAC from its pads, in the same order. */
  readonly challengeKeys: readonly MacKey[];
  private readonly byKid: Map<string, number>;

  private constructor(keys: Key[]) {
    this.signing = keys[0]!;
    this.keys = Object.freeze(keys);
    this.challengeKeys = Object.freeze(keys.map((k) => prepareMacKey(k.challenge)));
    this.byKid = new Map(keys.map((k, i) => [k.kid, i]));
  }

  find(kid: string): Key | undefined {
    const i = this.byKid.get(kid);
    return i === undefined ? undefined : this.keys[i];
  }

  /** The position of `kid` in {@link keys}, or -1. */
  indexOf(kid: string): number {
    return this.byKid.get(kid) ?? -1;
  }

  /**
   * Validates `{ secret }` or `{ keys }` and derives subkeys. Servers pass the same
   * options on every call, so rings are cached: by the secret string, or by the
   * Uint8Array or keys array object (re-checked against a copy of its contents).
   */
  static from(options: KeyOptions): KeyRing {
    const { secret, keys, acceptDerivation1 } = options;
    if ((secret === undefined) === (keys === undefined)) {
      throw new PowgateError('ERR_INVALID_ARGUMENT', 'expected exactly one of secret or keys but received ' + (secret === undefined ? 'neither' : 'both'));
    }
    if (acceptDerivation1 !== undefined && (keys !== undefined || typeof acceptDerivation1 !== 'boolean')) {
      throw new PowgateError(
        'ERR_INVALID_ARGUMENT',
        keys !== undefined
          ? 'acceptDerivation1 goes with secret; with keys, give an entry derivation: 1'
          : `expected a boolean for acceptDerivation1 but received ${describe(acceptDerivation1)}`,
      );
    }
    if (typeof secret === 'string') {
      return cached(byString, `${acceptDerivation1 === false ? 0 : 1}${secret}`, () => new KeyRing(secretKeys(secretBytes(secret, 'secret'), acceptDerivation1)));
    }
    if (secret !== undefined) {
      const hit = byObject.get(secret as object);
      if (hit && hit.same(secret) && hit.acceptDerivation1 === acceptDerivation1) return hit.ring;
      const bytes = secretBytes(secret, 'secret');
      const ring = new KeyRing(secretKeys(bytes, acceptDerivation1));
      byObject.set(secret as object, { ring, acceptDerivation1, same: (s) => s instanceof Uint8Array && bytes.equals(s) });
      return ring;
    }
    const hit = byObject.get(keys as object);
    if (hit && hit.same(keys)) return hit.ring;
    const ring = new KeyRing(keyList(keys));
    byObject.set(keys as object, { ring, acceptDerivation1, same: sameEntries(keys as readonly KeyEntry[]) });
    return ring;
  }
}

function keyList(keys: unknown): Key[] {
  if (!Array.isArray(keys) || keys.length === 0 || keys.length > MAX_KEYS) {
    throw new PowgateError('ERR_INVALID_ARGUMENT', `expected an array of 1 to ${MAX_KEYS} keys for keys but received ${describe(keys)}`);
  }
  const seen = new Set<string>();
  return keys.map((entry, i) => {
    const kid = (entry as KeyEntry | undefined)?.kid;
    if (typeof kid !== 'string' || !KID_PATTERN.test(kid)) {
      throw new PowgateError('ERR_INVALID_ARGUMENT', `expected 1-64 characters of A-Za-z0-9._- for keys[${i}].kid but received ${describe(kid)}`);
    }
    if (seen.has(kid)) throw new PowgateError('ERR_INVALID_ARGUMENT', `expected unique key ids but keys[${i}].kid repeats "${kid}"`);
    seen.add(kid);
    const derivation = (entry as KeyEntry).derivation ?? 2;
    if (derivation !== 1 && derivation !== 2) {
      throw new PowgateError('ERR_INVALID_ARGUMENT', `expected 1 or 2 for keys[${i}].derivation but received ${describe(derivation)}`);
    }
    return makeKey(secretBytes((entry as KeyEntry).secret, `keys[${i}].secret`), derivation, kid);
  });
}

/** A check that a keys array still holds what it held when its ring was made. */
function sameEntries(keys: readonly KeyEntry[]): (value: unknown) => boolean {
  const snapshot = keys.map(({ kid, secret, derivation }) => ({ kid, secret, derivation, bytes: typeof secret === 'string' ? undefined : Buffer.from(secret) }));
  return (value) =>
    Array.isArray(value) &&
    value.length === snapshot.length &&
    snapshot.every((s, i) => {
      const entry = value[i] as KeyEntry | undefined;
      return entry?.kid === s.kid && entry.secret === s.secret && entry.derivation === s.derivation && (s.bytes === undefined || s.bytes.equals(s.secret as Uint8Array));
    });
}

// Deriving costs a scrypt (cached by content in `stretched`), HMACs and pads: cache a few rings.
const CACHE_LIMIT = 64;
const byString = new Map<string, KeyRing>();
const byObject = new WeakMap<object, { ring: KeyRing; acceptDerivation1: unknown; same: (value: unknown) => boolean }>();
const stretched = new Map<string, Buffer>();

function cached(cache: Map<string, KeyRing>, key: string, make: () => KeyRing): KeyRing {
  let ring = cache.get(key);
  if (!ring) {
    ring = make();
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(key, ring);
  }
  return ring;
}
