// Gate.checkToken remembers valid tokens (the HTTP hot route): its verdicts must
// stay exactly verifyToken's, on first sight and on every repeat.
import { afterAll, describe, expect, it } from 'vitest';
import { Gate, TOKEN_CACHE_SIZE } from '../src/gate/gate.js';
import { issueToken, verifyToken } from '../src/protocol/token.js';
import { OTHER_SECRET, SECRET } from './helpers/protocol.js';

const gate = new Gate({ secret: SECRET, difficulty: 8, skewMs: 0 });
afterAll(() => gate.close());

function tamper(token: string): string {
  const last = token.at(-2) === 'A' ? 'B' : 'A';
  return `${token.slice(0, -2)}${last}${token.at(-1)}`;
}

describe('Gate.checkToken', () => {
  it('gives verifyToken\'s verdict for every token and scope, the first time and on repeats', () => {
    const a = issueToken({ secret: SECRET, scope: 'a' });
    const b = issueToken({ secret: SECRET, scope: 'b' });
    const tokens: unknown[] = [
      a, b, tamper(a), issueToken({ secret: OTHER_SECRET, scope: 'a' }),
      issueToken({ secret: SECRET, scope: 'a', now: Date.now() - 10_000, ttlMs: 1000 }),
      issueToken({ secret: SECRET, scope: 'a', now: Date.now() + 60_000 }),
      'pgt1.x.y', '', 42, null, undefined, { token: a },
    ];
    for (let pass = 0; pass < 3; pass++) {
      for (const token of tokens) {
        for (const scope of [undefined, 'a', 'b', '']) {
          const expected = verifyToken(token, { secret: SECRET, scope, skewMs: 0 });
          expect(gate.checkToken(token, { scope })).toEqual(expected);
        }
      }
    }
  });

  it('notices that a remembered token has expired', async () => {
    const token = issueToken({ secret: SECRET, scope: 's', ttlMs: 60 });
    expect(gate.checkToken(token, { scope: 's' }).valid).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(gate.checkToken(token, { scope: 's' })).toEqual({ valid: false, reason: 'expired' });
    expect(gate.checkToken(token)).toEqual({ valid: false, reason: 'expired' });
  });

  it('still checks tokens it had to forget, and refuses a bad scope option either way', () => {
    const first = issueToken({ secret: SECRET, scope: 'first' });
    expect(gate.checkToken(first).valid).toBe(true);
    for (let i = 0; i < TOKEN_CACHE_SIZE + 10; i++) gate.checkToken(issueToken({ secret: SECRET, scope: `x${i}` }));
    expect(gate.checkToken(first, { scope: 'first' })).toMatchObject({ valid: true, scope: 'first' });
    expect(() => gate.checkToken(first, { scope: 'é' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(() => gate.checkToken('garbage', { scope: 'é' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });
});
