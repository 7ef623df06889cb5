// The transport-free Gate: prices, redemption once, tokens, refusals that carry the way through.
import { describe, expect, it } from 'vitest';
import { Gate, MemoryRateCounter, MemoryReplayStore, issueToken, solve, type Challenge, type ReplayStore } from '../src/index.js';
import { adaptiveDifficulty, difficultyFor } from '../src/gate/adaptive-difficulty.js';
import { SECRET } from './helpers/protocol.js';
import { expectCode } from './helpers/errors.js';

const REDEEM = { url: '/api/verify' };
const unavailableStore: ReplayStore = {
  spend: async () => 'store_unavailable',
  spendMany: async (entries) => entries.map(() => 'store_unavailable'),
  spendCall: async () => ({ ok: false, reason: 'store_unavailable' }),
  close: async () => {},
};
const deadCounter = { hit: async () => undefined, close: async () => {} };

describe('adaptive difficulty', () => {
  it('is the base within the free rate, then adds bitsPerDoubling per doubling, within bounds', () => {
    const s = adaptiveDifficulty({ base: 10, max: 14, freeRequests: 4, bitsPerDoubling: 1 });
    expect([1, 4, 8, 16, 32, 64, 1e6].map((n) => difficultyFor(s, n))).toEqual([10, 10, 11, 12, 13, 14, 14]);
    expect(difficultyFor(s, 6)).toBe(Math.round((10 + Math.log2(1.5)) * 65536) / 65536);
    expect(adaptiveDifficulty(12)).toMatchObject({ base: 12, min: 12, max: 12 });
    // Without a base: 18, moved inside the bounds given.
    expect(adaptiveDifficulty({ min: 20 })).toMatchObject({ base: 20, min: 20, max: 28 });
    expect(adaptiveDifficulty({ max: 10 })).toMatchObject({ base: 10, min: 10, max: 10 });
    expect(adaptiveDifficulty({ min: 4, max: 30 })).toMatchObject({ base: 18, min: 4, max: 30 });
  });

  it('refuses bad settings with ERR_INVALID_ARGUMENT', () => {
    expectCode(() => adaptiveDifficulty({ base: 30, max: 28 }), 'ERR_INVALID_ARGUMENT');
    expectCode(() => adaptiveDifficulty({ min: 20, max: 10 }), 'ERR_INVALID_ARGUMENT');
    expectCode(() => adaptiveDifficulty({ freeRequests: 0 }), 'ERR_INVALID_ARGUMENT');
    expectCode(() => adaptiveDifficulty({ bitsPerDoubling: NaN }), 'ERR_INVALID_ARGUMENT');
    expectCode(() => adaptiveDifficulty('hard' as never), 'ERR_INVALID_ARGUMENT');
  });
});

describe('MemoryRateCounter', () => {
  it('counts per key over a sliding window (two fixed windows, the previous weighted by overlap)', () => {
    let now = 1_000_000;
    const counter = new MemoryRateCounter({ now: () => now });
    expect([1, 2, 3].map(() => counter.hitNow('a', 1000))).toEqual([1, 2, 3]);
    expect(counter.hitNow('b', 1000)).toBe(1);
    now += 1250; // a quarter into the next window: 3/4 of the previous 3 still count
    expect(counter.hitNow('a', 1000)).toBeCloseTo(1 + 3 * 0.75, 9);
    now += 5000; // long idle: forgotten
    expect(counter.hitNow('a', 1000)).toBe(1);
  });

  it('forgets the least recently seen key when full', () => {
    const counter = new MemoryRateCounter({ maxKeys: 2, now: () => 0 });
    counter.hitNow('a', 1000);
    counter.hitNow('b', 1000);
    counter.hitNow('a', 1000);
    counter.hitNow('c', 1000); // evicts b
    expect(counter.hitNow('a', 1000)).toBe(3);
    expect(counter.hitNow('b', 1000)).toBe(1);
  });
});

describe('Gate', () => {
  it('prices a client by the calls it asks for, and lets it ask for more but never less', async () => {
    const gate = new Gate({ secret: SECRET, difficulty: { base: 2, max: 6, freeRequests: 2 } });
    const prices: number[] = [];
    for (let i = 0; i < 8; i++) {
      const issued = await gate.challenge('10.0.0.1');
      if (!issued.ok) throw new Error(issued.reason);
      prices.push(issued.challenge.difficulty);
    }
    expect(prices.slice(0, 2)).toEqual([2, 2]);
    expect(prices.at(-1)).toBe(Math.round((2 + Math.log2(8 / 2)) * 65536) / 65536);
    for (let i = 1; i < prices.length; i++) expect(prices[i]).toBeGreaterThanOrEqual(prices[i - 1]!);
    // A bundle counts its calls: 8 more calls asked for at once.
    const bundle = await gate.challenge('10.0.0.5', { calls: 8 });
    expect(bundle).toMatchObject({ ok: true, challenge: { difficulty: 2 + 2 + 3, price: 4 } }); // 8 asked, 2 free: 2 more bits a call
    const other = await gate.challenge('10.0.0.2');
    expect(other.ok && other.challenge.difficulty).toBe(2);
    expect(await gate.challenge('10.0.0.3', { difficulty: 5 })).toMatchObject({ ok: true, challenge: { difficulty: 5 } });
    expect(await gate.challenge('10.0.0.1', { difficulty: 2 })).toMatchObject({ ok: false, reason: 'difficulty_out_of_range' });
    expect(await gate.challenge('10.0.0.4', { difficulty: 7 })).toMatchObject({ ok: false, reason: 'difficulty_out_of_range' });
  });

  it('on a pooled key, asking is free and the calls count once redeemed', async () => {
    const gate = new Gate({ secret: SECRET, difficulty: { base: 2, max: 6, freeRequests: 2 } });
    for (let i = 0; i < 20; i++) expect(await gate.challenge('mcp:http', { pooled: true })).toMatchObject({ ok: true, challenge: { difficulty: 2 } });
    expect((await gate.refuse('token_required', 'mcp:http', { redeem: REDEEM, pooled: true })).body).toMatchObject({ accepts: [{ challenge: { difficulty: 2 } }] });
    const { challenge } = (await gate.challenge('mcp:http', { pooled: true, calls: 8 })) as { challenge: Challenge };
    expect(await gate.redeem(challenge, await solve(challenge, { threads: 1 }), { client: 'mcp:http', pooled: true })).toMatchObject({ ok: true, calls: 8 });
    expect(await gate.challenge('mcp:http', { pooled: true })).toMatchObject({ ok: true, challenge: { difficulty: 4 } }); // 8 paid, 2 free
  });

  it('redeems a solution once for a token of its scope', async () => {
    const gate = new Gate({ secret: SECRET, difficulty: 4, scopes: { 'tool:search': undefined, 'tool:other': undefined } });
    const issued = await gate.challenge('c', { scope: 'tool:search' });
    const challenge = (issued as { challenge: Challenge }).challenge;
    const solution = await solve(challenge, { threads: 1 });
    const redeemed = await gate.redeem(challenge, solution, { scope: 'tool:search' });
    expect(redeemed).toMatchObject({ ok: true, scope: 'tool:search' });
    const token = (redeemed as { token: string }).token;
    expect(await gate.useToken(token, { scope: 'tool:search' })).toMatchObject({ ok: true, grant: { valid: true, method: 'pow', scope: 'tool:search', calls: 1, used: 1 } });
    expect(await gate.useToken(token, { scope: 'tool:other' })).toEqual({ ok: false, reason: 'scope_mismatch' });
    expect(await gate.useToken('pgt2.garbage', {})).toEqual({ ok: false, reason: 'malformed' });
    expect(await gate.useToken('pgt1.garbage', {})).toEqual({ ok: false, reason: 'unsupported_version' });
    // The same solution again: the same token (idempotent redemption), so no second call.
    expect(await gate.redeem(challenge, solution)).toEqual(redeemed);
    expect(await gate.useToken(token, { scope: 'tool:search' })).toEqual({ ok: false, reason: 'token_exhausted' });
    expect(await gate.redeem({ ...challenge, scope: 'x' }, solution)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(await gate.redeem('nonsense', null)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('refuses (payment required) with a fresh challenge that leads to a token', async () => {
    const gate = new Gate({ secret: SECRET, difficulty: 3, scopes: { api: undefined } });
    const refusal = await gate.refuse('token_required', 'c', { scope: 'api', redeem: REDEEM });
    expect(refusal.kind).toBe('payment_required');
    if (refusal.kind !== 'payment_required') return;
    expect(refusal.body).toMatchObject({ error: 'payment_required', cause: { reason: 'token_required', detail: expect.stringMatching(/no token/) } });
    const [accept] = refusal.body.accepts;
    expect(accept).toMatchObject({ method: 'pow', redeem: REDEEM, challenge: { scope: 'api', difficulty: 3 } });
    const redeemed = await gate.redeem(accept!.challenge, await solve(accept!.challenge, { threads: 1 }), { scope: 'api' });
    expect(redeemed.ok).toBe(true);
  });

  it('fails closed when its stores cannot answer, and open when told to', async () => {
    const closed = new Gate({ secret: SECRET, difficulty: 3, store: unavailableStore, counter: deadCounter });
    expect(await closed.challenge('c')).toMatchObject({ ok: false, reason: 'store_unavailable' });
    expect(await closed.refuse('token_required', 'c', { redeem: REDEEM })).toMatchObject({ kind: 'unavailable', body: { error: 'store_unavailable', accepts: [] } });

    const open = new Gate({ secret: SECRET, difficulty: 3, store: unavailableStore, counter: deadCounter, failOpen: true });
    const issued = await open.challenge('c');
    expect(issued.ok).toBe(true);
    const challenge = (issued as { challenge: Challenge }).challenge;
    const solution = await solve(challenge, { threads: 1 });
    // Store down, failing closed: verified but refused; failing open: accepted unspent.
    const gateClosedStore = new Gate({ secret: SECRET, difficulty: 3, store: unavailableStore });
    expect(await gateClosedStore.redeem(challenge, solution)).toEqual({ ok: false, reason: 'store_unavailable' });
    expect(await open.redeem(challenge, solution)).toMatchObject({ ok: true });
    // Tokens: failing closed refuses a call that cannot be counted; failing open lets it pass uncounted.
    const token = issueToken({ secret: SECRET, price: 3 });
    expect(await gateClosedStore.useToken(token)).toEqual({ ok: false, reason: 'store_unavailable' });
    expect(await open.useToken(token)).toMatchObject({ ok: true, grant: { used: undefined, calls: 1 } });
    expect(await gateClosedStore.useToken(token, { spend: false })).toMatchObject({ ok: true });
    // A solution for another challenge (a wrong nonce could pass at difficulty 3 by chance).
    const another = (await open.challenge('c')) as { challenge: Challenge };
    expect(await open.redeem(another.challenge, solution)).toEqual({ ok: false, reason: 'bad_solution' });
  });

  it('checks its options and never puts the secret in status', () => {
    expectCode(() => new Gate({ secret: 'short' }), 'ERR_INVALID_ARGUMENT');
    expectCode(() => new Gate({ secret: SECRET, store: {} as never }), 'ERR_INVALID_ARGUMENT');
    expectCode(() => new Gate({ secret: SECRET, subPuzzles: 0 }), 'ERR_INVALID_ARGUMENT');
    const gate = new Gate({ secret: SECRET, store: new MemoryReplayStore() });
    expect(JSON.stringify(gate.status())).not.toContain(SECRET);
    expect(gate.status()).toMatchObject({ difficulty: { base: 18, max: 28 }, subPuzzles: 1, failOpen: false });
  });
});
