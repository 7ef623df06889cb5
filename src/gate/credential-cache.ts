import type { KeyOptions } from '../protocol/keys.js';
import { verifyL402, type L402Verdict, type ValidL402 } from '../protocol/l402.js';
import { verifyToken, type TokenVerdict, type ValidToken } from '../protocol/token.js';

/** Most valid-token verdicts a Gate remembers (their MAC checks; never their spends). */
export const TOKEN_CACHE_SIZE = 10_000;

/**
 * The verdicts of valid credentials seen, by their text, oldest first: a repeat skips
 * decoding and the MAC (expiry is checked every time); spends are never skipped.
 */
export class CredentialCache {
  readonly #keys: KeyOptions;
  readonly #skewMs: number;
  readonly #maxTokenTtlMs: number | undefined;
  readonly #tokens = new Map<string, ValidToken>();
  readonly #l402 = new Map<string, ValidL402>();

  constructor(keys: KeyOptions, skewMs: number, maxTokenTtlMs: number | undefined) {
    this.#keys = keys;
    this.#skewMs = skewMs;
    this.#maxTokenTtlMs = maxTokenTtlMs;
  }

  /** A token's verdict, its MAC verdict remembered when valid; expiry is checked every time. */
  token(token: unknown): TokenVerdict {
    const known = typeof token === 'string' ? this.#tokens.get(token) : undefined;
    if (known) {
      if (Date.now() <= known.expiresAt + this.#skewMs) return known;
      this.#tokens.delete(token as string); // Expired: the full check below says so.
    }
    const verdict = verifyToken(token, { ...this.#keys, skewMs: this.#skewMs, maxTokenTtlMs: this.#maxTokenTtlMs });
    if (!verdict.valid) return verdict;
    if (this.#tokens.size >= TOKEN_CACHE_SIZE) this.#tokens.delete(this.#tokens.keys().next().value!);
    this.#tokens.set(token as string, Object.freeze(verdict));
    return verdict;
  }

  /** An L402 verdict, remembered when valid as token verdicts are. */
  l402(credential: unknown): L402Verdict {
    const known = typeof credential === 'string' ? this.#l402.get(credential) : undefined;
    if (known) {
      if (Date.now() <= known.expiresAt + this.#skewMs) return known;
      this.#l402.delete(credential as string);
    }
    const verdict = verifyL402(credential, { ...this.#keys, skewMs: this.#skewMs });
    // Only the minted text is remembered: its variants (attenuated, re-encoded) are free to make.
    if (!verdict.valid || !verdict.canonical) return verdict;
    if (this.#l402.size >= TOKEN_CACHE_SIZE) this.#l402.delete(this.#l402.keys().next().value!);
    this.#l402.set(credential as string, Object.freeze(verdict));
    return verdict;
  }
}
