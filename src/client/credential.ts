// What a purchase yields: the credential, how it is presented, and one call's use of it.
import type { PaymentMethod } from './offers.js';

/** A credential: a powgate token, or an L402 macaroon with its preimage (`POW` in Aperture's dialect). */
export type Credential = { kind: 'token'; token: string } | { kind: 'l402'; macaroon: string; preimage: string };

/** The credential as one string: the token, or `L402 <macaroon>:<preimage>` (what an MCP `powgate_token` argument takes). */
export function credentialText(credential: Credential): string {
  return credential.kind === 'token' ? credential.token : `L402 ${credential.macaroon}:${credential.preimage}`;
}

/** What a purchase put in the cache. */
export interface CachedCredential {
  credential: Credential;
  /** The door that sold it. */
  method: PaymentMethod;
  /** Calls it allows; Infinity when unknown (a plain L402 server): it is used until refused. */
  calls: number;
  /** When it stops being valid (ms since the epoch); Infinity when unknown. */
  expiresAt: number;
}

/** One call's use of a cached credential. Settle it exactly once. */
export interface Lease {
  readonly credential: Credential;
  readonly method: PaymentMethod;
  /** Set when this lease's own purchase bought the credential (a refusal of it then is a failed payment). */
  readonly bought: boolean;
  /** The call went through: `remaining` is the server's count after it (`Powgate-Calls-Remaining`), when it said. */
  release(remaining?: number): void;
  /**
   * The server refused it: `token_exhausted` spends what is left; `scope_mismatch` and
   * `price_too_low` (another door's refusal) give the call back; any other reason drops it.
   */
  refused(reason: string | undefined): void;
}
