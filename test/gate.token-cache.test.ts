// Gate.useToken remembers valid tokens' MAC verdicts (the HTTP hot route): with
// `spend: false` its verdicts must stay exactly verifyToken's (plus the door's scope and
// price rules), on first sight and on every repeat.
import { afterAll, describe, expect, it } from 'vitest';
import { Gate, TOKEN_CACHE_SIZE } from '../src/gate/gate.js';
import { issueToken, verifyToken } from '../src/protocol/token.js';
import { OTHER_SECRET, SECRET } from './helpers/protocol.js';

const gate = new Gate({ secret: SECRET, difficulty: 8, skewMs: 0, scopes: { a: undefined, b: undefined, s: undefined, first: undefined } });
afterAll(() => gate.close());

function tamper(token: string): string {
  const last = token.at(-2) === 'A' ? 'B' : 'A';
  return `${token.slice(0, -2)}${last}${token.at(-1)}`;
}

/** What useToken must answer: verifyToken's verdict, then the door's scope and price. */
function expected(token: unknown, scope: string) {
  const v = verifyToken(token, { secret: SECRET, skewMs: 0 });
  if (!v.valid) return { ok: false, reason: v.reason };
  if (v.scope !== scope) return { ok: false, reason: 'scope_mismatch' };
  if (v.price < 8) return { ok: false, reason: 'price_too_low' };
  return { ok: true, grant: { ...v, used: undefined } };
}

describe('Gate.useToken (check only)', () => {
  it("gives verifyToken's verdict for every token and scope, the first time and on repeats", async () => {
    const a = issueToken({ secret: SECRET, scope: 'a', price: 8 });
    const b = issueToken({ secret: SECRET, scope: 'b', price: 9 });
    const tokens: unknown[] = [
      a,
      b,
      tamper(a),
      issueToken({ secret: OTHER_SECRET, scope: 'a', price: 8 }),
      issueToken({ secret: SECRET, scope: 'a', price: 7.5 }),
      issueToken({ secret: SECRET, scope: 'a', price: 8, now: Date.now() - 10_000, ttlMs: 1000 }),
      issueToken({ secret: SECRET, scope: 'a', price: 8, now: Date.now() + 60_000 }),
      'pgt1.x.y',
      'pgt2.x.y',
      '',
      42,
      null,
      undefined,
      { token: a },
    ];
    for (let pass = 0; pass < 3; pass++) {
      for (const token of tokens) {
        for (const scope of ['a', 'b', '']) {
          expect(await gate.useToken(token, { scope, spend: false })).toEqual(expected(token, scope));
        }
      }
    }
  });

  it('notices that a remembered token has expired', async () => {
    const token = issueToken({ secret: SECRET, scope: 's', ttlMs: 60, price: 8 });
    expect((await gate.useToken(token, { scope: 's', spend: false })).ok).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(await gate.useToken(token, { scope: 's', spend: false })).toEqual({ ok: false, reason: 'expired' });
    expect(await gate.useToken(token, { scope: 's' })).toEqual({ ok: false, reason: 'expired' });
  });

  it('still checks tokens it had to forget, and refuses a bad scope option either way', async () => {
    const first = issueToken({ secret: SECRET, scope: 'first', price: 8 });
    expect((await gate.useToken(first, { scope: 'first', spend: false })).ok).toBe(true);
    for (let i = 0; i < TOKEN_CACHE_SIZE + 10; i++) await gate.useToken(issueToken({ secret: SECRET, scope: `x${i}` }), { spend: false, anyScope: true });
    expect(await gate.useToken(first, { scope: 'first', spend: false })).toMatchObject({ ok: true, grant: { scope: 'first' } });
    await expect(gate.useToken(first, { scope: 'é' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(gate.useToken('garbage', { scope: 'é' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });
});
