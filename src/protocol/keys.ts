import { createHmac } from 'node:crypto';
import { PowgateError } from '../errors.js';
import { describe } from '../validate.js';

/** A MAC secret: at least 32 bytes (a string counts its UTF-8 bytes). */
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
  return bytes;
}

function makeKey(secret: Buffer, kid?: string): Key {
  return {
    kid: kid ?? `k${derive(secret, 'kid').toString('base64url').slice(0, 11)}`,
    challenge: derive(secret, 'challenge'),
    token: derive(secret, 'token'),
  };
}

/** The keys a call may sign and verify with. */
export class KeyRing {
  readonly signing: Key;
  private readonly byKid: Map<string, Key>;

  private constructor(keys: Key[]) {
    this.signing = keys[0]!;
    this.byKid = new Map(keys.map((k) => [k.kid, k]));
  }

  find(kid: string): Key | undefined {
    return this.byKid.get(kid);
  }

  /** Validates `{ secret }` or `{ keys }` and derives subkeys; results are cached per secret. */
  static from(options: KeyOptions): KeyRing {
    const { secret, keys } = options;
    if ((secret === undefined) === (keys === undefined)) {
      throw new PowgateError('ERR_INVALID_ARGUMENT', 'expected exactly one of secret or keys but received ' +
        (secret === undefined ? 'neither' : 'both'));
    }
    if (secret !== undefined) {
      const bytes = secretBytes(secret, 'secret');
      const cacheKey = bytes.toString('base64');
      let ring = cache.get(cacheKey);
      if (!ring) {
        ring = new KeyRing([makeKey(bytes)]);
        if (cache.size >= CACHE_LIMIT) cache.clear();
        cache.set(cacheKey, ring);
      }
      return ring;
    }
    if (!Array.isArray(keys) || keys.length === 0) {
      throw new PowgateError('ERR_INVALID_ARGUMENT', `expected a non-empty array for keys but received ${describe(keys)}`);
    }
    const seen = new Set<string>();
    const ring = keys.map((entry, i) => {
      const kid = (entry as KeyEntry | undefined)?.kid;
      if (typeof kid !== 'string' || !KID_PATTERN.test(kid)) {
        throw new PowgateError('ERR_INVALID_ARGUMENT', `expected 1-64 characters of A-Za-z0-9._- for keys[${i}].kid but received ${describe(kid)}`);
      }
      if (seen.has(kid)) throw new PowgateError('ERR_INVALID_ARGUMENT', `expected unique key ids but keys[${i}].kid repeats "${kid}"`);
      seen.add(kid);
      return makeKey(secretBytes(entry.secret, `keys[${i}].secret`), kid);
    });
    return new KeyRing(ring);
  }
}

// Deriving costs three HMACs; servers pass the same secret on every call.
const CACHE_LIMIT = 64;
const cache = new Map<string, KeyRing>();
