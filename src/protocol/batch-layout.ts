// How the batch reader lays items out for the addon's packer (native/pack_binding.cc):
// the per-item words, the table of signed terms, and the MAC inputs grouped by length.
import { MAC_BYTES } from '../wire.js';
import type { KeyRing } from './keys.js';
import { macInputLength, thresholdEntry } from './mac-layout.js';

/** Words per item: key, table entry, scope, sub-puzzles, (MAC input at, tag at: set when packing), first proof. */
export const ITEM_WORDS = 7;
/** A table entry: the MAC input's u32 steps, u64 T, u32 calls and u32 price. */
const TERMS_BYTES = 20;

const EMPTY = new Uint8Array(0);

/** Items whose MAC inputs have one length: their inputs and tags packed in the order of `items` (positions in the reader). */
export interface MacGroup {
  length: number;
  data: Uint8Array;
  tags: Uint8Array;
  keyIndexes: Uint8Array;
  items: number[];
}

/** The signed terms' table, one entry each: steps and T as the MAC input holds them, then calls and price. */
export function termsTable(terms: readonly { steps: number; calls: number; price: number }[]): Uint8Array {
  const table = new Uint8Array(TERMS_BYTES * terms.length);
  const view = new DataView(table.buffer);
  terms.forEach(({ steps, calls, price }, i) => {
    table.set(thresholdEntry(steps).macBytes, TERMS_BYTES * i);
    view.setUint32(TERMS_BYTES * i + 12, calls);
    view.setUint32(TERMS_BYTES * i + 16, price);
  });
  return table;
}

/**
 * One MAC group per input length (usually there is just one), with each item's input and
 * tag offsets written into its words; the groups' data and tags are left empty, to be
 * pointed at the packed buffers of `dataBytes` and `tagBytes`.
 */
export function macGroupsOf(words: Uint32Array, n: number, ring: KeyRing, scopeList: readonly string[]): { macGroups: MacGroup[]; dataBytes: number; tagBytes: number } {
  const groups = new Map<number, number[]>();
  let lastKey = -1;
  let lastScope = -1;
  let group: number[] = [];
  for (let k = 0; k < n; k++) {
    const w = ITEM_WORDS * k;
    // Consecutive items mostly share key and scope, and so their group.
    if (words[w] !== lastKey || words[w + 2] !== lastScope) {
      lastKey = words[w]!;
      lastScope = words[w + 2]!;
      const length = macInputLength(ring.keys[lastKey]!.kid.length, scopeList[lastScope]!.length);
      const known = groups.get(length);
      if (known) group = known;
      else groups.set(length, (group = []));
    }
    group.push(k);
  }
  const macGroups: MacGroup[] = [];
  let dataBytes = 0;
  let tagBytes = 0;
  for (const [length, items] of groups) {
    const keyIndexes = new Uint8Array(items.length);
    for (let rank = 0; rank < items.length; rank++) {
      const w = ITEM_WORDS * items[rank]!;
      words[w + 4] = dataBytes + rank * length;
      words[w + 5] = tagBytes + MAC_BYTES * rank;
      keyIndexes[rank] = words[w]!;
    }
    macGroups.push({ length, data: EMPTY, tags: EMPTY, keyIndexes, items });
    dataBytes += items.length * length;
    tagBytes += MAC_BYTES * items.length;
  }
  return { macGroups, dataBytes, tagBytes };
}
