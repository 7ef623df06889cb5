// The vectors in docs/PROTOCOL.md (test/vectors/protocol-v2.json): the
// implementation must reproduce them, and each MAC input is rebuilt here by
// hand from the documented layout, with node:crypto, not with powgate's encoder.
// POWGATE_WRITE_VECTORS=1 regenerates the file instead of checking it.
import { createHash, createHmac } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { challengeMacInput, parseChallenge, signChallenge } from '../src/protocol/challenge.js';
import { difficultySteps, thresholdForSteps, thresholdHex } from '../src/protocol/difficulty.js';
import { KeyRing } from '../src/protocol/keys.js';
import { derivedKidOf, subkeyOf } from './helpers/key-derivation.js';
import { signToken, verifyToken } from '../src/protocol/token.js';
import { verifySolution } from '../src/protocol/verify.js';
import { MemoryReplayStore } from '../src/storage/memory.js';
import { workMessage, meetsThreshold, nonceHex } from '../src/protocol/work.js';

const FILE = path.join(__dirname, 'vectors', 'protocol-v2.json');
/** Version 1's vectors, kept to show that its challenges and tokens are refused as unsupported_version. */
const V1_FILE = path.join(__dirname, 'fixtures', 'protocol-v1.json');
const SECRET = 'powgate protocol v2 test vector secret (not for use)';
const ISSUED_AT = 1_780_000_000_000;
const DIFFICULTIES = [1, 8, 16, 16.5, 18.25, 20.1, 24, 32, 48.75, 64];

function generate() {
  const ring = KeyRing.from({ secret: SECRET });
  const key = ring.signing;
  const challenge = signChallenge(
    key,
    // Four calls at 6 bits per sub-puzzle each: 6 + log2(4) = 8 bits; price 8 + log2(2) - log2(4) = 7 bits a call.
    { difficulty: 8, subPuzzles: 2, calls: 4, scope: 'tool:search', issuedAt: ISSUED_AT, expiresAt: ISSUED_AT + 120_000 },
    Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex'),
  );
  const parsed = parseChallenge(challenge)!;
  const work = [0, 1].map((subPuzzle) => {
    let nonce = 0n;
    while (
      !meetsThreshold(
        createHash('sha256')
          .update(workMessage(parsed.signature, subPuzzle, nonce))
          .digest(),
        0,
        parsed.threshold,
      )
    )
      nonce++;
    const message = workMessage(parsed.signature, subPuzzle, nonce);
    return { subPuzzle, nonce: nonceHex(nonce), message: message.toString('hex'), digest: createHash('sha256').update(message).digest('hex') };
  });
  const tokenId = Buffer.from('f0e1d2c3b4a5968778695a4b3c2d1e0f', 'hex');
  // Every input of the token, so that another implementation can rebuild it from the file alone.
  const tokenInputs = { kid: key.kid, method: 'pow' as const, scope: 'tool:search', issuedAt: ISSUED_AT, expiresAt: ISSUED_AT + 300_000, calls: 4, price: 7 };
  const token = signToken(key, { ...tokenInputs, id: tokenId, priceUnits: tokenInputs.price * 65536 });
  return {
    secret: SECRET,
    keys: { kid: key.kid, challengeKey: key.challenge.toString('hex'), tokenKey: key.token.toString('hex') },
    thresholds: DIFFICULTIES.map((d) => ({ difficulty: d, steps: difficultySteps(d), threshold: thresholdHex(thresholdForSteps(difficultySteps(d))) })),
    challenge,
    challengeMacInput: challengeMacInput(challenge, parsed.id, parsed.steps, parsed.threshold, parsed.priceSteps).toString('hex'),
    solution: { v: 1, id: challenge.id, nonces: work.map((w) => w.nonce) },
    work,
    token: { id: tokenId.toString('hex'), ...tokenInputs, string: token, payload: Buffer.from(token.split('.')[1]!, 'base64url').toString('hex') },
  };
}

type Vectors = ReturnType<typeof generate>;

if (process.env.POWGATE_WRITE_VECTORS === '1') writeFileSync(FILE, `${JSON.stringify(generate(), null, 2)}\n`);
const vectors = JSON.parse(readFileSync(FILE, 'utf8')) as Vectors;

const u8 = (n: number) => Buffer.of(n);
const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const u64 = (n: number | bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
};

describe('protocol v2 vectors', () => {
  it('the implementation reproduces every vector', () => {
    expect(generate()).toEqual(vectors);
  });

  it('subkeys and key id are HMAC-SHA256(scrypt stretch of the secret, "powgate/v2/<purpose>")', () => {
    expect(vectors.keys.challengeKey).toBe(subkeyOf(SECRET, 'challenge').toString('hex'));
    expect(vectors.keys.tokenKey).toBe(subkeyOf(SECRET, 'token').toString('hex'));
    expect(vectors.keys.kid).toBe(derivedKidOf(SECRET));
  });

  it('the challenge MAC input is the documented layout, and the signature its HMAC', () => {
    const c = vectors.challenge;
    const scope = Buffer.from(c.scope, 'ascii');
    const layout = Buffer.concat([
      Buffer.from('powgate/challenge/v2\0', 'ascii'),
      u8(2),
      u8(c.kid.length),
      Buffer.from(c.kid, 'ascii'),
      Buffer.from(c.id, 'base64url'),
      u32(c.difficulty * 65536),
      Buffer.from(c.threshold, 'hex'),
      u32(c.calls),
      u32(c.price * 65536),
      u8(c.subPuzzles),
      u16(scope.length),
      scope,
      u64(c.issuedAt),
      u64(c.expiresAt),
    ]);
    expect(layout.toString('hex')).toBe(vectors.challengeMacInput);
    // The bundle's rule: difficulty = per-call difficulty + log2(calls); price = difficulty + log2(subPuzzles) - log2(calls).
    expect(c.price).toBe(c.difficulty + Math.log2(c.subPuzzles) - Math.log2(c.calls));
    const mac = createHmac('sha256', Buffer.from(vectors.keys.challengeKey, 'hex')).update(layout).digest('base64url');
    expect(mac).toBe(c.signature);
  });

  it('work messages are "PGW1" | MAC | u32 sub-puzzle | u64 nonce, and their digests meet the threshold', () => {
    const signature = Buffer.from(vectors.challenge.signature, 'base64url');
    for (const w of vectors.work) {
      const message = Buffer.concat([Buffer.from('PGW1', 'ascii'), signature, u32(w.subPuzzle), Buffer.from(w.nonce, 'hex')]);
      expect(message.toString('hex')).toBe(w.message);
      const digest = createHash('sha256').update(message).digest();
      expect(digest.toString('hex')).toBe(w.digest);
      expect(digest.readBigUInt64BE(0) < BigInt(`0x${vectors.challenge.threshold}`)).toBe(true);
    }
  });

  it('the vector solution verifies, once', async () => {
    const now = vectors.challenge.issuedAt + 1000;
    // The store must keep the verifier's time, or it sees the spend as long expired.
    const store = new MemoryReplayStore({ now: () => now, since: vectors.challenge.issuedAt });
    expect(await verifySolution(vectors.challenge, vectors.solution, { secret: SECRET, store, now })).toMatchObject({ ok: true });
    expect(await verifySolution(vectors.challenge, vectors.solution, { secret: SECRET, store, now })).toEqual({ ok: false, reason: 'replayed' });
  });

  it('the token payload is the documented layout, and its MAC covers label + payload', () => {
    const t = vectors.token;
    expect(t).toMatchObject({ kid: vectors.keys.kid, method: 'pow', scope: 'tool:search', issuedAt: ISSUED_AT, expiresAt: ISSUED_AT + 300_000, calls: 4, price: 7 });
    const scope = Buffer.from(t.scope, 'ascii');
    const payload = Buffer.concat([
      u8(2),
      u8(t.kid.length),
      Buffer.from(t.kid, 'ascii'),
      u8(t.method.length),
      Buffer.from(t.method, 'ascii'),
      u16(scope.length),
      scope,
      u64(t.issuedAt),
      u64(t.expiresAt),
      Buffer.from(t.id, 'hex'),
      u32(t.calls),
      u32(t.price * 65536),
    ]);
    expect(payload.toString('hex')).toBe(vectors.token.payload);
    const mac = createHmac('sha256', Buffer.from(vectors.keys.tokenKey, 'hex')).update('powgate/token/v2\0').update(payload).digest('base64url');
    expect(vectors.token.string).toBe(`pgt2.${payload.toString('base64url')}.${mac}`);
    expect(verifyToken(vectors.token.string, { secret: SECRET, now: ISSUED_AT + 1 })).toMatchObject({ valid: true, method: 'pow', scope: 'tool:search', calls: 4, price: 7 });
  });

  it("version 1's challenges and tokens are refused as unsupported_version, whatever their MAC", async () => {
    const v1 = JSON.parse(readFileSync(V1_FILE, 'utf8'));
    const now = v1.challenge.issuedAt + 1000;
    const options = { secret: v1.secret, now, store: new MemoryReplayStore({ now: () => now }) };
    expect(await verifySolution(v1.challenge, v1.solution, options)).toEqual({ ok: false, reason: 'unsupported_version' });
    expect(verifyToken(v1.token.string, { secret: v1.secret, now })).toEqual({ valid: false, reason: 'unsupported_version' });
    expect(parseChallenge(v1.challenge)).toBeUndefined();
  });

  it('thresholds are floor(2^(64 - d)) to within the stated rounding, and exact for whole d', () => {
    for (const t of vectors.thresholds) {
      const value = BigInt(`0x${t.threshold}`);
      if (Number.isInteger(t.difficulty)) expect(value).toBe(1n << BigInt(64 - t.difficulty));
      // Flooring at each step loses at most a few parts in 2^64; the final shift, less than one unit.
      const ideal = 2 ** (64 - t.steps / 65536);
      expect(Math.abs(Number(value) - ideal)).toBeLessThan(1 + ideal * 1e-12);
    }
  });

  it('docs/PROTOCOL.md shows exactly these vectors', () => {
    const doc = readFileSync(path.join(__dirname, '..', 'docs', 'PROTOCOL.md'), 'utf8');
    const block = /<!-- vectors -->\n```json\n([\s\S]*?)\n```/.exec(doc);
    expect(block, 'a ```json block after <!-- vectors -->').not.toBeNull();
    expect(JSON.parse(block![1]!)).toEqual(vectors);
  });
});
