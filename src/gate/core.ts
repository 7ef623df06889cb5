import type { KeyOptions } from '../protocol/keys.js';
import type { RateCounter } from '../storage/rate-counter.js';
import type { ReplayStore } from '../storage/types.js';
import type { AdaptiveDifficulty } from './adaptive-difficulty.js';
import type { CredentialCache } from './credential-cache.js';
import type { Doors } from './doors.js';
import type { Funnel } from './funnel.js';
import type { LightningDoor } from './lightning-door.js';

/** A gate's checked settings (its public fields). */
export interface GateSettings {
  readonly store: ReplayStore;
  readonly counter: RateCounter;
  readonly difficulty: AdaptiveDifficulty;
  readonly subPuzzles: number;
  readonly calls: number;
  readonly maxCalls: number;
  readonly challengeTtlMs: number;
  readonly tokenTtlMs: number;
  readonly maxTokenTtlMs: number | undefined;
  readonly skewMs: number;
  readonly failOpen: boolean;
  readonly lightning: LightningDoor | undefined;
  readonly aperturePow: boolean;
}

/** What a gate's steps (issuing, redeeming, spending, refusing) work on: internal. */
export interface GateCore {
  readonly settings: GateSettings;
  /** A copy of the caller's keys, read once. */
  readonly keys: KeyOptions;
  readonly doors: Doors;
  readonly funnel: Funnel;
  readonly credentials: CredentialCache;
  /** The store's epoch, written (Redis: SET NX) before the first challenge, so that no challenge predates it. */
  epochWritten: Promise<unknown> | undefined;
}
