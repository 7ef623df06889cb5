// A verdict's last step: spending the challenge in the replay store, once, for one pair
// or a batch (docs/PROTOCOL.md "Verification", step 9).
import type { Accepted } from './pair-reader.js';
import { REFUSALS, type Refusal } from './refusal.js';
import { MemoryReplayStore, beginSpends, spendBytes, spendText } from '../storage/memory.js';
import { checkSpend, isTime, type ReplayStore, type SpendResult } from '../storage/types.js';

/** The verdict on one (challenge, solution) pair. Refusals are shared frozen objects. */
export type Verdict = Accepted | { readonly ok: false; readonly reason: Refusal };

export const REFUSED = Object.fromEntries(REFUSALS.map((reason) => [reason, Object.freeze({ ok: false as const, reason })])) as Record<Refusal, Verdict>;

export function afterSpend(result: SpendResult, accepted: Accepted): Verdict {
  return result === 'spent' ? accepted : REFUSED[result];
}

/** The memory store answers synchronously (unless a subclass changed how it spends): no await, no entry objects. */
export function isDirect(store: ReplayStore): store is MemoryReplayStore {
  return (
    store instanceof MemoryReplayStore &&
    store.spend === MemoryReplayStore.prototype.spend &&
    store.spendMany === MemoryReplayStore.prototype.spendMany &&
    store.spendNow === MemoryReplayStore.prototype.spendNow &&
    store[beginSpends] === MemoryReplayStore.prototype[beginSpends] &&
    store[spendText] === MemoryReplayStore.prototype[spendText] &&
    store[spendBytes] === MemoryReplayStore.prototype[spendBytes]
  );
}

/**
 * Kept until the challenge can verify nowhere: on a verifier whose clock lags this one's by
 * up to skew it still verifies at expiresAt + skew by its clock, so expiresAt + 2·skew by
 * this one's (stores keep an id while `until > now`), as token counts are.
 */
export function spendUntil(p: Accepted, skewMs: number): number {
  return p.expiresAt + 2 * skewMs + 1;
}

/**
 * The memory store's spends, synchronously, in input order (so that of two copies of
 * one challenge the first is accepted, as one by one), with one reading of its clock.
 * Ids the fast path decoded are spent by their bytes, the others by their text.
 */
export function spendDirect(store: MemoryReplayStore, verdicts: Verdict[], idBytes: DecodedIds | undefined, skewMs: number): void {
  let count = 0;
  for (let i = 0; i < verdicts.length; i++) {
    const v = verdicts[i]!;
    if (!v.ok) continue;
    count++;
    const until = spendUntil(v, skewMs);
    if (!isTime(until)) checkSpend(v.id, until, `pairs[${i}]: `); // throws before anything is spent
  }
  if (count === 0) return;
  const now = store[beginSpends](count);
  for (let i = 0; i < verdicts.length; i++) {
    const v = verdicts[i]!;
    if (!v.ok) continue;
    const until = spendUntil(v, skewMs);
    const at = idBytes === undefined ? -1 : idBytes.at[i]!;
    const spent = at >= 0 ? store[spendBytes](idBytes!.bytes, at, until, now) : store[spendText](v.id, until, now);
    if (spent !== 'spent') verdicts[i] = REFUSED[spent];
  }
}

/** Any other store's spends: one spendMany (for Redis, one pipelined round trip), in input order. */
export async function spendThrough(store: ReplayStore, verdicts: Verdict[], skewMs: number): Promise<void> {
  const spendable: number[] = [];
  for (let i = 0; i < verdicts.length; i++) if (verdicts[i]!.ok) spendable.push(i);
  if (spendable.length === 0) return;
  const spent = await store.spendMany(
    spendable.map((i) => {
      const accepted = verdicts[i] as Accepted;
      return { id: accepted.id, expiresAt: spendUntil(accepted, skewMs) };
    }),
  );
  for (let k = 0; k < spendable.length; k++) {
    const result = spent[k]!;
    if (result !== 'spent') verdicts[spendable[k]!] = REFUSED[result];
  }
}

/**
 * When the store's memory began (see ReplayStore.epoch); -Infinity for a store that does not
 * say, undefined when it cannot tell. A challenge issued before then may have been spent and
 * forgotten (a store restarted empty): it is refused `expired`, never accepted again.
 */
export async function epochOf(store: ReplayStore): Promise<number | undefined> {
  if (typeof store.epoch !== 'function') return -Infinity;
  const since = await store.epoch();
  return since === -Infinity || isTime(since) ? since : undefined;
}

/** Where the fast path's decoded ids are: pair i's 16 bytes start at bytes[at[i]], or at[i] is -1. */
export interface DecodedIds {
  bytes: Uint8Array;
  at: Int32Array;
}
