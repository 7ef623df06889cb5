// verifySolutions' fast path. Pairs of the usual shape (plain objects, keys in the
// order powgate writes them, a known key) are read with no per-byte work in
// JavaScript: their id, signature and nonce texts are concatenated and written to one
// buffer a chunk of pairs at a time, and the addon decodes them strictly and lays out the MAC
// inputs and proofs. Anything else (a pair whose texts are not canonical, or a batch
// with a non-ASCII character) goes to the per-pair reader, which gives the exact refusal.
import type { PackChallenges } from '../backend/types.js';
import { CHALLENGE_KEYS, ID_BYTES, ID_CHARS, MAC_BYTES, NONCE_BYTES, NONCE_CHARS, SIGNATURE_CHARS, SOLUTION_KEYS, WORK_PREFIX_BYTES } from '../wire.js';
import type { Challenge } from './challenge.js';
import { DIFFICULTY_STEPS } from './difficulty.js';
import { SOLUTION_ORDER, challengeFieldsHold, exactSteps, solutionFieldsHold } from './fields.js';
import type { KeyRing } from './keys.js';
import { headerOf, macInputLength, thresholdEntry } from './mac-layout.js';
import type { Accepted } from './pair-reader.js';
import { isScope, keysInOrder } from './shape.js';
import type { Solution } from './solution.js';
const ITEM_WORDS = 7;
/** A table entry: the MAC input's u32 steps, u64 T, u32 calls and u32 price. */
const TERMS_BYTES = 20;
/** Characters of an item's id and signature texts; its nonces (16 each) follow them. */
const ID_AND_SIGNATURE_CHARS = ID_CHARS + SIGNATURE_CHARS;

// The MAC input's opening bytes per key (label, version, kid), packed once per ring.
const headerCache = new WeakMap<KeyRing, { bytes: Uint8Array; ends: Uint32Array }>();

function headersOf(ring: KeyRing): { bytes: Uint8Array; ends: Uint32Array } {
  let headers = headerCache.get(ring);
  if (!headers) {
    const parts = ring.keys.map(headerOf);
    let end = 0;
    headers = { bytes: Buffer.concat(parts), ends: Uint32Array.from(parts, (p) => (end += p.length)) };
    headerCache.set(ring, headers);
  }
  return headers;
}

/** The packed batch: MAC inputs in groups of equal length, and all proofs. */
export interface PackedBatch {
  /** Group g holds items `items` (by position in the reader), its inputs and tags packed in that order. */
  macGroups: { length: number; data: Uint8Array; tags: Uint8Array; keyIndexes: Uint8Array; items: number[] }[];
  prefixes: Uint8Array;
  nonces: Uint8Array;
  thresholds: Uint8Array;
  /** Items whose texts are not canonical: for the per-pair reader. */
  rejected: number[];
  /** Item k's decoded id is bytes 16k to 16k + 16. */
  ids: Uint8Array;
}

/**
 * The items taken so far, as parallel arrays (one object per item would cost its
 * allocation and, more, the garbage collector's time): item k is pair `index(k)`. Sized
 * for the batch up front: growing them as items come costs copies and fresh zeroed memory.
 */
export class BatchReader {
  private indexes: Int32Array;
  private readonly ids: string[];
  /**
   * Every item's id, signature and nonces, as given, one after another: written to
   * `textBytes` a chunk of items at a time, and `text` for the last chunkItems items.
   * Concatenation makes rope strings, which cost far less than an array of the pieces and
   * a join; a chunk is written (and dies young) as soon as it is full.
   */
  private textBytes: Buffer;
  private textAt = 0;
  private text = '';
  private chunkItems = 0;
  /** False once a text had a character above U+007F (see writeAscii). */
  private ascii = true;
  /** Per item: key, table entry, scope, sub-puzzles, (MAC input at, tag at: set when packing), first proof. */
  private words: Uint32Array;
  /** Per item: issuedAt, expiresAt. */
  private times: Float64Array;
  private items = 0;
  /** The signed terms (difficulty in steps, calls, price in steps) seen, by their text `steps/calls/price`. */
  private readonly terms = new Map<string, number>();
  private readonly termList: { steps: number; calls: number; price: number }[] = [];
  private readonly scopes = new Map<string, number>();
  private readonly scopeList: string[] = [];
  private proofs = 0;
  private lastKid = '';
  private lastKeyIndex = -1;
  private lastSteps = -1;
  private lastCalls = -1;
  private lastPrice = -1;
  private lastThreshold = '';
  private lastTermIndex = -1;
  private lastScope: string | undefined;
  private lastScopeIndex = -1;

  /** `expected`: how many pairs the batch has (more can be taken, at the cost of growing). */
  constructor(
    private readonly ring: KeyRing,
    private readonly pack: PackChallenges,
    expected: number,
  ) {
    const room = Math.max(1, expected);
    this.indexes = new Int32Array(room);
    this.ids = new Array<string>(room);
    this.words = new Uint32Array(ITEM_WORDS * room);
    this.times = new Float64Array(2 * room);
    this.textBytes = buffer('text', (ID_AND_SIGNATURE_CHARS + NONCE_CHARS) * room + TEXT_SLACK);
  }

  get count(): number {
    return this.items;
  }

  /** The pair item k was taken from. */
  index(k: number): number {
    return this.indexes[k]!;
  }

  /** Takes the pair when it has the usual shape; false sends it to the per-pair reader. Never throws. */
  take(challenge: unknown, solution: unknown, index: number): boolean {
    try {
      return this.read(challenge, solution, index);
    } catch {
      return false; // a hostile object (a throwing getter, a Proxy)
    }
  }

  /** Reads and checks everything before it records anything. */
  private read(challenge: unknown, solution: unknown, index: number): boolean {
    if (typeof challenge !== 'object' || challenge === null || typeof solution !== 'object' || solution === null) return false;
    const solutionKeys = keysInOrder(solution, SOLUTION_ORDER);
    if (keysInOrder(challenge, CHALLENGE_KEYS) !== CHALLENGE_KEYS.length || solutionKeys < SOLUTION_KEYS.length) return false;
    // Each field read once, typed as claimed and checked at once.
    const { v, id, kid, difficulty, threshold, subPuzzles, calls, price, scope, issuedAt, expiresAt, signature } = challenge as Challenge;
    const { v: sv, id: solvedId, nonces, elapsedMs } = solution as Solution;
    if (!challengeFieldsHold(v, id, kid, difficulty, threshold, subPuzzles, calls, price, scope, issuedAt, expiresAt, signature)) return false;
    if (!solutionFieldsHold(sv, solvedId, nonces, solutionKeys > SOLUTION_KEYS.length, elapsedMs) || solvedId !== id || nonces.length !== subPuzzles) return false;
    // Consecutive pairs mostly share key, terms and scope: remember the last of each.
    const steps = exactSteps(difficulty);
    if (steps < 0) return false;
    const priceSteps = Math.round(price * DIFFICULTY_STEPS);
    if (steps !== this.lastSteps || calls !== this.lastCalls || priceSteps !== this.lastPrice) {
      const text = `${steps}/${calls}/${priceSteps}`;
      let entry = this.terms.get(text);
      if (entry === undefined) {
        entry = this.termList.length;
        this.terms.set(text, entry);
        this.termList.push({ steps, calls, price: priceSteps });
      }
      this.lastSteps = steps;
      this.lastCalls = calls;
      this.lastPrice = priceSteps;
      this.lastThreshold = thresholdEntry(steps).hex;
      this.lastTermIndex = entry;
    }
    if (threshold !== this.lastThreshold) return false;
    if (kid !== this.lastKid) {
      this.lastKeyIndex = this.ring.indexOf(kid);
      this.lastKid = kid;
    }
    if (this.lastKeyIndex < 0) return false;
    if (scope !== this.lastScope) {
      let at = this.scopes.get(scope);
      if (at === undefined) {
        if (!isScope(scope)) return false;
        at = this.scopeList.length;
        this.scopes.set(scope, at);
        this.scopeList.push(scope);
      }
      this.lastScope = scope;
      this.lastScopeIndex = at;
    }

    // Each nonce read once: a getter could answer differently the second time.
    let text = this.text + id + signature;
    for (let j = 0; j < subPuzzles; j++) {
      const nonce: unknown = nonces[j];
      if (typeof nonce !== 'string' || nonce.length !== NONCE_CHARS) return false;
      text += nonce;
    }

    const k = this.items;
    if (k === this.indexes.length) {
      const indexes = new Int32Array(2 * k);
      const words = new Uint32Array(2 * this.words.length);
      const times = new Float64Array(2 * this.times.length);
      indexes.set(this.indexes);
      words.set(this.words);
      times.set(this.times);
      this.indexes = indexes;
      this.words = words;
      this.times = times;
    }
    const w = ITEM_WORDS * k;
    this.words[w] = this.lastKeyIndex;
    this.words[w + 1] = this.lastTermIndex;
    this.words[w + 2] = this.lastScopeIndex;
    this.words[w + 3] = subPuzzles;
    this.words[w + 6] = this.proofs;
    this.times[2 * k] = issuedAt;
    this.times[2 * k + 1] = expiresAt;
    this.indexes[k] = index;
    this.ids[k] = id;
    this.items = k + 1;
    this.proofs += subPuzzles;
    if (++this.chunkItems < CHUNK_ITEMS) {
      this.text = text;
    } else {
      this.write(text);
      this.text = '';
      this.chunkItems = 0;
    }
    return true;
  }

  /** Appends a chunk of texts to textBytes, growing it when a batch has more items than expected. */
  private write(text: string): void {
    if (this.textAt + text.length + TEXT_SLACK > this.textBytes.length) {
      const bigger = Buffer.allocUnsafeSlow(2 * (this.textAt + text.length + TEXT_SLACK));
      this.textBytes.copy(bigger, 0, 0, this.textAt);
      this.textBytes = bigger;
    }
    if (!writeAscii(text, this.textBytes, this.textAt)) this.ascii = false;
    this.textAt += text.length;
  }

  /** Item k's verdict should it pass. */
  accepted(k: number): Accepted {
    const w = ITEM_WORDS * k;
    const terms = this.termList[this.words[w + 1]!]!;
    return {
      ok: true,
      id: this.ids[k]!,
      kid: this.ring.keys[this.words[w]!]!.kid,
      scope: this.scopeList[this.words[w + 2]!]!,
      difficulty: terms.steps / DIFFICULTY_STEPS,
      subPuzzles: this.words[w + 3]!,
      calls: terms.calls,
      price: terms.price / DIFFICULTY_STEPS,
      issuedAt: this.times[2 * k]!,
      expiresAt: this.times[2 * k + 1]!,
    };
  }

  /** Where item k's proofs start in the proof arrays. */
  firstProof(k: number): number {
    return this.words[ITEM_WORDS * k + 6]!;
  }

  /** Decodes and packs every taken item; undefined when a text is not ASCII (then read them one by one). */
  finish(): PackedBatch | undefined {
    const n = this.items;
    const textBytes = ID_AND_SIGNATURE_CHARS * n + NONCE_CHARS * this.proofs;
    this.write(this.text);
    this.text = '';
    this.chunkItems = 0;
    if (!this.ascii || this.textAt !== textBytes) return undefined;
    const text = this.textBytes;

    // One MAC group per input length; usually there is just one.
    const { words, ring, scopeList } = this;
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
    const macGroups: PackedBatch['macGroups'] = [];
    let dataBytes = 0;
    let tagBytes = 0;
    for (const [length, items] of groups) {
      const keyIndexes = new Uint8Array(items.length);
      for (let rank = 0; rank < items.length; rank++) {
        const k = items[rank]!;
        const w = ITEM_WORDS * k;
        words[w + 4] = dataBytes + rank * length;
        words[w + 5] = tagBytes + MAC_BYTES * rank;
        keyIndexes[rank] = words[w]!;
      }
      macGroups.push({ length, data: EMPTY, tags: EMPTY, keyIndexes, items });
      dataBytes += items.length * length;
      tagBytes += MAC_BYTES * items.length;
    }
    const ids = buffer('ids', ID_BYTES * n).subarray(0, ID_BYTES * n);
    const nonces = buffer('nonces', NONCE_BYTES * this.proofs).subarray(0, NONCE_BYTES * this.proofs);
    const refused = buffer('refused', n).subarray(0, n);
    const data = buffer('data', dataBytes).subarray(0, dataBytes);
    const tags = buffer('tags', tagBytes).subarray(0, tagBytes);
    const prefixes = buffer('prefixes', WORK_PREFIX_BYTES * this.proofs).subarray(0, WORK_PREFIX_BYTES * this.proofs);
    const thresholds = buffer('thresholds', 8 * this.proofs).subarray(0, 8 * this.proofs);
    const headers = headersOf(ring);
    let scopeEnd = 0;
    const table = new Uint8Array(TERMS_BYTES * this.termList.length);
    const view = new DataView(table.buffer);
    this.termList.forEach(({ steps, calls, price }, i) => {
      table.set(thresholdEntry(steps).macBytes, TERMS_BYTES * i);
      view.setUint32(TERMS_BYTES * i + 12, calls);
      view.setUint32(TERMS_BYTES * i + 16, price);
    });
    this.pack(
      headers.bytes,
      headers.ends,
      table,
      Buffer.from(scopeList.join(''), 'latin1'),
      Uint32Array.from(scopeList, (scope) => (scopeEnd += scope.length)),
      words.subarray(0, ITEM_WORDS * n),
      this.times.subarray(0, 2 * n),
      text.subarray(0, textBytes),
      ids,
      nonces,
      refused,
      data,
      tags,
      prefixes,
      thresholds,
    );
    let at = 0;
    let tagAt = 0;
    for (const group of macGroups) {
      group.data = data.subarray(at, (at += group.items.length * group.length));
      group.tags = tags.subarray(tagAt, (tagAt += MAC_BYTES * group.items.length));
    }
    const rejected: number[] = [];
    for (let k = 0; k < n; k++) if (refused[k] !== 0) rejected.push(k);
    return { macGroups, prefixes, nonces, thresholds, rejected, ids };
  }
}

const EMPTY = new Uint8Array(0);

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

function buffer(name: keyof typeof scratch, size: number): Buffer {
  const kept = scratch[name];
  if (kept.length >= size) return kept;
  if (size > KEEP_BYTES) return Buffer.allocUnsafeSlow(size);
  return (scratch[name] = Buffer.allocUnsafeSlow(Math.min(KEEP_BYTES, Math.max(size, 2 * kept.length))));
}

// Texts are written a chunk of pairs at a time: strings this short are young garbage,
// where a whole batch's would be large objects, which cost full collections of the old heap.
const CHUNK_ITEMS = 256;

/**
 * Room past the texts, so that a chunk with a character above U+007F, which UTF-8
 * writes as 2 to 4 bytes, always shows as more bytes written than characters (it
 * cannot be cut short to exactly its length).
 */
const TEXT_SLACK = 4;

/**
 * Writes `text` into `into` at `at`, one byte a character. False when any character is
 * above U+007F: its UTF-8 bytes would put every later text out of place (the addon
 * refuses such bytes, but could not tell where the next text starts), so the whole
 * batch goes to the per-pair reader.
 */
function writeAscii(text: string, into: Buffer, at: number): boolean {
  return into.write(text, at, 'utf8') === text.length;
}
