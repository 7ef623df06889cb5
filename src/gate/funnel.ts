import { invalid } from '../validate.js';
import { DEFAULT_CHANNEL, OTHER_SCOPE, type Channel, type DoorKind, type GateEvent, type GateObserver, type RefusedStep } from './events.js';

/** How long a fail-open pass keeps the gate reported degraded (`fail_open`) after it, in ms. */
const FAIL_OPEN_REPORT_MS = 60_000;

/** A gate's observers, and what it tells them. */
export class Funnel {
  readonly #observers: GateObserver[] = [];
  readonly #isDoor: (scope: string) => boolean;
  /** Until when the gate reports `fail_open`: some time after it last let a call through uncounted. */
  failOpenUntil = 0;

  constructor(isDoor: (scope: string) => boolean) {
    this.#isDoor = isDoor;
  }

  /** See {@link Gate.observe}. */
  observe(observer: GateObserver): () => void {
    if (typeof observer !== 'function') throw invalid('a function', 'observer', observer);
    this.#observers.push(observer);
    return () => {
      const at = this.#observers.indexOf(observer);
      if (at !== -1) this.#observers.splice(at, 1);
    };
  }

  /** Whether anyone observes: events are built only then. */
  get observed(): boolean {
    return this.#observers.length > 0;
  }

  emit(event: GateEvent): void {
    for (const observer of this.#observers) {
      try {
        observer(event);
      } catch {
        // An observer's failure must never change a verdict.
      }
    }
  }

  /** The scope as a label: a declared door's, else OTHER_SCOPE (a client's invention is never a label). */
  scopeLabel(scope: unknown): string {
    return typeof scope === 'string' && this.#isDoor(scope) ? scope : OTHER_SCOPE;
  }

  refused(step: RefusedStep, reason: string, scope: unknown, door: DoorKind, channel: Channel | undefined): void {
    if (this.#observers.length) this.emit({ stage: 'refused', step, reason, scope: this.scopeLabel(scope), door, channel: channel ?? DEFAULT_CHANNEL });
  }

  /** A fail-open pass: reported degraded for a while, and told to observers. */
  failedOpen(scope: unknown, channel: Channel | undefined): void {
    this.failOpenUntil = Date.now() + FAIL_OPEN_REPORT_MS;
    if (this.#observers.length) this.emit({ stage: 'degraded', degraded: 'fail_open', scope: this.scopeLabel(scope), door: 'work', channel: channel ?? DEFAULT_CHANNEL });
  }
}
