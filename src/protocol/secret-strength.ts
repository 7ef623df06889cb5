// A rough lower estimate of a secret's entropy, to refuse the guessable ones: a repeated
// word, a keyboard run, a short hex string. It cannot spot a well-known phrase; it only
// makes sure that a secret is not obviously a password. Generated secrets pass with room.

/** Least estimated entropy, in bits, of an accepted secret. */
export const MIN_SECRET_BITS = 128;

// Words that weak secrets are made of; each occurrence counts for nothing.
const WEAK_WORDS = ['changeme', 'password', 'passw0rd', 'secret', 'default', 'example', 'powgate', 'admin', 'letmein', 'qwerty', 'azerty', 'asdf', 'test', '1234'];

/** Bits per character of the smallest character classes that hold every byte. */
function bitsPerChar(bytes: Uint8Array): number {
  let lower = false,
    upper = false,
    digit = false,
    symbol = false,
    high = false,
    hex = true;
  for (const b of bytes) {
    if (b >= 0x61 && b <= 0x7a) lower = true;
    else if (b >= 0x41 && b <= 0x5a) upper = true;
    else if (b >= 0x30 && b <= 0x39) digit = true;
    else if (b >= 0x20 && b < 0x7f) symbol = true;
    else high = true;
    const isHex = (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x66) || (b >= 0x41 && b <= 0x46);
    hex &&= isHex;
  }
  if (high) return 8;
  if (hex) return 4;
  return Math.log2((lower ? 26 : 0) + (upper ? 26 : 0) + (digit ? 10 : 0) + (symbol ? 33 : 0));
}

/**
 * Estimated bits: each byte counts its class's bits unless it adds nothing new: inside a weak
 * word, continuing a run or a steady step (`aaaa`, `abcd`, `2468`), or ending a three-byte
 * sequence seen before (a repeated word).
 */
export function estimateSecretBits(bytes: Uint8Array): number {
  const skip = new Uint8Array(bytes.length);
  const text = Buffer.from(bytes).toString('latin1').toLowerCase();
  for (const word of WEAK_WORDS) {
    for (let at = text.indexOf(word); at >= 0; at = text.indexOf(word, at + 1)) skip.fill(1, at, at + word.length);
  }
  const seen = new Set<number>();
  let novel = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (i >= 2) {
      const triple = (bytes[i - 2]! << 16) | (bytes[i - 1]! << 8) | bytes[i]!;
      const steady = bytes[i]! - bytes[i - 1]! === bytes[i - 1]! - bytes[i - 2]!;
      if (seen.has(triple) || steady) skip[i] = 1;
      seen.add(triple);
    }
    if (!skip[i]) novel++;
  }
  return novel * bitsPerChar(bytes);
}
