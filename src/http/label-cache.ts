// prom-client hashes a label set on every inc() or observe(): more than a token check costs.
// Children bound to their labels, kept by a plain string key, cost a Map lookup instead.
import type { Counter, Histogram } from 'prom-client';

/** Most label sets kept per metric; beyond it children are not kept (counted all the same). */
const MAX_CHILDREN = 10_000;

/** The children of a counter or histogram, by their label values in labelNames order. */
export class LabelCache<Child> {
  readonly #children = new Map<string, Child>();
  readonly #make: (values: string[]) => Child;

  private constructor(make: (values: string[]) => Child) {
    this.#make = make;
  }

  static counter<T extends string>(counter: Counter<T>): LabelCache<Counter.Internal> {
    return new LabelCache((values) => counter.labels(...values));
  }

  static histogram<T extends string>(histogram: Histogram<T>): LabelCache<Histogram.Internal<T>> {
    return new LabelCache((values) => histogram.labels(...values));
  }

  /** The child for these label values. */
  get(...values: string[]): Child {
    const key = values.join('\u0000');
    let child = this.#children.get(key);
    if (child === undefined) {
      child = this.#make(values);
      if (this.#children.size < MAX_CHILDREN) this.#children.set(key, child);
    }
    return child;
  }

  /** Forgets every child (after the metric was reset). */
  clear(): void {
    this.#children.clear();
  }
}
