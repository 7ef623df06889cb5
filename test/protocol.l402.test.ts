// L402 credentials as an attacker would present them: every byte flipped, caveats added,
// removed and appended through the chain (attenuation), other hashes, preimages and modes.
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CAVEATS, mintL402, verifyL402, type L402Terms } from '../src/protocol/l402.js';
import { addFirstPartyCaveat, encodeMacaroon, macaroonFromBase64, macaroonToBase64, mintMacaroon } from '../src/protocol/macaroon.js';
import { NOW, OTHER_SECRET, SECRET } from './helpers/protocol.js';
import { SEED, rng } from './helpers/random.js';

const preimage = Buffer.alloc(32, 7);
const paymentHash = createHash('sha256').update(preimage).digest();
const terms: L402Terms = { mode: 'lightning', paymentHash, scope: 'tool:search', calls: 10, expiresAt: NOW + 3_600_000, satsPerCall: 3 };
const opts = { secret: SECRET, now: NOW };

function mint(t: Partial<L402Terms> = {}) {
  return mintL402({ secret: SECRET }, { ...terms, ...t });
}

/** Appends caveats through the chain, as any holder of a macaroon can. */
function attenuate(macaroon: string, ...caveats: string[]): string {
  let m = macaroonFromBase64(macaroon)!;
  for (const c of caveats) m = addFirstPartyCaveat(m, c);
  return macaroonToBase64(m);
}

/** Aperture's client: the smallest 8-byte big-endian nonce with `bits` leading zero bits of SHA-256(token id || nonce). */
function solveAperture(tokenIdHex: string, bits: number): string {
  const tokenId = Buffer.from(tokenIdHex, 'hex');
  const nonce = Buffer.alloc(8);
  for (let n = 0n; ; n++) {
    nonce.writeBigUInt64BE(n);
    const d = createHash('sha256').update(tokenId).update(nonce).digest();
    if (BigInt(`0x${d.toString('hex')}`) >> BigInt(256 - bits) === 0n) return nonce.toString('hex');
  }
}

describe('L402 credentials (lightning)', () => {
  it('a paid macaroon verifies, with the terms it was minted with', () => {
    const { macaroon, paymentHash: hash } = mint();
    const verdict = verifyL402(`${macaroon}:${preimage.toString('hex')}`, opts);
    expect(verdict).toMatchObject({ valid: true, mode: 'lightning', scope: 'tool:search', calls: 10, price: 3, paymentHash: hash });
    expect(verdict.valid && verdict.expiresAt).toBe(Math.floor((NOW + 3_600_000) / 1000) * 1000);
    // The older LSAT text sent the preimage as base64.
    expect(verifyL402(`${macaroon}:${preimage.toString('base64')}`, opts).valid).toBe(true);
    expect(verifyL402(`${macaroon}:${preimage.toString('hex').toUpperCase()}`, opts).valid).toBe(true);
  });

  it('counts one allowance per payment hash, whatever the macaroon', () => {
    const a = verifyL402(`${mint().macaroon}:${preimage.toString('hex')}`, opts);
    const b = verifyL402(`${mint().macaroon}:${preimage.toString('hex')}`, opts);
    expect(a.valid && b.valid && a.tokenId !== b.tokenId && a.countId === b.countId).toBe(true);
  });

  it('refuses an unpaid or wrong preimage, and another payment hash', () => {
    const { macaroon } = mint();
    expect(verifyL402(`${macaroon}:${randomBytes(32).toString('hex')}`, opts)).toEqual({ valid: false, reason: 'bad_preimage' });
    const other = mint({ paymentHash: randomBytes(32) }).macaroon;
    expect(verifyL402(`${other}:${preimage.toString('hex')}`, opts)).toEqual({ valid: false, reason: 'bad_preimage' });
  });

  it('refuses every flipped bit of the macaroon but its location', () => {
    const { macaroon } = mint();
    const bytes = Buffer.from(macaroon, 'base64');
    // V2: version, then the location field (type, length, 'powgate'): a hint under no MAC, by the macaroon design.
    expect(bytes.subarray(0, 10)).toEqual(Buffer.from('\x02\x01\x07powgate', 'latin1'));
    let valid = 0;
    const reasons = new Set<string>();
    for (let i = 0; i < bytes.length; i++) {
      if (i >= 3 && i < 10) continue;
      for (let bit = 0; bit < 8; bit++) {
        const copy = Buffer.from(bytes);
        copy[i]! ^= 1 << bit;
        const verdict = verifyL402(`${copy.toString('base64')}:${preimage.toString('hex')}`, opts);
        if (verdict.valid) valid++;
        else reasons.add(verdict.reason);
      }
    }
    expect(valid).toBe(0);
    expect([...reasons].every((r) => ['malformed', 'bad_signature', 'unknown_key', 'bad_preimage'].includes(r))).toBe(true);
  });

  it('refuses caveats added or removed without the chain, and reordered', () => {
    const m = macaroonFromBase64(mint().macaroon)!;
    const present = (caveats: readonly Buffer[]) => verifyL402(`${macaroonToBase64({ ...m, caveats })}:${preimage.toString('hex')}`, opts);
    expect(present([...m.caveats, Buffer.from(`${CAVEATS.calls}=1`)])).toEqual({ valid: false, reason: 'bad_signature' });
    expect(present(m.caveats.slice(0, -1))).toEqual({ valid: false, reason: 'bad_signature' });
    expect(present([m.caveats[0]!, ...m.caveats.slice(1).reverse()])).toEqual({ valid: false, reason: 'bad_signature' });
    // The identifier is bound too.
    const id = Buffer.from(m.identifier);
    id[40]! ^= 1;
    expect(verifyL402(`${macaroonToBase64({ ...m, identifier: id })}:${preimage.toString('hex')}`, opts)).toEqual({ valid: false, reason: 'bad_signature' });
  });

  it('lets a holder narrow through the chain, never widen', () => {
    const { macaroon } = mint();
    const pay = (m: string) => verifyL402(`${m}:${preimage.toString('hex')}`, opts);
    expect(pay(attenuate(macaroon, `${CAVEATS.calls}=2`))).toMatchObject({ valid: true, calls: 2 });
    expect(pay(attenuate(macaroon, `${CAVEATS.calls}=1000`))).toMatchObject({ valid: true, calls: 10 });
    expect(pay(attenuate(macaroon, `${CAVEATS.satsPerCall}=1000`))).toMatchObject({ valid: true, price: 3 });
    expect(pay(attenuate(macaroon, `${CAVEATS.validUntil}=${NOW / 1000 + 1e9}`))).toMatchObject({ valid: true, expiresAt: Math.floor((NOW + 3_600_000) / 1000) * 1000 });
    expect(pay(attenuate(macaroon, `${CAVEATS.validUntil}=${NOW / 1000 - 60}`))).toEqual({ valid: false, reason: 'expired' });
    expect(pay(attenuate(macaroon, `${CAVEATS.scope}=tool:other`))).toEqual({ valid: false, reason: 'scope_mismatch' });
    expect(pay(attenuate(macaroon, `${CAVEATS.kid}=other`))).toMatchObject({ valid: true });
    // Unknown caveats are skipped (macaroon-spec), as are Aperture's own.
    expect(pay(attenuate(macaroon, 'loop_out_monthly_volume_sats=1', 'no equals sign'))).toMatchObject({ valid: true });
    // Non-decimal values of a known caveat are refused, not read leniently.
    expect(pay(attenuate(macaroon, `${CAVEATS.calls}=0x10`))).toEqual({ valid: false, reason: 'malformed' });
    expect(pay(attenuate(macaroon, `${CAVEATS.calls}=0`))).toEqual({ valid: false, reason: 'token_exhausted' });
  });

  it('cannot be turned into a proof-of-work credential by appending caveats', () => {
    const { macaroon, tokenId } = mint();
    const forged = attenuate(macaroon, `${CAVEATS.powBits}=1`, `pow=1:${solveAperture(tokenId, 1)}`);
    expect(verifyL402(`${forged}:POW`, opts)).toEqual({ valid: false, reason: 'bad_signature' });
  });

  it('refuses expired, other scopes, other keys, and keeps working across a key rotation', () => {
    const { macaroon } = mint();
    const cred = `${macaroon}:${preimage.toString('hex')}`;
    expect(verifyL402(cred, { ...opts, now: NOW + 3_600_000 + 6_000 })).toEqual({ valid: false, reason: 'expired' });
    expect(verifyL402(cred, { ...opts, now: NOW + 3_600_000 + 4_000 }).valid).toBe(true);
    expect(verifyL402(cred, { ...opts, scope: 'tool:other' })).toEqual({ valid: false, reason: 'scope_mismatch' });
    expect(verifyL402(cred, { secret: OTHER_SECRET, now: NOW })).toEqual({ valid: false, reason: 'unknown_key' });
    const rotated = {
      keys: [
        { kid: 'new', secret: OTHER_SECRET },
        { kid: 'old', secret: SECRET },
      ],
    };
    const old = mintL402({ keys: [{ kid: 'old', secret: SECRET }] }, terms).macaroon;
    expect(verifyL402(`${old}:${preimage.toString('hex')}`, { ...rotated, now: NOW }).valid).toBe(true);
  });

  it('refuses what is not a credential without throwing', () => {
    const { macaroon } = mint();
    const hostile: unknown[] = [
      undefined,
      null,
      42,
      {},
      '',
      ':',
      'abc',
      `${macaroon}`,
      `${macaroon}:`,
      `${macaroon}:xyz`,
      `${macaroon}:${'a'.repeat(63)}`,
      `${macaroon},${macaroon}:${preimage.toString('hex')}`,
      `:${preimage.toString('hex')}`,
      `${'A'.repeat(10_000)}:${preimage.toString('hex')}`,
      `${macaroonToBase64(mintMacaroon(randomBytes(32), randomBytes(66)))}:${preimage.toString('hex')}`,
      `${macaroonToBase64(mintMacaroon(randomBytes(32), Buffer.concat([Buffer.from([0, 1]), randomBytes(64)]), { caveats: ['powgate_kid=x'] }))}:${preimage.toString('hex')}`,
    ];
    for (const value of hostile) {
      const verdict = verifyL402(value, opts);
      expect(verdict.valid, String(value).slice(0, 40)).toBe(false);
    }
    expect(encodeMacaroon(macaroonFromBase64(macaroon)!).toString('base64')).toBe(macaroon);
  });
});

describe('L402 credentials, mutated at random', () => {
  it(`never throw, and never grant anything the original did not (seed ${SEED})`, () => {
    const random = rng(SEED);
    const { macaroon } = mint();
    const original = `${macaroon}:${preimage.toString('hex')}`;
    const expected = verifyL402(original, opts);
    const alphabet = 'AZaz09+/=:,-_ POWpow\u00e9\u0000';
    for (let i = 0; i < 3000; i++) {
      let text = original;
      for (let edits = 1 + Math.floor(random() * 3); edits > 0; edits--) {
        const at = Math.floor(random() * (text.length + 1));
        const c = alphabet[Math.floor(random() * alphabet.length)]!;
        const kind = random();
        text = kind < 0.4 ? text.slice(0, at) + c + text.slice(at + 1) : kind < 0.7 ? text.slice(0, at) + c + text.slice(at) : text.slice(0, at) + text.slice(at + 1);
      }
      const verdict = verifyL402(text, opts);
      // A variant may verify (an unsigned location, another encoding): then it grants exactly the same.
      if (verdict.valid) expect({ ...verdict, canonical: true }, text).toEqual(expected);
    }
  });
});

describe("Aperture's proof-of-work dialect", () => {
  const powTerms: L402Terms = { mode: 'pow', scope: 'tool:search', calls: 4, expiresAt: NOW + 600_000, powBits: 10 };

  it('accepts the pow caveat a client appends, and refuses too few bits or a wrong nonce', () => {
    const { macaroon, tokenId } = mintL402({ secret: SECRET }, powTerms);
    const nonce = solveAperture(tokenId, 10);
    expect(verifyL402(`${attenuate(macaroon, `pow=10:${nonce}`)}:POW`, opts)).toMatchObject({ valid: true, mode: 'pow', calls: 4, price: 8 });
    // Aperture's rule: the caveat's difficulty must be at least the required one, and hold.
    expect(verifyL402(`${attenuate(macaroon, `pow=9:${solveAperture(tokenId, 9)}`)}:POW`, opts).valid).toBe(false);
    const wrong = (BigInt(`0x${nonce}`) + 1n).toString(16).padStart(16, '0');
    const bad = verifyL402(`${attenuate(macaroon, `pow=10:${wrong}`)}:POW`, opts);
    // One nonce in about a thousand happens to solve 10 bits: check the verdict against the hash itself.
    const digest = createHash('sha256').update(Buffer.from(tokenId, 'hex')).update(Buffer.from(wrong, 'hex')).digest();
    expect(bad.valid).toBe(digest[0] === 0 && digest[1]! < 64);
    expect(verifyL402(`${macaroon}:POW`, opts)).toEqual({ valid: false, reason: 'bad_solution' });
    // Every pow caveat present must hold: a bad one appended spoils the credential.
    expect(verifyL402(`${attenuate(macaroon, `pow=10:${nonce}`, 'pow=10:0000000000000000')}:POW`, opts).valid).toBe(false);
    expect(verifyL402(`${attenuate(macaroon, `pow=10:${nonce}`, `${CAVEATS.powBits}=1`)}:POW`, opts).valid).toBe(true);
    expect(verifyL402(`${attenuate(macaroon, `pow=10:${nonce}`, `${CAVEATS.powBits}=30`)}:POW`, opts).valid).toBe(false);
  });

  it('is not a Lightning credential', () => {
    const { macaroon, tokenId } = mintL402({ secret: SECRET }, powTerms);
    const solved = attenuate(macaroon, `pow=10:${solveAperture(tokenId, 10)}`);
    expect(verifyL402(`${solved}:${preimage.toString('hex')}`, opts)).toEqual({ valid: false, reason: 'bad_preimage' });
    // Even with the preimage of its (random) payment hash, the root key differs by mode.
    const m = macaroonFromBase64(solved)!;
    const pre = randomBytes(32);
    const id = Buffer.from(m.identifier);
    createHash('sha256').update(pre).digest().copy(id, 2);
    expect(verifyL402(`${macaroonToBase64({ ...m, identifier: id })}:${pre.toString('hex')}`, opts)).toEqual({ valid: false, reason: 'bad_signature' });
  });
});
