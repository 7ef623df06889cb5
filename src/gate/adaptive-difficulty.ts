import { PowgateError } from '../errors.js';
import { PROTOCOL_MAX_DIFFICULTY, PROTOCOL_MIN_DIFFICULTY, checkDifficultyBounds } from '../protocol/difficulty.js';
import { checkInteger, describe } from '../validate.js';

/**
 * How a client's recent request rate sets its difficulty: free up to `freeRequests`
 * per window at `base`, then `bitsPerDoubling` more bits each time the rate doubles
 * (one bit doubles the work of a request), never outside [min, max].
 */
export interface AdaptiveDifficultyOptions {
  /** Difficulty of a client within its free rate. Default 18 (within min and max when they are given). */
  base?: number;
  /** Lowest difficulty ever issued. Default: base. */
  min?: number;
  /** Highest difficulty ever issued. Default 28. */
  max?: number;
  /** Requests per window before the difficulty rises. Default 10. */
  freeRequests?: number;
  /** The window, in ms. Default 60,000. */
  windowMs?: number;
  /** Bits added per doubling of the rate beyond freeRequests. Default 1. */
  bitsPerDoubling?: number;
}

/** A gate's difficulty settings, checked, every default filled in ({@link Gate.difficulty}). */
export type AdaptiveDifficulty = Required<AdaptiveDifficultyOptions>;

/** Checked settings, defaults filled in. A plain number is a fixed difficulty. */
export function adaptiveDifficulty(options: number | AdaptiveDifficultyOptions = {}): AdaptiveDifficulty {
  if (typeof options === 'number') return adaptiveDifficulty({ base: options, min: options, max: options });
  if (typeof options !== 'object' || options === null) {
    throw new PowgateError('ERR_INVALID_ARGUMENT', `expected a number or an options object for difficulty but received ${describe(options)}`);
  }
  // Without a base: 18, moved inside whatever bounds were given.
  const base = options.base ?? Math.min(Math.max(18, options.min ?? -Infinity), options.max ?? Infinity);
  const { min, max } = checkDifficultyBounds(options.min ?? Math.min(base, options.max ?? 28), options.max ?? Math.max(base, 28));
  if (typeof base !== 'number' || !(base >= min && base <= max)) {
    throw new PowgateError('ERR_INVALID_ARGUMENT', `expected a number from ${min} to ${max} for difficulty.base but received ${describe(base)}`);
  }
  const bits = options.bitsPerDoubling ?? 1;
  if (typeof bits !== 'number' || !(bits >= 0 && bits <= 16)) {
    throw new PowgateError('ERR_INVALID_ARGUMENT', `expected a number from 0 to 16 for difficulty.bitsPerDoubling but received ${describe(bits)}`);
  }
  return {
    base,
    min,
    max,
    freeRequests: checkInteger(options.freeRequests ?? 10, 'difficulty.freeRequests', 1, 1e9),
    windowMs: checkInteger(options.windowMs ?? 60_000, 'difficulty.windowMs', 1, 86_400_000),
    bitsPerDoubling: bits,
  };
}

/**
 * The per-call difficulty for a client that bought `requests` calls in the current
 * window, at a door whose base is `doorBase` (default the settings' base): the same
 * rise, and bounds moved by as much as the door's base is from the settings' base.
 */
export function difficultyFor(settings: AdaptiveDifficulty, requests: number, doorBase = settings.base): number {
  const extra = requests > settings.freeRequests ? settings.bitsPerDoubling * Math.log2(requests / settings.freeRequests) : 0;
  const shift = doorBase - settings.base;
  // Whole 1/65536 steps, as challenges carry them.
  const d = Math.round((doorBase + extra) * 65536) / 65536;
  return Math.min(settings.max + shift, PROTOCOL_MAX_DIFFICULTY, Math.max(settings.min + shift, PROTOCOL_MIN_DIFFICULTY, d));
}
