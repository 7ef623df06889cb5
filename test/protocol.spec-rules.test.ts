// The rules docs/PROTOCOL.md states that a second implementation would otherwise have to
// guess, each pinned here (the ones other tests do not already pin), so that the document
// and the code cannot drift apart. Each `describe` names the section that states its rule.
import { createHmac, scryptSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChallenge, issueToken, verifySolution, verifyToken, type Challenge, type Solution } from '../src/index.js';
import { secretOptions } from '../src/cli/secret.js';
import { NOW, SECRET, challengeAt, solvedPair, storeAt } from './helpers/protocol.js';
import { subkeyOf } from './helpers/key-derivation.js';

const verify = (c: unknown, s: unknown, extra: Record<string, unknown> = {}) => verifySolution(c, s, { secret: SECRET, store: storeAt(), now: NOW, ...extra });
const refused = (reason: string) => ({ ok: false, reason });

let challenge: Challenge;
let solution: Solution;

beforeAll(async () => {
  ({ challenge, solution } = await solvedPair({ difficulty: 4, subPuzzles: 2 }));
});

describe('Solution: the number of nonces', () => {
  it('is malformed for 0 or more than 64, bad_solution for 1 to 64 other than subPuzzles', async () => {
    const nonce = solution.nonces[0]!;
    expect(await verify(challenge, solution)).toMatchObject({ ok: true });
    expect(await verify(challenge, { ...solution, nonces: [] })).toEqual(refused('malformed'));
    expect(await verify(challenge, { ...solution, nonces: new Array(65).fill(nonce) })).toEqual(refused('malformed'));
    for (const count of [1, 3, 64]) {
      expect(await verify(challenge, { ...solution, nonces: new Array(count).fill(nonce) }), `${count} nonces`).toEqual(refused('bad_solution'));
    }
    // Every entry is read for its form first, whatever the count: one bad entry is malformed.
    expect(await verify(challenge, { ...solution, nonces: [...solution.nonces, 'ABCDEF0123456789'] })).toEqual(refused('malformed'));
  });
});

describe('Solution: the id', () => {
  it('is 22 characters of canonical base64url: anything else is malformed; another well-formed id is bad_solution', async () => {
    const other = challengeAt({ difficulty: 4, subPuzzles: 2 });
    expect(await verify(challenge, { ...solution, id: other.id })).toEqual(refused('bad_solution'));
    const last = challenge.id.at(-1)!;
    // The 22nd character carries 2 bits of the id and 4 zero bits: one with a low bit set is not canonical.
    const nonCanonical = `${challenge.id.slice(0, 21)}${last === 'B' ? 'C' : 'B'}`;
    for (const id of [challenge.id.slice(0, 21), `${challenge.id}A`, `${challenge.id}==`, nonCanonical, `+${challenge.id.slice(1)}`, `/${challenge.id.slice(1)}`]) {
      expect(await verify(challenge, { ...solution, id }), id).toEqual(refused('malformed'));
    }
  });
});

describe('Conventions: the empty scope', () => {
  it('is matched exactly, and is no wildcard on either side', async () => {
    const anyScope = await solvedPair({ difficulty: 4 });
    const toolA = await solvedPair({ difficulty: 4, scope: 'tool:a' });
    expect(await verify(anyScope.challenge, anyScope.solution, { scope: '' })).toMatchObject({ ok: true, scope: '' });
    expect(await verify(anyScope.challenge, anyScope.solution, { scope: 'tool:a' })).toEqual(refused('scope_mismatch'));
    expect(await verify(toolA.challenge, toolA.solution, { scope: '' })).toEqual(refused('scope_mismatch'));
    // No required scope: any scope, the empty one included.
    expect(await verify(toolA.challenge, toolA.solution)).toMatchObject({ ok: true, scope: 'tool:a' });

    const unscoped = issueToken({ secret: SECRET, now: NOW });
    const scoped = issueToken({ secret: SECRET, now: NOW, scope: 'tool:a' });
    expect(verifyToken(unscoped, { secret: SECRET, now: NOW, scope: '' })).toMatchObject({ valid: true, scope: '' });
    expect(verifyToken(unscoped, { secret: SECRET, now: NOW, scope: 'tool:a' })).toEqual({ valid: false, reason: 'scope_mismatch' });
    expect(verifyToken(scoped, { secret: SECRET, now: NOW, scope: '' })).toEqual({ valid: false, reason: 'scope_mismatch' });
  });
});

describe('Conventions: JSON numbers', () => {
  it('are read as values: 1.0 and 1e0 are the integer 1 in any integer field', async () => {
    const text = JSON.stringify(challenge)
      .replace('"v":2', '"v":2.0')
      .replace('"subPuzzles":2', '"subPuzzles":2.0')
      .replace('"calls":1', '"calls":1e0')
      .replace(/"expiresAt":(\d+)/, '"expiresAt":$1.000')
      .replace('"difficulty":4', '"difficulty":4.0');
    expect(text).toContain('"subPuzzles":2.0');
    const solutionText = JSON.stringify({ ...solution, elapsedMs: 12 })
      .replace('"v":1', '"v":1.0')
      .replace('"elapsedMs":12', '"elapsedMs":12.0');
    expect(await verify(JSON.parse(text), JSON.parse(solutionText))).toMatchObject({ ok: true, subPuzzles: 2 });
    // A value that is not a whole number stays malformed wherever an integer is required.
    expect(await verify(JSON.parse(text.replace('"subPuzzles":2.0', '"subPuzzles":2.5')), solution)).toEqual(refused('malformed'));
  });
});

describe('Solution: elapsedMs', () => {
  it('is a non-negative whole number of ms; -0 reads as 0', async () => {
    expect(await verify(challenge, { ...solution, elapsedMs: 0 })).toMatchObject({ ok: true });
    expect(await verify(challenge, { ...solution, elapsedMs: -0 })).toMatchObject({ ok: true });
    expect(await verify(challenge, { ...solution, elapsedMs: 2 ** 53 - 1 })).toMatchObject({ ok: true });
    expect(await verify(challenge, { ...solution, elapsedMs: -1 })).toEqual(refused('malformed'));
  });
});

describe('Difficulty: the range on issuing', () => {
  it("checks the difficulty it signs, rounded to 1/65536, against the issuer's bounds", () => {
    const invalid = expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' });
    expect(createChallenge({ secret: SECRET, difficulty: 40.000001, now: NOW }).difficulty).toBe(40);
    expect(createChallenge({ secret: SECRET, difficulty: 0.9999999, now: NOW }).difficulty).toBe(1);
    expect(createChallenge({ secret: SECRET, difficulty: 39.9999999, now: NOW }).difficulty).toBe(40);
    expect(() => createChallenge({ secret: SECRET, difficulty: 40 + 1 / 65536, now: NOW })).toThrow(invalid);
    expect(() => createChallenge({ secret: SECRET, difficulty: 1 - 1 / 65536, now: NOW })).toThrow(invalid);
    for (const difficulty of [Number.NaN, Number.POSITIVE_INFINITY, -0.5, 1e300]) expect(() => createChallenge({ secret: SECRET, difficulty, now: NOW })).toThrow(invalid);
    expect(createChallenge({ secret: SECRET, difficulty: 41, maxDifficulty: 64, now: NOW }).difficulty).toBe(41);
    expect(() => createChallenge({ secret: SECRET, difficulty: 8, minDifficulty: 10, now: NOW })).toThrow(invalid);
  });

  it('never signs, with bounds off the 1/65536 grid, a difficulty that a verifier with the same bounds refuses', async () => {
    const bounds = { minDifficulty: 2.000001, maxDifficulty: 3.000001 };
    const seen = { signed: 0, refused: 0 };
    for (let step = -4; step <= 4; step++) {
      for (const bound of [bounds.minDifficulty, bounds.maxDifficulty]) {
        const difficulty = bound + step / 131072;
        let challenge: Challenge;
        try {
          challenge = createChallenge({ secret: SECRET, difficulty, now: NOW, ...bounds });
        } catch {
          seen.refused++;
          continue;
        }
        seen.signed++;
        const { solution } = await solvedPair(challenge);
        expect(await verify(challenge, solution, bounds), `difficulty ${difficulty}`).toMatchObject({ ok: true });
      }
    }
    expect(seen.signed).toBeGreaterThan(0);
    expect(seen.refused).toBeGreaterThan(0);
  });
});

describe('Token: the format', () => {
  const tokenKey = subkeyOf(SECRET, 'token');
  const { kid } = challengeAt();
  /** A token from a payload built here, signed with the real token key: only the payload's form can be wrong. */
  function signed(fields: { version?: number; method?: string; issuedAt?: number; expiresAt?: number; price?: number; tail?: Buffer }): string {
    const { version = 2, method = 'pow', issuedAt = NOW, expiresAt = NOW + 1000, price = 0, tail = Buffer.alloc(0) } = fields;
    const u64 = (n: number) => {
      const b = Buffer.alloc(8);
      b.writeBigUInt64BE(BigInt(n));
      return b;
    };
    const u32 = (n: number) => {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(n);
      return b;
    };
    const payload = Buffer.concat([
      Buffer.of(version, kid.length),
      Buffer.from(kid),
      Buffer.of(method.length),
      Buffer.from(method),
      Buffer.of(0, 0),
      u64(issuedAt),
      u64(expiresAt),
      Buffer.alloc(16, 7),
      u32(1),
      u32(price),
      tail,
    ]);
    const mac = createHmac('sha256', tokenKey).update('powgate/token/v2\0').update(payload).digest();
    return `pgt2.${payload.toString('base64url')}.${mac.toString('base64url')}`;
  }
  const check = (token: string) => verifyToken(token, { secret: SECRET, now: NOW });
  const MALFORMED = { valid: false, reason: 'malformed' };

  it('accepts the documented layout, signed', () => {
    expect(check(signed({}))).toMatchObject({ valid: true, method: 'pow', issuedAt: NOW, expiresAt: NOW + 1000, calls: 1, price: 0 });
    expect(check(signed({ method: 'l402', price: 0xffff_ffff }))).toMatchObject({ valid: true, method: 'l402', price: 0xffff_ffff });
    expect(check(signed({ price: 70 * 65536 }))).toMatchObject({ valid: true, price: 70 });
    expect(check(signed({ expiresAt: NOW }))).toMatchObject({ valid: true, expiresAt: NOW });
  });

  it('refuses, MAC and all, a payload version other than 2, another method, times out of order, a price above 70 bits, trailing bytes', () => {
    for (const [what, fields] of [
      ['version 1', { version: 1 }],
      ['version 3', { version: 3 }],
      ['method POW', { method: 'POW' }],
      ['method lightning', { method: 'lightning' }],
      ['method empty', { method: '' }],
      ['expiresAt before issuedAt', { expiresAt: NOW - 1 }],
      ['pow price above 70 bits', { price: 70 * 65536 + 1 }],
      ['a byte after the price', { tail: Buffer.of(0) }],
    ] as const) {
      expect(check(signed(fields)), what).toEqual(MALFORMED);
    }
  });

  it('refuses a MAC that is not 43 characters for 32 bytes, and anything but exactly two parts after pgt2.', () => {
    const t = signed({});
    const [, payload, mac] = t.split('.') as [string, string, string];
    expect(check(`pgt2.${payload}.${mac.slice(0, 42)}`)).toEqual(MALFORMED);
    expect(check(`pgt2.${payload}.${mac}A`)).toEqual(MALFORMED);
    expect(check(`pgt2.${payload}.${Buffer.alloc(31).toString('base64url')}`)).toEqual(MALFORMED);
    expect(check(`pgt2.${payload}`)).toEqual(MALFORMED);
    expect(check(`pgt2.${payload}.${mac}.`)).toEqual(MALFORMED);
    expect(check(`PGT2.${payload}.${mac}`)).toEqual(MALFORMED);
    // Right form, wrong MAC: that is the signature's refusal, not the form's.
    expect(check(`pgt2.${payload}.${Buffer.alloc(32).toString('base64url')}`)).toEqual({ valid: false, reason: 'bad_signature' });
  });

  it('is at most 1,024 characters', () => {
    // A long scope makes a token longer than 1,024 characters: refused unread, though signed.
    const long = issueToken({ secret: SECRET, now: NOW, scope: 'x'.repeat(256) });
    expect(long.length).toBeLessThanOrEqual(1024);
    expect(check(long)).toMatchObject({ valid: true });
    expect(check(`${long}${'A'.repeat(1025 - long.length)}`)).toEqual(MALFORMED);
  });
});

describe('Keys: the derivation labels', () => {
  it('carry no 0x00 (unlike the labels inside MAC inputs)', () => {
    const key = (label: string) => createHmac('sha256', subkeyOfStretch()).update(label).digest();
    // subkeyOf writes the label with no 0x00; one with a 0x00 gives another key.
    expect(subkeyOf(SECRET, 'token')).toEqual(key('powgate/v2/token'));
    expect(subkeyOf(SECRET, 'token')).not.toEqual(key('powgate/v2/token\0'));
    // And powgate agrees with subkeyOf: a token MAC'd with it verifies.
    const token = issueToken({ secret: SECRET, now: NOW });
    const [, payload, mac] = token.split('.') as [string, string, string];
    const expected = createHmac('sha256', key('powgate/v2/token')).update('powgate/token/v2\0').update(Buffer.from(payload, 'base64url')).digest('base64url');
    expect(mac).toBe(expected);
  });
});

/** scrypt of the test secret, as docs/PROTOCOL.md "Keys" gives it. */
function subkeyOfStretch(): Buffer {
  return scryptSync(SECRET, 'powgate/key/v2', 32, { N: 16384, r: 8, p: 1 });
}

describe('--secret-file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'powgate-spec-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const io = { env: {} } as never;
  const read = (name: string, bytes: string) => {
    writeFileSync(join(dir, name), bytes);
    return secretOptions({ values: { 'secret-file': join(dir, name) }, positionals: [] }, io).secret;
  };
  const bytes = (s: string) => Buffer.from(s);

  it('drops one trailing newline (LF or CRLF), and only one', () => {
    expect(read('plain', SECRET)).toEqual(bytes(SECRET));
    expect(read('lf', `${SECRET}\n`)).toEqual(bytes(SECRET));
    expect(read('crlf', `${SECRET}\r\n`)).toEqual(bytes(SECRET));
    expect(read('two', `${SECRET}\n\n`)).toEqual(bytes(`${SECRET}\n`));
    expect(read('cr', `${SECRET}\r`)).toEqual(bytes(`${SECRET}\r`));
    expect(read('space', `${SECRET} \n`)).toEqual(bytes(`${SECRET} `));
  });
});
