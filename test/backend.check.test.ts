// checkProofs and checkMacs on every leg against node:crypto, computed here (not
// through JsBackend): batch sizes around every lane width, thresholds at and
// around each digest, MAC lengths around every padding edge, several keys, every
// single-bit change of a tag, caller buffers and unaligned views, argument errors,
// and the addon's own boundary called directly.
import { createHash, createHmac } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { prepareMacKey, type MacKey } from '../src/backend/mac-key.js';
import { ISA_IDS, loadNativeAddon, supportedIsas, type NativeAddon } from '../src/backend/native.js';
import type { Sha256Backend } from '../src/backend/types.js';
import { backendLegs, legTitle } from './helpers/backends.js';
import { expectCode } from './helpers/errors.js';
import { SEED, randomBytes, rng } from './helpers/random.js';

const BATCH_SIZES = [0, 1, 2, 3, 4, 5, 15, 16, 17, 31, 33, 1000];
// Around every padding edge: 55/56 (one or two tail blocks), 63/64/65, 119/120, and several blocks.
const MAC_LENGTHS = [0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 200, 390];
const KEY_LENGTHS = [0, 32, 64, 65, 100];
const MAX_U64 = (1n << 64n) - 1n;

console.info(`check tests: seed ${SEED} (POWGATE_TEST_SEED=${SEED} replays)`);

// ---- the oracle: node:crypto, here ---------------------------------------------------------

/** The first 8 bytes of SHA-256(prefix || nonce), big-endian. */
function proofValue(prefix: Uint8Array, nonce: Uint8Array): bigint {
  return createHash('sha256').update(prefix).update(nonce).digest().readBigUInt64BE(0);
}

function hmac(key: Uint8Array, message: Uint8Array): Buffer {
  return createHmac('sha256', key).update(message).digest();
}

function u64(value: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(value);
  return b;
}

function randomU64(next: () => number): bigint {
  return (BigInt(Math.floor(next() * 2 ** 32)) << 32n) | BigInt(Math.floor(next() * 2 ** 32));
}

const clamp = (t: bigint): bigint => (t < 0n ? 0n : t > MAX_U64 ? MAX_U64 : t);

/** Thresholds at and around a digest value d, each on both sides of the 64-bit compare's word boundary. */
const THRESHOLD_CASES: ((d: bigint, next: () => number) => bigint)[] = [
  (d) => d, // not below itself
  (d) => clamp(d + 1n),
  (d) => clamp(d - 1n),
  () => 0n,
  () => MAX_U64,
  (d, next) => (d & 0xffffffff00000000n) | BigInt(Math.floor(next() * 2 ** 32)), // same high word, another low word
  (d) => d & 0xffffffff00000000n, // same high word, low word 0
  (d) => d | 0xffffffffn, // same high word, low word all ones
  (d) => clamp((d & 0xffffffff00000000n) + 0x100000000n), // next high word, low word 0
  (d) => clamp((d & 0xffffffff00000000n) - 1n), // previous high word, low word all ones
  (d) => d ^ 0x8000000000000000n, // the top bit flipped (a signed compare would get this wrong)
  (d) => d ^ 0x80000000n, // the low word's top bit flipped
  (_, next) => randomU64(next),
];

interface ProofBatch {
  prefixes: Uint8Array;
  nonces: Uint8Array;
  thresholds: Uint8Array;
  expected: number[];
}

function proofBatch(next: () => number, count: number): ProofBatch {
  const prefixes = randomBytes(next, 40 * count);
  const nonces = randomBytes(next, 8 * count);
  const thresholds = new Uint8Array(8 * count);
  const expected: number[] = [];
  const offset = Math.floor(next() * THRESHOLD_CASES.length);
  for (let i = 0; i < count; i++) {
    const d = proofValue(prefixes.subarray(40 * i, 40 * i + 40), nonces.subarray(8 * i, 8 * i + 8));
    // Every case at every lane position over the batches, starting somewhere random.
    const t = THRESHOLD_CASES[(i + offset) % THRESHOLD_CASES.length]!(d, next);
    thresholds.set(u64(t), 8 * i);
    expected.push(d < t ? 1 : 0);
  }
  return { prefixes, nonces, thresholds, expected };
}

interface MacBatch {
  keyIndexes: Uint8Array;
  data: Uint8Array;
  macs: Uint8Array;
  expected: number[];
}

/**
 * Messages of one length under random keys; about half the tags are right, the rest
 * have one bit flipped, were made with another key, or are random.
 */
function macBatch(next: () => number, rawKeys: readonly Uint8Array[], count: number, length: number): MacBatch {
  const keyIndexes = Uint8Array.from({ length: count }, () => Math.floor(next() * rawKeys.length));
  const data = randomBytes(next, count * length);
  const macs = new Uint8Array(32 * count);
  const expected: number[] = [];
  for (let i = 0; i < count; i++) {
    const message = data.subarray(length * i, length * (i + 1));
    const right = hmac(rawKeys[keyIndexes[i]!]!, message);
    let tag: Uint8Array = right;
    const roll = next();
    if (roll < 0.3) {
      tag = Buffer.from(right);
      const bit = Math.floor(next() * 256);
      tag[bit >> 3]! ^= 0x80 >> (bit & 7);
    } else if (roll < 0.4) {
      tag = hmac(rawKeys[(keyIndexes[i]! + 1) % rawKeys.length]!, message);
    } else if (roll < 0.45) {
      tag = randomBytes(next, 32);
    }
    macs.set(tag, 32 * i);
    expected.push(Buffer.from(tag).equals(right) ? 1 : 0);
  }
  return { keyIndexes, data, macs, expected };
}

/** A copy of `bytes` at an odd offset inside a larger buffer (the rest filled with 0xa5). */
function unaligned(bytes: Uint8Array, offset: number): Uint8Array {
  const host = new Uint8Array(bytes.length + offset + 5).fill(0xa5);
  host.set(bytes, offset);
  return host.subarray(offset, offset + bytes.length);
}

const invalidArgument = (fn: () => unknown, message?: RegExp) => expectCode(fn, 'ERR_INVALID_ARGUMENT', message);

// ---- every leg -------------------------------------------------------------------------

for (const leg of backendLegs()) {
  describe.skipIf(leg.skip)(legTitle(leg), () => {
    let backend: Sha256Backend;
    const next = rng(SEED ^ 0x5ca1ab1e);
    const rawKeys = KEY_LENGTHS.map((n) => randomBytes(next, n));
    const keys = rawKeys.map(prepareMacKey);
    beforeAll(async () => {
      backend = await leg.load();
    });

    describe('checkProofs', () => {
      for (const size of BATCH_SIZES) {
        it(`batch of ${size}: thresholds at, around and far from each digest`, () => {
          const b = proofBatch(next, size);
          const verdicts = backend.checkProofs(b.prefixes, b.nonces, b.thresholds);
          expect(verdicts).toBeInstanceOf(Uint8Array);
          expect([...verdicts]).toEqual(b.expected);
        });
      }

      it('every threshold case at every lane position, batch sizes 1 to 40', () => {
        for (let size = 1; size <= 40; size++) {
          const b = proofBatch(next, size);
          expect([...backend.checkProofs(b.prefixes, b.nonces, b.thresholds)], `size ${size}`).toEqual(b.expected);
        }
      });

      it('threshold 0 refuses everything; 2^64-1 accepts every digest but all ones', () => {
        // The extremes, on inputs whose digests the oracle knows: T = 0 refuses, T = 2^64-1 accepts unless d = 2^64-1.
        const b = proofBatch(next, 33);
        const zero = new Uint8Array(8 * 33);
        const ones = new Uint8Array(8 * 33).fill(0xff);
        expect([...backend.checkProofs(b.prefixes, b.nonces, zero)]).toEqual(new Array(33).fill(0));
        const expected = Array.from({ length: 33 }, (_, i) => (proofValue(b.prefixes.subarray(40 * i, 40 * i + 40), b.nonces.subarray(8 * i, 8 * i + 8)) < MAX_U64 ? 1 : 0));
        expect([...backend.checkProofs(b.prefixes, b.nonces, ones)]).toEqual(expected);
      });

      it('spans the WebAssembly chunk size (7,000 proofs)', () => {
        const b = proofBatch(next, 7000);
        expect([...backend.checkProofs(b.prefixes, b.nonces, b.thresholds)]).toEqual(b.expected);
      });

      it('writes verdicts into a caller buffer at an odd offset and nowhere else', () => {
        for (const size of [1, 3, 17, 33]) {
          const b = proofBatch(next, size);
          const host = new Uint8Array(size + 8).fill(0xee);
          const out = host.subarray(3, 3 + size);
          expect(backend.checkProofs(b.prefixes, b.nonces, b.thresholds, out)).toBe(out);
          expect([...out], `size ${size}`).toEqual(b.expected);
          expect([...host.subarray(0, 3), ...host.subarray(3 + size)]).toEqual(new Array(8).fill(0xee));
        }
      });

      it('reads unaligned views and leaves its inputs untouched', () => {
        for (const size of [1, 2, 5, 16, 31]) {
          const b = proofBatch(next, size);
          const prefixes = unaligned(b.prefixes, 1);
          const nonces = unaligned(b.nonces, 3);
          const thresholds = unaligned(b.thresholds, 5);
          const copies = [prefixes.slice(), nonces.slice(), thresholds.slice()];
          expect([...backend.checkProofs(prefixes, nonces, thresholds)], `size ${size}`).toEqual(b.expected);
          expect([prefixes, nonces, thresholds]).toEqual(copies);
        }
      });

      it('takes Buffers (a Uint8Array subclass)', () => {
        const b = proofBatch(next, 9);
        expect([...backend.checkProofs(Buffer.from(b.prefixes), Buffer.from(b.nonces), Buffer.from(b.thresholds))]).toEqual(b.expected);
      });
    });

    describe('checkMacs', () => {
      for (const size of BATCH_SIZES) {
        it(`batch of ${size}: every message length around the padding edges, ${KEY_LENGTHS.length} keys mixed`, () => {
          for (const length of MAC_LENGTHS) {
            const b = macBatch(next, rawKeys, size, length);
            const verdicts = backend.checkMacs(keys, b.keyIndexes, b.data, length, b.macs);
            expect(verdicts).toBeInstanceOf(Uint8Array);
            expect([...verdicts], `length ${length}`).toEqual(b.expected);
          }
        });
      }

      it('refuses every single-bit change of a tag: in one batch, in threes and one at a time', () => {
        for (const length of [0, 40, 64, 100, 390]) {
          const count = 256;
          const keyIndexes = Uint8Array.from({ length: count }, () => Math.floor(next() * keys.length));
          const data = randomBytes(next, count * length);
          const right = new Uint8Array(32 * count);
          for (let i = 0; i < count; i++) right.set(hmac(rawKeys[keyIndexes[i]!]!, data.subarray(length * i, length * (i + 1))), 32 * i);
          // Item i has bit i of its tag flipped: every bit position, in every lane.
          const flipped = right.slice();
          for (let i = 0; i < count; i++) flipped[32 * i + (i >> 3)]! ^= 0x80 >> (i & 7);
          expect([...backend.checkMacs(keys, keyIndexes, data, length, right)], `length ${length}`).toEqual(new Array(count).fill(1));
          expect([...backend.checkMacs(keys, keyIndexes, data, length, flipped)], `length ${length}`).toEqual(new Array(count).fill(0));
          for (const group of [1, 3]) {
            for (let first = 0; first < count; first += group) {
              const end = Math.min(first + group, count);
              const got = backend.checkMacs(keys, keyIndexes.subarray(first, end), data.subarray(length * first, length * end), length, flipped.subarray(32 * first, 32 * end));
              expect([...got], `length ${length}, items ${first}..${end - 1}`).toEqual(new Array(end - first).fill(0));
            }
          }
          // A single good item among flipped ones: the lanes do not leak into each other.
          const one = flipped.slice();
          one.set(right.subarray(32 * 77, 32 * 78), 32 * 77);
          const verdicts = backend.checkMacs(keys, keyIndexes, data, length, one);
          expect([...verdicts].flatMap((v, i) => (v ? [i] : []))).toEqual([77]);
        }
      });

      it('checks long messages (past the WebAssembly buffer, fed in pieces)', () => {
        for (const length of [65_536 + 7, 196_574, 196_575, 300_001]) {
          const b = macBatch(next, rawKeys, 3, length);
          expect([...backend.checkMacs(keys, b.keyIndexes, b.data, length, b.macs)], `length ${length}`).toEqual(b.expected);
        }
      });

      it('takes 256 keys, and a key list that changes between calls', () => {
        const many = Array.from({ length: 256 }, (_, i) => randomBytes(next, i % 70));
        const prepared = many.map(prepareMacKey);
        const count = 300;
        const keyIndexes = Uint8Array.from({ length: count }, (_, i) => (i < 256 ? 255 - i : Math.floor(next() * 256)));
        const data = randomBytes(next, count * 50);
        const macs = new Uint8Array(32 * count);
        for (let i = 0; i < count; i++) macs.set(hmac(many[keyIndexes[i]!]!, data.subarray(50 * i, 50 * i + 50)), 32 * i);
        expect([...backend.checkMacs(prepared, keyIndexes, data, 50, macs)]).toEqual(new Array(count).fill(1));

        // The same array object with one entry replaced: caches keyed on the list must notice.
        const list = [keys[0]!, keys[1]!];
        const message = randomBytes(next, 20);
        const tag0 = hmac(rawKeys[0]!, message);
        const tag2 = hmac(rawKeys[2]!, message);
        expect([...backend.checkMacs(list, Uint8Array.of(0, 0), Buffer.concat([message, message]), 20, Buffer.concat([tag0, tag2]))]).toEqual([1, 0]);
        list[0] = keys[2]!;
        expect([...backend.checkMacs(list, Uint8Array.of(0, 0), Buffer.concat([message, message]), 20, Buffer.concat([tag0, tag2]))]).toEqual([0, 1]);
        list.push(keys[0]!);
        expect([...backend.checkMacs(list, Uint8Array.of(2, 0), Buffer.concat([message, message]), 20, Buffer.concat([tag0, tag2]))]).toEqual([1, 1]);
      });

      it('writes verdicts into a caller buffer at an odd offset and reads unaligned views', () => {
        for (const size of [1, 2, 4, 17, 33]) {
          for (const length of [0, 13, 64, 77]) {
            const b = macBatch(next, rawKeys, size, length);
            const keyIndexes = unaligned(b.keyIndexes, 1);
            const data = unaligned(b.data, 3);
            const macs = unaligned(b.macs, 7);
            const copies = [keyIndexes.slice(), data.slice(), macs.slice()];
            const host = new Uint8Array(size + 10).fill(0xee);
            const out = host.subarray(5, 5 + size);
            expect(backend.checkMacs(keys, keyIndexes, data, length, macs, out)).toBe(out);
            expect([...out], `size ${size}, length ${length}`).toEqual(b.expected);
            expect([...host.subarray(0, 5), ...host.subarray(5 + size)]).toEqual(new Array(10).fill(0xee));
            expect([keyIndexes, data, macs]).toEqual(copies);
          }
        }
      });
    });

    describe('prepareMacKey', () => {
      it('gives the HMAC of every key length from 0 to 130 (pads = SHA-256 state after one block)', () => {
        const lengths = [0, 1, 31, 55, 56, 63, 64, 65, 100, 119, 120, 128, 200];
        for (let n = 0; n <= 130; n++) {
          const raw = randomBytes(next, n);
          const key = prepareMacKey(raw);
          // Each length on its own (one stream) and as a batch of 17 (lanes), with one wrong tag.
          for (const count of [1, 17]) {
            const length = lengths[(n + count) % lengths.length]!;
            const data = randomBytes(next, count * length);
            const macs = new Uint8Array(32 * count);
            for (let i = 0; i < count; i++) macs.set(hmac(raw, data.subarray(length * i, length * (i + 1))), 32 * i);
            macs[32 * (count - 1) + 31]! ^= count > 1 ? 1 : 0;
            const expected = Array.from({ length: count }, (_, i) => (count > 1 && i === count - 1 ? 0 : 1));
            expect([...backend.checkMacs([key], new Uint8Array(count), data, length, macs)], `key length ${n}, count ${count}`).toEqual(expected);
          }
        }
      });

      it("keeps a copy of the key: changing the caller's bytes afterwards changes nothing", () => {
        const raw = randomBytes(next, 40);
        const key = prepareMacKey(raw);
        const message = randomBytes(next, 30);
        const tag = hmac(raw, message);
        raw.fill(0);
        expect([...backend.checkMacs([key], Uint8Array.of(0), message, 30, tag)]).toEqual([1]);
      });
    });

    describe('argument errors', () => {
      const ok = () => proofBatch(next, 2);

      it('checkProofs: wrong types and lengths', () => {
        const b = ok();
        invalidArgument(() => backend.checkProofs(b.prefixes, [...b.nonces] as never, b.thresholds), /Uint8Array for nonces/);
        invalidArgument(() => backend.checkProofs(b.prefixes, b.nonces.subarray(1), b.thresholds), /8 bytes per proof.*nonces/);
        invalidArgument(() => backend.checkProofs(b.prefixes.subarray(1), b.nonces, b.thresholds), /80 bytes.*prefixes/);
        invalidArgument(() => backend.checkProofs(new Uint8Array(81), b.nonces, b.thresholds), /prefixes/);
        invalidArgument(() => backend.checkProofs(b.prefixes, b.nonces, b.thresholds.subarray(8)), /16 bytes.*thresholds/);
        invalidArgument(() => backend.checkProofs(b.prefixes, b.nonces, new Uint16Array(8) as never), /Uint8Array for thresholds/);
        invalidArgument(() => backend.checkProofs('x' as never, b.nonces, b.thresholds), /prefixes/);
        invalidArgument(() => backend.checkProofs(b.prefixes, b.nonces, b.thresholds, new Uint8Array(3)), /2 bytes.*verdicts/);
        invalidArgument(() => backend.checkProofs(b.prefixes, b.nonces, b.thresholds, new Uint8ClampedArray(2) as never), /verdicts/);
        invalidArgument(() => backend.checkProofs(b.prefixes, b.nonces, b.thresholds, null as never), /verdicts/);
        invalidArgument(() => (backend.checkProofs as (...args: unknown[]) => unknown)());
      });

      it('checkMacs: wrong types and lengths, key indexes out of range, too many or bad keys', () => {
        const data = new Uint8Array(2 * 10);
        const macs = new Uint8Array(64);
        const idx = Uint8Array.of(0, 1);
        invalidArgument(() => backend.checkMacs(keys[0] as never, idx, data, 10, macs), /an array for keys/);
        invalidArgument(() => backend.checkMacs([], idx, data, 10, macs), /1 to 256 keys/);
        invalidArgument(() => backend.checkMacs(new Array(257).fill(keys[0]), idx, data, 10, macs), /1 to 256 keys.*length 257/);
        invalidArgument(() => backend.checkMacs([keys[0]!, null as never], idx, data, 10, macs), /MacKey.*keys\[1\]/);
        invalidArgument(() => backend.checkMacs([{} as MacKey], Uint8Array.of(0, 0), data, 10, macs), /keys\[0\]/);
        invalidArgument(() => backend.checkMacs([{ key: keys[0]!.key, pads: new Uint32Array(15) }], Uint8Array.of(0, 0), data, 10, macs), /keys\[0\]/);
        invalidArgument(() => backend.checkMacs([{ key: 'k' as never, pads: keys[0]!.pads }], Uint8Array.of(0, 0), data, 10, macs), /keys\[0\]/);
        invalidArgument(() => backend.checkMacs([{ key: keys[0]!.key, pads: Array.from(keys[0]!.pads) as never }], Uint8Array.of(0, 0), data, 10, macs), /keys\[0\]/);
        invalidArgument(() => backend.checkMacs(keys, Uint8Array.of(0, keys.length), data, 10, macs), /index below 5 for keyIndexes\[1\]/);
        invalidArgument(() => backend.checkMacs(keys.slice(0, 1), Uint8Array.of(0, 1), data, 10, macs), /keyIndexes\[1\]/);
        invalidArgument(() => backend.checkMacs(keys, [0, 1] as never, data, 10, macs), /Uint8Array for keyIndexes/);
        for (const bad of [-1, 1.5, NaN, Infinity, '10', undefined, 2 ** 32]) {
          invalidArgument(() => backend.checkMacs(keys, idx, data, bad as never, macs), /messageLength/);
        }
        invalidArgument(() => backend.checkMacs(keys, idx, data.subarray(1), 10, macs), /20 bytes.*data/);
        invalidArgument(() => backend.checkMacs(keys, idx, data, 9, macs), /18 bytes.*data/);
        invalidArgument(() => backend.checkMacs(keys, idx, data, 10, macs.subarray(1)), /64 bytes.*macs/);
        invalidArgument(() => backend.checkMacs(keys, idx, data, 10, new Uint32Array(16) as never), /macs/);
        invalidArgument(() => backend.checkMacs(keys, idx, data, 10, macs, new Uint8Array(1)), /2 bytes.*verdicts/);
        invalidArgument(() => backend.checkMacs(keys, idx, [...data] as never, 10, macs), /Uint8Array for data/);
        // A zero count with any length is fine, and returns no verdicts.
        expect(backend.checkMacs(keys, new Uint8Array(0), new Uint8Array(0), 0xffffffff, new Uint8Array(0))).toEqual(new Uint8Array(0));
      });
    });
  });
}

// ---- the addon, called directly ----------------------------------------------------------

describe('the addon boundary: checkProofs, checkMacs and packChallenges with bad arguments', () => {
  let addon: NativeAddon | undefined;
  try {
    addon = loadNativeAddon();
  } catch {
    addon = undefined;
  }
  const isas = addon ? supportedIsas(addon).map((isa) => ISA_IDS[isa]) : [];
  const unsupported = [0, 1, 2, 3].filter((id) => !isas.includes(id));

  it.skipIf(!addon)('checkProofs: throws a TypeError instead of reading or writing out of bounds', () => {
    const a = addon!;
    const p = new Uint8Array(80);
    const n = new Uint8Array(16);
    const t = new Uint8Array(16);
    const v = new Uint8Array(2);
    for (const isa of isas) {
      expect(() => a.checkProofs(isa, p, n, t, v)).not.toThrow();
      expect(() => a.checkProofs(isa, p.subarray(1), n, t, v)).toThrow(TypeError);
      expect(() => a.checkProofs(isa, p, n.subarray(1), t, v)).toThrow(TypeError);
      expect(() => a.checkProofs(isa, p, n, t.subarray(8), v)).toThrow(TypeError);
      expect(() => a.checkProofs(isa, p, n, t, new Uint8Array(3))).toThrow(TypeError);
      expect(() => a.checkProofs(isa, p, n, t, new Uint8Array(0))).toThrow(TypeError);
      expect(() => a.checkProofs(isa, new Uint8Array(40 * 1000), new Uint8Array(8 * 1000), new Uint8Array(8 * 1000), new Uint8Array(1001))).toThrow(TypeError);
      expect(() => a.checkProofs(isa, new Uint16Array(40) as never, n, t, v)).toThrow(TypeError);
      expect(() => a.checkProofs(isa, p, new Int8Array(16) as never, t, v)).toThrow(TypeError);
      expect(() => a.checkProofs(isa, p, n, [...t] as never, v)).toThrow(TypeError);
      expect(() => a.checkProofs(isa, p, n, t, new Uint8ClampedArray(2) as never)).toThrow(TypeError);
      expect(() => a.checkProofs(isa, p, n, t, new DataView(v.buffer) as never)).toThrow(TypeError);
      expect(() => (a.checkProofs as (...args: unknown[]) => unknown)(isa, p, n, t)).toThrow(TypeError);
    }
    // (0.5, NaN and 2^32 read as kernel 0 through Int32Value, JavaScript's ToInt32: a real kernel, so not refused.)
    for (const isa of [-1, 4, 99, 2 ** 31, '0', undefined, ...unsupported]) {
      expect(() => a.checkProofs(isa as never, p, n, t, v), `isa ${String(isa)}`).toThrow(TypeError);
    }
    expect(() => (a.checkProofs as (...args: unknown[]) => unknown)()).toThrow(TypeError);
  });

  it.skipIf(!addon)('checkMacs: throws a TypeError for bad pads, key indexes, lengths and sizes', () => {
    const a = addon!;
    const pads = new Uint32Array(32); // two keys
    const idx = Uint8Array.of(0, 1);
    const data = new Uint8Array(20);
    const macs = new Uint8Array(64);
    const v = new Uint8Array(2);
    for (const isa of isas) {
      expect(() => a.checkMacs(isa, pads, idx, data, 10, macs, v)).not.toThrow();
      expect(() => a.checkMacs(isa, new Uint32Array(0), idx, data, 10, macs, v)).toThrow(TypeError);
      expect(() => a.checkMacs(isa, new Uint32Array(15), Uint8Array.of(0, 0), data, 10, macs, v)).toThrow(TypeError);
      expect(() => a.checkMacs(isa, new Uint32Array(33), idx, data, 10, macs, v)).toThrow(TypeError);
      expect(() => a.checkMacs(isa, pads, Uint8Array.of(0, 2), data, 10, macs, v)).toThrow(TypeError);
      expect(() => a.checkMacs(isa, pads, Uint8Array.of(255, 0), data, 10, macs, v)).toThrow(TypeError);
      expect(() => a.checkMacs(isa, new Uint32Array(16), Uint8Array.of(0, 1), data, 10, macs, v)).toThrow(TypeError);
      expect(() => a.checkMacs(isa, pads, idx.subarray(1), data, 10, macs, v)).toThrow(TypeError);
      expect(() => a.checkMacs(isa, pads, idx, data.subarray(1), 10, macs, v)).toThrow(TypeError);
      expect(() => a.checkMacs(isa, pads, idx, data, 11, macs, v)).toThrow(TypeError);
      expect(() => a.checkMacs(isa, pads, idx, data, -10, macs, v)).toThrow(TypeError);
      expect(() => a.checkMacs(isa, pads, idx, data, 2 ** 32 + 10, macs, v)).toThrow(TypeError);
      expect(() => a.checkMacs(isa, pads, idx, data, 2 ** 63, macs, v)).toThrow(TypeError);
      expect(() => a.checkMacs(isa, pads, idx, data, '10' as never, macs, v)).toThrow(TypeError);
      expect(() => a.checkMacs(isa, pads, idx, data, 10, macs.subarray(1), v)).toThrow(TypeError);
      expect(() => a.checkMacs(isa, pads, idx, data, 10, macs, new Uint8Array(3))).toThrow(TypeError);
      expect(() => a.checkMacs(isa, new Uint8Array(128) as never, idx, data, 10, macs, v)).toThrow(TypeError);
      expect(() => a.checkMacs(isa, pads, new Uint16Array(2) as never, data, 10, macs, v)).toThrow(TypeError);
      expect(() => (a.checkMacs as (...args: unknown[]) => unknown)(isa, pads, idx, data, 10, macs)).toThrow(TypeError);
      // Non-finite lengths read as 0: then the data must be empty, and nothing is read past it.
      expect(() => a.checkMacs(isa, pads, idx, data, NaN, macs, v)).toThrow(TypeError);
      expect(() => a.checkMacs(isa, pads, idx, new Uint8Array(0), NaN, macs, v)).not.toThrow();
      expect(() => a.checkMacs(isa, pads, idx, data, Infinity, macs, v)).toThrow(TypeError);
    }
    for (const isa of [-1, 4, '1', null, ...unsupported]) {
      expect(() => a.checkMacs(isa as never, pads, idx, data, 10, macs, v), `isa ${String(isa)}`).toThrow(TypeError);
    }
    expect(() => (a.checkMacs as (...args: unknown[]) => unknown)()).toThrow(TypeError);
  });

  it.skipIf(!addon)('checkProofs and checkMacs on detached buffers: a TypeError or nothing, never a crash', () => {
    const a = addon!;
    const detach = <T extends ArrayBufferView>(view: T): T => {
      structuredClone(view.buffer, { transfer: [view.buffer as ArrayBuffer] });
      return view;
    };
    for (const isa of isas) {
      const v = new Uint8Array(2);
      expect(() => a.checkProofs(isa, detach(new Uint8Array(80)), new Uint8Array(16), new Uint8Array(16), v)).toThrow(TypeError);
      expect(() => a.checkProofs(isa, new Uint8Array(80), new Uint8Array(16), new Uint8Array(16), detach(new Uint8Array(2)))).toThrow(TypeError);
      expect(() => a.checkMacs(isa, detach(new Uint32Array(16)), Uint8Array.of(0, 0), new Uint8Array(20), 10, new Uint8Array(64), v)).toThrow(TypeError);
      expect(() => a.checkMacs(isa, new Uint32Array(16), Uint8Array.of(0, 0), detach(new Uint8Array(20)), 10, new Uint8Array(64), v)).toThrow(TypeError);
    }
  });

  // packChallenges' arguments, valid: one key header, one table entry, one scope, one item of two sub-puzzles.
  function packArgs() {
    const header = Buffer.concat([Buffer.from('powgate/challenge/v2\0', 'latin1'), Uint8Array.of(2, 3), Buffer.from('abc')]);
    // difficulty 8, 4 calls, price 7 (with two sub-puzzles)
    const table = Buffer.concat([Buffer.from([0, 8, 0, 0]), u64(0x0100000000000000n), Buffer.from([0, 0, 0, 4, 0, 7, 0, 0])]);
    const scope = Buffer.from('tool:search', 'latin1');
    const macLength = header.length + 16 + 20 + 1 + 2 + scope.length + 16;
    const id = randomBytes(rng(SEED + 1), 16);
    const signature = randomBytes(rng(SEED + 2), 32);
    const nonces = randomBytes(rng(SEED + 3), 16);
    const text = Buffer.from(Buffer.from(id).toString('base64url') + Buffer.from(signature).toString('base64url') + Buffer.from(nonces).toString('hex'), 'latin1');
    return {
      header,
      table,
      scope,
      id,
      signature,
      nonces,
      macLength,
      args: [
        header,
        Uint32Array.of(header.length),
        table,
        scope,
        Uint32Array.of(scope.length),
        Uint32Array.of(0, 0, 0, 2, 0, 0, 0), // key, table entry, scope, sub-puzzles, MAC input at, tag at, first proof
        Float64Array.of(1_780_000_000_000, 1_780_000_120_000),
        text, // id, signature, nonces
        new Uint8Array(16), // out: decoded id
        new Uint8Array(16), // out: decoded nonces
        Uint8Array.of(7), // out: refused
        new Uint8Array(macLength),
        new Uint8Array(32),
        new Uint8Array(80),
        new Uint8Array(16),
      ] as unknown[],
    };
  }

  const pack = (a: NativeAddon, args: unknown[]) => (a.packChallenges as (...args: unknown[]) => unknown)(...args);

  it.skipIf(!addon)('packChallenges lays out the MAC input, tag and proof prefixes as docs/PROTOCOL.md says', () => {
    const { header, table, scope, id, signature, nonces, args, macLength } = packArgs();
    pack(addon!, args);
    const expectedInput = Buffer.concat([
      header,
      id,
      table, // u32 steps, u64 threshold, u32 calls, u32 price
      Uint8Array.of(2, 0, scope.length),
      scope,
      u64(1_780_000_000_000n),
      u64(1_780_000_120_000n),
    ]);
    expect(expectedInput.length).toBe(macLength);
    const hex = (i: number) => Buffer.from(args[i] as Uint8Array).toString('hex');
    expect([hex(8), hex(9), hex(10)]).toEqual([Buffer.from(id).toString('hex'), Buffer.from(nonces).toString('hex'), '00']);
    expect(hex(11)).toBe(expectedInput.toString('hex'));
    expect(hex(12)).toBe(Buffer.from(signature).toString('hex'));
    const prefix = (j: number) => Buffer.concat([Buffer.from('PGW1'), signature, Uint8Array.of(0, 0, 0, j)]).toString('hex');
    const prefixes = Buffer.from(args[13] as Uint8Array);
    expect([prefixes.subarray(0, 40).toString('hex'), prefixes.subarray(40).toString('hex')]).toEqual([prefix(0), prefix(1)]);
    expect(hex(14)).toBe('01000000000000000100000000000000');
  });

  it.skipIf(!addon)('packChallenges refuses (and leaves unpacked) an item whose id, signature or nonce text is not canonical', () => {
    const changes: [string, number, number][] = [
      ['id: spare low bits set', 21, 'B'.charCodeAt(0)],
      ['id: "+" (base64, not base64url)', 3, '+'.charCodeAt(0)],
      ['signature: "/"', 22 + 7, '/'.charCodeAt(0)],
      ['signature: spare low bits set', 22 + 42, 'B'.charCodeAt(0)],
      ['signature: "="', 22 + 42, '='.charCodeAt(0)],
      ['nonce: capital hex', 65 + 3, 'A'.charCodeAt(0)],
      ['second nonce: "g"', 65 + 16 + 15, 'g'.charCodeAt(0)],
      ['a byte above 0x7f', 10, 0xc1],
      ['a NUL byte', 40, 0],
    ];
    for (const [what, at, byte] of changes) {
      const { args } = packArgs();
      const text = args[7] as Uint8Array;
      if (text[at] === byte) throw new Error(`test setup: ${what} changes nothing`);
      text[at] = byte;
      pack(addon!, args);
      expect((args[10] as Uint8Array)[0], what).toBe(1);
      expect(
        (args[11] as Uint8Array).every((b) => b === 0),
        `${what}: MAC input left unwritten`,
      ).toBe(true);
      expect(
        (args[12] as Uint8Array).every((b) => b === 0),
        `${what}: tag left unwritten`,
      ).toBe(true);
    }
  });

  it.skipIf(!addon)('packChallenges: throws a TypeError for wrong types, short buffers and items out of range', () => {
    const a = addon!;
    expect(() => pack(a, packArgs().args)).not.toThrow();
    expect(() => pack(a, [])).toThrow(TypeError);
    expect(() => pack(a, packArgs().args.slice(0, 14))).toThrow(TypeError);
    // Each argument of the wrong typed-array kind, or not one at all.
    for (let i = 0; i < 15; i++) {
      for (const wrong of [new Int32Array(4), new Float32Array(4), [1, 2], {}, null, 'x']) {
        const args = packArgs().args;
        args[i] = wrong;
        expect(() => pack(a, args), `argument ${i} = ${kind(wrong)}`).toThrow(TypeError);
      }
      const args = packArgs().args;
      args[i] = args[i] instanceof Float64Array ? new Uint8Array(16) : args[i] instanceof Uint32Array ? new Float64Array(7) : new Uint32Array(100);
      expect(() => pack(a, args), `argument ${i} retyped`).toThrow(TypeError);
    }
    // One change at a time to the item or the buffers it points into.
    const cases: [string, (args: unknown[]) => void][] = [
      ['key index past the headers', (x) => ((x[5] as Uint32Array)[0] = 1)],
      ['key index 2^32-1', (x) => ((x[5] as Uint32Array)[0] = 0xffffffff)],
      ['header end past the headers', (x) => ((x[1] as Uint32Array)[0] = 1000)],
      ['no header ends', (x) => (x[1] = new Uint32Array(0))],
      ['header ends decreasing', (x) => ((x[1] = Uint32Array.of(10, 5)), ((x[5] as Uint32Array)[0] = 1))],
      ['table entry past the table', (x) => ((x[5] as Uint32Array)[1] = 1)],
      ['table entry 2^32-1', (x) => ((x[5] as Uint32Array)[1] = 0xffffffff)],
      ['table shorter than an entry', (x) => (x[2] = new Uint8Array(19))],
      ['scope index past the scopes', (x) => ((x[5] as Uint32Array)[2] = 1)],
      ['scope end past the scopes', (x) => ((x[4] as Uint32Array)[0] = 12)],
      ['scope longer than 65,535 bytes', (x) => ((x[3] = new Uint8Array(70_000)), (x[4] = Uint32Array.of(70_000)))],
      ['zero sub-puzzles', (x) => ((x[5] as Uint32Array)[3] = 0)],
      ['65 sub-puzzles', (x) => ((x[5] as Uint32Array)[3] = 65)],
      ['sub-puzzles 2^32-1', (x) => ((x[5] as Uint32Array)[3] = 0xffffffff)],
      ['MAC input past its buffer', (x) => ((x[5] as Uint32Array)[4] = 1)],
      ['MAC input at 2^32-1', (x) => ((x[5] as Uint32Array)[4] = 0xffffffff)],
      ['MAC buffer one byte short', (x) => (x[11] = new Uint8Array((x[11] as Uint8Array).length - 1))],
      ['tag past its buffer', (x) => ((x[5] as Uint32Array)[5] = 1)],
      ['tag at 2^32-1', (x) => ((x[5] as Uint32Array)[5] = 0xffffffff)],
      ['tags buffer short', (x) => (x[12] = new Uint8Array(31))],
      ['first proof past the prefixes', (x) => ((x[5] as Uint32Array)[6] = 1)],
      ['first proof 2^32-1', (x) => ((x[5] as Uint32Array)[6] = 0xffffffff)],
      ['prefixes for one proof only', (x) => (x[13] = new Uint8Array(79))],
      ['thresholds short', (x) => (x[14] = new Uint8Array(15))],
      ['item words not a multiple of 7', (x) => (x[5] = Uint32Array.of(0, 0, 0, 2, 0, 0, 0, 0))],
      ['times short', (x) => (x[6] = Float64Array.of(0))],
      ['times long', (x) => (x[6] = Float64Array.of(0, 0, 0))],
      ['text one byte short', (x) => (x[7] = (x[7] as Uint8Array).subarray(0, (x[7] as Uint8Array).length - 1))],
      ['text without the second nonce', (x) => (x[7] = (x[7] as Uint8Array).subarray(0, 22 + 43 + 16))],
      ['decoded ids short', (x) => (x[8] = new Uint8Array(15))],
      ['decoded nonces short', (x) => (x[9] = new Uint8Array(15))],
      ['no refusal byte', (x) => (x[10] = new Uint8Array(0))],
      ['issuedAt negative', (x) => ((x[6] as Float64Array)[0] = -1)],
      ['issuedAt NaN', (x) => ((x[6] as Float64Array)[0] = NaN)],
      ['expiresAt 2^53', (x) => ((x[6] as Float64Array)[1] = 2 ** 53)],
      ['expiresAt Infinity', (x) => ((x[6] as Float64Array)[1] = Infinity)],
    ];
    for (const [what, change] of cases) {
      const { args } = packArgs();
      change(args);
      expect(() => pack(a, args), what).toThrow(TypeError);
    }
    // No items: nothing to check, nothing written.
    const empty = packArgs().args;
    empty[5] = new Uint32Array(0);
    empty[6] = new Float64Array(0);
    expect(() => pack(a, empty)).not.toThrow();
  });
});

function kind(value: unknown): string {
  if (value === null) return 'null';
  if (ArrayBuffer.isView(value)) return value.constructor.name;
  return Array.isArray(value) ? 'an array' : typeof value;
}
