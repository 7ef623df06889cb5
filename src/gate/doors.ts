import { PowgateError } from '../errors.js';
import { DIFFICULTY_STEPS, PROTOCOL_MAX_DIFFICULTY, PROTOCOL_MIN_DIFFICULTY, difficultySteps } from '../protocol/difficulty.js';
import { MAX_SATS_PER_CALL } from '../protocol/l402.js';
import { log2Steps, priceSteps } from '../protocol/price.js';
import { isScope } from '../protocol/shape.js';
import { checkInteger, invalid } from '../validate.js';
import type { AdaptiveDifficulty } from './adaptive-difficulty.js';
import { checkResource, type DiscoveryResource } from './discovery.js';
import type { LightningDoor } from './lightning-door.js';

/** One door: its per-call prices, as given (undefined: the gate's). */
interface Door {
  difficulty: number | undefined;
  sats: number | undefined;
}

/** A door as status endpoints show it. */
export interface DoorListing {
  scope: string;
  difficulty: number;
  price: number;
  sats?: number;
}

/** What the doors' prices are computed from: the gate's settings. */
export interface DoorPricing {
  readonly difficulty: AdaptiveDifficulty;
  readonly subPuzzles: number;
  readonly maxCalls: number;
  readonly lightning: LightningDoor | undefined;
}

/** A gate's doors (scopes and their prices) and the entry points behind them. */
export class Doors {
  readonly #pricing: DoorPricing;
  readonly #doors = new Map<string, Door>([['', { difficulty: undefined, sats: undefined }]]);
  /** The entry points behind the doors, for the discovery document. */
  readonly #resources: DiscoveryResource[] = [];
  /** How far adaptive pricing may raise a door above its base: max - base. */
  readonly headroom: number;

  constructor(pricing: DoorPricing) {
    this.#pricing = pricing;
    this.headroom = pricing.difficulty.max - pricing.difficulty.base;
  }

  has(scope: string): boolean {
    return this.#doors.has(scope);
  }

  /** See {@link Gate.door}. */
  declare(scope: string, difficulty?: number, sats?: number): void {
    if (!isScope(scope)) throw invalid('printable ASCII of at most 256 characters', 'scope', scope);
    if (sats !== undefined) checkInteger(sats, `the sats per call of scope "${scope}"`, 1, MAX_SATS_PER_CALL);
    if (difficulty !== undefined && (typeof difficulty !== 'number' || !(difficulty >= PROTOCOL_MIN_DIFFICULTY && difficulty <= PROTOCOL_MAX_DIFFICULTY))) {
      throw invalid(`a number from ${PROTOCOL_MIN_DIFFICULTY} to ${PROTOCOL_MAX_DIFFICULTY}`, `the difficulty of scope "${scope}"`, difficulty);
    }
    const most = (difficulty ?? this.#pricing.difficulty.base) + this.headroom + log2Steps(this.#pricing.maxCalls) / DIFFICULTY_STEPS;
    if (most > PROTOCOL_MAX_DIFFICULTY) {
      throw invalid(`a price whose highest bundle stays within ${PROTOCOL_MAX_DIFFICULTY} bits`, `the difficulty of scope "${scope}"`, difficulty);
    }
    const known = this.#doors.get(scope);
    if (known?.difficulty !== undefined && difficulty !== undefined && known.difficulty !== difficulty) {
      throw new PowgateError('ERR_INVALID_ARGUMENT', `scope "${scope}" is already a door at difficulty ${known.difficulty}, not ${difficulty}`);
    }
    if (known?.sats !== undefined && sats !== undefined && known.sats !== sats) {
      throw new PowgateError('ERR_INVALID_ARGUMENT', `scope "${scope}" is already a door at ${known.sats} sats per call, not ${sats}`);
    }
    this.#doors.set(scope, { difficulty: difficulty ?? known?.difficulty, sats: sats ?? known?.sats });
  }

  /** See {@link Gate.resource}. */
  addResource(resource: DiscoveryResource): void {
    checkResource(resource);
    if (!this.#doors.has(resource.scope)) throw invalid('a declared scope', 'resource.scope', resource.scope);
    const same = (r: DiscoveryResource) => r.scope === resource.scope && r.method === resource.method && r.path === resource.path && r.tool === resource.tool;
    if (!this.#resources.some(same)) this.#resources.push(Object.freeze({ ...resource }));
  }

  resources(): readonly DiscoveryResource[] {
    return [...this.#resources];
  }

  /** Every door with its prices. */
  list(): DoorListing[] {
    return [...this.#doors.keys()].map((scope) => {
      const difficulty = this.baseOf(scope)!;
      const sats = this.satsOf(scope);
      return { scope, difficulty, price: this.priceSteps(difficulty) / DIFFICULTY_STEPS, ...(sats === undefined ? {} : { sats }) };
    });
  }

  /** A door's base difficulty per call, or undefined for no door. */
  baseOf(scope: string): number | undefined {
    const door = this.#doors.get(scope);
    return door === undefined ? undefined : (door.difficulty ?? this.#pricing.difficulty.base);
  }

  /** A door's sats per call, or undefined without a Lightning door. */
  satsOf(scope: string): number | undefined {
    const lightning = this.#pricing.lightning;
    return lightning && (this.#doors.get(scope)?.sats ?? lightning.satsPerCall);
  }

  /** A door's per-call price in steps: its base difficulty with the gate's sub-puzzles (what a token must have paid). */
  priceSteps(difficulty: number): number {
    return priceSteps(difficultySteps(difficulty), this.#pricing.subPuzzles, 1);
  }

  /** The difficulties the gate issues, from the cheapest door's lowest price to the dearest door's highest bundle. */
  bounds(): { minDifficulty: number; maxDifficulty: number } {
    const bases = [...this.#doors.keys()].map((scope) => this.baseOf(scope)!);
    const { base, min } = this.#pricing.difficulty;
    return {
      minDifficulty: Math.max(PROTOCOL_MIN_DIFFICULTY, Math.min(...bases) - (base - min)),
      maxDifficulty: Math.min(PROTOCOL_MAX_DIFFICULTY, Math.max(...bases) + this.headroom + Math.log2(this.#pricing.maxCalls) + 1 / DIFFICULTY_STEPS),
    };
  }
}
