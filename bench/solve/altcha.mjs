/**
 * ALTCHA's own solvers (devDependency altcha-lib) as a baseline, each given a
 * challenge whose answer is a known counter, so one solve is a known number of
 * SHA-256 hashes. Their messages are ALTCHA's, not powgate's, but each is one
 * SHA-256 block (under 56 bytes), like powgate's 48-byte work message.
 */
import { createHash } from 'node:crypto';
import { createChallenge, solveChallenge } from 'altcha-lib';
import { deriveKey } from 'altcha-lib/algorithms/sha';
import { solveChallenge as solveChallengeV1 } from 'altcha-lib/v1';

/**
 * altcha-lib's current API (v2): `solveChallenge({ challenge, deriveKey })` with the
 * SHA-256 key derivation at cost 1 (one hash per counter). The challenge is made in
 * deterministic mode with `counter = hashes - 1`, so a solve tries counters 0 .. hashes - 1:
 * SHA-256 of salt (16 B) + nonce (16 B) + u32 counter = 36 bytes.
 */
export async function altchaV2Solver(hashes) {
  const answer = hashes - 1;
  const challenge = await createChallenge({ algorithm: 'SHA-256', cost: 1, counter: answer, deriveKey });
  return {
    name: 'altcha-lib v2 solveChallenge',
    hashes,
    message: '36 B (salt, nonce, u32 counter)',
    async solve() {
      const solution = await solveChallenge({ challenge, deriveKey });
      if (solution?.counter !== answer) throw new Error(`altcha-lib v2 solved counter ${solution?.counter}, expected ${answer}`);
    },
  };
}

/**
 * altcha-lib's v1 API (the classic widget's): `solveChallenge(challenge, salt, 'SHA-256', max)`
 * hashes `salt + n` (a decimal string) with WebCrypto for n = 0 .. max. The challenge is the
 * digest of the last one, so a solve is exactly `hashes` tries. Messages are 32 + 1..6 bytes.
 * WebCrypto's digest runs on libuv's thread pool; the solver awaits each one in turn.
 */
export function altchaV1Solver(hashes) {
  const answer = hashes - 1;
  const salt = createHash('sha256').update('powgate altcha v1 salt').digest('hex').slice(0, 32);
  const challenge = createHash('sha256').update(`${salt}${answer}`).digest('hex');
  return {
    name: 'altcha-lib v1 solveChallenge',
    hashes,
    message: `${salt.length}..${salt.length + String(answer).length} B (salt, decimal n)`,
    async solve() {
      const solution = await solveChallengeV1(challenge, salt, 'SHA-256', answer).promise;
      if (solution?.number !== answer) throw new Error(`altcha-lib v1 solved number ${solution?.number}, expected ${answer}`);
    },
  };
}
