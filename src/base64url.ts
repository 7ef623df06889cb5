// Strict base64url (RFC 4648 §5, unpadded): the one decoder in TypeScript. Only the one
// canonical encoding of some bytes is accepted, so a text and its bytes are one-to-one.
// Encoding is Node's own (`Buffer#toString('base64url')`), which is canonical.

// Sextet values, -1 for characters outside the alphabet.
const SEXTETS = new Int32Array(128).fill(-1);
[...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'].forEach((c, i) => (SEXTETS[c.charCodeAt(0)] = i));

/** How many bytes `chars` characters of unpadded base64url carry. */
function decodedLength(chars: number): number {
  return Math.floor((chars * 3) / 4);
}

/**
 * Decodes `text` into out[at, ...) in place (out must have room for its bytes); false
 * unless every character is in the alphabet and the unused low bits of the last are zero.
 * Four characters a step: a -1 from the table makes the whole group negative.
 */
export function decodeBase64urlInto(text: string, out: Uint8Array, at: number): boolean {
  const n = text.length;
  let chars = 0;
  let group = 0;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const a = text.charCodeAt(i);
    const b = text.charCodeAt(i + 1);
    const c = text.charCodeAt(i + 2);
    const d = text.charCodeAt(i + 3);
    chars |= a | b | c | d;
    const x = (SEXTETS[a & 127]! << 18) | (SEXTETS[b & 127]! << 12) | (SEXTETS[c & 127]! << 6) | SEXTETS[d & 127]!;
    group |= x;
    out[at] = x >> 16;
    out[at + 1] = x >> 8;
    out[at + 2] = x;
    at += 3;
  }
  // The last 2 or 3 characters carry 1 or 2 bytes; the bits beyond them must be zero.
  let x = 0;
  for (let k = i; k < n; k++) {
    const c = text.charCodeAt(k);
    chars |= c;
    x = (x << 6) | SEXTETS[c & 127]!;
  }
  const rest = n - i;
  if (rest === 1) return false;
  if (rest === 2) {
    out[at] = x >> 4;
    if ((x & 0xf) !== 0) return false;
  } else if (rest === 3) {
    out[at] = x >> 10;
    out[at + 1] = x >> 2;
    if ((x & 0x3) !== 0) return false;
  }
  return chars < 128 && group >= 0 && x >= 0;
}

/** The bytes `text` encodes, or undefined unless it is canonical base64url of at most `maxChars` characters. */
export function fromBase64url(text: string, maxChars: number): Buffer | undefined {
  if (text.length > maxChars) return undefined;
  const bytes = Buffer.alloc(decodedLength(text.length));
  return decodeBase64urlInto(text, bytes, 0) ? bytes : undefined;
}
