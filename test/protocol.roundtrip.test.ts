// challenge -> solve -> verify on every backend; a solution found by any
// backend verifies on all of them, singly and in a batch.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Sha256Backend } from '../src/backend/types.js';
import type { Solution } from '../src/protocol/solution.js';
import { verifySolution, verifySolutions } from '../src/protocol/verify.js';
import { solve } from '../src/solver/solve.js';
import { backendLegs, legTitle } from './helpers/backends.js';
import { NOW, SECRET, challengeAt, storeAt } from './helpers/protocol.js';

const legs = backendLegs().filter((leg) => !leg.skip);
const backends = new Map<string, Sha256Backend>();

beforeAll(async () => {
  for (const leg of legs) backends.set(leg.label, await leg.load());
});

for (const leg of backendLegs()) {
  describe.skipIf(leg.skip)(legTitle(leg), () => {
    it('solves a 3-sub-puzzle challenge that every backend accepts, once', async () => {
      const challenge = challengeAt({ difficulty: 10.5, subPuzzles: 3, scope: 'tool:search' });
      const solution = await solve(challenge, { backend: backends.get(leg.label)!, threads: 2 });
      expect(solution).toMatchObject({ v: 1, id: challenge.id });
      expect(solution.nonces).toHaveLength(3);

      for (const [label, verifier] of backends) {
        const store = storeAt();
        const options = { secret: SECRET, store, now: NOW, scope: 'tool:search', backend: verifier };
        expect(await verifySolution(challenge, solution, options), label).toMatchObject({ ok: true, id: challenge.id, scope: 'tool:search' });
        expect(await verifySolution(challenge, solution, options), label).toEqual({ ok: false, reason: 'replayed' });
        const batch = await verifySolutions([{ challenge, solution }], { ...options, store: storeAt() });
        expect(batch, label).toMatchObject([{ ok: true }]);
      }
      // And on the default path (node:crypto, no backend given).
      expect(await verifySolution(challenge, solution, { secret: SECRET, store: storeAt(), now: NOW })).toMatchObject({ ok: true });
    });

    it('gives the same verdict as every other backend on a wrong nonce', async () => {
      const challenge = challengeAt({ difficulty: 16, subPuzzles: 2 });
      const solution = await solve(challenge, { backend: backends.get(leg.label)!, threads: 1 });
      const nonce = BigInt(`0x${solution.nonces[1]}`);
      const broken: Solution = { ...solution, nonces: [solution.nonces[0]!, (nonce ^ 1n).toString(16).padStart(16, '0')] };
      for (const [label, verifier] of backends) {
        const verdict = await verifySolution(challenge, broken, { secret: SECRET, store: storeAt(), now: NOW, backend: verifier });
        // One try in 2^16 would pass by chance; the flipped nonce is checked against the oracle below.
        expect(verdict, label).toEqual(await verifySolution(challenge, broken, { secret: SECRET, store: storeAt(), now: NOW }));
      }
    });
  });
}
