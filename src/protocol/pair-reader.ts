// Reads one untrusted (challenge, solution) pair straight into the arrays the backends
// check: the MAC input, and the proofs' prefixes, nonces and thresholds. base64url and
// hex are decoded in place, and each field is read once (so a getter cannot change it
// between check and use). verifySolution reads every pair here, and verifySolutions
// every pair its fast path (batch-reader.ts) does not take, with the same verdicts.
import { ID_BYTES, MAC_BYTES, MAX_SUB_PUZZLES, NONCE_BYTES, NONCE_CHARS, WORK_INDEX_AT, WORK_LABEL, WORK_MAC_AT, WORK_PREFIX_BYTES } from '../wire.js';
import { decodeBase64urlInto } from '../base64url.js';
import type { Challenge } from './challenge.js';
import { challengeFieldsHold, exactSteps, hasChallengeKeys, hasSolutionKeys, solutionFieldsHold } from './fields.js';
import type { Solution } from './solution.js';
import { DIFFICULTY_STEPS } from './difficulty.js';
import { KID_PATTERN, type KeyRing } from './keys.js';
import { MAX_HEADER_BYTES, MAX_MAC_INPUT, headerOf, thresholdEntry } from './mac-layout.js';
import { isScope } from './shape.js';

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

const WORK_LABEL_BYTES = Buffer.from(WORK_LABEL, 'latin1');
const HEX = new Int8Array(128).fill(-1);
[...'0123456789abcdef'].forEach((c, i) => (HEX[c.charCodeAt(0)] = i));

/** 16 lowercase hex digits into 8 bytes. */
function decodeNonce(text: string, out: Uint8Array, at: number): boolean {
  if (text.length !== NONCE_CHARS) return false;
  for (let i = 0; i < NONCE_CHARS; i += 2) {
    const a = text.charCodeAt(i);
    const b = text.charCodeAt(i + 1);
    const hi = a < 128 ? HEX[a]! : -1;
    const lo = b < 128 ? HEX[b]! : -1;
    if (hi < 0 || lo < 0) return false;
    out[at + i / 2] = (hi << 4) | lo;
  }
  return true;
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

/** One pair at a time; its arrays are reused, so read and check a pair before reading the next. */
export class PairReader {
  /** The MAC input, at [0, macLength). */
  readonly input = new Uint8Array(MAX_MAC_INPUT);
  /** One proof per sub-puzzle; the signature sits at prefixes[4, 36). */
  readonly prefixes = new Uint8Array(WORK_PREFIX_BYTES * MAX_SUB_PUZZLES);
  readonly nonces = new Uint8Array(NONCE_BYTES * MAX_SUB_PUZZLES);
  readonly thresholds = new Uint8Array(8 * MAX_SUB_PUZZLES);
  /** The expected tag: a view of the first prefix's signature. */
  readonly tag = this.prefixes.subarray(WORK_MAC_AT, WORK_MAC_AT + MAC_BYTES);
  private readonly spareId = new Uint8Array(ID_BYTES);
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
    if (!hasChallengeKeys(challenge) || !hasSolutionKeys(solution)) return 'malformed';
    // Each field read once, typed as claimed and checked at once.
    const { v, id, kid, difficulty, threshold, subPuzzles, calls, price, scope, issuedAt, expiresAt, signature } = challenge as Challenge;
    if (!challengeFieldsHold(v, id, kid, difficulty, threshold, subPuzzles, calls, price, scope, issuedAt, expiresAt, signature) || !isScope(scope)) return 'malformed';
    const steps = exactSteps(difficulty);
    if (steps < 0) return 'malformed';
    const entry = thresholdEntry(steps);
    if (threshold !== entry.hex) return 'malformed';

    const { v: sv, id: solvedId, nonces, elapsedMs } = solution as Solution;
    if (!solutionFieldsHold(sv, solvedId, nonces, 'elapsedMs' in solution, elapsedMs)) return 'malformed';

    // The id goes where the MAC input holds it, after the key's header; until the key is
    // known, after the longest header (a kid is at most 64 characters).
    const keyIndex = ring.indexOf(kid);
    const header = keyIndex < 0 ? undefined : headerOf(ring.keys[keyIndex]!);
    const idAt = header ? header.length : MAX_HEADER_BYTES;
    const { input, prefixes } = this;
    if (!decodeBase64urlInto(id, input, idAt) || !decodeBase64urlInto(signature, prefixes, WORK_MAC_AT)) return 'malformed';
    if (solvedId !== id && !decodeBase64urlInto(solvedId, this.spareId, 0)) return 'malformed';
    for (let j = 0; j < nonces.length; j++) {
      const nonce: unknown = nonces[j];
      if (typeof nonce !== 'string' || !decodeNonce(nonce, this.nonces, NONCE_BYTES * j)) return 'malformed';
    }
    if (!header) return KID_PATTERN.test(kid) ? 'unknown_key' : 'malformed';

    input.set(header, 0);
    this.idAt = idAt;
    let at = idAt + ID_BYTES;
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
    prefixes.fill(0, WORK_INDEX_AT, WORK_PREFIX_BYTES);
    for (let j = 1; j < count; j++) {
      prefixes.copyWithin(WORK_PREFIX_BYTES * j, 0, WORK_PREFIX_BYTES);
      prefixes[WORK_PREFIX_BYTES * j + WORK_PREFIX_BYTES - 1] = j; // the index's low byte: at most 63
    }
    for (let j = 0; j < count; j++) thresholds.set(threshold, 8 * j);
  }
}
