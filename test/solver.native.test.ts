// The native solver threads, through the addon: hits of every kernel verify on
// node:crypto, one per sub-puzzle; a bounded search that finds nothing says
// "exhausted" instead of looping; cancellation ends the job.
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ISA_IDS, NATIVE_ISAS, loadNativeAddon, supportedIsas, type NativeAddon } from '../src/backend/native.js';

let native: NativeAddon | undefined;
let why = '';
try {
  native = loadNativeAddon();
} catch (error) {
  why = (error as Error).message.split('\n')[0]!;
}

const FOUND = 0;
const CANCELLED = 1;
const EXHAUSTED = 2;

interface Outcome {
  status: number;
  hashes: number;
  nonces: bigint[];
  progress: number;
}

function search(isa: number, prefixes: Buffer, threshold: bigint, threads: number, limit = 0, onStart?: (handle: object) => void): Promise<Outcome> {
  return new Promise((resolve) => {
    let progress = 0;
    const handle = native!.startSearch(isa, prefixes, Number(threshold >> 32n), Number(threshold & 0xffffffffn), threads, limit, (done, hashes, nonces, status) => {
      if (!done) return void progress++;
      const view = new DataView(nonces!.buffer, nonces!.byteOffset, nonces!.byteLength);
      resolve({ status, hashes, progress, nonces: Array.from({ length: nonces!.length / 8 }, (_, j) => view.getBigUint64(8 * j)) });
    });
    onStart?.(handle);
  });
}

function meets(prefix: Buffer, nonce: bigint, threshold: bigint): boolean {
  const message = Buffer.alloc(48);
  prefix.copy(message);
  message.writeBigUInt64BE(nonce, 40);
  return createHash('sha256').update(message).digest().readBigUInt64BE(0) < threshold;
}

describe.skipIf(!native)(native ? 'native solver threads' : `native solver threads (skipped: ${why})`, () => {
  const isas = native ? supportedIsas(native) : [];

  // POWGATE_TUNING is read by the addon at each search, so the threads run either variant here.
  for (const tuning of ['intel', 'zen']) {
    it(`POWGATE_TUNING=${tuning}: every kernel's hits on 2 threads verify`, async () => {
      const saved = process.env.POWGATE_TUNING;
      process.env.POWGATE_TUNING = tuning;
      try {
        for (const isa of isas) {
          const prefixes = randomBytes(40 * 3);
          const threshold = (1n << 50n) + 777n;
          const outcome = await search(ISA_IDS[isa], prefixes, threshold, 2);
          expect(outcome.status, isa).toBe(FOUND);
          outcome.nonces.forEach((nonce, j) => expect(meets(prefixes.subarray(40 * j, 40 * j + 40), nonce, threshold), `${isa} sub-puzzle ${j}`).toBe(true));
        }
      } finally {
        if (saved === undefined) delete process.env.POWGATE_TUNING;
        else process.env.POWGATE_TUNING = saved;
      }
    });
  }

  for (const isa of NATIVE_ISAS) {
    it.skipIf(!isas.includes(isa))(`${isa}: one verified nonce per sub-puzzle, on 1, 2 and 5 threads, for thresholds that are not powers of two`, async () => {
      for (const threads of [1, 2, 5]) {
        const prefixes = randomBytes(40 * 4);
        const threshold = (1n << 50n) + 12345n * BigInt(threads); // about 14 bits of work
        const outcome = await search(ISA_IDS[isa], prefixes, threshold, threads);
        expect(outcome.status).toBe(FOUND);
        expect(outcome.nonces).toHaveLength(4);
        outcome.nonces.forEach((nonce, j) => expect(meets(prefixes.subarray(40 * j, 40 * j + 40), nonce, threshold), `sub-puzzle ${j}`).toBe(true));
      }
    });
  }

  it('says "exhausted" when a bounded search finds nothing, after exactly its budget', async () => {
    const outcome = await search(ISA_IDS[isas[0]!], randomBytes(80), 1n, 2, 100_000);
    expect(outcome.status).toBe(EXHAUSTED);
    expect(outcome.hashes).toBe(100_000); // sub-puzzle 0 only: nothing was found to move on from
  });

  it('finds a hit in the last chunk of a bounded search while other threads have run out of chunks', async () => {
    for (const isa of isas) {
      for (let round = 0; round < 10; round++) {
        // The lowest digest of 3000 nonces, and a limit that ends just after it: that nonce is the
        // only one below the threshold in range, and the one chunk holding it leaves the other threads dry.
        const prefix = randomBytes(40);
        const heads = Array.from({ length: 3000 }, (_, n) => {
          const message = Buffer.alloc(48);
          prefix.copy(message);
          message.writeBigUInt64BE(BigInt(n), 40);
          return createHash('sha256').update(message).digest().readBigUInt64BE(0);
        });
        const lowest = heads.reduce((a, b) => (b < a ? b : a));
        const last = heads.indexOf(lowest);
        const outcome = await search(ISA_IDS[isa], prefix, lowest + 1n, 3, last + 1);
        expect(outcome.status, `${isa}, round ${round}`).toBe(FOUND);
        expect(outcome.nonces, `${isa}, round ${round}`).toEqual([BigInt(last)]);
      }
    }
  });

  it('stops a running search on cancel and reports it', async () => {
    const outcome = await search(ISA_IDS[isas[0]!], randomBytes(40), 1n, 2, 0, (handle) => setTimeout(() => native!.cancelSearch(handle), 250));
    expect(outcome.status).toBe(CANCELLED);
    expect(outcome.hashes).toBeGreaterThan(0);
    expect(outcome.progress).toBeGreaterThan(0); // progress came through the thread-safe function
  });

  it('refuses bad arguments with a TypeError, never a crash', () => {
    const n = native!;
    const cb = () => {};
    expect(() => n.startSearch(99, new Uint8Array(40), 0, 1, 1, 0, cb)).toThrow(TypeError);
    expect(() => n.startSearch(0, new Uint8Array(39), 0, 1, 1, 0, cb)).toThrow(TypeError);
    expect(() => n.startSearch(0, new Uint8Array(40 * 65), 0, 1, 1, 0, cb)).toThrow(TypeError);
    expect(() => n.startSearch(0, new Uint8Array(40), 0, 0, 1, 0, cb)).toThrow(TypeError);
    expect(() => n.startSearch(0, new Uint8Array(40), 0, 1, 0, 0, cb)).toThrow(TypeError);
    expect(() => n.startSearch(0, new Uint8Array(40), 0, 1, 1, -1, cb)).toThrow(TypeError);
    expect(() => n.cancelSearch({})).toThrow(TypeError);
    expect(() => n.searchNonces(0, new Uint8Array(40), 0, 2 ** 32 - 1, 2, 0, 1)).toThrow(TypeError);
  });
});
