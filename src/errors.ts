/**
 * Stable error codes. Programmer errors throw; untrusted input never does
 * (it gets a `{ ok: false, reason }` verdict instead).
 *
 * - `ERR_INVALID_ARGUMENT`: an argument or option has the wrong type or range.
 * - `ERR_WEAK_SECRET`: a secret of the right length that looks guessable (a repeated word, a run, a short hex string).
 * - `ERR_INVALID_ENV`: an environment variable (`POWGATE_BACKEND`, `POWGATE_ISA`) has a value powgate does not know.
 * - `ERR_BACKEND_UNAVAILABLE`: the requested backend (or every backend) failed to load; the message lists each attempt.
 * - `ERR_ISA_UNSUPPORTED`: a native kernel was forced that this CPU or build cannot run.
 * - `ERR_MALFORMED_CHALLENGE`: `solve()` was given something that is not a protocol challenge.
 * - `ERR_ABORTED`: `solve()` (or a client call) was cancelled through its AbortSignal.
 * - `ERR_TIMEOUT`: `solve()` ran past its `timeoutMs`.
 * - `ERR_DIFFICULTY_TOO_HIGH`: `solve()` was given a challenge that asks for more work than its `maxDifficulty`.
 * - `ERR_SOLVER_FAILED`: a solver thread failed (its error is the `cause`).
 * - `ERR_REDIS_CLIENT_MISSING`: a Redis store or counter (or `--redis`) was asked for, and the optional
 *   peer dependency ioredis is not installed (`npm install ioredis`).
 * - `ERR_PEER_MISSING`: a command needs an optional peer dependency that is not installed (`powgate serve`:
 *   pino and prom-client; `powgate mcp`: the MCP SDK and zod); the message names them and the install command.
 *
 * The client (`powgate/client`) refuses to pay, or fails to, with these; each carries the
 * `price` that was asked when there was one:
 *
 * - `ERR_BUDGET_EXCEEDED`: the price is over a budget (per call or per window), checked before any work or payment.
 * - `ERR_PAYMENT_DECLINED`: the `approve` callback said no.
 * - `ERR_UNSUPPORTED_CHALLENGE`: a 402 (or refusal) offers no door this client can pay (unknown format, no wallet, sats not allowed).
 * - `ERR_BAD_ENVELOPE`: a 402 that claims to be powgate's or L402's is malformed or hostile (oversized, wrong types,
 *   a redeem URL on another origin): nothing was solved, paid or sent.
 * - `ERR_PAYMENT_FAILED`: paying went wrong after the budget allowed it: the redeem was refused, the wallet failed,
 *   or the server refused the credential it had just sold (the `cause` says more).
 */
export type PowgateErrorCode =
  | 'ERR_INVALID_ARGUMENT'
  | 'ERR_WEAK_SECRET'
  | 'ERR_INVALID_ENV'
  | 'ERR_BACKEND_UNAVAILABLE'
  | 'ERR_ISA_UNSUPPORTED'
  | 'ERR_MALFORMED_CHALLENGE'
  | 'ERR_ABORTED'
  | 'ERR_TIMEOUT'
  | 'ERR_DIFFICULTY_TOO_HIGH'
  | 'ERR_SOLVER_FAILED'
  | 'ERR_REDIS_CLIENT_MISSING'
  | 'ERR_PEER_MISSING'
  | 'ERR_BUDGET_EXCEEDED'
  | 'ERR_PAYMENT_DECLINED'
  | 'ERR_UNSUPPORTED_CHALLENGE'
  | 'ERR_BAD_ENVELOPE'
  | 'ERR_PAYMENT_FAILED';

/** What a door asked for one payment, as the client priced it before paying. */
export interface PaymentPrice {
  /** The door: `pow` (powgate's proof of work), `l402-pow` (Aperture's) or `l402` (Lightning). */
  method: 'pow' | 'l402-pow' | 'l402';
  /** Expected CPU-seconds (core-seconds) of the work, for the proof-of-work doors. */
  seconds?: number;
  /** Sats, for the Lightning door. */
  sats?: number;
  /** Calls the payment buys. */
  calls: number;
}

/** The one error class powgate throws; branch on `code`, never on `message`. */
export class PowgateError extends Error {
  /** Stable, machine-readable error code. */
  readonly code: PowgateErrorCode;
  /** The client's errors: the price that was asked, when there was one. */
  readonly price?: PaymentPrice;

  constructor(code: PowgateErrorCode, message: string, options?: { cause?: unknown; price?: PaymentPrice }) {
    super(message, options !== undefined && 'cause' in options ? { cause: options.cause } : undefined);
    this.name = 'PowgateError';
    this.code = code;
    if (options?.price !== undefined) this.price = options.price;
  }
}
