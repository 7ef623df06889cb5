// The threshold maths: for whole d, "below T(d)" is "d leading zero bits";
// T falls as difficulty rises; every backend gives the oracle's verdict.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DIFFICULTY_STEPS, thresholdForSteps } from '../src/protocol/difficulty.js';
import { meetsThreshold } from '../src/protocol/work.js';
import { backendLegs } from './helpers/backends.js';

function leadingZeroBits(digest: Uint8Array): number {
  let bits = 0;
  for (const byte of digest) {
    if (byte === 0) bits += 8;
    else return bits + Math.clz32(byte) - 24;
  }
  return bits;
}

/** Digests with many leading zeros, so that every d is exercised. */
const digests = fc.tuple(fc.integer({ min: 0, max: 64 }), fc.uint8Array({ minLength: 32, maxLength: 32 })).map(([zeros, bytes]) => {
  const d = Uint8Array.from(bytes);
  for (let bit = 0; bit < zeros; bit++) d[bit >> 3]! &= ~(0x80 >> (bit & 7));
  return d;
});

describe('threshold', () => {
  it('for whole d, meeting T(d) is having at least d leading zero bits', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 64 }), digests, (d, digest) => {
        expect(meetsThreshold(digest, 0, thresholdForSteps(d * DIFFICULTY_STEPS))).toBe(leadingZeroBits(digest) >= d);
      }),
      { numRuns: 5000 },
    );
  });

  it('never rises as difficulty rises, and halves with each whole bit', () => {
    fc.assert(
      fc.property(fc.integer({ min: DIFFICULTY_STEPS, max: 63 * DIFFICULTY_STEPS }), (steps) => {
        expect(thresholdForSteps(steps + 1) <= thresholdForSteps(steps)).toBe(true);
        expect(thresholdForSteps(steps + DIFFICULTY_STEPS)).toBe(thresholdForSteps(steps) >> 1n);
      }),
      { numRuns: 2000 },
    );
  });

  it("every backend gives node:crypto's verdict on random (message, threshold) cases", async () => {
    const legs = backendLegs().filter((leg) => !leg.skip);
    const backends = await Promise.all(legs.map((leg) => leg.load()));
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.uint8Array({ minLength: 48, maxLength: 48 }), fc.bigInt({ min: 1n, max: 1n << 63n })), { minLength: 1, maxLength: 40 }),
        async (cases) => {
          const data = Buffer.concat(cases.map(([m]) => m));
          const expected = cases.map(([m, t]) => meetsThreshold(createHash('sha256').update(m).digest(), 0, t));
          for (const [i, backend] of backends.entries()) {
            const out = backend.hashUniform(data, 48);
            expect(
              cases.map(([, t], j) => meetsThreshold(out, 32 * j, t)),
              legs[i]!.label,
            ).toEqual(expected);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
