// The batch reader's buffers: scratch reused from batch to batch, the texts' writer, and
// the MAC inputs' opening bytes per key ring.
import type { KeyRing } from './keys.js';
import { headerOf } from './mac-layout.js';

// The MAC input's opening bytes per key (label, version, kid), packed once per ring.
const headerCache = new WeakMap<KeyRing, { bytes: Uint8Array; ends: Uint32Array }>();

export function headersOf(ring: KeyRing): { bytes: Uint8Array; ends: Uint32Array } {
  let headers = headerCache.get(ring);
  if (!headers) {
    const parts = ring.keys.map(headerOf);
    let end = 0;
    headers = { bytes: Buffer.concat(parts), ends: Uint32Array.from(parts, (p) => (end += p.length)) };
    headerCache.set(ring, headers);
  }
  return headers;
}

// Batches reuse these (fresh buffers of megabytes cost a page fault per 4 KiB on first
// touch). Safe because verifySolutions packs and checks with no await in between.
const scratch: Record<'text' | 'ids' | 'nonces' | 'refused' | 'data' | 'tags' | 'prefixes' | 'thresholds', Buffer> = {
  text: Buffer.alloc(0),
  ids: Buffer.alloc(0),
  refused: Buffer.alloc(0),
  nonces: Buffer.alloc(0),
  data: Buffer.alloc(0),
  tags: Buffer.alloc(0),
  prefixes: Buffer.alloc(0),
  thresholds: Buffer.alloc(0),
};

/** Scratch buffers are kept up to this size; a bigger batch gets buffers of its own, left to the collector. */
const KEEP_BYTES = 8 << 20;

export function buffer(name: keyof typeof scratch, size: number): Buffer {
  const kept = scratch[name];
  if (kept.length >= size) return kept;
  if (size > KEEP_BYTES) return Buffer.allocUnsafeSlow(size);
  return (scratch[name] = Buffer.allocUnsafeSlow(Math.min(KEEP_BYTES, Math.max(size, 2 * kept.length))));
}

/**
 * Room past the texts, so that a chunk with a character above U+007F, which UTF-8
 * writes as 2 to 4 bytes, always shows as more bytes written than characters (it
 * cannot be cut short to exactly its length).
 */
export const TEXT_SLACK = 4;

/**
 * Writes `text` into `into` at `at`, one byte a character. False when any character is
 * above U+007F: its UTF-8 bytes would put every later text out of place (the addon
 * refuses such bytes, but could not tell where the next text starts), so the whole
 * batch goes to the per-pair reader.
 */
export function writeAscii(text: string, into: Buffer, at: number): boolean {
  return into.write(text, at, 'utf8') === text.length;
}
