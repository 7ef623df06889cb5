// Untrusted input never throws: anything that is not exactly the protocol's
// shape is refused as `malformed`, for challenges, solutions and tokens. Challenges and
// solutions on every backend leg (each verifies and solves with it); tokens use no backend.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Sha256Backend } from '../src/backend/types.js';
import type { Challenge } from '../src/protocol/challenge.js';
import type { Solution } from '../src/protocol/solution.js';
import { issueToken, verifyToken } from '../src/protocol/token.js';
import { verifySolution, verifySolutions } from '../src/protocol/verify.js';
import { backendLegs, legTitle } from './helpers/backends.js';
import { NOW, SECRET, solvedPair, storeAt } from './helpers/protocol.js';

const MALFORMED = { ok: false, reason: 'malformed' };

/** Bad values for any field: wrong types, non-finite and negative numbers, oversize. */
const BAD_VALUES: unknown[] = [
  undefined,
  null,
  true,
  NaN,
  Infinity,
  -Infinity,
  -1,
  1.5,
  2 ** 53,
  '',
  'x'.repeat(1_000_000),
  [],
  {},
  [1, 2],
  { toString: () => 'x' },
  Symbol('s'),
  10n,
];

for (const leg of backendLegs()) {
  describe.skipIf(leg.skip)(legTitle(leg), () => {
    let backend: Sha256Backend;
    let challenge: Challenge;
    let solution: Solution;
    const verify = (c: unknown, s: unknown) => verifySolution(c, s, { secret: SECRET, store: storeAt(), now: NOW, backend });

    beforeAll(async () => {
      backend = await leg.load();
      ({ challenge, solution } = await solvedPair({ difficulty: 6, subPuzzles: 2 }, { backend }));
    });

    describe('hostile challenges and solutions', () => {
      it('accepts the pair untouched (baseline)', async () => {
        expect(await verify(challenge, solution)).toMatchObject({ ok: true });
      });

      it('refuses every missing field and every bad value in every field', async () => {
        for (const [target, keys] of [
          ['challenge', Object.keys(challenge)],
          ['solution', Object.keys(solution)],
        ] as const) {
          for (const key of keys) {
            const without = { ...(target === 'challenge' ? challenge : solution) } as Record<string, unknown>;
            delete without[key];
            const missing = target === 'challenge' ? await verify(without, solution) : await verify(challenge, without);
            if (key !== 'elapsedMs') expect(missing, `${target} without ${key}`).toEqual(MALFORMED);
            for (const bad of BAD_VALUES) {
              if (Object.is(bad, (target === 'challenge' ? challenge : solution)[key as never])) continue;
              const changed = { ...(target === 'challenge' ? challenge : solution), [key]: bad };
              const verdict = target === 'challenge' ? await verify(changed, solution) : await verify(challenge, changed);
              // A price of 1.5 bits is a price the protocol allows: only the signature knows it is not this one.
              const expected = target === 'challenge' && key === 'price' && bad === 1.5 ? { ok: false, reason: 'bad_signature' } : MALFORMED;
              expect(verdict, `${target}.${key} = ${String(bad).slice(0, 20)}`).toEqual(expected);
            }
          }
        }
      });

      it('refuses extra fields, prototype-pollution keys, huge arrays and non-plain objects', async () => {
        const polluted = JSON.parse(`{"__proto__": {"ok": true}, ${JSON.stringify(challenge).slice(1)}`);
        const cases: [unknown, unknown][] = [
          [{ ...challenge, extra: 1 }, solution],
          [challenge, { ...solution, extra: 1 }],
          [polluted, solution],
          [challenge, JSON.parse(`{"constructor": {"prototype": {}}, ${JSON.stringify(solution).slice(1)}`)],
          [challenge, { ...solution, nonces: new Array(100_000).fill(solution.nonces[0]) }],
          [challenge, { ...solution, nonces: [] }],
          [challenge, { ...solution, nonces: ['FFFFFFFFFFFFFFFF', solution.nonces[1]] }],
          [challenge, { ...solution, nonces: [`0x${solution.nonces[0]!.slice(2)}`, solution.nonces[1]] }],
          [Object.assign(Object.create({ inherited: 1 }), challenge), solution],
          [new Map(Object.entries(challenge)), solution],
          [JSON.stringify(challenge), solution],
          [{ ...challenge, id: `${challenge.id}=` }, solution],
          [{ ...challenge, signature: `${challenge.signature.slice(0, -1)}A+` }, solution],
        ];
        for (const [i, [c, s]] of cases.entries()) expect(await verify(c, s), `case ${i}`).toEqual(MALFORMED);
        expect(({} as Record<string, unknown>).ok).toBeUndefined();
        // The same nonce in lowercase is well-formed, just wrong: uppercase is refused for its form.
        expect(await verify(challenge, { ...solution, nonces: ['ffffffffffffffff', solution.nonces[1]] })).not.toEqual(MALFORMED);
      });

      it('refuses objects whose getters throw, and Proxies, without throwing', async () => {
        const throwing = { ...challenge };
        Object.defineProperty(throwing, 'kid', {
          enumerable: true,
          get: () => {
            throw new Error('boom');
          },
        });
        const proxy = new Proxy(
          { ...challenge },
          {
            ownKeys: () => {
              throw new Error('boom');
            },
          },
        );
        expect(await verify(throwing, solution)).toEqual(MALFORMED);
        expect(await verify(proxy, solution)).toEqual(MALFORMED);
        expect(await verifySolutions([{ challenge: proxy, solution }, null as never, 7 as never], { secret: SECRET, store: storeAt(), now: NOW, backend })).toEqual([
          MALFORMED,
          MALFORMED,
          MALFORMED,
        ]);
      });

      it('refuses arbitrary JSON values without throwing (fast-check)', async () => {
        await fc.assert(
          fc.asyncProperty(fc.jsonValue(), fc.jsonValue(), async (c, s) => {
            expect(await verify(c, s)).toEqual(MALFORMED);
          }),
          { numRuns: 500 },
        );
      });

      it('refuses records with the right keys and arbitrary values (fast-check)', async () => {
        const record = (keys: string[]) => fc.record(Object.fromEntries(keys.map((k) => [k, fc.anything()])));
        await fc.assert(
          fc.asyncProperty(record(Object.keys(challenge)), record(Object.keys(solution)), async (c, s) => {
            const verdict = await verify(c, s);
            expect(verdict.ok).toBe(false);
          }),
          { numRuns: 300 },
        );
      });
    });
  });
}

describe('hostile tokens', () => {
  it('refuses arbitrary strings and values as malformed (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.anything(),
          fc.string().map((s) => `pgt2.${s}`),
          fc.string().map((s) => `pgt2.${s}.${s}`),
        ),
        (t) => {
          expect(verifyToken(t, { secret: SECRET, now: NOW })).toEqual({ valid: false, reason: 'malformed' });
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('refuses oversize tokens, extra parts, padding and trailing payload bytes', () => {
    const t = issueToken({ secret: SECRET, now: NOW });
    const [, payload, mac] = t.split('.');
    const longer = Buffer.concat([Buffer.from(payload!, 'base64url'), Buffer.of(0)]).toString('base64url');
    for (const bad of [`${t}.x`, `${t}=`, `pgt2.${longer}.${mac}`, `${t}${'A'.repeat(2000)}`, t.replace('pgt2', 'pgt3'), ` ${t}`]) {
      expect(verifyToken(bad, { secret: SECRET, now: NOW }), bad.slice(0, 40)).toEqual({ valid: false, reason: 'malformed' });
    }
    // Version 1's prefix says which version it is: refused for that, whatever follows.
    expect(verifyToken(t.replace('pgt2', 'pgt1'), { secret: SECRET, now: NOW })).toEqual({ valid: false, reason: 'unsupported_version' });
  });
});
