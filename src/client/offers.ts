// The doors a refusal offers, as the client reads them: checked, bounded, and typed.
import type { Challenge } from '../protocol/challenge.js';

/** Powgate's proof of work: solve `challenge`, redeem the solution as `redeem` says, present the token. */
export interface PowOffer {
  method: 'pow';
  /** Checked with the protocol's own parser (shape, ranges, canonical form); its MAC is the server's to check. */
  challenge: Challenge;
  /** Most calls the server sells in one challenge (`more_calls`). */
  maxCalls: number;
  /** How to redeem and present, for the transport that carried the refusal (HTTP URLs, MCP tool names): a plain object. */
  redeem: Record<string, unknown>;
}

/** Lightning (L402): pay `invoice`, present `L402 <macaroon>:<preimage>` (or redeem the pair for a token). */
export interface L402Offer {
  method: 'l402';
  /** Base64, a well-formed V2 macaroon. */
  macaroon: string;
  /** BOLT11, lowercase; its amount and payment hash were read from the invoice itself. */
  invoice: string;
  /** 64 lowercase hex: the invoice's payment hash (equal to the macaroon's when its identifier says so). */
  paymentHash: string;
  /** What the invoice asks, in sats (from the BOLT11, never from the server's JSON alone). */
  amountSats: number;
  /** Calls the credential allows: the server's word, or 1 when a plain L402 header does not say. */
  calls: number;
  /** False when a plain L402 header did not say: priced as 1 call, then presented until refused. */
  callsKnown: boolean;
  /** When the credential stops being valid (ms since the epoch), when known. */
  expiresAt: number | undefined;
  /** powgate's redeem instructions for this transport, when the server gave them. */
  redeem: Record<string, unknown> | undefined;
}

/** Aperture's proof of work in L402: a nonce for SHA-256(token id || nonce) with `bits` leading zero bits, then `L402 <macaroon'>:POW`. */
export interface AperturePowOffer {
  method: 'l402-pow';
  /** Base64, a well-formed V2 macaroon. */
  macaroon: string;
  /** Leading zero bits, 1 to 64. */
  bits: number;
  /** 64 lowercase hex: the last 32 bytes of the macaroon's identifier. */
  tokenId: string;
  /** Calls the credential allows: the server's word, or 1 when a plain L402 header does not say. */
  calls: number;
  /** False when a plain L402 header did not say: priced as 1 call, then presented until refused. */
  callsKnown: boolean;
  /** When the credential stops being valid (ms since the epoch), when known. */
  expiresAt: number | undefined;
}

/** One way through a refusal that this client knows how to pay. */
export type Offer = PowOffer | L402Offer | AperturePowOffer;

/** The doors, by name. */
export type PaymentMethod = Offer['method'];

/** A refusal, read: why, the scope it is for (undefined for plain L402), and every door this client understands. */
export interface Envelope {
  /** `powgate` for powgate's JSON body, `l402` for a plain L402 / Aperture WWW-Authenticate header. */
  source: 'powgate' | 'l402';
  /** The refusal's reason (`token_required`, `token_exhausted`, ...), when it says. */
  reason: string | undefined;
  /** The scope the credential must carry: the challenge's; undefined for plain L402. */
  scope: string | undefined;
  /** Doors in the order the server listed them; unknown methods are left out. */
  offers: Offer[];
}
