// Reading an L402 credential: its macaroon and payment, and the caveats it carries folded
// so that each one a holder appended can only narrow (docs/PROTOCOL.md, "L402").
import { createHash } from 'node:crypto';
import { macaroonFromBase64, type Macaroon } from './macaroon.js';

/** How an L402 credential was paid: a Lightning invoice's preimage, or proof of work (Aperture's `:POW`). */
export type L402Mode = 'lightning' | 'pow';

/** What stands in for the preimage when the payment is proof of work (Aperture's dialect). */
export const POW_SENTINEL = 'POW';
/** Highest proof-of-work bits a pow macaroon may require (Aperture's caveat holds an integer). */
export const MAX_POW_BITS = 64;

/** The caveats powgate signs. A holder may append more (attenuation): each can only narrow. */
export const CAVEATS = {
  /** Which key derived the root key (first one counts). */
  kid: 'powgate_kid',
  /** The door; every one present must match. */
  scope: 'powgate_scope',
  /** Calls the credential allows; the smallest counts. */
  calls: 'powgate_calls',
  /** Unix seconds after which it is refused; the earliest counts (Aperture's `<service>_valid_until`). */
  validUntil: 'powgate_valid_until',
  /** Sats each call was paid (lightning); the smallest counts. */
  satsPerCall: 'powgate_sats_per_call',
  /** Leading zero bits the pow caveat must prove (pow); the largest counts. */
  powBits: 'powgate_pow_bits',
} as const;
/** The caveat an Aperture PoW client appends: `pow=<bits>:<16 hex nonce>`. */
export const APERTURE_POW_CAVEAT = 'pow';

/** A credential split into its macaroon and payment: `<base64 macaroon>:<64 hex | base64 preimage | POW>`. */
export interface Credential {
  macaroon: Macaroon;
  mode: L402Mode;
  preimage: Buffer | undefined;
}

const HEX_PREIMAGE = /^[0-9a-fA-F]{64}$/;
const B64_PREIMAGE = /^[A-Za-z0-9+/_-]{43}=?$/;

export function splitCredential(credential: string): Credential | undefined {
  const colon = credential.lastIndexOf(':');
  if (colon <= 0) return undefined;
  const payment = credential.slice(colon + 1);
  const macaroons = credential.slice(0, colon);
  // Several macaroons (comma-separated) carry third-party discharges, which powgate never asks for.
  if (macaroons.includes(',')) return undefined;
  let preimage: Buffer | undefined;
  if (payment === POW_SENTINEL) preimage = undefined;
  else if (HEX_PREIMAGE.test(payment)) preimage = Buffer.from(payment, 'hex');
  // The older LSAT text sent the preimage as base64.
  else if (B64_PREIMAGE.test(payment)) preimage = Buffer.from(payment, 'base64');
  else return undefined;
  const macaroon = macaroonFromBase64(macaroons);
  if (!macaroon) return undefined;
  return { macaroon, mode: preimage ? 'lightning' : 'pow', preimage };
}

/** The caveats a verifier reads, folded so that each appended one can only narrow. */
export interface Folded {
  kid?: string;
  scopes: string[];
  calls?: number;
  validUntil?: number;
  /** The first one: powgate's own (a holder can only append after it). Counts live until then. */
  signedValidUntil?: number;
  satsPerCall?: number;
  powBits?: number;
  pow: string[];
}

const DECIMAL = /^(0|[1-9][0-9]{0,15})$/;

export function fold(caveats: readonly Buffer[]): Folded | undefined {
  const f: Folded = { scopes: [], pow: [] };
  const least = (a: number | undefined, b: number) => (a === undefined ? b : Math.min(a, b));
  for (const bytes of caveats) {
    const text = bytes.toString('latin1');
    const eq = text.indexOf('=');
    if (eq === -1) continue; // not a key=value caveat: unknown, skipped (macaroon-spec)
    const name = text.slice(0, eq);
    const value = text.slice(eq + 1);
    if (name === CAVEATS.kid) f.kid ??= value;
    else if (name === CAVEATS.scope) f.scopes.push(value);
    else if (name === APERTURE_POW_CAVEAT) f.pow.push(value);
    else if (name === CAVEATS.calls || name === CAVEATS.validUntil || name === CAVEATS.satsPerCall || name === CAVEATS.powBits) {
      if (!DECIMAL.test(value)) return undefined;
      const n = Number(value);
      if (name === CAVEATS.calls) f.calls = least(f.calls, n);
      else if (name === CAVEATS.validUntil) {
        f.signedValidUntil ??= n;
        f.validUntil = least(f.validUntil, n);
      } else if (name === CAVEATS.satsPerCall) f.satsPerCall = least(f.satsPerCall, n);
      else f.powBits = Math.max(f.powBits ?? 0, n);
    }
  }
  return f;
}

/** Leading zero bits of SHA-256(token id || nonce) are at least `bits` (Aperture's PoW). */
export function powHolds(tokenId: Buffer, value: string, required: number): boolean {
  const match = /^([0-9]{1,2}):([0-9a-f]{16})$/.exec(value);
  if (!match) return false;
  const bits = Number(match[1]);
  if (bits < required || bits > MAX_POW_BITS) return false;
  const digest = createHash('sha256').update(tokenId).update(Buffer.from(match[2]!, 'hex')).digest();
  const whole = bits >> 3;
  for (let i = 0; i < whole; i++) if (digest[i] !== 0) return false;
  return bits % 8 === 0 || digest[whole]! >> (8 - (bits % 8)) === 0;
}
