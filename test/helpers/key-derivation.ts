// docs/PROTOCOL.md "Keys", written again by hand with node:crypto (not powgate's keys.ts):
// derivation 2 stretches the secret with scrypt(N = 2^14, r = 8, p = 1, salt "powgate/key/v2")
// and takes HMAC-SHA256(stretch, "powgate/v2/<purpose>"); derivation 1 is HMAC-SHA256(secret,
// "powgate/v1/<purpose>"). Derived key ids are "s" (2) or "k" (1) and 11 base64url characters.
import { createHmac, scryptSync } from 'node:crypto';

type Purpose = 'kid' | 'challenge' | 'token' | 'l402';

const stretches = new Map<string, Buffer>();
function stretchOf(secret: string | Uint8Array): Buffer {
  const id = Buffer.from(secret).toString('hex');
  let stretch = stretches.get(id);
  if (!stretch) stretches.set(id, (stretch = scryptSync(secret, 'powgate/key/v2', 32, { N: 16384, r: 8, p: 1 })));
  return stretch;
}

/** A subkey of `secret` under derivation 2 (the default) or 1. */
export function subkeyOf(secret: string | Uint8Array, purpose: Purpose, derivation: 1 | 2 = 2): Buffer {
  const base = derivation === 2 ? stretchOf(secret) : secret;
  return createHmac('sha256', base).update(`powgate/v${derivation}/${purpose}`).digest();
}

/** The key id derived from a single `secret`. */
export function derivedKidOf(secret: string | Uint8Array, derivation: 1 | 2 = 2): string {
  return `${derivation === 2 ? 's' : 'k'}${subkeyOf(secret, 'kid', derivation).toString('base64url').slice(0, 11)}`;
}
