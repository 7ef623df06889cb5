// Bad arguments are the programmer's: a PowgateError with a stable code and a
// precise message, the same on every leg. The addon guards its own boundary too.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadNativeAddon } from '../src/backend/native.js';
import type { Sha256Backend } from '../src/backend/types.js';
import { backendLegs, legTitle } from './helpers/backends.js';
import { expectCode } from './helpers/errors.js';

for (const leg of backendLegs()) {
  describe.skipIf(leg.skip)(legTitle(leg), () => {
    let backend: Sha256Backend;
    beforeAll(async () => {
      backend = await leg.load();
    });

    it('refuses what is not a list of Uint8Array', () => {
      expectCode(() => backend.hashBatch('abc' as never), 'ERR_INVALID_ARGUMENT', /expected an array for messages but received a string/);
      expectCode(() => backend.hashBatch([new Uint8Array(1), 'x' as never]), 'ERR_INVALID_ARGUMENT', /messages\[1\]/);
      expectCode(() => backend.hashBatch([new Uint16Array(2) as never]), 'ERR_INVALID_ARGUMENT', /Uint16Array of 4 bytes/);
    });

    it('refuses offsets that are empty, decreasing or past the data', () => {
      const data = new Uint8Array(10);
      expectCode(() => backend.hashOffsets(data, new Uint32Array(0)), 'ERR_INVALID_ARGUMENT', /count \+ 1/);
      expectCode(() => backend.hashOffsets(data, Uint32Array.of(0, 5, 3)), 'ERR_INVALID_ARGUMENT', /non-decreasing/);
      expectCode(() => backend.hashOffsets(data, Uint32Array.of(0, 11)), 'ERR_INVALID_ARGUMENT', /within data/);
      expectCode(() => backend.hashOffsets(data, [0, 10] as never), 'ERR_INVALID_ARGUMENT', /Uint32Array/);
    });

    it('refuses message lengths that do not divide the data', () => {
      const data = new Uint8Array(10);
      for (const bad of [0, -1, 3, 1.5, NaN, Infinity, '5', undefined]) {
        expectCode(() => backend.hashUniform(data, bad as never), 'ERR_INVALID_ARGUMENT', /messageLength|whole messages/);
      }
    });

    it('refuses an output buffer of the wrong size or type', () => {
      expectCode(() => backend.hashUniform(new Uint8Array(10), 5, new Uint8Array(63)), 'ERR_INVALID_ARGUMENT', /64 bytes/);
      expectCode(() => backend.hashBatch([], new Uint8Array(1)), 'ERR_INVALID_ARGUMENT', /0 bytes/);
      expectCode(() => backend.hashBatch([new Uint8Array(1)], [] as never), 'ERR_INVALID_ARGUMENT', /Uint8Array for out/);
    });
  });
}

describe('the addon boundary, called directly with bad arguments', () => {
  let addon: ReturnType<typeof loadNativeAddon> | undefined;
  try {
    addon = loadNativeAddon();
  } catch {
    addon = undefined;
  }

  it.skipIf(!addon)('throws a TypeError instead of reading or writing out of bounds', () => {
    const a = addon!;
    const out = new Uint8Array(32);
    expect(() => a.hashOffsets(0, new Uint8Array(4), Uint32Array.of(0, 5), out)).toThrow(TypeError);
    expect(() => a.hashOffsets(0, new Uint8Array(4), Uint32Array.of(3, 1), out)).toThrow(TypeError);
    expect(() => a.hashOffsets(0, new Uint8Array(4), Uint32Array.of(0, 4), new Uint8Array(31))).toThrow(TypeError);
    expect(() => a.hashOffsets(0, new Uint8Array(4), new Uint32Array(0), new Uint8Array(0))).toThrow(TypeError);
    expect(() => a.hashUniform(0, new Uint8Array(4), 5, out)).toThrow(TypeError);
    expect(() => a.hashUniform(0, new Uint8Array(4), -1, out)).toThrow(TypeError);
    expect(() => a.hashUniform(9, new Uint8Array(4), 4, out)).toThrow(TypeError);
    expect(() => a.hashUniform(0, {} as never, 4, out)).toThrow(TypeError);
    expect(() => (a.hashUniform as (...args: unknown[]) => void)()).toThrow(TypeError);
  });

  // Issue 16: count * length wrapped to the data's size (here 0) and the kernel read far past it.
  it.skipIf(!addon)('refuses sizes whose products wrap around', () => {
    const a = addon!;
    const call = a as unknown as Record<string, (...args: unknown[]) => unknown>;
    for (const length of [2 ** 62, 2 ** 63, 2 ** 61 + 1]) {
      expect(() => a.hashUniform(3, new Uint8Array(0), length, new Uint8Array(128))).toThrow(TypeError);
      expect(() => a.hashUniform(0, new Uint8Array(0), length, new Uint8Array(128))).toThrow(TypeError);
    }
    const pads = new Uint32Array(16);
    expect(() => call.checkMacs!(0, pads, new Uint8Array(4), new Uint8Array(0), 2 ** 62, new Uint8Array(128), new Uint8Array(4))).toThrow(TypeError);
  });
});
