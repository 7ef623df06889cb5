/**
 * How many of something (connections, requests) each client holds at once, each
 * capped at `max`. A client's entry is dropped when it holds none, so the map
 * holds only clients with something open.
 */
export class ClientSlots {
  readonly max: number;
  readonly #held = new Map<string, number>();

  /** `max`: most held at once by one client (a positive integer; callers validate it). */
  constructor(max: number) {
    this.max = max;
  }

  /** Takes one for `client`; false (nothing taken) when it already holds `max`. */
  take(client: string): boolean {
    const held = this.#held.get(client) ?? 0;
    if (held >= this.max) return false;
    this.#held.set(client, held + 1);
    return true;
  }

  /** Gives back one that `take` gave `client`. */
  release(client: string): void {
    const held = this.#held.get(client) ?? 0;
    if (held <= 1) this.#held.delete(client);
    else this.#held.set(client, held - 1);
  }

  /** What `client` holds now. */
  held(client: string): number {
    return this.#held.get(client) ?? 0;
  }

  /** Clients holding at least one. */
  get clients(): number {
    return this.#held.size;
  }
}
