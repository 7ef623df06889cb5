import type { KeyOptions } from '../protocol/keys.js';
import type { CredentialCache } from './credential-cache.js';
import type { Doors } from './doors.js';
import type { Funnel } from './funnel.js';
import type { Gate } from './gate.js';

/** What a gate's steps (issuing, redeeming, spending, refusing) work on: internal. */
export interface GateCore {
  /** The gate's checked settings: its public fields. */
  readonly settings: Gate;
  /** A copy of the caller's keys, read once. */
  readonly keys: KeyOptions;
  readonly doors: Doors;
  readonly funnel: Funnel;
  readonly credentials: CredentialCache;
  /** The store's epoch, written (Redis: SET NX) before the first challenge, so that no challenge predates it. */
  epochWritten: Promise<unknown> | undefined;
}
