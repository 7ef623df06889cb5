// Issue 16: a forged one-year token was accepted; verifiers may cap the lifetime they accept.
import { describe, expect, it } from 'vitest';
import { Gate } from '../src/gate/gate.js';
import { issueToken, verifyToken } from '../src/protocol/token.js';
import { SECRET } from './helpers/protocol.js';
import { expectCode } from './helpers/errors.js';

const NOW = 1_800_000_000_000;
const YEAR = 365 * 86_400_000;

describe('maxTokenTtlMs', () => {
  const long = issueToken({ secret: SECRET, scope: 'admin', ttlMs: YEAR, now: NOW });
  const options = { secret: SECRET, skewMs: 5_000, maxTokenTtlMs: 600_000 };

  it('ends a longer-lived token where the cap would, and says so in the verdict', () => {
    expect(verifyToken(long, { ...options, now: NOW + 600_000 + 5_000 })).toMatchObject({ valid: true, expiresAt: NOW + 600_000 });
    expect(verifyToken(long, { ...options, now: NOW + 600_000 + 5_001 })).toEqual({ valid: false, reason: 'expired' });
    expect(verifyToken(long, { ...options, now: NOW + YEAR - 1 })).toEqual({ valid: false, reason: 'expired' });
    // Without a cap, the token's own lifetime.
    expect(verifyToken(long, { secret: SECRET, now: NOW + YEAR - 1 })).toMatchObject({ valid: true, expiresAt: NOW + YEAR });
  });

  it('leaves a token within the cap as it is, and checks the option', () => {
    const short = issueToken({ secret: SECRET, ttlMs: 300_000, now: NOW });
    expect(verifyToken(short, { ...options, now: NOW + 1 })).toMatchObject({ valid: true, expiresAt: NOW + 300_000 });
    expectCode(() => verifyToken(short, { ...options, maxTokenTtlMs: 0 }), 'ERR_INVALID_ARGUMENT', /maxTokenTtlMs/);
  });

  it('is a Gate option: the gate refuses the forged year-long token once past the cap', async () => {
    const gate = new Gate({ secret: SECRET, difficulty: 8, scopes: { admin: undefined }, maxTokenTtlMs: 600_000 });
    const forged = issueToken({ secret: SECRET, scope: 'admin', ttlMs: YEAR, now: Date.now() - 3_600_000 });
    expect(await gate.useToken(forged, { scope: 'admin' })).toMatchObject({ ok: false, reason: 'expired' });
    expectCode(() => new Gate({ secret: SECRET, maxTokenTtlMs: 5 }), 'ERR_INVALID_ARGUMENT', /maxTokenTtlMs/);
  });
});
