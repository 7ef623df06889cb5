// MemoryReplayStore: each id is accepted at most once until it expires, and a
// full store refuses new ids rather than evict a live one.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PowgateError } from '../src/errors.js';
import { MemoryReplayStore } from '../src/storage/memory.js';

/** A store on a clock the test moves. */
function storeAt(start: number, maxEntries?: number) {
  const clock = { now: start };
  const store = new MemoryReplayStore({ maxEntries, now: () => clock.now });
  return { store, clock };
}

async function expectCode(fn: () => unknown, message: RegExp): Promise<void> {
  const error = await (async () => fn())().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PowgateError);
  expect((error as PowgateError).code).toBe('ERR_INVALID_ARGUMENT');
  expect((error as PowgateError).message).toMatch(message);
}

describe('MemoryReplayStore', () => {
  it('accepts an id once, then reports it replayed', async () => {
    const store = new MemoryReplayStore();
    const expiresAt = Date.now() + 60_000;
    expect(await store.spend('a', expiresAt)).toBe('spent');
    expect(await store.spend('a', expiresAt)).toBe('replayed');
    expect(await store.spend('a', expiresAt + 1)).toBe('replayed');
    expect(await store.spend('b', expiresAt)).toBe('spent');
    expect(store.size).toBe(2);
    await store.close();
  });

  it('lets an id be spent again once expiresAt <= now', async () => {
    const { store, clock } = storeAt(1000);
    expect(await store.spend('a', 2000)).toBe('spent');
    clock.now = 1999;
    expect(await store.spend('a', 3000)).toBe('replayed');
    clock.now = 2000;
    expect(await store.spend('a', 3000)).toBe('spent');
    expect(await store.spend('a', 3000)).toBe('replayed');
    expect(store.size).toBe(1);
  });

  it('keeps nothing for an expiresAt already past', async () => {
    const { store } = storeAt(1000);
    expect(await store.spend('a', 1000)).toBe('spent');
    expect(await store.spend('a', 1000)).toBe('spent');
    expect(store.size).toBe(0);
  });

  it('accepts exactly one of 1000 concurrent spends of the same id', async () => {
    const store = new MemoryReplayStore();
    const expiresAt = Date.now() + 60_000;
    const results = await Promise.all(Array.from({ length: 1000 }, () => store.spend('same', expiresAt)));
    expect(results.filter((r) => r === 'spent')).toHaveLength(1);
    expect(results.filter((r) => r === 'replayed')).toHaveLength(999);
  });

  it('spends a batch in input order, only the first of duplicates', async () => {
    const { store } = storeAt(0);
    await store.spend('old', 100);
    const ids = ['a', 'b', 'a', 'old', 'c', 'b'];
    expect(await store.spendMany(ids.map((id) => ({ id, expiresAt: 100 })))).toEqual(['spent', 'spent', 'replayed', 'replayed', 'spent', 'replayed']);
    expect(await store.spendMany([])).toEqual([]);
  });

  it('when full of live ids, forgets the oldest and refuses what expires no later: never a replay', async () => {
    const { store, clock } = storeAt(0, 3);
    expect(await store.spendMany(['a', 'b', 'c'].map((id, i) => ({ id, expiresAt: 100 + i })))).toEqual(['spent', 'spent', 'spent']);
    // A newer challenge (later expiry) still passes: 'a' (100) is forgotten, and the floor rises to 100.
    expect(await store.spend('d', 110)).toBe('spent');
    expect(await store.spend('a', 100)).toBe('store_full'); // forgotten: it may have been spent
    expect(await store.spend('e', 100)).toBe('store_full'); // no newer than what was forgotten
    expect(
      await store.spendMany([
        { id: 'b', expiresAt: 101 },
        { id: 'f', expiresAt: 120 },
      ]),
    ).toEqual(['replayed', 'spent']);
    // Not newer than the oldest held: refused rather than forget a later one.
    expect(await store.spend('g', 102)).toBe('store_full');
    expect(store.size).toBe(3);
    clock.now = 102;
    expect(await store.spend('h', 200)).toBe('spent');
  });

  it('drops expired ids anywhere in the store before it forgets a live one', async () => {
    const { store, clock } = storeAt(0, 3);
    // 'b' expires first but is not at the head, so only a sweep finds it.
    await store.spendMany([
      { id: 'a', expiresAt: 100 },
      { id: 'b', expiresAt: 10 },
      { id: 'c', expiresAt: 100 },
    ]);
    clock.now = 50;
    expect(await store.spend('d', 100)).toBe('spent');
    expect(await store.spend('a', 100)).toBe('replayed');
    expect(await store.spend('e', 100)).toBe('store_full');
    clock.now = 100;
    expect(await store.spend('e', 200)).toBe('spent');
    expect(store.size).toBe(1);
  });

  it('finds room from an id that expires before those a previous sweep left', async () => {
    const { store, clock } = storeAt(0, 2);
    await store.spendMany([
      { id: 'a', expiresAt: 100 },
      { id: 'b', expiresAt: 10 },
    ]);
    clock.now = 50;
    expect(await store.spend('c', 55)).toBe('spent'); // The sweep drops 'b' and leaves 'a' (100).
    clock.now = 60;
    expect(await store.spend('d', 100)).toBe('spent'); // 'c' has expired, behind 'a'.
    expect(await store.spend('a', 100)).toBe('replayed');
  });

  it('a flood of spends does not lock out a client with a newer challenge (the lock-out of issue 16)', async () => {
    const { store, clock } = storeAt(0, 1000);
    // The attacker fills the store with live spends of challenges issued before the honest one...
    await store.spendMany(Array.from({ length: 1000 }, (_, i) => ({ id: `flood${i}`, expiresAt: 125_000 + (i % 7) })));
    clock.now = 1000;
    // ...and the honest client's challenge, issued later, expires later: it is spent, once.
    expect(await store.spend('honest', 126_000)).toBe('spent');
    expect(await store.spend('honest', 126_000)).toBe('replayed');
    // Nothing the attacker spent can be spent again, forgotten or not.
    const again = await store.spendMany(Array.from({ length: 1000 }, (_, i) => ({ id: `flood${i}`, expiresAt: 125_000 + (i % 7) })));
    expect(again.filter((r) => r === 'spent')).toEqual([]);
  });

  it('stays cheap when full of live ids: no full sweep per spend', async () => {
    const { store, clock } = storeAt(0, 100_000);
    await store.spendMany(Array.from({ length: 100_000 }, (_, i) => ({ id: `live${i}`, expiresAt: 1000 + (i % 7) })));
    clock.now = 1;
    const started = performance.now();
    const results = new Set<string>();
    for (let i = 0; i < 5000; i++) results.add(await store.spend(`new${i}`, 2000));
    // 5000 sweeps of 100,000 entries take about 10 s; forgetting the head takes milliseconds.
    expect(performance.now() - started).toBeLessThan(1500);
    expect([...results]).toEqual(['spent']);
    expect(store.size).toBe(100_000);
  });

  it('behaves like an unbounded model with a floor: forgets the oldest when full, refuses what expires no later (property)', async () => {
    // As in the protocol, an id always comes with the same expiry (a challenge's is signed into its id).
    const op = fc.record({ id: fc.integer({ min: 0, max: 5 }), at: fc.integer({ min: 0, max: 80 }), advance: fc.integer({ min: 0, max: 3 }) });
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 6 }), fc.array(op, { maxLength: 80 }), async (maxEntries, ops) => {
        const { store, clock } = storeAt(0, maxEntries);
        const live = new Map<string, number>();
        const everSpent = new Map<string, number>(); // the model's truth: the latest expiry each id was spent until
        let floor = -Infinity;
        for (const { id, at, advance } of ops) {
          clock.now += advance;
          for (const [key, expiresAt] of live) if (expiresAt <= clock.now) live.delete(key);
          const key = `id${id}@${at}`;
          const expiresAt = at;
          const ttl = expiresAt - clock.now;
          let expected: string;
          if (live.has(key)) expected = 'replayed';
          else if (ttl <= 0) expected = 'spent';
          else if (expiresAt <= floor) expected = 'store_full';
          else if (live.size >= maxEntries) {
            const [oldest, until] = live.entries().next().value!;
            if (until >= expiresAt) expected = 'store_full';
            else {
              live.delete(oldest);
              floor = Math.max(floor, until);
              expected = 'spent';
            }
          } else expected = 'spent';
          const got = await store.spend(key, expiresAt);
          expect(got).toBe(expected);
          // Never a replay: an id still live in the model's truth is never spent again.
          if (got === 'spent' && ttl > 0) expect((everSpent.get(key) ?? -Infinity) <= clock.now).toBe(true);
          if (expected === 'spent' && ttl > 0) {
            live.set(key, expiresAt);
            everSpent.set(key, expiresAt);
          }
          expect(store.size).toBeLessThanOrEqual(maxEntries);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('refuses bad options with ERR_INVALID_ARGUMENT', async () => {
    await expectCode(() => new MemoryReplayStore({ maxEntries: 0 }), /expected an integer from 1 to 10000000 for maxEntries but received the number 0/);
    await expectCode(() => new MemoryReplayStore({ maxEntries: 1.5 }), /for maxEntries but received the number 1.5/);
    await expectCode(() => new MemoryReplayStore({ maxEntries: '10' as never }), /for maxEntries but received a string of length 2/);
    await expectCode(() => new MemoryReplayStore({ now: 5 as never }), /expected a function for now but received the number 5/);
    await expectCode(() => new MemoryReplayStore(null as never), /expected an object for options but received null/);
    const broken = new MemoryReplayStore({ now: () => Number.NaN });
    await expectCode(() => broken.spend('a', 1), /expected now\(\) to return a finite number but it returned NaN/);
  });

  it('refuses bad ids and expiries with ERR_INVALID_ARGUMENT and spends nothing of a bad batch', async () => {
    const store = new MemoryReplayStore();
    await expectCode(() => store.spend('', 1), /expected a non-empty string of at most 256 characters for id but received a string of length 0/);
    await expectCode(() => store.spend('x'.repeat(257), 1), /for id but received a string of length 257/);
    await expectCode(() => store.spend(42 as never, 1), /for id but received the number 42/);
    await expectCode(() => store.spend('a', Number.NaN), /expected a finite number of ms since the epoch .* for expiresAt but received NaN/);
    await expectCode(() => store.spend('a', Infinity), /for expiresAt but received the number Infinity/);
    await expectCode(() => store.spend('a', 9e15), /for expiresAt but received the number 9000000000000000/);
    await expectCode(() => store.spend('a', '1' as never), /for expiresAt but received a string of length 1/);
    await expectCode(() => store.spendMany('a' as never), /expected an array for entries but received a string/);
    await expectCode(() => store.spendMany([null as never]), /expected an object for entries\[0\] but received null/);
    await expectCode(
      () =>
        store.spendMany([
          { id: 'ok', expiresAt: Date.now() + 1000 },
          { id: '', expiresAt: 1 },
        ]),
      /for entries\[1\]\.id/,
    );
    expect(await store.spend('x'.repeat(256), Date.now() + 1000)).toBe('spent');
    expect(await store.spend('ok', Date.now() + 1000)).toBe('spent');
  });
});
