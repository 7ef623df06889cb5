// A challenge's MAC input (docs/PROTOCOL.md, "Challenge MAC") as the readers lay it out:
// its per-key opening bytes, its per-difficulty threshold bytes, and its lengths.
import { CHALLENGE_LABEL, CHALLENGE_VERSION, ID_BYTES } from '../wire.js';
import { thresholdForSteps, thresholdHex } from './difficulty.js';
import type { Key } from './keys.js';

/** A difficulty's threshold T with its encodings. */
export interface ThresholdEntry {
  hex: string;
  /** T as 8 big-endian bytes, for the proof check. */
  bytes: Uint8Array;
  /** steps (u32) and T (u64), as the MAC input holds them. */
  macBytes: Uint8Array;
}

/** The MAC input's fixed-width fields: label, version, two length bytes, id, steps, T, calls, price, sub-puzzles, u16 length, two times. */
const MAC_FIXED_BYTES = CHALLENGE_LABEL.length + 1 + 1 + 1 + ID_BYTES + 4 + 8 + 4 + 4 + 1 + 2 + 8 + 8;

/** The length of a challenge's MAC input (docs/PROTOCOL.md) with a kid and a scope of these lengths. */
export function macInputLength(kidLength: number, scopeLength: number): number {
  return MAC_FIXED_BYTES + kidLength + scopeLength;
}

/** The longest opening bytes (a kid is at most 64 characters). */
export const MAX_HEADER_BYTES = CHALLENGE_LABEL.length + 1 + 1 + 1 + 64;
/** The longest MAC input (and a scope at most 256 characters). */
export const MAX_MAC_INPUT = MAC_FIXED_BYTES + 64 + 256;

// Distinct difficulties are few in practice; bounded, since hostile ones are not.
const THRESHOLD_CACHE_LIMIT = 4096;
const thresholds = new Map<number, ThresholdEntry>();

/** T for a difficulty in steps, with its encodings; cached. */
export function thresholdEntry(steps: number): ThresholdEntry {
  let entry = thresholds.get(steps);
  if (!entry) {
    const t = thresholdForSteps(steps);
    const macBytes = new Uint8Array(12);
    const view = new DataView(macBytes.buffer);
    view.setUint32(0, steps);
    view.setBigUint64(4, t);
    entry = { hex: thresholdHex(t), bytes: macBytes.subarray(4), macBytes };
    if (thresholds.size >= THRESHOLD_CACHE_LIMIT) thresholds.clear();
    thresholds.set(steps, entry);
  }
  return entry;
}

const headers = new WeakMap<Key, Uint8Array>();

/** The MAC input's opening bytes for a key: label, version, kid. Cached. */
export function headerOf(key: Key): Uint8Array {
  let header = headers.get(key);
  if (!header) {
    header = Buffer.concat([Buffer.from(`${CHALLENGE_LABEL}\0`, 'latin1'), Uint8Array.of(CHALLENGE_VERSION, key.kid.length), Buffer.from(key.kid, 'latin1')]);
    headers.set(key, header);
  }
  return header;
}
