import type { PowgateError } from '../errors.js';

/** One solve, as an engine sees it: a 40-byte prefix per sub-puzzle and the threshold. */
export interface SearchRequest {
  prefixes: Uint8Array[];
  threshold: bigint;
  threads: number;
}

/** How an engine reports back. After onDone or onError, nothing more. */
export interface SearchEvents {
  onHashes(hashes: number): void;
  onDone(nonces: bigint[]): void;
  onError(error: PowgateError): void;
}

/** A running search: cancel() makes its threads stop within one chunk. */
export interface RunningSearch {
  cancel(): void;
}

/** Where nonces are searched: a backend's own solver threads, or worker threads. */
export type SearchEngine = (request: SearchRequest, events: SearchEvents) => Promise<RunningSearch>;
