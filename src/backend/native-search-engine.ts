import { PowgateError } from '../errors.js';
import type { NativeAddon } from './native.js';
import type { SearchEngine } from './search-engine.js';

const FOUND = 0;
const EXHAUSTED = 2;

/** The C++ solver threads: one job for all sub-puzzles, progress through a thread-safe function. */
export function nativeSearchEngine(native: NativeAddon, isaId: number): SearchEngine {
  return async ({ prefixes, threshold, threads }, events) => {
    const handle = native.startSearch(isaId, Buffer.concat(prefixes), Number(threshold >> 32n), Number(threshold & 0xffffffffn), threads, 0, (done, hashes, nonces, status) => {
      events.onHashes(hashes);
      if (!done) return;
      if (status === FOUND) {
        const view = new DataView(nonces!.buffer, nonces!.byteOffset, nonces!.byteLength);
        events.onDone(prefixes.map((_, j) => view.getBigUint64(8 * j)));
      } else if (status === EXHAUSTED) {
        events.onError(new PowgateError('ERR_SOLVER_FAILED', 'the 64-bit nonce space was searched without a solution'));
      }
      // Cancelled: solve() settled when it cancelled.
    });
    return { cancel: () => native.cancelSearch(handle) };
  };
}
