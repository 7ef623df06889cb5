// The client's parts without a network: WWW-Authenticate, envelopes as an attacker would
// send them, the budget, the policy and the credential cache (single-flight, leases).
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Budget } from '../src/client/budget.js';
import type { CachedCredential } from '../src/client/credential.js';
import { CredentialCache, credentialKey } from '../src/client/credentials.js';
import { parseL402Challenges, parsePaymentRequired } from '../src/client/envelope.js';
import { solveAperturePow } from '../src/client/aperture-pow.js';
import { rankOffers } from '../src/client/policy.js';
import { priceOf } from '../src/client/price.js';
import { parseWwwAuthenticate } from '../src/client/www-authenticate.js';
import { PowgateClient } from '../src/client/client.js';
import { PowgateError } from '../src/errors.js';
import { createChallenge } from '../src/protocol/challenge.js';
import { mintL402 } from '../src/protocol/l402.js';
import { SECRET } from './helpers/protocol.js';

function powAccept(overrides: Record<string, unknown> = {}) {
  const challenge = createChallenge({ secret: SECRET, difficulty: 10, scope: 'search' });
  return { method: 'pow', challenge, calls: { max: 100 }, redeem: { url: '/api/verify', method: 'POST' }, ...overrides };
}
function body(...accepts: unknown[]) {
  return { error: 'payment_required', cause: { reason: 'token_required', detail: 'no token' }, accepts };
}
function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(PowgateError);
    return (error as PowgateError).code;
  }
  return undefined;
}

describe('WWW-Authenticate', () => {
  it('reads several challenges in one header, quoted and token values, escapes', () => {
    const header = 'PowGate realm="powgate", scope="se\\"arch", error="token_required", L402 macaroon="AgE=", pow="12", LSAT macaroon=abc, invoice="lnbc1"';
    expect(parseWwwAuthenticate(header).map((c) => [c.scheme, { ...c.params }])).toEqual([
      ['PowGate', { realm: 'powgate', scope: 'se"arch', error: 'token_required' }],
      ['L402', { macaroon: 'AgE=', pow: '12' }],
      ['LSAT', { macaroon: 'abc', invoice: 'lnbc1' }],
    ]);
  });

  it('skips token68 and bare schemes, and never throws on garbage', () => {
    expect(parseWwwAuthenticate('Negotiate abc==, Basic realm="x"').map((c) => c.scheme)).toEqual(['Negotiate', 'Basic']);
    expect(parseWwwAuthenticate('Bearer').map((c) => c.scheme)).toEqual(['Bearer']);
    for (const garbage of ['', '=', ',,,', 'L402 macaroon="unterminated', 'a b c d', '"', 'x y=', '\u0000\u0001', 'L402 ==='.repeat(1000)]) {
      expect(() => parseWwwAuthenticate(garbage)).not.toThrow();
    }
    expect(parseWwwAuthenticate('L402 macaroon="x", pow="1"'.padEnd(20_000, ' '))).toEqual([]);
    expect(parseWwwAuthenticate(42)).toEqual([]);
    const proto = parseWwwAuthenticate('L402 __proto__="x", macaroon="y"')[0]!;
    expect(Object.getPrototypeOf(proto.params)).toBeNull();
    expect(proto.params.macaroon).toBe('y');
  });
});

describe('envelopes, as an attacker would send them', () => {
  it('reads a good one: the challenge, calls and redeem; unknown doors are left out', () => {
    const env = parsePaymentRequired(body(powAccept(), { method: 'x402', whatever: 1 }));
    expect(env).toMatchObject({ source: 'powgate', reason: 'token_required', scope: 'search' });
    expect(env.offers.map((o) => o.method)).toEqual(['pow']);
  });

  it('refuses wrong types, out-of-range values and huge fields with ERR_BAD_ENVELOPE', () => {
    const good = powAccept();
    const cases = [
      body({ ...good, challenge: { ...good.challenge, difficulty: '10' } }),
      body({ ...good, challenge: { ...good.challenge, difficulty: 65 } }),
      body({ ...good, challenge: { ...good.challenge, subPuzzles: 1e9 } }),
      body({ ...good, challenge: { ...good.challenge, scope: 'x'.repeat(300) } }),
      body({ ...good, challenge: { ...good.challenge, extra: 1 } }),
      body({ ...good, calls: { max: -1 } }),
      body({ ...good, calls: 3 }),
      body({ ...good, redeem: 'POST /api/verify' }),
      body({ ...good, redeem: { url: '/api/verify', pad: 'x'.repeat(10_000) } }),
      { ...body(good), accepts: 'pow' },
      { ...body(good), accepts: Array.from({ length: 17 }, () => good) },
      { ...body(good), cause: { reason: 'r'.repeat(100) } },
      body('pow'),
      body({ method: 'l402', macaroon: 'not a macaroon', invoice: 'lnbc1' }),
      body({ method: 'l402-pow', macaroon: mintL402({ secret: SECRET }, { mode: 'pow', scope: '', calls: 1, powBits: 8, expiresAt: Date.now() + 60_000 }).macaroon, pow: 65 }),
    ];
    for (const hostile of cases) expect(codeOf(() => parsePaymentRequired(hostile))).toBe('ERR_BAD_ENVELOPE');
    expect(codeOf(() => parsePaymentRequired({ x402Version: 1, accepts: [] }))).toBe('ERR_UNSUPPORTED_CHALLENGE');
    // A hostile object (a getter that throws) is never read as anything but malformed.
    const trap = body(good);
    Object.defineProperty(trap.accepts[0] as object, 'challenge', {
      get: () => {
        throw new Error('trap');
      },
      enumerable: true,
    });
    expect(codeOf(() => parsePaymentRequired(trap))).toBe('ERR_BAD_ENVELOPE');
  });

  it("reads plain L402 headers: an invoice checked against the macaroon, and Aperture's pow", () => {
    const pow = mintL402({ secret: SECRET }, { mode: 'pow', scope: '', calls: 1, powBits: 9, expiresAt: Date.now() + 60_000 });
    const env = parseL402Challenges(parseWwwAuthenticate(`Basic realm="x", LSAT macaroon="${pow.macaroon}", pow="9"`));
    expect(env).toMatchObject({ source: 'l402', scope: undefined, offers: [{ method: 'l402-pow', bits: 9, tokenId: pow.tokenId, calls: 1 }] });
    expect(codeOf(() => parseL402Challenges(parseWwwAuthenticate('Bearer realm="x"')))).toBe('ERR_UNSUPPORTED_CHALLENGE');
    expect(codeOf(() => parseL402Challenges(parseWwwAuthenticate(`L402 macaroon="${pow.macaroon}", pow="0"`)))).toBe('ERR_BAD_ENVELOPE');
    expect(codeOf(() => parseL402Challenges(parseWwwAuthenticate(`L402 macaroon="${pow.macaroon}", invoice="lnbc10n1garbage"`)))).toBe('ERR_BAD_ENVELOPE');
  });
});

describe("Aperture's proof of work", () => {
  it('finds the smallest nonce with the leading zero bits, as a node:crypto loop does', async () => {
    const tokenId = createHash('sha256').update('token').digest();
    const { nonce } = await solveAperturePow(tokenId.toString('hex'), 10);
    const n = Buffer.alloc(8);
    let expected = -1n;
    for (let i = 0n; expected < 0n; i++) {
      n.writeBigUInt64BE(i);
      const d = createHash('sha256').update(tokenId).update(n).digest();
      if (d.readUInt16BE(0) >> 6 === 0) expected = i;
    }
    expect(BigInt(`0x${nonce}`)).toBe(expected);
  });

  it('stops at an abort', async () => {
    const controller = new AbortController();
    const solving = solveAperturePow('11'.repeat(32), 64, { signal: controller.signal, onProgress: () => controller.abort() });
    await expect(solving).rejects.toMatchObject({ code: 'ERR_ABORTED' });
  });
});

describe('the budget', () => {
  const pow = (seconds: number, calls = 1) => ({ method: 'pow' as const, seconds, calls });

  it('refuses per call (a bundle counts per call) and per window, carrying the price', async () => {
    let now = 0;
    const budget = new Budget({ maxSecondsPerCall: 10, maxSecondsPerWindow: 25, windowMs: 1000, now: () => now });
    expect(budget.check(pow(11))).toMatchObject({ code: 'ERR_BUDGET_EXCEEDED', price: pow(11) });
    expect(budget.check(pow(40, 4))?.code).toBe('ERR_BUDGET_EXCEEDED'); // per call fine, the window is not
    expect(budget.check(pow(20, 4))).toBeUndefined();
    (await budget.authorize(pow(10))).settle({ seconds: 12 });
    await budget.authorize(pow(10));
    expect(budget.spent().seconds).toBe(22);
    await expect(budget.authorize(pow(5))).rejects.toMatchObject({ code: 'ERR_BUDGET_EXCEEDED', price: pow(5) });
    now = 1001;
    expect(budget.spent().seconds).toBe(0);
    await budget.authorize(pow(5));
  });

  it('allows no sats by default, and asks approve with the price', async () => {
    const asked: unknown[] = [];
    const budget = new Budget({ maxSatsPerCall: 5, approve: (price) => (asked.push(price), price.sats! < 3) });
    expect(new Budget().check({ method: 'l402', sats: 1, calls: 1 })?.code).toBe('ERR_BUDGET_EXCEEDED');
    await budget.authorize({ method: 'l402', sats: 2, calls: 1 });
    await expect(budget.authorize({ method: 'l402', sats: 4, calls: 1 })).rejects.toMatchObject({ code: 'ERR_PAYMENT_DECLINED', price: { sats: 4 } });
    expect(asked).toEqual([
      { method: 'l402', sats: 2, calls: 1 },
      { method: 'l402', sats: 4, calls: 1 },
    ]);
    expect(budget.spent().sats).toBe(2);
    expect(() => new Budget({ maxSecondsPerCall: -1 })).toThrow(/maxSecondsPerCall/);
  });

  it('prices a challenge from its difficulty, sub-puzzles and calls', () => {
    const challenge = createChallenge({ secret: SECRET, difficulty: 20, subPuzzles: 4, calls: 2 });
    const price = priceOf({ method: 'pow', challenge, maxCalls: 100, redeem: {} }, 2 ** 20);
    expect(price.method).toBe('pow');
    expect(price.calls).toBe(2);
    expect(price.seconds).toBeCloseTo(4, 6);
  });
});

describe('the policy', () => {
  it('ranks by prefer; Lightning only with a wallet; L402 only where it can be presented', () => {
    const pow = { method: 'pow' } as never;
    const ln = { method: 'l402' } as never;
    const ap = { method: 'l402-pow' } as never;
    const rank = (wallet: boolean, l402 = true, prefer = ['pow', 'l402-pow', 'l402'] as const) => rankOffers([ln, ap, pow], { prefer, wallet, l402 }).map((o) => o.method);
    expect(rank(false)).toEqual(['pow', 'l402-pow']);
    expect(rank(true)).toEqual(['pow', 'l402-pow', 'l402']);
    expect(rank(true, false)).toEqual(['pow']);
    expect(rankOffers([ln, ap, pow], { prefer: ['l402', 'pow'], wallet: true, l402: true }).map((o) => o.method)).toEqual(['l402', 'pow']);
    expect(() => new PowgateClient({ prefer: ['pow', 'pow'] })).toThrow(/prefer/);
    expect(() => new PowgateClient({ prefer: ['x402' as never] })).toThrow(/prefer/);
  });
});

describe('the credential cache', () => {
  const key = credentialKey('http://a', 'search');
  const bought = (calls: number, token = 't'): CachedCredential => ({ credential: { kind: 'token', token }, method: 'pow', calls, expiresAt: Date.now() + 60_000 });

  it('buys once for concurrent waiters and hands out no more calls than bought', async () => {
    const cache = new CredentialCache();
    let purchases = 0;
    const buy = async () => {
      purchases++;
      await new Promise((resolve) => setTimeout(resolve, 5));
      return bought(3, `t${purchases}`);
    };
    const leases = await Promise.all(Array.from({ length: 7 }, () => cache.acquire(key, buy)));
    expect(purchases).toBe(3);
    const byToken = new Map<string, number>();
    for (const l of leases) byToken.set((l.credential as { token: string }).token, (byToken.get((l.credential as { token: string }).token) ?? 0) + 1);
    expect([...byToken.values()]).toEqual([3, 3, 1]);
    expect(leases.filter((l) => l.bought)).toHaveLength(3);
    expect(cache.peek(key)?.remaining).toBe(2);
  });

  it("trusts the server's count of calls left, spends what token_exhausted says, drops the rest and the expired", () => {
    let now = 0;
    const cache = new CredentialCache({ now: () => now, marginMs: 0 });
    cache.put(key, { ...bought(10), expiresAt: 100 });
    const a = cache.take(key)!;
    const b = cache.take(key)!;
    a.release(9); // the server counted a and b: 8 left to lease, as the client knows
    expect(cache.peek(key)?.remaining).toBe(8);
    const c = cache.take(key)!;
    c.release(5); // fewer than the client believes: someone else spends it too
    expect(cache.peek(key)?.remaining).toBe(5);
    const d = cache.take(key)!;
    d.refused('scope_mismatch'); // presented at another door: not spent
    expect(cache.peek(key)?.remaining).toBe(5);
    b.refused('token_exhausted');
    expect(cache.take(key)).toBeUndefined();
    cache.put(key, { ...bought(10), expiresAt: 100 });
    cache.take(key)!.refused('bad_signature');
    expect(cache.peek(key)).toBeUndefined();
    cache.put(key, { ...bought(10), expiresAt: 100 });
    now = 100;
    expect(cache.take(key)).toBeUndefined();
  });

  it('lets a caller wait for the purchase in flight instead of asking the server', async () => {
    const cache = new CredentialCache();
    expect(await cache.wait(key)).toBeUndefined(); // nothing in flight: ask the server
    let finish!: (c: CachedCredential) => void;
    const buying = cache.acquire(key, () => new Promise<CachedCredential>((resolve) => (finish = resolve)));
    const waiters = [cache.wait(key), cache.wait(key), cache.wait(key)];
    await new Promise((resolve) => setImmediate(resolve)); // the purchase has started
    finish(bought(3));
    expect((await buying).bought).toBe(true);
    const got = await Promise.all(waiters);
    // The purchase had three calls: the buyer's, then two for the first two waiters; the third asks the server itself.
    expect(got.map((l) => l?.bought)).toEqual([false, false, undefined]);
  });

  it('passes a failed purchase to its own waiter only; the next waiter buys; an abort leaves the queue', async () => {
    const cache = new CredentialCache();
    let n = 0;
    const failing = async () => {
      n++;
      throw new PowgateError('ERR_PAYMENT_FAILED', 'no');
    };
    const controller = new AbortController();
    const first = cache.acquire(key, failing);
    const aborted = cache.acquire(key, async () => bought(1), { signal: controller.signal });
    const third = cache.acquire(key, async () => bought(1, 'ok'));
    controller.abort();
    await expect(first).rejects.toMatchObject({ code: 'ERR_PAYMENT_FAILED' });
    await expect(aborted).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    expect((await third).credential).toEqual({ kind: 'token', token: 'ok' });
    expect(n).toBe(1);
  });
});
