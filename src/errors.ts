/**
 * Stable error codes. Programmer errors throw; untrusted input never does
 * (it gets a `{ ok: false, reason }` verdict instead).
 *
 * - `ERR_INVALID_ARGUMENT`: an argument or option has the wrong type or range.
 * - `ERR_INVALID_ENV`: an environment variable (`POWGATE_BACKEND`, `POWGATE_ISA`) has a value powgate does not know.
 * - `ERR_BACKEND_UNAVAILABLE`: the requested backend (or every backend) failed to load; the message lists each attempt.
 * - `ERR_ISA_UNSUPPORTED`: a native kernel was forced that this CPU or build cannot run.
 * - `ERR_MALFORMED_CHALLENGE`: `solve()` was given something that is not a protocol challenge.
 * - `ERR_ABORTED`: `solve()` was cancelled through its AbortSignal.
 * - `ERR_TIMEOUT`: `solve()` ran past its `timeoutMs`.
 * - `ERR_SOLVER_FAILED`: a solver thread failed (its error is the `cause`).
 */
export type PowgateErrorCode =
  | 'ERR_INVALID_ARGUMENT'
  | 'ERR_INVALID_ENV'
  | 'ERR_BACKEND_UNAVAILABLE'
  | 'ERR_ISA_UNSUPPORTED'
  | 'ERR_MALFORMED_CHALLENGE'
  | 'ERR_ABORTED'
  | 'ERR_TIMEOUT'
  | 'ERR_SOLVER_FAILED';

/** The one error class powgate throws; branch on `code`, never on `message`. */
export class PowgateError extends Error {
  /** Stable, machine-readable error code. */
  readonly code: PowgateErrorCode;

  constructor(code: PowgateErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PowgateError';
    this.code = code;
  }
}
