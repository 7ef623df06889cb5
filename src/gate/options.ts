import type { Challenge } from '../protocol/challenge.js';
import type { KeyOptions } from '../protocol/keys.js';
import type { Refusal } from '../protocol/refusal.js';
import type { ValidToken } from '../protocol/token.js';
import type { RateCounter } from '../storage/rate-counter.js';
import type { ReplayStore } from '../storage/types.js';
import type { AdaptiveDifficultyOptions } from './adaptive-difficulty.js';
import type { ChallengeRefusal } from './envelope.js';
import type { Channel, GateObserver } from './events.js';
import type { LightningDoorOptions } from './lightning-door.js';

/** Options of {@link Gate}. */
export interface GateOptions extends KeyOptions {
  /** Where redeemed challenges are spent and tokens' calls counted. Default: a new MemoryReplayStore (one process). */
  store?: ReplayStore;
  /** Where the calls clients buy are counted for adaptive pricing. Default: a new MemoryRateCounter. */
  counter?: RateCounter;
  /**
   * The price of one call: a fixed difficulty (bits per sub-puzzle), or how it adapts to each
   * client's rate of calls bought. Doors without a price of their own charge this. Default:
   * adaptive, base 18, max 28.
   */
  difficulty?: number | AdaptiveDifficultyOptions;
  /** Sub-puzzles per challenge, 1 to 64. Default 1. */
  subPuzzles?: number;
  /** Calls a challenge buys when the client does not ask for a number. Default 1. */
  calls?: number;
  /** Most calls one challenge (and so one token) may buy, 1 to 1,048,576. Default 100. */
  maxCalls?: number;
  /**
   * The doors (scopes) clients may buy calls for, each with its per-call base difficulty, or
   * undefined for the gate's. The scope '' is always a door. Middleware and gated tools
   * declare theirs with {@link Gate.door}. Default: none besides ''.
   */
  scopes?: Readonly<Record<string, number | DoorPrice | undefined>>;
  /** The Lightning (L402) door: a node that issues invoices, and sats per call. Default: none. */
  lightning?: LightningDoorOptions;
  /**
   * Also offer proof of work in Aperture's L402 dialect (`WWW-Authenticate: L402 macaroon=..., pow=...`,
   * credential `L402 <macaroon>:POW`), for L402 tooling that only knows it. Default false.
   */
  aperturePow?: boolean;
  /** Challenge lifetime in ms. Default 120,000. */
  challengeTtlMs?: number;
  /** Token lifetime in ms. Default 300,000. */
  tokenTtlMs?: number;
  /** Longest token lifetime accepted (see verifyToken's `maxTokenTtlMs`), in ms. Default: each token's own. */
  maxTokenTtlMs?: number;
  /** Clock-skew allowance in ms. Default 5,000. */
  skewMs?: number;
  /**
   * When the store or counter cannot answer (Redis down): false refuses with
   * `store_unavailable` (fail closed); true issues challenges at the base
   * difficulty, accepts valid solutions unspent (replays possible) and lets valid
   * tokens pass uncounted. Default false.
   */
  failOpen?: boolean;
  /** Told of every step of the funnel and every degradation (see {@link Gate.observe}). Default: none. */
  observer?: GateObserver;
}

/** A door's prices: per-call difficulty (bits per sub-puzzle; adaptive pricing adds to it) and sats per call (with a Lightning door). */
export interface DoorPrice {
  /** Default: the gate's base difficulty. */
  difficulty?: number;
  /** Default: the Lightning door's `satsPerCall`. */
  sats?: number;
}

/** A challenge for a client, or why none could be issued. */
export type ChallengeResult =
  | { ok: true; challenge: Challenge /** The calls the client bought in the window, when counted. */; requests: number | undefined }
  | { ok: false; reason: ChallengeRefusal; detail: string };

/** A redeemed solution's token, or why there is none. */
export type RedeemResult = { ok: true; token: string; scope: string; expiresAt: number; calls: number; price: number } | { ok: false; reason: Refusal };

/**
 * A token or L402 credential that passed a door: what it carries, and its calls used so far
 * (this one included; undefined when not spent). An L402 credential's `issuedAt` is 0 (a
 * macaroon carries no issue time), its `method` is 'l402' when paid by invoice and 'pow' in
 * Aperture's dialect, and its `id` is the key its calls are counted under.
 */
export interface Grant extends ValidToken {
  used: number | undefined;
}

/** The verdict on a presented token at a door. */
export type UseResult = { ok: true; grant: Grant } | { ok: false; reason: Refusal };

/** Options of {@link Gate.useToken}. */
export interface UseTokenOptions {
  /** The door: the token's scope must equal it. Default ''. */
  scope?: string;
  /** Accept a token of any scope this gate has a door for (at that door's price). Default false. */
  anyScope?: boolean;
  /** Spend one of the token's calls. Default true; false only checks (nothing is counted). */
  spend?: boolean;
  /** Where the call came from, for observers (see {@link Channel}). Default 'api'. */
  channel?: Channel;
}

/**
 * Options of {@link Gate.challenge} and {@link Gate.refuse} that say how a client's key is
 * counted. A key is counted the calls it asks for, at issue, so that buying many challenges
 * at once cannot dodge the price their number earns. A `pooled` key is shared by clients
 * that cannot be told apart (an MCP server over stateless HTTP without addresses): asking
 * there is free and counts nothing, so that free refusals cannot raise everyone's price; its
 * calls count when redeemed (pass the same `client` and `pooled` to {@link Gate.redeem}).
 */
export interface ClientCounting {
  /** Default false. */
  pooled?: boolean;
  /** Where the request came from, for observers (see {@link Channel}). Default 'api'. */
  channel?: Channel;
}
