// Issue 16: a key id or MAC must not be a fast password verifier (key derivation 2, docs
// "Keys"); and what derivation 1 signed before an upgrade keeps its documented fate.
import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createChallenge, issueToken, solve, verifySolution, verifyToken } from '../src/index.js';
import { KeyRing } from '../src/protocol/keys.js';
import { mintL402, verifyL402 } from '../src/protocol/l402.js';
import { MemoryReplayStore } from '../src/storage/memory.js';
import { expectCode } from './helpers/errors.js';
import { derivedKidOf, subkeyOf } from './helpers/key-derivation.js';
import { SECRET } from './helpers/protocol.js';

/** What derivation 1 made of SECRET, as a key list (its old derived id, marked derivation 1). */
const BEFORE_UPGRADE = { keys: [{ kid: derivedKidOf(SECRET, 1), secret: SECRET, derivation: 1 as const }] };
const store = () => new MemoryReplayStore({ since: 0 });

describe('key derivation 2', () => {
  it("the issue's attack finds nothing: neither the key id nor the MAC is a fast function of the secret", async () => {
    // The dictionary holds the right secret; the attack checks each word as derivation 1 allowed.
    const secret = randomBytes(32).toString('base64url');
    const dictionary = ['changeme', 'password', SECRET, secret];
    const challenge = createChallenge({ secret, difficulty: 1 });
    const fastKid = (word: string) => `k${createHmac('sha256', word).update('powgate/v1/kid').digest('base64url').slice(0, 11)}`;
    expect(dictionary.filter((word) => fastKid(word) === challenge.kid)).toEqual([]);
    // Only the scrypt stretch links them: the id is the documented function of it.
    expect(challenge.kid).toBe(derivedKidOf(secret));
    expect(challenge.kid).toMatch(/^s[A-Za-z0-9_-]{11}$/);
    expect(KeyRing.from({ secret }).signing.challenge).toEqual(subkeyOf(secret, 'challenge'));
  });

  it('a single secret verifies what its derivation 1 key signed (challenges, tokens, macaroons), and signs only with derivation 2', async () => {
    const challenge = createChallenge({ ...BEFORE_UPGRADE, difficulty: 4 });
    expect(challenge.kid).toMatch(/^k/);
    const solution = await solve(challenge);
    expect(await verifySolution(challenge, solution, { secret: SECRET, store: store() })).toMatchObject({ ok: true });
    const token = issueToken(BEFORE_UPGRADE);
    expect(verifyToken(token, { secret: SECRET })).toMatchObject({ valid: true, kid: derivedKidOf(SECRET, 1) });
    const preimage = randomBytes(32);
    const { createHash } = await import('node:crypto');
    const paymentHash = createHash('sha256').update(preimage).digest();
    const { macaroon } = mintL402(BEFORE_UPGRADE, { mode: 'lightning', paymentHash, scope: '', calls: 1, expiresAt: Date.now() + 60_000, satsPerCall: 1 });
    expect(verifyL402(`${macaroon}:${preimage.toString('hex')}`, { secret: SECRET })).toMatchObject({ valid: true });

    expect(createChallenge({ secret: SECRET, difficulty: 4 }).kid).toBe(derivedKidOf(SECRET));
    expect(verifyToken(issueToken({ secret: SECRET }), { secret: SECRET })).toMatchObject({ valid: true, kid: derivedKidOf(SECRET) });
  });

  it('acceptDerivation1: false refuses them as unknown_key', async () => {
    const off = { secret: SECRET, acceptDerivation1: false };
    const challenge = createChallenge({ ...BEFORE_UPGRADE, difficulty: 4 });
    const solution = await solve(challenge);
    expect(await verifySolution(challenge, solution, { ...off, store: store() })).toEqual({ ok: false, reason: 'unknown_key' });
    expect(verifyToken(issueToken(BEFORE_UPGRADE), off)).toEqual({ valid: false, reason: 'unknown_key' });
    expect(verifyToken(issueToken(off), off)).toMatchObject({ valid: true });
  });

  it('an explicit key id verifies derivation 1 only when its entry says so', () => {
    const token = issueToken({ keys: [{ kid: 'old', secret: SECRET, derivation: 1 }] });
    expect(verifyToken(token, { keys: [{ kid: 'old', secret: SECRET }] })).toEqual({ valid: false, reason: 'bad_signature' });
    expect(
      verifyToken(token, {
        keys: [
          { kid: 'new', secret: randomBytes(32) },
          { kid: 'old', secret: SECRET, derivation: 1 },
        ],
      }),
    ).toMatchObject({ valid: true, kid: 'old' });
  });

  it('refuses a bad derivation or acceptDerivation1 with a stable code', () => {
    expectCode(() => issueToken({ keys: [{ kid: 'a', secret: SECRET, derivation: 3 as 1 }] }), 'ERR_INVALID_ARGUMENT', /derivation/);
    expectCode(() => issueToken({ secret: SECRET, acceptDerivation1: 'yes' as unknown as boolean }), 'ERR_INVALID_ARGUMENT', /acceptDerivation1/);
    expectCode(() => issueToken({ keys: [{ kid: 'a', secret: SECRET }], acceptDerivation1: true }), 'ERR_INVALID_ARGUMENT', /acceptDerivation1/);
  });
});
