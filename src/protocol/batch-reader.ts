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
import { TEXT_SLACK, buffer, headersOf, writeAscii } from './batch-buffers.js';
import { ITEM_WORDS, macGroupsOf, termsTable, type MacGroup } from './batch-layout.js';
import { thresholdEntry } from './mac-layout.js';
import type { Accepted } from './pair-reader.js';
import { isScope, keysInOrder } from './shape.js';
import type { Solution } from './solution.js';

/** Characters of an item's id and signature texts; its nonces (16 each) follow them. */
const ID_AND_SIGNATURE_CHARS = ID_CHARS + SIGNATURE_CHARS;

/** The packed batch: MAC inputs in groups of equal length, and all proofs. */
export interface PackedBatch {
  /** Group g holds items `items` (by position in the reader), its inputs and tags packed in that order. */
  macGroups: MacGroup[];
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

    const { words, ring, scopeList } = this;
    const { macGroups, dataBytes, tagBytes } = macGroupsOf(words, n, ring, scopeList);
    const ids = buffer('ids', ID_BYTES * n).subarray(0, ID_BYTES * n);
    const nonces = buffer('nonces', NONCE_BYTES * this.proofs).subarray(0, NONCE_BYTES * this.proofs);
    const refused = buffer('refused', n).subarray(0, n);
    const data = buffer('data', dataBytes).subarray(0, dataBytes);
    const tags = buffer('tags', tagBytes).subarray(0, tagBytes);
    const prefixes = buffer('prefixes', WORK_PREFIX_BYTES * this.proofs).subarray(0, WORK_PREFIX_BYTES * this.proofs);
    const thresholds = buffer('thresholds', 8 * this.proofs).subarray(0, 8 * this.proofs);
    const headers = headersOf(ring);
    let scopeEnd = 0;
    this.pack(
      headers.bytes,
      headers.ends,
      termsTable(this.termList),
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

// Texts are written a chunk of pairs at a time: strings this short are young garbage,
// where a whole batch's would be large objects, which cost full collections of the old heap.
const CHUNK_ITEMS = 256;
