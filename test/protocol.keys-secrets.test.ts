// Issue 16: secrets that look guessable are refused with a way to make a good one.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createChallenge, issueToken } from '../src/index.js';
import { estimateSecretBits, MIN_SECRET_BITS } from '../src/protocol/secret-strength.js';
import { expectCode } from './helpers/errors.js';

const WEAK = [
  'changeme-changeme-changeme-changeme',
  'password-password-password-password',
  'abcdefghijklmnopqrstuvwxyz0123456789',
  '0'.repeat(64),
  'ab'.repeat(32),
  'changeme-please-this-is-my-secret!!',
];

describe('secret strength', () => {
  it.each(WEAK)('refuses %j with ERR_WEAK_SECRET, a hint and no echo', (secret) => {
    for (const make of [() => createChallenge({ secret, difficulty: 8 }), () => issueToken({ secret }), () => issueToken({ keys: [{ kid: 'a', secret }] })]) {
      expectCode(make, 'ERR_WEAK_SECRET', /powgate secret/);
      expect(() => make()).toThrow(expect.objectContaining({ message: expect.not.stringContaining(secret) }));
    }
    expectCode(() => issueToken({ secret: Buffer.from(secret) }), 'ERR_WEAK_SECRET');
  });

  it('accepts random secrets in every usual spelling, with room', () => {
    for (let i = 0; i < 200; i++) {
      const bytes = randomBytes(32);
      for (const secret of [bytes, bytes.toString('hex'), bytes.toString('base64'), bytes.toString('base64url')]) {
        expect(estimateSecretBits(typeof secret === 'string' ? Buffer.from(secret) : secret)).toBeGreaterThanOrEqual(MIN_SECRET_BITS + 64);
      }
    }
    expect(() => issueToken({ secret: randomBytes(32) })).not.toThrow();
  });
});
