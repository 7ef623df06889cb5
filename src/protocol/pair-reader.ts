// Reads one untrusted (challenge, solution) pair straight into the arrays the backends
// check: the MAC input, and the proofs' prefixes, nonces and thresholds. base64url and
// hex are decoded in place, and each field is read once (so a getter cannot change it
// between check and use). verifySolution reads every pair here, and verifySolutions
// every pair its fast path (batch-reader.ts) does not take, with the same verdicts.
import { CHALLENGE_KEYS, CHALLENGE_LABEL, CHALLENGE_VERSION, ID_CHARS, MAX_SUB_PUZZLES, SIGNATURE_CHARS, SOLUTION_KEYS, SOLUTION_OPTIONAL_KEYS, WORK_LABEL, WORK_PREFIX_BYTES } from '../wire.js';
import { isCalls, isPrice } from './challenge.js';
import { DIFFICULTY_STEPS, PROTOCOL_MAX_DIFFICULTY, PROTOCOL_MIN_DIFFICULTY, thresholdForSteps, thresholdHex } from './difficulty.js';
import { KID_PATTERN, type Key, type KeyRing } from './keys.js';
import { hasExactKeys, isScope, isTimestamp, keysInOrder } from './shape.js';

/** A pair's verdict when every check passes: what the challenge signed. */
export interface Accepted {
  ok: true;
  id: string;
  kid: string;
  scope: string;
  difficulty: number;
  subPuzzles: number;
  /** Calls the token it buys allows. */
  calls: number;
  /** Bits one call cost (docs/PROTOCOL.md, "Calls and price"). */
  price: number;
  issuedAt: number;
  expiresAt: number;
}

/** A pair of the protocol's shape whose key this verifier holds. */
export interface ReadPair extends Omit<Accepted, 'ok'> {
  keyIndex: number;
  macLength: number;
  /** 0: its proofs start the proof arrays; -1 when the solution does not answer this challenge. */
  firstProof: number;
}

interface ThresholdEntry {
  hex: string;
  /** T as 8 big-endian bytes, for the proof check. */
  bytes: Uint8Array;
  /** steps (u32) and T (u64), as the MAC input holds them. */
  macBytes: Uint8Array;
}

const SOLUTION_ORDER = [...SOLUTION_KEYS, ...SOLUTION_OPTIONAL_KEYS];
const WORK_LABEL_BYTES = Buffer.from(WORK_LABEL, 'latin1');
/** The MAC input's fixed-width fields: label, version, two length bytes, id, steps, T, calls, price, sub-puzzles, u16 length, two times. */
const MAC_FIXED_BYTES = CHALLENGE_LABEL.length + 1 + 1 + 1 + 16 + 4 + 8 + 4 + 4 + 1 + 2 + 8 + 8;

/** The length of a challenge's MAC input (docs/PROTOCOL.md) with a kid and a scope of these lengths. */
export function macInputLength(kidLength: number, scopeLength: number): number {
  return MAC_FIXED_BYTES + kidLength + scopeLength;
}

// Sextet values, -1 for characters outside base64url's alphabet.
const BASE64URL = new Int32Array(128).fill(-1);
const HEX = new Int8Array(128).fill(-1);
[...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'].forEach((c, i) => (BASE64URL[c.charCodeAt(0)] = i));
[...'0123456789abcdef'].forEach((c, i) => (HEX[c.charCodeAt(0)] = i));

/**
 * Decodes unpadded base64url into out[at, ...); false unless every character is in
 * the alphabet and the unused low bits of the last are zero (the one canonical form).
 * Four characters a step: a -1 from the table makes the whole group negative.
 */
function decodeBase64url(text: string, out: Uint8Array, at: number): boolean {
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
    const x = (BASE64URL[a & 127]! << 18) | (BASE64URL[b & 127]! << 12) | (BASE64URL[c & 127]! << 6) | BASE64URL[d & 127]!;
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
    x = (x << 6) | BASE64URL[c & 127]!;
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

/** 16 lowercase hex digits into 8 bytes. */
function decodeNonce(text: string, out: Uint8Array, at: number): boolean {
  if (text.length !== 16) return false;
  for (let i = 0; i < 16; i += 2) {
    const a = text.charCodeAt(i);
    const b = text.charCodeAt(i + 1);
    const hi = a < 128 ? HEX[a]! : -1;
    const lo = b < 128 ? HEX[b]! : -1;
    if (hi < 0 || lo < 0) return false;
    out[at + i / 2] = (hi << 4) | lo;
  }
  return true;
}

// Keys in the order powgate writes them are checked without a search.
function hasKeys(value: object, keys: readonly string[], optional: readonly string[], ordered: readonly string[]): boolean {
  return keysInOrder(value, ordered) >= keys.length || hasExactKeys(value, keys, optional);
}

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

function writeU32(out: Uint8Array, at: number, value: number): void {
  out[at] = value >>> 24;
  out[at + 1] = value >>> 16;
  out[at + 2] = value >>> 8;
  out[at + 3] = value;
}

function writeU64(out: Uint8Array, at: number, value: number): void {
  const hi = Math.floor(value / 0x100000000);
  const lo = value >>> 0;
  out[at] = hi >>> 24;
  out[at + 1] = hi >>> 16;
  out[at + 2] = hi >>> 8;
  out[at + 3] = hi;
  out[at + 4] = lo >>> 24;
  out[at + 5] = lo >>> 16;
  out[at + 6] = lo >>> 8;
  out[at + 7] = lo;
}

const MAX_HEADER_BYTES = CHALLENGE_LABEL.length + 1 + 1 + 1 + 64;
const MAX_MAC_INPUT = MAC_FIXED_BYTES + 64 + 256;

/** One pair at a time; its arrays are reused, so read and check a pair before reading the next. */
export class PairReader {
  /** The MAC input, at [0, macLength). */
  readonly input = new Uint8Array(MAX_MAC_INPUT);
  /** One proof per sub-puzzle; the signature sits at prefixes[4, 36). */
  readonly prefixes = new Uint8Array(WORK_PREFIX_BYTES * MAX_SUB_PUZZLES);
  readonly nonces = new Uint8Array(8 * MAX_SUB_PUZZLES);
  readonly thresholds = new Uint8Array(8 * MAX_SUB_PUZZLES);
  /** The expected tag: a view of the first prefix's signature. */
  readonly tag = this.prefixes.subarray(4, 36);
  private readonly spareId = new Uint8Array(16);
  /** Where the last pair read whose key is known holds its id's 16 bytes in `input`. */
  idAt = 0;

  /** Reads one pair; never throws: a hostile object is `malformed`. */
  read(ring: KeyRing, challenge: unknown, solution: unknown): ReadPair | 'malformed' | 'unsupported_version' | 'unknown_key' {
    try {
      return this.readUnsafe(ring, challenge, solution);
    } catch {
      return 'malformed';
    }
  }

  private readUnsafe(ring: KeyRing, challenge: unknown, solution: unknown): ReadPair | 'malformed' | 'unsupported_version' | 'unknown_key' {
    if (typeof challenge !== 'object' || challenge === null || typeof solution !== 'object' || solution === null) return 'malformed';
    if ((challenge as { v?: unknown }).v === 1) return 'unsupported_version';
    if (!hasKeys(challenge, CHALLENGE_KEYS, [], CHALLENGE_KEYS) || !hasKeys(solution, SOLUTION_KEYS, SOLUTION_OPTIONAL_KEYS, SOLUTION_ORDER)) {
      return 'malformed';
    }
    const c = challenge as Record<string, unknown>;
    const { v, id, kid, difficulty, threshold, subPuzzles, calls, price, scope, issuedAt, expiresAt, signature } = c;
    if (v !== CHALLENGE_VERSION || typeof id !== 'string' || id.length !== ID_CHARS || typeof kid !== 'string' || typeof scope !== 'string') return 'malformed';
    if (typeof signature !== 'string' || signature.length !== SIGNATURE_CHARS || typeof threshold !== 'string') return 'malformed';
    if (typeof difficulty !== 'number' || !(difficulty >= PROTOCOL_MIN_DIFFICULTY && difficulty <= PROTOCOL_MAX_DIFFICULTY)) return 'malformed';
    if (typeof subPuzzles !== 'number' || !Number.isInteger(subPuzzles) || subPuzzles < 1 || subPuzzles > MAX_SUB_PUZZLES) return 'malformed';
    if (!isCalls(calls) || !isPrice(price)) return 'malformed';
    if (!isTimestamp(issuedAt) || !isTimestamp(expiresAt) || expiresAt < issuedAt || !isScope(scope)) return 'malformed';
    const steps = Math.round(difficulty * DIFFICULTY_STEPS);
    if (steps / DIFFICULTY_STEPS !== difficulty) return 'malformed';
    const entry = thresholdEntry(steps);
    if (threshold !== entry.hex) return 'malformed';

    const s = solution as Record<string, unknown>;
    const { v: sv, id: solvedId, nonces, elapsedMs } = s;
    if (sv !== 1 || typeof solvedId !== 'string' || solvedId.length !== ID_CHARS || !Array.isArray(nonces)) return 'malformed';
    if (nonces.length < 1 || nonces.length > MAX_SUB_PUZZLES || ('elapsedMs' in s && !isTimestamp(elapsedMs))) return 'malformed';

    // The id goes where the MAC input holds it, after the key's header; until the key is
    // known, after the longest header (a kid is at most 64 characters).
    const keyIndex = ring.indexOf(kid);
    const header = keyIndex < 0 ? undefined : headerOf(ring.keys[keyIndex]!);
    const idAt = header ? header.length : MAX_HEADER_BYTES;
    const { input, prefixes } = this;
    if (!decodeBase64url(id, input, idAt) || !decodeBase64url(signature, prefixes, 4)) return 'malformed';
    if (solvedId !== id && !decodeBase64url(solvedId, this.spareId, 0)) return 'malformed';
    for (let j = 0; j < nonces.length; j++) {
      const nonce: unknown = nonces[j];
      if (typeof nonce !== 'string' || !decodeNonce(nonce, this.nonces, 8 * j)) return 'malformed';
    }
    if (!header) return KID_PATTERN.test(kid) ? 'unknown_key' : 'malformed';

    input.set(header, 0);
    this.idAt = idAt;
    let at = idAt + 16;
    const macBytes = entry.macBytes;
    for (let k = 0; k < 12; k++) input[at + k] = macBytes[k]!;
    at += 12;
    writeU32(input, at, calls);
    writeU32(input, at + 4, Math.round(price * DIFFICULTY_STEPS));
    at += 8;
    input[at++] = subPuzzles;
    input[at++] = scope.length >>> 8;
    input[at++] = scope.length;
    for (let k = 0; k < scope.length; k++) input[at++] = scope.charCodeAt(k);
    writeU64(input, at, issuedAt);
    writeU64(input, at + 8, expiresAt);

    const answers = solvedId === id && nonces.length === subPuzzles;
    if (answers) this.fillProofs(subPuzzles, entry.bytes);
    return {
      id,
      kid,
      scope,
      difficulty,
      subPuzzles,
      calls,
      price,
      issuedAt,
      expiresAt,
      keyIndex,
      macLength: at + 16,
      firstProof: answers ? 0 : -1,
    };
  }

  /** Completes the first prefix around its signature, copies it for the other sub-puzzles, and sets T. */
  private fillProofs(count: number, threshold: Uint8Array): void {
    const { prefixes, thresholds } = this;
    prefixes.set(WORK_LABEL_BYTES, 0);
    prefixes[36] = prefixes[37] = prefixes[38] = prefixes[39] = 0;
    for (let j = 1; j < count; j++) {
      prefixes.copyWithin(WORK_PREFIX_BYTES * j, 0, WORK_PREFIX_BYTES);
      prefixes[WORK_PREFIX_BYTES * j + 39] = j;
    }
    for (let j = 0; j < count; j++) thresholds.set(threshold, 8 * j);
  }
}
