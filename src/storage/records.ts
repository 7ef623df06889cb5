// The records MemoryReplayStore keeps with recorded spends: id → record until the spend
// expires, bounded, oldest first. A full table keeps no new record (the spend itself still
// counts): a retry then gets 'replayed', never a second token.

/** Records kept with spends, until each expires. */
export class SpendRecords {
  readonly #held = new Map<string, { record: string; until: number }>();
  readonly #max: number;

  /** @param max most records held at once. */
  constructor(max: number) {
    this.#max = max;
  }

  /** Keeps `record` for `id` until `until`, unless the table is full of live records. */
  keep(id: string, record: string, until: number, now: number): void {
    if (this.#held.size >= this.#max) this.#dropExpired(now);
    if (this.#held.size < this.#max) this.#held.set(id, { record, until });
  }

  /** The live record of `id`, if any. */
  find(id: string, now: number): string | undefined {
    const held = this.#held.get(id);
    if (held === undefined) return undefined;
    if (held.until > now) return held.record;
    this.#held.delete(id);
    return undefined;
  }

  // Insertion order is about expiry order (lifetimes are similar): stop at the first live one.
  #dropExpired(now: number): void {
    for (const [id, held] of this.#held) {
      if (held.until > now) return;
      this.#held.delete(id);
    }
  }
}
