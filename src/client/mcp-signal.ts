// Signals for the MCP wrapper's calls: its own per request (the SDK never removes its listeners),
// and ERR_ABORTED when the caller's aborts first.
import { PowgateError } from '../errors.js';
import type { McpRequestOptions } from './mcp-types.js';

/**
 * The options with a signal of their own that follows the caller's: the SDK adds an abort
 * listener to the signal of every request and never removes it, so a long-lived caller's
 * signal would collect one per call.
 */
export function ownSignal(options: McpRequestOptions | undefined): McpRequestOptions | undefined {
  return options?.signal ? { ...options, signal: AbortSignal.any([options.signal]) } : options;
}

/** A promise that rejects with ERR_ABORTED when `signal` aborts first. */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(aborted(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(aborted(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => (signal.removeEventListener('abort', onAbort), resolve(value)),
      (error: unknown) => (signal.removeEventListener('abort', onAbort), reject(error)),
    );
  });
}

export function aborted(signal: AbortSignal): PowgateError {
  return new PowgateError('ERR_ABORTED', 'the call was aborted', { cause: signal.reason });
}
