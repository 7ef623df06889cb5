// NIST CAVP SHA-256 byte-oriented vectors (ShortMsg: 0..512 bits; LongMsg: up to 51,200 bits) on every leg.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Sha256Backend } from '../src/backend/types.js';
import { backendLegs, legTitle } from './helpers/backends.js';
import { readNistVectors } from './helpers/nist.js';
import { digestsHex } from './helpers/oracle.js';

const files = ['SHA256ShortMsg.rsp', 'SHA256LongMsg.rsp'];

it('reads every vector of both files', () => {
  expect(readNistVectors(files[0]!)).toHaveLength(65);
  expect(readNistVectors(files[1]!)).toHaveLength(64);
});

for (const leg of backendLegs()) {
  describe.skipIf(leg.skip)(legTitle(leg), () => {
    let backend: Sha256Backend;
    beforeAll(async () => {
      backend = await leg.load();
    });

    for (const file of files) {
      const vectors = readNistVectors(file);

      it(`${file}: one message at a time`, () => {
        for (const v of vectors) {
          expect(digestsHex(backend.hashBatch([v.message])), `Len = ${v.bits}`).toEqual([v.digest]);
        }
      });

      it(`${file}: all in one mixed-length batch`, () => {
        expect(digestsHex(backend.hashBatch(vectors.map((v) => v.message)))).toEqual(vectors.map((v) => v.digest));
      });

      it(`${file}: each vector as a uniform batch of 17 copies (SIMD lanes and a tail)`, () => {
        for (const v of vectors.filter((x) => x.message.length > 0)) {
          const data = new Uint8Array(17 * v.message.length);
          for (let i = 0; i < 17; i++) data.set(v.message, i * v.message.length);
          expect(digestsHex(backend.hashUniform(data, v.message.length)), `Len = ${v.bits}`).toEqual(new Array(17).fill(v.digest));
        }
      });
    }
  });
}
