// Every nonce-search kernel (native scalar, SHA-NI, AVX2, AVX-512 and our WebAssembly SIMD
// kernel) against node:crypto: the returned nonce must be
// exactly the first in the range that the oracle accepts (or -1), on every lane position,
// SIMD tail, range edge (lo + count = 2^32), nonce high word and threshold shape, including
// thresholds whose high word equals a digest's first word (the tie on H0).
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { PowgateError } from '../src/errors.js';
import { NATIVE_ISAS, NATIVE_TUNINGS, NativeNonceSearcher, loadNativeAddon, supportedIsas } from '../src/backend/native.js';
import type { NonceRangeSearcher } from '../src/backend/nonce-range.js';
import { WasmNonceSearcher } from '../src/backend/wasm-search.js';
import { SEED, randomBytes, rng } from './helpers/random.js';

const TWO_32 = 2 ** 32;
const MASK_32 = 0xffffffffn;
const HIGH_WORDS = [0, 1, 0xffffffff];
const COUNTS = [0, 1, 3, 4, 5, 7, 8, 9, 1000];

console.info(`nonce-search tests: seed ${SEED} (POWGATE_TEST_SEED=${SEED} replays)`);

interface KernelLeg {
  label: string;
  skip?: string;
  create: () => Promise<NonceRangeSearcher>;
}

function kernelLegs(): KernelLeg[] {
  const legs: KernelLeg[] = [{ label: 'wasm', create: () => WasmNonceSearcher.create() }];
  let native: ReturnType<typeof loadNativeAddon>;
  try {
    native = loadNativeAddon();
  } catch (error) {
    return [...legs, { label: 'native', skip: `native addon did not load: ${(error as Error).message.split('\n')[0]}`, create: () => Promise.reject(error) }];
  }
  const supported = supportedIsas(native);
  for (const isa of NATIVE_ISAS) {
    const skip = supported.includes(isa) ? {} : { skip: `this CPU lacks ${isa}` };
    legs.push({ label: `native/${isa}`, ...skip, create: async () => new NativeNonceSearcher(native, isa) });
    // Every variant of a kernel keeps the contract, whichever this CPU would choose.
    if (isa === 'shani' || isa === 'avx512') {
      for (const tuning of NATIVE_TUNINGS) {
        legs.push({ label: `native/${isa}, ${tuning} tuning`, ...skip, create: async () => new NativeNonceSearcher(native, isa, tuning) });
      }
    }
  }
  return legs;
}

/** The digest's first 8 bytes as a big-endian u64, for nonce hi:lo. */
function head64(prefix: Uint8Array, hi: number, lo: number): bigint {
  const message = Buffer.alloc(48);
  message.set(prefix);
  message.writeUInt32BE(hi, 40);
  message.writeUInt32BE(lo, 44);
  return createHash('sha256').update(message).digest().readBigUInt64BE(0);
}

/** What search() must return, by brute force. */
function oracle(prefix: Uint8Array, hi: number, lo: number, count: number, threshold: bigint): number {
  for (let i = 0; i < count; i++) if (head64(prefix, hi, lo + i) < threshold) return lo + i;
  return -1;
}

function halves(threshold: bigint): [number, number] {
  return [Number(threshold >> 32n), Number(threshold & MASK_32)];
}

/** T = 2^(64 - d) for whole d: "d leading zero bits". */
function bits(d: number): bigint {
  return 1n << BigInt(64 - d);
}

for (const leg of kernelLegs())
  describe.skipIf(leg.skip)(leg.skip ? `${leg.label} (skipped: ${leg.skip})` : leg.label, () => {
    let searcher: NonceRangeSearcher;
    const next = rng();
    const u32 = (): number => Math.floor(next() * TWO_32);
    const below = (n: number): number => Math.floor(next() * n);

    beforeAll(async () => {
      searcher = await leg.create();
    });

    /** Runs one case and compares with the oracle; returns the answer. */
    function check(prefix: Uint8Array, hi: number, lo: number, count: number, threshold: bigint): number {
      searcher.setPrefix(prefix);
      const got = searcher.search(hi, lo, count, ...halves(threshold));
      const want = oracle(prefix, hi, lo, count, threshold);
      const what = `prefix ${Buffer.from(prefix).toString('hex')} hi ${hi} lo ${lo} count ${count} T ${threshold.toString(16)}`;
      expect(got, what).toBe(want);
      return got;
    }

    it('finds the first nonce at 4 to 8 leading zero bits, from odd offsets, for high words 0, 1 and 2^32 - 1', () => {
      let found = 0;
      for (const hi of HIGH_WORDS) {
        for (let d = 4; d <= 8; d++) {
          for (let round = 0; round < 4; round++) {
            const lo = (below(1 << 30) * 2 + 1) >>> 0; // odd: lanes start off a multiple of 4
            if (check(randomBytes(next, 40), hi, lo, 1000, bits(d)) >= 0) found++;
          }
        }
      }
      expect(found).toBeGreaterThan(40); // most of the 60 cases hit: the positive path is exercised
    });

    it('gives the oracle answer for every count around the SIMD width, wherever the hit lands', () => {
      for (const count of COUNTS) {
        for (const hi of HIGH_WORDS) {
          const prefix = randomBytes(next, 40);
          const lo = u32() % (TWO_32 - count);
          // Aim a threshold at each position j: T = head(j) + 1 accepts j (and maybe earlier
          // ones); T = head(j) must not accept j (the comparison is strict).
          for (let j = 0; j < Math.min(count, 12); j++) {
            const h = head64(prefix, hi, lo + j);
            check(prefix, hi, lo, count, h + 1n);
            check(prefix, hi, lo, count, h);
          }
          check(prefix, hi, lo, count, bits(3));
          check(prefix, hi, lo, count, 0n); // nothing is below 0
        }
      }
    });

    it('hits the position it was aimed at, in every lane and in the tail', () => {
      // With a minimum over the range as the target, the first hit is exactly that nonce:
      // this checks the positive path at each lane index, not only agreement with the oracle.
      for (const count of [1, 3, 4, 5, 6, 7, 8, 9, 13]) {
        const prefix = randomBytes(next, 40);
        const lo = u32() % (TWO_32 - count);
        const heads = Array.from({ length: count }, (_, i) => head64(prefix, 7, lo + i));
        const min = heads.reduce((a, b) => (b < a ? b : a));
        searcher.setPrefix(prefix);
        expect(searcher.search(7, lo, count, ...halves(min + 1n))).toBe(lo + heads.indexOf(min));
        expect(searcher.search(7, lo, count, ...halves(min))).toBe(-1);
      }
    });

    it('handles ranges that end exactly at lo + count = 2^32', () => {
      for (const count of [1, 2, 3, 4, 5, 8, 1000]) {
        for (const hi of HIGH_WORDS) {
          const prefix = randomBytes(next, 40);
          const lo = TWO_32 - count;
          check(prefix, hi, lo, count, bits(4));
          const last = head64(prefix, hi, TWO_32 - 1);
          // Only the very last nonce (low word 0xffffffff) may be the answer, or an earlier one.
          expect(check(prefix, hi, lo, count, last + 1n)).toBeGreaterThanOrEqual(0);
        }
      }
      // The whole 32-bit range is accepted as an argument (count = 2^32 from lo = 0); an easy
      // threshold ends it at once.
      const prefix = randomBytes(next, 40);
      searcher.setPrefix(prefix);
      expect(searcher.search(0, 0, TWO_32, 0xffffffff, 0xffffffff)).toBe(oracle(prefix, 0, 0, 16, (1n << 64n) - 1n));
    });

    it('resolves ties on the first word (H0 == thresholdHi) by the second word', () => {
      for (let round = 0; round < 40; round++) {
        const prefix = randomBytes(next, 40);
        const hi = HIGH_WORDS[round % 3]!;
        const count = [1, 4, 5, 11, 64][round % 5]!;
        const lo = round % 2 ? TWO_32 - count : u32() % (TWO_32 - count);
        const j = below(count);
        const h = head64(prefix, hi, lo + j);
        const h0 = h >> 32n;
        const h1 = h & MASK_32;
        for (const thLo of [0n, h1, h1 + 1n, MASK_32, BigInt(u32())]) {
          if (thLo > MASK_32) continue;
          check(prefix, hi, lo, count, (h0 << 32n) | thLo);
        }
      }
    });

    it('handles extreme thresholds: 0, 1, 2^32, 2^64 - 1, and a high word of 2^32 - 1', () => {
      const prefix = randomBytes(next, 40);
      for (const t of [0n, 1n, MASK_32, 1n << 32n, (1n << 64n) - 1n, (MASK_32 << 32n) | 5n, MASK_32 << 32n]) {
        for (const count of [0, 1, 5, 100]) check(prefix, 3, 12345, count, t);
      }
    });

    it('agrees with the oracle on many random cases', () => {
      for (let round = 0; round < 600; round++) {
        const prefix = randomBytes(next, 40);
        const hi = round % 4 === 3 ? u32() : HIGH_WORDS[round % 4]!;
        const count = below(4) === 0 ? below(9) : below(300);
        const lo = below(8) === 0 ? TWO_32 - Math.max(count, 1) : u32() % (TWO_32 - count);
        let threshold: bigint;
        switch (round % 4) {
          case 0: // a random u64 shifted to 1..12 leading zero bits: not a power of two
            threshold = BigInt.asUintN(64, (BigInt(u32()) << 32n) | BigInt(u32())) >> BigInt(1 + below(12));
            break;
          case 1: // whole bits
            threshold = bits(1 + below(10));
            break;
          default: {
            // aimed at a nonce of the range, on either side of it
            if (count === 0) {
              threshold = bits(2);
              break;
            }
            const h = head64(prefix, hi, lo + below(count));
            threshold = round % 4 === 2 ? h + 1n : h;
          }
        }
        check(prefix, hi, lo, count, threshold);
      }
    });

    it('finds a 16-bit proof over 2^17 nonces like the oracle', () => {
      const prefix = randomBytes(next, 40);
      check(prefix, 0, 0, 1 << 17, bits(16));
    });

    it('keeps one prefix per instance, and setPrefix replaces it', async () => {
      const other = await leg.create();
      const p1 = randomBytes(next, 40);
      const p2 = randomBytes(next, 40);
      const t = halves(bits(6));
      searcher.setPrefix(p1);
      other.setPrefix(p2);
      expect(searcher.search(0, 0, 5000, ...t)).toBe(oracle(p1, 0, 0, 5000, bits(6)));
      expect(other.search(0, 0, 5000, ...t)).toBe(oracle(p2, 0, 0, 5000, bits(6)));
      other.setPrefix(p1);
      expect(other.search(0, 0, 5000, ...t)).toBe(oracle(p1, 0, 0, 5000, bits(6)));
    });

    it('refuses bad arguments with ERR_INVALID_ARGUMENT', () => {
      const bad = (f: () => unknown): void => {
        let error: unknown;
        try {
          f();
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(PowgateError);
        expect((error as PowgateError).code).toBe('ERR_INVALID_ARGUMENT');
      };
      bad(() => searcher.setPrefix(new Uint8Array(39)));
      bad(() => searcher.setPrefix(new Uint8Array(48)));
      bad(() => searcher.setPrefix([0] as unknown as Uint8Array));
      bad(() => searcher.search(-1, 0, 1, 0, 1));
      bad(() => searcher.search(TWO_32, 0, 1, 0, 1));
      bad(() => searcher.search(0, 1.5, 1, 0, 1));
      bad(() => searcher.search(0, TWO_32 - 4, 5, 0, 1)); // lo + count > 2^32
      bad(() => searcher.search(0, 0, -1, 0, 1));
      bad(() => searcher.search(0, 0, 1, TWO_32, 0));
      bad(() => searcher.search(0, 0, 1, 0, Number.NaN));
    });
  });
