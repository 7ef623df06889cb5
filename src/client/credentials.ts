// The credential cache: per origin and scope, what was bought, how many calls it has left,
// until when; purchases are single-flight and calls are leased, so that concurrent requests
// never present more calls than a credential has.
import { PowgateError } from '../errors.js';
import { checkInteger, invalid } from '../validate.js';
import type { CachedCredential, Credential, Lease } from './credential.js';

/** Options of {@link CredentialCache}. */
export interface CredentialCacheOptions {
  /** Most origin-and-scope entries kept; the least recently used goes first. Default 1,000. */
  maxEntries?: number;
  /** A credential is not handed out when it expires within this many ms. Default 1,000. */
  marginMs?: number;
  /** The clock, in ms. Default Date.now. */
  now?: () => number;
}

interface Entry extends CachedCredential {
  /** Calls neither spent nor leased, as far as the client knows. */
  unleased: number;
  inFlight: number;
}

interface Waiter {
  /** Undefined for a waiter that only waits for others' purchases ({@link CredentialCache.wait}). */
  buy: ((signal?: AbortSignal) => Promise<CachedCredential>) | undefined;
  signal: AbortSignal | undefined;
  accept: ((credential: Credential) => boolean) | undefined;
  resolve: (lease: Lease | undefined) => void;
  reject: (error: unknown) => void;
  onAbort?: () => void;
}

interface Slot {
  entry: Entry | undefined;
  queue: Waiter[];
  buying: Waiter | undefined;
}

/** The key of an origin (e.g. `https://api.example`) and scope (undefined: a plain L402 server's). */
export function credentialKey(origin: string, scope: string | undefined): string {
  return JSON.stringify([origin, scope ?? null]);
}

/**
 * Credentials by key (see {@link credentialKey}). `take` leases one call of a live
 * credential; `acquire` does that or waits for one purchase at a time per key (the first
 * waiter's `buy`; if it fails or aborts, the next waiter's), handing each purchase's calls
 * to waiters in arrival order and buying again while some still wait. A waiter's signal
 * only ever aborts its own wait or its own purchase.
 */
export class CredentialCache {
  readonly maxEntries: number;
  readonly marginMs: number;
  readonly #now: () => number;
  readonly #slots = new Map<string, Slot>();

  constructor(options: CredentialCacheOptions = {}) {
    if (typeof options !== 'object' || options === null) throw invalid('an options object', 'credential cache options', options);
    this.maxEntries = checkInteger(options.maxEntries ?? 1_000, 'maxEntries', 1, 10_000_000);
    this.marginMs = checkInteger(options.marginMs ?? 1_000, 'marginMs', 0, 3_600_000);
    if (options.now !== undefined && typeof options.now !== 'function') throw invalid('a function', 'now', options.now);
    this.#now = options.now ?? Date.now;
  }

  /** What is cached for a key: the credential and its calls not yet spent nor leased; undefined when none is live. */
  peek(key: string): (CachedCredential & { remaining: number }) | undefined {
    const entry = this.#live(key);
    return entry && { credential: entry.credential, method: entry.method, calls: entry.calls, expiresAt: entry.expiresAt, remaining: entry.unleased };
  }

  /** Leases one call of the live credential for `key` (one that `accept` takes, when given), or undefined. */
  take(key: string, accept?: (credential: Credential) => boolean): Lease | undefined {
    const entry = this.#live(key);
    if (!entry || entry.unleased < 1 || (accept && !accept(entry.credential))) return undefined;
    return this.#lease(key, entry, false);
  }

  /** Stores a credential for `key` (replacing the one there) without a purchase. */
  put(key: string, credential: CachedCredential): void {
    this.#slot(key).entry = { ...credential, unleased: credential.calls, inFlight: 0 };
  }

  /** Forgets `key`'s credential. */
  delete(key: string): void {
    const slot = this.#slots.get(key);
    if (slot) slot.entry = undefined;
  }

  /**
   * A lease on `key`'s credential: a cached one, or one bought by `buy` (single-flight:
   * concurrent callers wait for one purchase and share its calls). Rejects with what
   * `buy` rejected with (for the caller whose purchase it was), or ERR_ABORTED.
   */
  acquire(
    key: string,
    buy: (signal?: AbortSignal) => Promise<CachedCredential>,
    options: { signal?: AbortSignal; accept?: (credential: Credential) => boolean } = {},
  ): Promise<Lease> {
    if (typeof buy !== 'function') throw invalid('a function', 'buy', buy);
    return this.#enqueue(key, buy, options) as Promise<Lease>;
  }

  /**
   * A lease on `key`'s credential without buying: a cached one, or one from the purchase
   * in flight for `key` (as for {@link acquire}'s waiters); undefined at once when none is
   * in flight, or when the purchases end before one is left for this caller. Lets a caller
   * that knows the scope wait for a purchase instead of sending a request bound to be refused.
   */
  wait(key: string, options: { signal?: AbortSignal; accept?: (credential: Credential) => boolean } = {}): Promise<Lease | undefined> {
    const lease = this.take(key, options.accept);
    if (lease || !this.#slots.get(key)?.buying) return Promise.resolve(lease);
    return this.#enqueue(key, undefined, options);
  }

  #enqueue(key: string, buy: Waiter['buy'], options: { signal?: AbortSignal; accept?: (credential: Credential) => boolean }): Promise<Lease | undefined> {
    const lease = this.take(key, options.accept);
    if (lease) return Promise.resolve(lease);
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(aborted(signal));
    return new Promise<Lease | undefined>((resolve, reject) => {
      const slot = this.#slot(key);
      const waiter: Waiter = { buy, signal, accept: options.accept, resolve, reject };
      if (signal) {
        waiter.onAbort = () => {
          const at = slot.queue.indexOf(waiter);
          // Its own purchase ends when `buy` sees the same signal; until then it holds the slot.
          if (at >= 0 && slot.buying !== waiter) slot.queue.splice(at, 1);
          reject(aborted(signal));
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      slot.queue.push(waiter);
      this.#pump(key, slot);
    });
  }

  #pump(key: string, slot: Slot): void {
    // Hand out what the credential has, in arrival order.
    while (slot.queue.length > 0) {
      const next = slot.queue[0]!;
      if (next.signal?.aborted && slot.buying !== next) {
        slot.queue.shift();
        continue;
      }
      const entry = this.#live(key);
      if (!entry || entry.unleased < 1 || (next.accept && !next.accept(entry.credential))) break;
      slot.queue.shift();
      this.#settle(next);
      next.resolve(this.#lease(key, entry, false));
    }
    if (slot.queue.length === 0 || slot.buying) return;
    // No purchase in flight: the first waiter that can buy does; those before it are served first from it.
    const owner = slot.queue.find((w) => w.buy !== undefined && !w.signal?.aborted);
    if (!owner) {
      // Only waiters that cannot buy: they ask the server themselves.
      for (const waiter of slot.queue.splice(0)) {
        this.#settle(waiter);
        waiter.resolve(undefined);
      }
      return;
    }
    slot.buying = owner;
    // A `buy` that throws instead of rejecting fails the same way.
    Promise.resolve(owner.signal)
      .then((signal) => owner.buy!(signal))
      .then(
        (bought) => {
          slot.buying = undefined;
          const entry: Entry = { ...bought, unleased: bought.calls, inFlight: 0 };
          slot.entry = entry;
          this.#touch(key, slot);
          // The buyer gets the first call of its own purchase, if it still waits.
          const at = slot.queue.indexOf(owner);
          if (at >= 0 && !owner.signal?.aborted && entry.unleased >= 1) {
            slot.queue.splice(at, 1);
            this.#settle(owner);
            owner.resolve(this.#lease(key, entry, true));
          }
          this.#pump(key, slot);
        },
        (error: unknown) => {
          slot.buying = undefined;
          const at = slot.queue.indexOf(owner);
          if (at >= 0) slot.queue.splice(at, 1);
          this.#settle(owner);
          owner.reject(error);
          this.#pump(key, slot);
        },
      );
  }

  #settle(waiter: Waiter): void {
    if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort);
  }

  #lease(key: string, entry: Entry, bought: boolean): Lease {
    entry.unleased -= 1;
    entry.inFlight += 1;
    let settled = false;
    const settle = () => {
      if (settled) return false;
      settled = true;
      entry.inFlight -= 1;
      return true;
    };
    return {
      credential: entry.credential,
      method: entry.method,
      bought,
      release: (remaining) => {
        if (!settle()) return;
        // The server's count after this call. Without spends by others it is never below ours (calls in flight may
        // already be in it); below ours, someone else spends this credential too: believe the server.
        if (remaining !== undefined && Number.isInteger(remaining) && remaining >= 0) entry.unleased = Math.min(entry.unleased, remaining);
        this.#wake(key);
      },
      refused: (reason) => {
        if (!settle()) return;
        const slot = this.#slots.get(key);
        if (reason === 'token_exhausted') entry.unleased = 0;
        // Refused for where it was presented, not for what it is: the call was not spent.
        else if (reason === 'scope_mismatch' || reason === 'price_too_low') entry.unleased += 1;
        else if (slot?.entry === entry) slot.entry = undefined;
        this.#wake(key);
      },
    };
  }

  #wake(key: string): void {
    const slot = this.#slots.get(key);
    if (slot && slot.queue.length > 0) this.#pump(key, slot);
  }

  #live(key: string): Entry | undefined {
    const slot = this.#slots.get(key);
    const entry = slot?.entry;
    if (!entry) return undefined;
    if (this.#now() + this.marginMs >= entry.expiresAt) {
      slot!.entry = undefined;
      return undefined;
    }
    this.#touch(key, slot!);
    return entry;
  }

  #slot(key: string): Slot {
    let slot = this.#slots.get(key);
    if (!slot) {
      slot = { entry: undefined, queue: [], buying: undefined };
      this.#slots.set(key, slot);
      this.#evict();
    }
    return slot;
  }

  /** Marks a key most recently used. */
  #touch(key: string, slot: Slot): void {
    this.#slots.delete(key);
    this.#slots.set(key, slot);
  }

  #evict(): void {
    for (const [key, slot] of this.#slots) {
      if (this.#slots.size <= this.maxEntries) return;
      if (slot.queue.length === 0 && !slot.buying) this.#slots.delete(key);
    }
  }
}

function aborted(signal: AbortSignal): PowgateError {
  return new PowgateError('ERR_ABORTED', 'the call was aborted', { cause: signal.reason });
}
