// verifySolutions' fast path. Pairs of the usual shape (plain objects, keys in the
// order powgate writes them, a known key) are read with no per-byte
// work in JavaScript: their base64url and hex fields are decoded in bulk, one
// Buffer.from per field over the whole batch, and the addon lays out the MAC inputs
// and proofs. Anything else, and any batch whose bulk decoding finds a bad
// character, goes to the per-pair reader, which gives the exact refusal.
import type { PackChallenges } from '../backend/native.js';
import { CHALLENGE_LABEL, MAX_SUB_PUZZLES } from './challenge.js';
import { DIFFICULTY_STEPS, PROTOCOL_MAX_DIFFICULTY, PROTOCOL_MIN_DIFFICULTY } from './difficulty.js';
import type { KeyRing } from './keys.js';
import { thresholdEntry } from './pair-reader.js';
import { isScope, isTimestamp, keysInOrder } from './shape.js';

const CHALLENGE_KEYS = ['v', 'id', 'kid', 'difficulty', 'threshold', 'subPuzzles', 'scope', 'issuedAt', 'expiresAt', 'signature'];
const SOLUTION_KEYS = ['v', 'id', 'nonces', 'elapsedMs'];
const ITEM_WORDS = 7;
const CAPITALS = ['A', 'B', 'C', 'D', 'E', 'F'];
const ID_STRIDE = 18;
const SIG_STRIDE = 33;
/** MAC input bytes besides the key's header and the scope: id, steps, T, sub-puzzles, scope length, two times. */
const MAC_BODY_BYTES = 16 + 12 + 1 + 2 + 16;

// The MAC input's opening bytes per key (label, version, kid), packed once per ring.
const headerCache = new WeakMap<KeyRing, { bytes: Uint8Array; ends: Uint32Array }>();

function headersOf(ring: KeyRing): { bytes: Uint8Array; ends: Uint32Array } {
  let headers = headerCache.get(ring);
  if (!headers) {
    const parts = ring.keys.map((key) =>
      Buffer.concat([Buffer.from(`${CHALLENGE_LABEL}\0`, 'latin1'), Uint8Array.of(1, key.kid.length), Buffer.from(key.kid, 'latin1')]),
    );
    let end = 0;
    headers = { bytes: Buffer.concat(parts), ends: Uint32Array.from(parts, (p) => (end += p.length)) };
    headerCache.set(ring, headers);
  }
  return headers;
}

/** What a fast item needs after packing: its verdict fields and where its checks landed. */
export interface FastItem {
  index: number;
  id: string;
  kid: string;
  keyIndex: number;
  scope: string;
  difficulty: number;
  subPuzzles: number;
  issuedAt: number;
  expiresAt: number;
  firstProof: number;
  macLength: number;
  stepIndex: number;
  scopeIndex: number;
}

/** The packed batch: MAC inputs in groups of equal length, and all proofs. */
export interface PackedBatch {
  macGroups: { length: number; data: Uint8Array; tags: Uint8Array; keyIndexes: Uint8Array; items: number[] }[];
  prefixes: Uint8Array;
  nonces: Uint8Array;
  thresholds: Uint8Array;
  /** Items the bulk decoding found non-canonical: for the per-pair reader. */
  rejected: number[];
}

export class BatchReader {
  readonly items: FastItem[] = [];
  private readonly sigTexts: string[] = [];
  private readonly idTexts: string[] = [];
  private readonly nonceTexts: string[] = [];
  private readonly steps = new Map<number, number>();
  private readonly stepList: number[] = [];
  private readonly scopes = new Map<string, number>();
  private proofs = 0;
  private lastKid = '';
  private lastKeyIndex = -1;
  private lastSteps = -1;
  private lastThreshold = '';
  private lastStepIndex = -1;
  private lastScope: string | undefined;
  private lastScopeIndex = -1;

  constructor(
    private readonly ring: KeyRing,
    private readonly pack: PackChallenges,
  ) {}

  /** Takes the pair when it has the usual shape; false sends it to the per-pair reader. Never throws. */
  take(challenge: unknown, solution: unknown, index: number): boolean {
    try {
      return this.takeUnsafe(challenge, solution, index);
    } catch {
      return false;
    }
  }

  private takeUnsafe(challenge: unknown, solution: unknown, index: number): boolean {
    if (typeof challenge !== 'object' || challenge === null || typeof solution !== 'object' || solution === null) return false;
    const solutionKeys = keysInOrder(solution, SOLUTION_KEYS);
    if (keysInOrder(challenge, CHALLENGE_KEYS) !== CHALLENGE_KEYS.length || solutionKeys < 3) return false;
    const { v, id, kid, difficulty, threshold, subPuzzles, scope, issuedAt, expiresAt, signature } = challenge as Record<string, unknown>;
    const { v: sv, id: solvedId, nonces, elapsedMs } = solution as Record<string, unknown>;
    if (solutionKeys === 4 && !isTimestamp(elapsedMs)) return false;
    if (v !== 1 || sv !== 1 || typeof id !== 'string' || id.length !== 22 || solvedId !== id) return false;
    if (typeof signature !== 'string' || signature.length !== 43 || typeof kid !== 'string' || typeof scope !== 'string') return false;
    if (typeof difficulty !== 'number' || !(difficulty >= PROTOCOL_MIN_DIFFICULTY && difficulty <= PROTOCOL_MAX_DIFFICULTY)) return false;
    if (typeof subPuzzles !== 'number' || !Number.isInteger(subPuzzles) || subPuzzles < 1 || subPuzzles > MAX_SUB_PUZZLES) return false;
    if (!isTimestamp(issuedAt) || !isTimestamp(expiresAt) || expiresAt < issuedAt) return false;
    if (!Array.isArray(nonces) || nonces.length !== subPuzzles) return false;
    for (let j = 0; j < subPuzzles; j++) {
      const nonce: unknown = nonces[j];
      if (typeof nonce !== 'string' || nonce.length !== 16) return false;
    }
    // Consecutive pairs mostly share key, difficulty and scope: remember the last of each.
    const steps = Math.round(difficulty * DIFFICULTY_STEPS);
    if (steps / DIFFICULTY_STEPS !== difficulty) return false;
    if (steps !== this.lastSteps) {
      let index = this.steps.get(steps);
      if (index === undefined) {
        index = this.stepList.length;
        this.steps.set(steps, index);
        this.stepList.push(steps);
      }
      this.lastSteps = steps;
      this.lastThreshold = thresholdEntry(steps).hex;
      this.lastStepIndex = index;
    }
    if (threshold !== this.lastThreshold) return false;
    if (kid !== this.lastKid) {
      this.lastKeyIndex = this.ring.indexOf(kid);
      this.lastKid = kid;
    }
    if (this.lastKeyIndex < 0) return false;
    if (scope !== this.lastScope) {
      let index = this.scopes.get(scope);
      if (index === undefined) {
        if (!isScope(scope)) return false;
        index = this.scopes.size;
        this.scopes.set(scope, index);
      }
      this.lastScope = scope;
      this.lastScopeIndex = index;
    }

    this.sigTexts.push(signature);
    this.idTexts.push(id);
    for (let j = 0; j < subPuzzles; j++) this.nonceTexts.push(nonces[j] as string);
    this.items.push({
      index,
      id,
      kid,
      keyIndex: this.lastKeyIndex,
      scope,
      difficulty,
      subPuzzles,
      issuedAt,
      expiresAt,
      firstProof: this.proofs,
      macLength: kid.length + scope.length + CHALLENGE_LABEL.length + 3 + MAC_BODY_BYTES,
      stepIndex: this.lastStepIndex,
      scopeIndex: this.lastScopeIndex,
    });
    this.proofs += subPuzzles;
    return true;
  }

  /** Decodes and packs every taken item; undefined when the bulk decoding cannot be trusted (then read them one by one). */
  finish(): PackedBatch | undefined {
    const n = this.items.length;
    const signatures = bulkBase64url(this.sigTexts, 'A', (scratch.signatures = grown(scratch.signatures, SIG_STRIDE * n)));
    const ids = bulkBase64url(this.idTexts, 'AA', (scratch.ids = grown(scratch.ids, ID_STRIDE * n)));
    const nonceText = this.nonceTexts.join('');
    const nonces = (scratch.nonces = grown(scratch.nonces, 8 * this.proofs)).subarray(0, 8 * this.proofs);
    // Node's hex decoder stops at the first non-hex character and accepts capitals; the protocol does not.
    const nonceBytes = nonces.write(nonceText, 'hex');
    if (!signatures || !ids || nonceBytes !== nonces.length || CAPITALS.some((c) => nonceText.includes(c))) {
      return undefined;
    }

    // One MAC group per input length; usually there is just one.
    const groups = new Map<number, { length: number; items: number[] }>();
    for (let k = 0; k < n; k++) {
      const length = this.items[k]!.macLength;
      const group = groups.get(length);
      if (group) group.items.push(k);
      else groups.set(length, { length, items: [k] });
    }
    const words = (scratch.words = grownWords(scratch.words, ITEM_WORDS * n)).subarray(0, ITEM_WORDS * n);
    const times = (scratch.times = grownTimes(scratch.times, 2 * n)).subarray(0, 2 * n);
    const rejected: number[] = [];
    const macGroups: PackedBatch['macGroups'] = [];
    let dataBytes = 0;
    let tagBytes = 0;
    for (const { length, items } of groups.values()) {
      const keyIndexes = new Uint8Array(items.length);
      for (let rank = 0; rank < items.length; rank++) {
        const k = items[rank]!;
        const item = this.items[k]!;
        // Base64url's unused low bits must be zero: the canonical encoding, as the per-pair reader demands.
        if (signatures[SIG_STRIDE * k + 32] !== 0 || ids[ID_STRIDE * k + 16] !== 0 || ids[ID_STRIDE * k + 17] !== 0) rejected.push(k);
        const w = ITEM_WORDS * k;
        words[w] = item.keyIndex;
        words[w + 1] = item.stepIndex;
        words[w + 2] = item.scopeIndex;
        words[w + 3] = item.subPuzzles;
        words[w + 4] = dataBytes + rank * length;
        words[w + 5] = tagBytes + 32 * rank;
        words[w + 6] = item.firstProof;
        times[2 * k] = item.issuedAt;
        times[2 * k + 1] = item.expiresAt;
        keyIndexes[rank] = item.keyIndex;
      }
      macGroups.push({ length, data: EMPTY, tags: EMPTY, keyIndexes, items });
      dataBytes += items.length * length;
      tagBytes += 32 * items.length;
    }
    const data = (scratch.data = grown(scratch.data, dataBytes)).subarray(0, dataBytes);
    const tags = (scratch.tags = grown(scratch.tags, tagBytes)).subarray(0, tagBytes);
    const prefixes = (scratch.prefixes = grown(scratch.prefixes, 40 * this.proofs)).subarray(0, 40 * this.proofs);
    const thresholds = (scratch.thresholds = grown(scratch.thresholds, 8 * this.proofs)).subarray(0, 8 * this.proofs);
    const headers = headersOf(this.ring);
    const scopeList = [...this.scopes.keys()];
    let scopeEnd = 0;
    const table = new Uint8Array(12 * this.stepList.length);
    this.stepList.forEach((steps, i) => table.set(thresholdEntry(steps).macBytes, 12 * i));
    this.pack(
      headers.bytes,
      headers.ends,
      table,
      Buffer.from(scopeList.join(''), 'latin1'),
      Uint32Array.from(scopeList, (s) => (scopeEnd += s.length)),
      words,
      times,
      ids,
      signatures,
      data,
      tags,
      prefixes,
      thresholds,
    );
    let at = 0;
    let tagAt = 0;
    for (const group of macGroups) {
      group.data = data.subarray(at, (at += group.items.length * group.length));
      group.tags = tags.subarray(tagAt, (tagAt += 32 * group.items.length));
    }
    return { macGroups, prefixes, nonces, thresholds, rejected };
  }
}

const EMPTY = new Uint8Array(0);

// Batches reuse these (fresh buffers of megabytes cost a page fault per 4 KiB on first
// touch). Safe because verifySolutions packs and checks with no await in between.
const scratch: Record<'signatures' | 'ids' | 'nonces' | 'data' | 'tags' | 'prefixes' | 'thresholds', Buffer> & {
  words: Uint32Array;
  times: Float64Array;
} = {
  signatures: Buffer.alloc(0),
  ids: Buffer.alloc(0),
  nonces: Buffer.alloc(0),
  data: Buffer.alloc(0),
  tags: Buffer.alloc(0),
  prefixes: Buffer.alloc(0),
  thresholds: Buffer.alloc(0),
  words: new Uint32Array(0),
  times: new Float64Array(0),
};

function grown(buffer: Buffer, size: number): Buffer {
  return buffer.length >= size ? buffer : Buffer.allocUnsafeSlow(Math.max(size, 2 * buffer.length));
}

function grownWords(words: Uint32Array, size: number): Uint32Array {
  return words.length >= size ? words : new Uint32Array(Math.max(size, 2 * words.length));
}

function grownTimes(times: Float64Array, size: number): Float64Array {
  return times.length >= size ? times : new Float64Array(Math.max(size, 2 * times.length));
}

/**
 * Decodes equal-length base64url texts at once: each gets `pad` appended (zero bits,
 * so that it ends on a byte), and the whole is one Buffer.from. Undefined unless every
 * character was in the alphabet (Node skips others, shortening the output, and reads
 * '+' and '/' as '-' and '_', which the protocol does not).
 */
function bulkBase64url(texts: readonly string[], pad: string, into: Buffer): Buffer | undefined {
  const joined = texts.join(pad) + (texts.length > 0 ? pad : '');
  if (joined.includes('+') || joined.includes('/')) return undefined;
  const bytes = (joined.length / 4) * 3;
  // Node skips characters outside the alphabet, so a short write means there was one.
  return into.write(joined, 'base64url') === bytes ? into : undefined;
}
