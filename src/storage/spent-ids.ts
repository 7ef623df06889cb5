// MemoryReplayStore's table: ids and their expiry, in insertion order, like a
// Map<string, number>, but a challenge id (22 canonical base64url characters) is held
// as its 16 bytes in typed arrays. verifySolutions then spends the bytes the addon has
// already decoded, and neither side pays for a Map entry or a string hash: a Map's get
// and set were most of a valid pair's spend (docs/BENCHMARKS.md, Verifying).
// Canonical base64url is one-to-one, so an id's text and its bytes are the same key;
// any other id (not 22 characters, or not canonical) is held by its text.
import { randomBytes } from 'node:crypto';
import { decodeBase64urlInto } from '../base64url.js';
import { ID_CHARS } from '../wire.js';

/** No entry. */
export const NONE = -1;

/** Slots per entry: at most half the slots are in use, so probe runs stay short. */
const SLOTS_PER_ENTRY = 2;
const FIRST_CAPACITY = 16;
/** Per process, not per table: a store per batch (as some callers make) should not pay for a random draw each. */
const SEED = randomBytes(4).readInt32LE(0) | 1;

/**
 * Ids with their expiry, in insertion order. Entries are numbered; `first()` and
 * `next(entry)` walk them oldest first, and deleting the entry just visited is safe.
 * The hash is seeded at random once per process, so ids chosen to collide cannot be prepared.
 */
export class SpentIds {
  /** Live entries. */
  size = 0;
  private capacity = 0;
  /** Per entry: the id's 16 bytes as 4 little-endian words (byte ids only). */
  private words = new Int32Array(0);
  private expiry = new Float64Array(0);
  /** Insertion order: a doubly linked list of entries; a free entry's `after` links the free list. */
  private after = new Int32Array(0);
  private before = new Int32Array(0);
  /** Per slot: entry + 1, or 0 when empty (linear probing, backward-shift deletion). */
  private slots = new Int32Array(0);
  private mask = 0;
  /** Ids held by their text; `texts[entry]` is undefined for a byte id. */
  private readonly byText = new Map<string, number>();
  private texts: (string | undefined)[] = [];
  private head = NONE;
  private tail = NONE;
  private free = NONE;
  private readonly seed = SEED;
  /** The words of `decoded`, the last text id decoded (a spend finds, then adds, the same id). */
  private readonly textWords = new Int32Array(4);
  private decoded: string | undefined;
  private decodedCanonical = false;

  first(): number {
    return this.head;
  }

  next(entry: number): number {
    return this.after[entry]!;
  }

  expiresAt(entry: number): number {
    return this.expiry[entry]!;
  }

  /** The entry holding `id`, or NONE. */
  findText(id: string): number {
    if (!this.decode(id)) return this.byText.get(id) ?? NONE;
    const w = this.textWords;
    return this.findWords(w[0]!, w[1]!, w[2]!, w[3]!);
  }

  /** The entry holding the id whose 16 bytes are bytes[at, at + 16), or NONE. */
  findBytes(bytes: Uint8Array, at: number): number {
    return this.findWords(wordAt(bytes, at), wordAt(bytes, at + 4), wordAt(bytes, at + 8), wordAt(bytes, at + 12));
  }

  /** Adds `id` (not held) at the end of the order. */
  addText(id: string, expiresAt: number): void {
    if (!this.decode(id)) {
      const entry = this.newEntry(expiresAt);
      this.texts[entry] = id;
      this.byText.set(id, entry);
      return;
    }
    const w = this.textWords;
    this.addWords(w[0]!, w[1]!, w[2]!, w[3]!, expiresAt);
  }

  /** Adds the id of bytes[at, at + 16) (not held) at the end of the order. */
  addBytes(bytes: Uint8Array, at: number, expiresAt: number): void {
    this.addWords(wordAt(bytes, at), wordAt(bytes, at + 4), wordAt(bytes, at + 8), wordAt(bytes, at + 12), expiresAt);
  }

  /** Decodes `id` into textWords unless it was the last one decoded; true when it is a challenge id's canonical text. */
  private decode(id: string): boolean {
    if (id !== this.decoded) {
      this.decodedCanonical = canonicalWords(id, this.textWords);
      this.decoded = id;
    }
    return this.decodedCanonical;
  }

  /** Makes room for `count` more entries at once, rather than growing step by step. */
  reserve(count: number): void {
    let capacity = Math.max(this.capacity, FIRST_CAPACITY);
    while (capacity < this.size + count) capacity *= 2;
    if (capacity > this.capacity) this.grow(capacity);
  }

  delete(entry: number): void {
    const text = this.textOf(entry);
    if (text !== undefined) {
      this.byText.delete(text);
      this.texts[entry] = undefined;
    } else {
      this.unslot(entry);
    }
    const { after, before } = this;
    const next = after[entry]!;
    const previous = before[entry]!;
    if (previous === NONE) this.head = next;
    else after[previous] = next;
    if (next === NONE) this.tail = previous;
    else before[next] = previous;
    after[entry] = this.free;
    this.free = entry;
    this.size--;
  }

  private hash(a: number, b: number, c: number, d: number): number {
    let h = Math.imul(a ^ this.seed, 0x9e3779b1);
    h = Math.imul(h ^ b ^ (h >>> 15), 0x85ebca6b);
    h = Math.imul(h ^ c ^ (h >>> 13), 0xc2b2ae35);
    h = Math.imul(h ^ d ^ (h >>> 16), 0x27d4eb2f);
    return (h ^ (h >>> 15)) & this.mask;
  }

  private findWords(a: number, b: number, c: number, d: number): number {
    if (this.capacity === 0) return NONE;
    const { slots, words, mask } = this;
    for (let slot = this.hash(a, b, c, d); ; slot = (slot + 1) & mask) {
      const held = slots[slot]! - 1;
      if (held < 0) return NONE;
      const w = 4 * held;
      if (words[w] === a && words[w + 1] === b && words[w + 2] === c && words[w + 3] === d) return held;
    }
  }

  private addWords(a: number, b: number, c: number, d: number, expiresAt: number): void {
    const entry = this.newEntry(expiresAt);
    const w = 4 * entry;
    this.words[w] = a;
    this.words[w + 1] = b;
    this.words[w + 2] = c;
    this.words[w + 3] = d;
    this.slot(entry);
  }

  /** A fresh entry at the end of the order. */
  private newEntry(expiresAt: number): number {
    if (this.free === NONE) this.grow(Math.max(FIRST_CAPACITY, 2 * this.capacity));
    const entry = this.free;
    this.free = this.after[entry]!;
    this.expiry[entry] = expiresAt;
    this.after[entry] = NONE;
    this.before[entry] = this.tail;
    if (this.tail === NONE) this.head = entry;
    else this.after[this.tail] = entry;
    this.tail = entry;
    this.size++;
    return entry;
  }

  private slot(entry: number): void {
    const { slots, words, mask } = this;
    const w = 4 * entry;
    let slot = this.hash(words[w]!, words[w + 1]!, words[w + 2]!, words[w + 3]!);
    while (slots[slot] !== 0) slot = (slot + 1) & mask;
    slots[slot] = entry + 1;
  }

  /** Removes a byte id's slot, shifting later members of its probe run back (no tombstones). */
  private unslot(entry: number): void {
    const { slots, words, mask } = this;
    const w = 4 * entry;
    let hole = this.hash(words[w]!, words[w + 1]!, words[w + 2]!, words[w + 3]!);
    while (slots[hole] !== entry + 1) hole = (hole + 1) & mask;
    for (let slot = (hole + 1) & mask; slots[slot] !== 0; slot = (slot + 1) & mask) {
      const moved = 4 * (slots[slot]! - 1);
      const home = this.hash(words[moved]!, words[moved + 1]!, words[moved + 2]!, words[moved + 3]!);
      // Move it into the hole unless its home lies cyclically in (hole, slot].
      if (((slot - home) & mask) >= ((slot - hole) & mask)) {
        slots[hole] = slots[slot]!;
        hole = slot;
      }
    }
    slots[hole] = 0;
  }

  /** Entries keep their numbers; new ones join the free list; every byte id is slotted again. */
  private grow(capacity: number): void {
    const old = this.capacity;
    const words = new Int32Array(4 * capacity);
    const expiry = new Float64Array(capacity);
    const after = new Int32Array(capacity);
    const before = new Int32Array(capacity);
    words.set(this.words);
    expiry.set(this.expiry);
    after.set(this.after);
    before.set(this.before);
    for (let entry = capacity - 1; entry >= old; entry--) {
      after[entry] = this.free;
      this.free = entry;
    }
    this.words = words;
    this.expiry = expiry;
    this.after = after;
    this.before = before;
    this.capacity = capacity;
    this.slots = new Int32Array(SLOTS_PER_ENTRY * capacity);
    this.mask = SLOTS_PER_ENTRY * capacity - 1;
    for (let entry = this.head; entry !== NONE; entry = after[entry]!) if (this.textOf(entry) === undefined) this.slot(entry);
  }

  /** A text id's text; undefined for a byte id (the usual case, so the array is not read then). */
  private textOf(entry: number): string | undefined {
    return this.byText.size === 0 ? undefined : this.texts[entry];
  }
}

/** Little-endian word of bytes[at, at + 4). */
function wordAt(bytes: Uint8Array, at: number): number {
  return bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24);
}

/** A challenge id's 16 bytes, decoded from its text (scratch: used and read with no await in between). */
const idBytes = new Uint8Array(16);

/** Decodes `id` into 4 little-endian words of its 16 bytes when it is a challenge id's canonical spelling. */
function canonicalWords(id: string, out: Int32Array): boolean {
  if (id.length !== ID_CHARS || !decodeBase64urlInto(id, idBytes, 0)) return false;
  out[0] = wordAt(idBytes, 0);
  out[1] = wordAt(idBytes, 4);
  out[2] = wordAt(idBytes, 8);
  out[3] = wordAt(idBytes, 12);
  return true;
}
