import { createHmac } from 'node:crypto';
import { PowgateError } from '../errors.js';
import { MAX_MAC_KEYS } from '../backend/batch.js';
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
}

/** Either one `secret` (its key id is derived from it) or a list of `keys`, the first of which signs. */
export interface KeyOptions {
  secret?: Secret;
  keys?: readonly KeyEntry[];
}

/** A key ready for use: its id and one derived subkey per purpose, so that no MAC can stand in for another. */
export interface Key {
  kid: string;
  challenge: Buffer;
  token: Buffer;
  /** Derives each L402 macaroon's root key (docs/PROTOCOL.md, "L402"). */
  l402: Buffer;
}

export const MIN_SECRET_BYTES = 32;
export const KID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

function derive(secret: Buffer, purpose: string): Buffer {
  return createHmac('sha256', secret).update(`powgate/v1/${purpose}`).digest();
}

function secretBytes(secret: unknown, what: string): Buffer {
  const bytes =
    typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret instanceof Uint8Array ? Buffer.from(secret) : undefined;
  if (!bytes || bytes.length < MIN_SECRET_BYTES) {
    // Never echo the secret: describe() gives only its type and length.
    throw new PowgateError(
      'ERR_INVALID_ARGUMENT',
      `expected a string or Uint8Array of at least ${MIN_SECRET_BYTES} bytes for ${what} but received ${describe(secret)}`,
    );
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

function makeKey(secret: Buffer, kid?: string): Key {
  return {
    kid: kid ?? `k${derive(secret, 'kid').toString('base64url').slice(0, 11)}`,
    challenge: derive(secret, 'challenge'),
    token: derive(secret, 'token'),
    l402: derive(secret, 'l402'),
  };
}

/** Most keys in one ring: batch MAC checks index keys with a byte. */
export const MAX_KEYS = MAX_MAC_KEYS;

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
    const { secret, keys } = options;
    if ((secret === undefined) === (keys === undefined)) {
      throw new PowgateError('ERR_INVALID_ARGUMENT', 'expected exactly one of secret or keys but received ' +
        (secret === undefined ? 'neither' : 'both'));
    }
    if (typeof secret === 'string') return cached(byString, secret, () => new KeyRing([makeKey(secretBytes(secret, 'secret'))]));
    if (secret !== undefined) {
      const hit = byObject.get(secret as object);
      if (hit && hit.same(secret)) return hit.ring;
      const bytes = secretBytes(secret, 'secret');
      const ring = new KeyRing([makeKey(bytes)]);
      byObject.set(secret as object, { ring, same: (s) => s instanceof Uint8Array && bytes.equals(s) });
      return ring;
    }
    const hit = byObject.get(keys as object);
    if (hit && hit.same(keys)) return hit.ring;
    const ring = new KeyRing(keyList(keys));
    byObject.set(keys as object, { ring, same: sameEntries(keys as readonly KeyEntry[]) });
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
    return makeKey(secretBytes((entry as KeyEntry).secret, `keys[${i}].secret`), kid);
  });
}

/** A check that a keys array still holds what it held when its ring was made. */
function sameEntries(keys: readonly KeyEntry[]): (value: unknown) => boolean {
  const snapshot = keys.map(({ kid, secret }) => ({ kid, secret, bytes: typeof secret === 'string' ? undefined : Buffer.from(secret) }));
  return (value) =>
    Array.isArray(value) &&
    value.length === snapshot.length &&
    snapshot.every((s, i) => {
      const entry = value[i] as KeyEntry | undefined;
      return entry?.kid === s.kid && entry.secret === s.secret && (s.bytes === undefined || s.bytes.equals(s.secret as Uint8Array));
    });
}

// Deriving costs three HMACs and preparing pads two compressions: cache a few rings.
const CACHE_LIMIT = 64;
const byString = new Map<string, KeyRing>();
const byObject = new WeakMap<object, { ring: KeyRing; same: (value: unknown) => boolean }>();

function cached(cache: Map<string, KeyRing>, key: string, make: () => KeyRing): KeyRing {
  let ring = cache.get(key);
  if (!ring) {
    ring = make();
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(key, ring);
  }
  return ring;
}
