// Any change to a signed challenge is refused with the right reason; so are
// spliced challenges, solutions moved between challenges, wrong scopes, unknown
// keys and times outside the lifetime; on every backend leg (each solves and verifies with it).
import { beforeAll, describe, expect, it } from 'vitest';
import type { Sha256Backend } from '../src/backend/types.js';
import { createChallenge, type Challenge } from '../src/protocol/challenge.js';
import { thresholdForSteps, thresholdHex } from '../src/protocol/difficulty.js';
import type { Solution } from '../src/protocol/solution.js';
import { issueToken, verifyToken } from '../src/protocol/token.js';
import { verifySolution, type VerifyOptions } from '../src/protocol/verify.js';
import { backendLegs, legTitle } from './helpers/backends.js';
import { NOW, OTHER_SECRET, SECRET, challengeAt, solvedPair, storeAt } from './helpers/protocol.js';

for (const leg of backendLegs()) {
  describe.skipIf(leg.skip)(legTitle(leg), () => {
    let backend: Sha256Backend;
    let a: Challenge;
    let b: Challenge;
    let solutionA: Solution;

    const opts = (extra: Partial<VerifyOptions> = {}): VerifyOptions => ({ secret: SECRET, store: storeAt(), now: NOW, backend, ...extra });

    beforeAll(async () => {
      backend = await leg.load();
      a = challengeAt({ difficulty: 12, subPuzzles: 2, scope: 'tool:a' });
      b = challengeAt({ difficulty: 12.5, subPuzzles: 3, scope: 'tool:b', now: NOW + 1000, ttlMs: 60_000 });
      ({ solution: solutionA } = await solvedPair(a, { threads: 2, backend }));
    });

    describe('tampering', () => {
      it('accepts the untouched pair (the baseline for every case below)', async () => {
        expect(await verifySolution(a, solutionA, opts())).toMatchObject({ ok: true });
      });

      it('refuses a change to any single signed field', async () => {
        const steps = Math.round(13 * 65536);
        const changes: Record<string, Partial<Challenge>> = {
          id: { id: b.id },
          difficulty: { difficulty: 13, threshold: thresholdHex(thresholdForSteps(steps)) },
          subPuzzles: { subPuzzles: 3 },
          calls: { calls: a.calls + 1 },
          price: { price: a.price + 1 },
          scope: { scope: 'tool:b' },
          issuedAt: { issuedAt: a.issuedAt - 1 },
          expiresAt: { expiresAt: a.expiresAt + 1 },
        };
        for (const [field, change] of Object.entries(changes)) {
          const tampered = { ...a, ...change };
          const solution = field === 'id' ? { ...solutionA, id: b.id } : field === 'subPuzzles' ? { ...solutionA, nonces: [...solutionA.nonces, solutionA.nonces[0]!] } : solutionA;
          expect(await verifySolution(tampered, solution, opts()), field).toEqual({ ok: false, reason: 'bad_signature' });
        }
      });

      it("refuses a threshold that is not the difficulty's, or a difficulty off the 1/65536 grid, as malformed", async () => {
        expect(await verifySolution({ ...a, threshold: 'ffffffffffffffff' }, solutionA, opts())).toEqual({ ok: false, reason: 'malformed' });
        expect(await verifySolution({ ...a, difficulty: 12 + 1e-9 }, solutionA, opts())).toEqual({ ok: false, reason: 'malformed' });
      });

      it('refuses every single-byte change of the signature', async () => {
        const mac = Buffer.from(a.signature, 'base64url');
        for (let i = 0; i < 32; i++) {
          const flipped = Buffer.from(mac);
          flipped[i]! ^= 1 << (i % 8);
          const verdict = await verifySolution({ ...a, signature: flipped.toString('base64url') }, solutionA, opts());
          expect(verdict, `byte ${i}`).toEqual({ ok: false, reason: 'bad_signature' });
        }
      });

      it('refuses challenges spliced from two valid ones, in every combination of fields', async () => {
        const fields = ['id', 'difficulty', 'subPuzzles', 'scope', 'issuedAt', 'expiresAt', 'signature'] as const;
        for (let mask = 1; mask < (1 << fields.length) - 1; mask++) {
          const spliced: Record<string, unknown> = { ...a };
          fields.forEach((f, i) => {
            if (mask & (1 << i)) spliced[f] = b[f];
          });
          if (mask & 2) spliced.threshold = b.threshold; // difficulty and threshold travel together
          const verdict = await verifySolution(spliced, { ...solutionA, id: spliced.id as string }, opts());
          expect(verdict.ok, `fields from b: ${fields.filter((_, i) => mask & (1 << i))}`).toBe(false);
        }
      });

      it('refuses a solution for one challenge on another', async () => {
        expect(await verifySolution(b, solutionA, opts())).toEqual({ ok: false, reason: 'bad_solution' });
        const relabelled = { ...solutionA, id: b.id, nonces: [...solutionA.nonces, solutionA.nonces[0]!] };
        expect(await verifySolution(b, relabelled, opts({ now: NOW + 1000 }))).toEqual({ ok: false, reason: 'bad_solution' });
      });
    });

    describe('scope, keys and time', () => {
      it('refuses a valid challenge for another scope', async () => {
        expect(await verifySolution(a, solutionA, opts({ scope: 'tool:b' }))).toEqual({ ok: false, reason: 'scope_mismatch' });
        expect(await verifySolution(a, solutionA, opts({ scope: 'tool:a' }))).toMatchObject({ ok: true });
      });

      it('refuses an unknown key id, and a known id with another secret', async () => {
        expect(await verifySolution(a, solutionA, opts({ secret: OTHER_SECRET }))).toEqual({ ok: false, reason: 'unknown_key' });
        const impostor = { keys: [{ kid: a.kid, secret: OTHER_SECRET }] };
        expect(await verifySolution(a, solutionA, { ...opts(), secret: undefined, ...impostor })).toEqual({ ok: false, reason: 'bad_signature' });
      });

      it('rotates keys: the first key signs, every listed key verifies', async () => {
        const old = { kid: 'old', secret: SECRET };
        const fresh = { kid: 'new', secret: OTHER_SECRET };
        const before = createChallenge({ keys: [old], difficulty: 4, now: NOW });
        const after = createChallenge({ keys: [fresh, old], difficulty: 4, now: NOW });
        expect([before.kid, after.kid]).toEqual(['old', 'new']);
        for (const challenge of [before, after]) {
          const { solution } = await solvedPair(challenge, { backend });
          expect(await verifySolution(challenge, solution, { keys: [fresh, old], store: storeAt(), now: NOW, backend })).toMatchObject({ ok: true });
          if (challenge === after) {
            expect(await verifySolution(challenge, solution, { keys: [old], store: storeAt(), now: NOW, backend })).toEqual({ ok: false, reason: 'unknown_key' });
          }
        }
      });

      it("refuses a signed difficulty outside the verifier's bounds", async () => {
        expect(await verifySolution(a, solutionA, opts({ maxDifficulty: 11.5 }))).toEqual({ ok: false, reason: 'difficulty_out_of_range' });
        expect(await verifySolution(a, solutionA, opts({ minDifficulty: 12.25 }))).toEqual({ ok: false, reason: 'difficulty_out_of_range' });
      });

      it('accepts up to the skew allowance past expiry and before issue, and refuses beyond it', async () => {
        const skewMs = 2000;
        const at = (now: number) => verifySolution(a, solutionA, opts({ now, skewMs, store: storeAt(now) }));
        expect(await at(a.expiresAt + skewMs)).toMatchObject({ ok: true });
        expect(await at(a.expiresAt + skewMs + 1)).toEqual({ ok: false, reason: 'expired' });
        expect(await at(a.issuedAt - skewMs)).toMatchObject({ ok: true });
        expect(await at(a.issuedAt - skewMs - 1)).toEqual({ ok: false, reason: 'not_yet_valid' });
      });
    });

    describe('tokens', () => {
      const token = () => issueToken({ secret: SECRET, scope: 'tool:a', now: NOW, ttlMs: 60_000 });

      it('verifies with method, times and scope, and refuses expiry, scope and key mismatches', () => {
        const t = token();
        expect(verifyToken(t, { secret: SECRET, now: NOW })).toMatchObject({ valid: true, method: 'pow', issuedAt: NOW, expiresAt: NOW + 60_000, scope: 'tool:a' });
        expect(verifyToken(t, { secret: SECRET, now: NOW + 60_000 + 5_001 })).toEqual({ valid: false, reason: 'expired' });
        expect(verifyToken(t, { secret: SECRET, now: NOW - 5_001 })).toEqual({ valid: false, reason: 'not_yet_valid' });
        expect(verifyToken(t, { secret: SECRET, now: NOW, scope: 'tool:b' })).toEqual({ valid: false, reason: 'scope_mismatch' });
        expect(verifyToken(t, { secret: OTHER_SECRET, now: NOW })).toEqual({ valid: false, reason: 'unknown_key' });
      });

      it("refuses a changed allowance or price: the payload's calls and price are under the MAC", () => {
        const t = issueToken({ secret: SECRET, scope: 'tool:a', now: NOW, ttlMs: 60_000, calls: 3, price: 12.5 });
        expect(verifyToken(t, { secret: SECRET, now: NOW })).toMatchObject({ valid: true, calls: 3, price: 12.5 });
        const [, payload, mac] = t.split('.');
        const bytes = Buffer.from(payload!, 'base64url');
        // The last 8 bytes are u32 calls and u32 price (docs/PROTOCOL.md, "Token").
        for (const [at, value] of [
          [bytes.length - 8, 1_000_000],
          [bytes.length - 4, 40 * 65536],
        ] as const) {
          const changed = Buffer.from(bytes);
          changed.writeUInt32BE(value, at);
          expect(verifyToken(`pgt2.${changed.toString('base64url')}.${mac}`, { secret: SECRET, now: NOW })).toEqual({ valid: false, reason: 'bad_signature' });
        }
      });

      it('refuses every single-character change', () => {
        const t = token();
        const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.';
        for (let i = 0; i < t.length; i++) {
          const other = alphabet[(alphabet.indexOf(t[i]!) + 7) % alphabet.length]!;
          const verdict = verifyToken(t.slice(0, i) + other + t.slice(i + 1), { secret: SECRET, now: NOW });
          expect(verdict.valid, `position ${i}`).toBe(false);
        }
      });

      it('never accepts a challenge MAC as a token MAC or the reverse', async () => {
        // The token's payload signed with the challenge subkey instead: refused.
        const t = token();
        const [, payload] = t.split('.');
        const { createHmac } = await import('node:crypto');
        const { KeyRing } = await import('../src/protocol/keys.js');
        const key = KeyRing.from({ secret: SECRET }).signing;
        const wrongMac = createHmac('sha256', key.challenge).update('powgate/token/v2\0').update(Buffer.from(payload!, 'base64url')).digest('base64url');
        expect(verifyToken(`pgt2.${payload}.${wrongMac}`, { secret: SECRET, now: NOW })).toEqual({ valid: false, reason: 'bad_signature' });
        // A challenge whose signature is a token MAC: refused.
        const tokenMac = t.split('.')[2]!;
        expect(await verifySolution({ ...a, signature: tokenMac }, solutionA, opts())).toEqual({ ok: false, reason: 'bad_signature' });
      });
    });
  });
}
