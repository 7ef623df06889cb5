// Random differential tests against node:crypto on every leg: every length
// 0..300, and batch sizes around the lane widths (8, 16), mixed and equal lengths.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Sha256Backend } from '../src/backend/types.js';
import { backendLegs, legTitle } from './helpers/backends.js';
import { digestsHex, pack, sha256Hex } from './helpers/oracle.js';
import { SEED, randomBytes, rng } from './helpers/random.js';

const BATCH_SIZES = [0, 1, 15, 16, 17, 31, 33, 1000];
// Around every padding edge: 55/56 bytes (one or two tail blocks), 63/64, 119/120, and multi-block.
const EQUAL_LENGTHS = [1, 3, 32, 40, 55, 56, 63, 64, 65, 119, 120, 128, 200, 300];

console.info(`differential tests: seed ${SEED} (POWGATE_TEST_SEED=${SEED} replays)`);

for (const leg of backendLegs()) {
  describe.skipIf(leg.skip)(legTitle(leg), () => {
    let backend: Sha256Backend;
    const next = rng();
    beforeAll(async () => {
      backend = await leg.load();
    });

    it('every length from 0 to 300, one batch and one by one', () => {
      const messages = Array.from({ length: 301 }, (_, n) => randomBytes(next, n));
      const expected = messages.map(sha256Hex);
      expect(digestsHex(backend.hashBatch(messages))).toEqual(expected);
      messages.forEach((m, n) => expect(digestsHex(backend.hashBatch([m])), `length ${n}`).toEqual([expected[n]]));
    });

    for (const size of BATCH_SIZES) {
      it(`batch of ${size}, mixed lengths, hashBatch and hashOffsets`, () => {
        const messages = Array.from({ length: size }, () => randomBytes(next, Math.floor(next() * 301)));
        const expected = messages.map(sha256Hex);
        expect(digestsHex(backend.hashBatch(messages))).toEqual(expected);
        const { data, offsets } = pack(messages);
        expect(digestsHex(backend.hashOffsets(data, offsets))).toEqual(expected);
      });

      it(`batch of ${size}, equal lengths, hashUniform and hashOffsets`, () => {
        for (const length of EQUAL_LENGTHS) {
          const messages = Array.from({ length: size }, () => randomBytes(next, length));
          const expected = messages.map(sha256Hex);
          const { data, offsets } = pack(messages);
          expect(digestsHex(backend.hashUniform(data, length)), `length ${length}`).toEqual(expected);
          expect(digestsHex(backend.hashOffsets(data, offsets)), `length ${length}`).toEqual(expected);
        }
      });
    }

    it('reads and writes at unaligned offsets inside larger buffers', () => {
      const messages = Array.from({ length: 37 }, () => randomBytes(next, 40));
      const { data } = pack(messages);
      const inputHost = new Uint8Array(data.length + 3);
      inputHost.set(data, 3);
      const outputHost = new Uint8Array(32 * 37 + 5).fill(0xee);
      const out = outputHost.subarray(1, 1 + 32 * 37);
      expect(backend.hashUniform(inputHost.subarray(3), 40, out)).toBe(out);
      expect(digestsHex(out)).toEqual(messages.map(sha256Hex));
      expect(outputHost[0]).toBe(0xee);
      expect(outputHost.subarray(1 + 32 * 37)).toEqual(new Uint8Array(4).fill(0xee));
    });

    it('leaves the input untouched', () => {
      const data = randomBytes(next, 17 * 50);
      const copy = data.slice();
      backend.hashUniform(data, 50);
      expect(data).toEqual(copy);
    });
  });
}
