// prom-client hashes a label set on every inc(), its label-bound children included (a child's inc
// is the parent's with the labels bound): more than a token check costs. The hot path instead adds
// to a plain cell found by a string key, and the cells are added to the counter when it is scraped.
import type { Counter } from 'prom-client';

/** Most label sets kept per counter; beyond it new ones go straight to prom-client (counted all the same). */
const MAX_CELLS = 10_000;

interface Cell {
  labels: Record<string, string>;
  pending: number;
}

/** A counter's increments by label values (in labelNames order), added to it at each collection. */
export class DeferredCounter<T extends string> {
  readonly #cells = new Map<string, Cell>();
  readonly #names: readonly T[];
  #counter: Counter<T> | undefined;

  constructor(labelNames: readonly T[]) {
    this.#names = labelNames;
  }

  /** The counter to add to: set once it is made (its `collect` calls {@link flush}). */
  bind(counter: Counter<T>): void {
    this.#counter = counter;
  }

  /** Adds one for these label values. */
  inc(...values: string[]): void {
    const key = values.join('\u0000');
    const cell = this.#cells.get(key);
    if (cell !== undefined) {
      cell.pending++;
      return;
    }
    const labels: Record<string, string> = {};
    this.#names.forEach((name, i) => (labels[name] = values[i]!));
    if (this.#cells.size < MAX_CELLS) this.#cells.set(key, { labels, pending: 1 });
    else this.#counter?.inc(labels as Partial<Record<T, string>>);
  }

  /** Adds what was counted since the last collection to the counter (from its `collect`). */
  flush(): void {
    const counter = this.#counter;
    if (!counter) return;
    for (const cell of this.#cells.values()) {
      if (cell.pending === 0) continue;
      counter.inc(cell.labels as Partial<Record<T, string>>, cell.pending);
      cell.pending = 0;
    }
  }
}

/** A Counter whose hot-path increments go through a {@link DeferredCounter}. */
export function deferredCounter<T extends string>(
  CounterClass: typeof Counter,
  config: { name: string; help: string; labelNames: readonly T[]; registers: ConstructorParameters<typeof Counter>[0]['registers'] },
): { counter: Counter<T>; cells: DeferredCounter<T> } {
  const cells = new DeferredCounter<T>(config.labelNames);
  const counter = new CounterClass<T>({
    ...config,
    labelNames: [...config.labelNames],
    collect() {
      cells.flush();
    },
  });
  cells.bind(counter);
  return { counter, cells };
}
