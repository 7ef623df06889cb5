import { createHash } from 'node:crypto';

/** node:crypto's SHA-256, hex: what every backend must agree with. */
export function sha256Hex(message: Uint8Array): string {
  return createHash('sha256').update(message).digest('hex');
}

/** Splits a digest buffer into hex strings, 32 bytes each. */
export function digestsHex(out: Uint8Array): string[] {
  const hex: string[] = [];
  for (let i = 0; i < out.length; i += 32) hex.push(Buffer.from(out.subarray(i, i + 32)).toString('hex'));
  return hex;
}

export function pack(messages: readonly Uint8Array[]): { data: Uint8Array; offsets: Uint32Array } {
  const offsets = new Uint32Array(messages.length + 1);
  for (let i = 0; i < messages.length; i++) offsets[i + 1] = offsets[i]! + messages[i]!.length;
  const data = new Uint8Array(offsets[messages.length]!);
  messages.forEach((m, i) => data.set(m, offsets[i]!));
  return { data, offsets };
}
