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
  /** Cells by their label values, one Map level per label: a label value is usually the same string each time, whose hash V8 keeps (a joined key would be a new string to hash). */
  readonly #tree = new Map<string, unknown>();
  readonly #cells: Cell[] = [];
  readonly #names: readonly T[];
  #counter: Counter<T> | undefined;

  constructor(labelNames: readonly T[]) {
    this.#names = labelNames;
  }

  /** The counter to add to: set once it is made (its `collect` calls {@link flush}). */
  bind(counter: Counter<T>): void {
    this.#counter = counter;
  }

  /** Adds one for these label values (as many as the label names). */
  inc(...values: string[]): void {
    let level = this.#tree;
    const last = values.length - 1;
    for (let i = 0; i < last; i++) {
      let next = level.get(values[i]!) as Map<string, unknown> | undefined;
      if (next === undefined) level.set(values[i]!, (next = new Map()));
      level = next;
    }
    const cell = level.get(values[last]!) as Cell | undefined;
    if (cell !== undefined) {
      cell.pending++;
      return;
    }
    const labels: Record<string, string> = {};
    this.#names.forEach((name, i) => (labels[name] = values[i]!));
    if (this.#cells.length < MAX_CELLS) {
      const made = { labels, pending: 1 };
      level.set(values[last]!, made);
      this.#cells.push(made);
    } else this.#counter?.inc(labels as Partial<Record<T, string>>);
  }

  /** Adds what was counted since the last collection to the counter (from its `collect`). */
  flush(): void {
    const counter = this.#counter;
    if (!counter) return;
    for (const cell of this.#cells) {
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
