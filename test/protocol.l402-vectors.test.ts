// The L402 vectors of docs/PROTOCOL.md, "L402" (test/vectors/l402-v1.json): the implementation
// must reproduce them, and each value is rebuilt here by hand from the documented layout, with
// node:crypto, not with powgate's macaroon code. POWGATE_WRITE_VECTORS=1 regenerates the file.
import { createHash, createHmac } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { Gate } from '../src/gate/gate.js';
import { KeyRing } from '../src/protocol/keys.js';
import { derivedKidOf, subkeyOf } from './helpers/key-derivation.js';
import { signL402, verifyL402, type L402Terms } from '../src/protocol/l402.js';
import { addFirstPartyCaveat, macaroonFromBase64, macaroonToBase64, mintMacaroon, type Macaroon } from '../src/protocol/macaroon.js';
import { verifyToken } from '../src/protocol/token.js';

const FILE = path.join(__dirname, 'vectors', 'l402-v1.json');
const SECRET = 'powgate L402 v1 test vector secret (not for use)';
const ISSUED_AT = 1_780_000_000_000;
/** When the vectors are verified: one second after they were minted. */
const NOW = ISSUED_AT + 1000;
const SKEW_MS = 5000;

/** 32 bytes counting up from `first`. */
const run32 = (first: number) => Buffer.from(Array.from({ length: 32 }, (_, i) => first + i));

const LIGHTNING = {
  preimage: run32(0x00),
  tokenId: run32(0x20),
  terms: { scope: 'tool:search', calls: 4, satsPerCall: 3, expiresAt: ISSUED_AT + 3_600_000 },
};
const POW = {
  // What Aperture's dialect puts in place of an invoice's hash: random bytes, fixed here.
  paymentHash: run32(0x40),
  tokenId: run32(0x60),
  terms: { scope: 'tool:search', calls: 4, powBits: 10, expiresAt: ISSUED_AT + 420_000 },
};

// ---------------------------------------------------------------- the documented rules, by hand

const hmac = (key: string | Buffer, ...parts: (string | Buffer)[]) => {
  const h = createHmac('sha256', key);
  for (const part of parts) h.update(part);
  return h.digest();
};
const sha256 = (...parts: Buffer[]) => {
  const h = createHash('sha256');
  for (const part of parts) h.update(part);
  return h.digest();
};
const l402KeyOf = (secret: string) => subkeyOf(secret, 'l402');
const identifierOf = (paymentHash: Buffer, tokenId: Buffer) => Buffer.concat([Buffer.from([0, 0]), paymentHash, tokenId]);
const rootKeyOf = (l402Key: Buffer, mode: 'lightning' | 'pow', identifier: Buffer) => hmac(l402Key, Buffer.from(`powgate/l402/root/v1\0${mode}\0`, 'ascii'), identifier);
/** sig0 = HMAC(HMAC("macaroons-key-generator", rootKey), identifier); sig_i = HMAC(sig_{i-1}, caveat_i): every link. */
const chainOf = (rootKey: Buffer, identifier: Buffer, caveats: readonly string[]) => {
  const links = [hmac(hmac('macaroons-key-generator', rootKey), identifier)];
  for (const caveat of caveats) links.push(hmac(links.at(-1)!, Buffer.from(caveat, 'utf8')));
  return links;
};
/** V2 binary: 0x02, location field, identifier field, EOS, caveat fields each with EOS, EOS, signature field. One-byte lengths here. */
const v2Of = (location: string, identifier: Buffer, caveats: readonly string[], signature: Buffer) => {
  const field = (type: number, data: Buffer) => {
    expect(data.length).toBeLessThan(0x80);
    return Buffer.concat([Buffer.of(type, data.length), data]);
  };
  return Buffer.concat([
    Buffer.of(2),
    field(1, Buffer.from(location, 'utf8')),
    field(2, identifier),
    Buffer.of(0),
    ...caveats.map((c) => Buffer.concat([field(2, Buffer.from(c, 'utf8')), Buffer.of(0)])),
    Buffer.of(0),
    field(6, signature),
  ]);
};
const countIdOf = (mode: 'lightning' | 'pow', id: Buffer) =>
  sha256(Buffer.from(`powgate/l402/count/v1\0${mode}\0`, 'ascii'), id)
    .subarray(0, 16)
    .toString('base64url');
const leadingZeroBits = (digest: Buffer, bits: number) => BigInt(`0x${digest.toString('hex')}`) >> BigInt(256 - bits) === 0n;

/** The smallest u64 nonce whose SHA-256(token id | nonce) has `bits` leading zero bits. */
function smallestNonce(tokenId: Buffer, bits: number): Buffer {
  const nonce = Buffer.alloc(8);
  for (let n = 0n; ; n++) {
    nonce.writeBigUInt64BE(n);
    if (leadingZeroBits(sha256(tokenId, nonce), bits)) return nonce;
  }
}

/** A Lightning macaroon dressed as Aperture's proof of work by its holder: a bits caveat and a pow caveat that holds, appended. */
function asPow(mac: Macaroon, tokenId: Buffer): Macaroon {
  return addFirstPartyCaveat(addFirstPartyCaveat(mac, 'powgate_pow_bits=1'), `pow=1:${smallestNonce(tokenId, 1).toString('hex')}`);
}

// ---------------------------------------------------------------- the vectors, from the implementation

function generate() {
  const key = KeyRing.from({ secret: SECRET }).signing;
  const hex = (b: Buffer) => b.toString('hex');

  // Lightning: the macaroon a 402 offers beside an invoice whose preimage is known.
  const paymentHash = sha256(LIGHTNING.preimage);
  const lightningTerms: L402Terms = { mode: 'lightning', paymentHash, ...LIGHTNING.terms };
  const minted = signL402(key, lightningTerms, paymentHash, LIGHTNING.tokenId);
  const mac = macaroonFromBase64(minted.macaroon)!;
  const lnRoot = rootKeyOf(key.l402, 'lightning', mac.identifier);
  const lnCaveats = mac.caveats.map((c) => c.toString('utf8'));
  const credential = `${minted.macaroon}:${hex(LIGHTNING.preimage)}`;
  const verdict = verifyL402(credential, { secret: SECRET, now: NOW });
  if (!verdict.valid) throw new Error(`the vector credential does not verify: ${verdict.reason}`);
  // The token Gate.redeemL402 issues for it at NOW.
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW);
  let redeemed;
  try {
    redeemed = new Gate({ secret: SECRET }).redeemL402(credential);
  } finally {
    vi.useRealTimers();
  }
  if (!redeemed.ok) throw new Error(`the vector credential did not redeem: ${redeemed.reason}`);

  // Aperture's proof of work: the macaroon a 402 offers with pow="10", then the smallest nonce and its caveat.
  const powTerms: L402Terms = { mode: 'pow', ...POW.terms };
  const offered = signL402(key, powTerms, POW.paymentHash, POW.tokenId);
  const powMac = macaroonFromBase64(offered.macaroon)!;
  const powRoot = rootKeyOf(key.l402, 'pow', powMac.identifier);
  const powCaveats = powMac.caveats.map((c) => c.toString('utf8'));
  const nonce = smallestNonce(POW.tokenId, POW.terms.powBits);
  const powCaveat = `pow=${POW.terms.powBits}:${hex(nonce)}`;
  const attenuated = addFirstPartyCaveat(powMac, powCaveat);
  const powCredential = `${macaroonToBase64(attenuated)}:POW`;
  const chainHex = (root: Buffer, identifier: Buffer, caveats: string[]) =>
    caveats.reduce(
      (links, _, i) => [...links, hex(mintMacaroon(root, identifier, { caveats: caveats.slice(0, i + 1) }).signature)],
      [hex(mintMacaroon(root, identifier).signature)],
    );

  return {
    secret: SECRET,
    now: NOW,
    skewMs: SKEW_MS,
    keys: { kid: key.kid, l402Key: hex(key.l402) },
    lightning: {
      terms: LIGHTNING.terms,
      preimage: hex(LIGHTNING.preimage),
      paymentHash: minted.paymentHash,
      tokenId: minted.tokenId,
      identifier: hex(mac.identifier),
      rootKey: hex(lnRoot),
      location: mac.location,
      caveats: lnCaveats,
      chain: chainHex(lnRoot, mac.identifier, lnCaveats),
      macaroon: minted.macaroon,
      credential,
      countId: verdict.countId,
      verdict,
      refusals: [
        { credential: `${minted.macaroon}:${'00'.repeat(32)}`, now: NOW, reason: 'bad_preimage' },
        // Presented as proof of work: no pow caveat; with one appended (and its bits), the mode-bound root key differs.
        { credential: `${minted.macaroon}:POW`, now: NOW, reason: 'bad_solution' },
        { credential: `${macaroonToBase64(asPow(mac, LIGHTNING.tokenId))}:POW`, now: NOW, reason: 'bad_signature' },
        { credential, now: Math.floor(LIGHTNING.terms.expiresAt / 1000) * 1000 + SKEW_MS + 1, reason: 'expired' },
      ].map((r) => ({ ...r, verdict: verifyL402(r.credential, { secret: SECRET, now: r.now }) })),
      token: { string: redeemed.token, payload: hex(Buffer.from(redeemed.token.split('.')[1]!, 'base64url')) },
    },
    pow: {
      terms: POW.terms,
      paymentHash: offered.paymentHash,
      tokenId: offered.tokenId,
      identifier: hex(powMac.identifier),
      rootKey: hex(powRoot),
      location: powMac.location,
      caveats: powCaveats,
      chain: chainHex(powRoot, powMac.identifier, powCaveats),
      macaroon: offered.macaroon,
      nonce: hex(nonce),
      digest: hex(sha256(POW.tokenId, nonce)),
      powCaveat,
      attenuatedSignature: hex(attenuated.signature),
      credential: powCredential,
      verdict: verifyL402(powCredential, { secret: SECRET, now: NOW }),
    },
  };
}

type Vectors = ReturnType<typeof generate>;

if (process.env.POWGATE_WRITE_VECTORS === '1') writeFileSync(FILE, `${JSON.stringify(generate(), null, 2)}\n`);
const vectors = JSON.parse(readFileSync(FILE, 'utf8')) as Vectors;
const ln = vectors.lightning;
const pw = vectors.pow;

const u8 = (n: number) => Buffer.of(n);
const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const u64 = (n: number) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
};

describe('L402 v1 vectors', () => {
  it('the implementation reproduces every vector', () => {
    expect(generate()).toEqual(vectors);
  });

  it('the l402 subkey is HMAC-SHA256(scrypt stretch of the secret, "powgate/v2/l402"), and the key id is the usual one', () => {
    expect(vectors.keys.l402Key).toBe(l402KeyOf(SECRET).toString('hex'));
    expect(vectors.keys.kid).toBe(derivedKidOf(SECRET));
  });

  it('the identifier is u16 version 0 | payment hash | token id, and the payment hash is SHA-256(preimage)', () => {
    expect(ln.paymentHash).toBe(sha256(Buffer.from(ln.preimage, 'hex')).toString('hex'));
    expect(ln.identifier).toBe(identifierOf(Buffer.from(ln.paymentHash, 'hex'), Buffer.from(ln.tokenId, 'hex')).toString('hex'));
    expect(pw.identifier).toBe(identifierOf(Buffer.from(pw.paymentHash, 'hex'), Buffer.from(pw.tokenId, 'hex')).toString('hex'));
  });

  it('the root key is HMAC-SHA256(l402Key, "powgate/l402/root/v1" 0x00 mode 0x00 | identifier)', () => {
    const key = Buffer.from(vectors.keys.l402Key, 'hex');
    expect(ln.rootKey).toBe(rootKeyOf(key, 'lightning', Buffer.from(ln.identifier, 'hex')).toString('hex'));
    expect(pw.rootKey).toBe(rootKeyOf(key, 'pow', Buffer.from(pw.identifier, 'hex')).toString('hex'));
    // The mode is bound: the same identifier under the other mode has another root key.
    expect(rootKeyOf(key, 'pow', Buffer.from(ln.identifier, 'hex')).toString('hex')).not.toBe(ln.rootKey);
  });

  it('the caveats are the documented five, in order', () => {
    const t = ln.terms;
    const validUntil = Math.floor(t.expiresAt / 1000);
    const kid = vectors.keys.kid;
    expect(ln.caveats).toEqual([
      `powgate_kid=${kid}`,
      `powgate_scope=${t.scope}`,
      `powgate_calls=${t.calls}`,
      `powgate_valid_until=${validUntil}`,
      `powgate_sats_per_call=${t.satsPerCall}`,
    ]);
    const p = pw.terms;
    expect(pw.caveats).toEqual([
      `powgate_kid=${kid}`,
      `powgate_scope=${p.scope}`,
      `powgate_calls=${p.calls}`,
      `powgate_valid_until=${Math.floor(p.expiresAt / 1000)}`,
      `powgate_pow_bits=${p.powBits}`,
    ]);
  });

  it('the signature is the go-macaroon chain, and the macaroon its V2 binary encoding in padded base64', () => {
    for (const v of [ln, pw]) {
      const identifier = Buffer.from(v.identifier, 'hex');
      const links = chainOf(Buffer.from(v.rootKey, 'hex'), identifier, v.caveats);
      expect(links.map((l) => l.toString('hex'))).toEqual(v.chain);
      expect(v.location).toBe('powgate');
      const binary = v2Of(v.location, identifier, v.caveats, links.at(-1)!);
      expect(v.macaroon).toBe(binary.toString('base64'));
      expect(v.macaroon.length % 4).toBe(0);
    }
  });

  it('the count id is the first 16 bytes of SHA-256("powgate/l402/count/v1" 0x00 mode 0x00 | id), base64url', () => {
    // Lightning: the payment hash (one invoice, one allowance); pow: the token id.
    expect(ln.countId).toBe(countIdOf('lightning', Buffer.from(ln.paymentHash, 'hex')));
    expect(pw.verdict).toMatchObject({ countId: countIdOf('pow', Buffer.from(pw.tokenId, 'hex')) });
  });

  it('verifyL402 accepts the vector credential at `now`, with the signed terms, and refuses the documented ones', () => {
    const verdict = verifyL402(ln.credential, { secret: SECRET, now: vectors.now });
    expect(verdict).toEqual(ln.verdict);
    expect(verdict).toEqual({
      valid: true,
      mode: 'lightning',
      kid: vectors.keys.kid,
      scope: ln.terms.scope,
      calls: ln.terms.calls,
      expiresAt: Math.floor(ln.terms.expiresAt / 1000) * 1000,
      countUntil: Math.floor(ln.terms.expiresAt / 1000) * 1000,
      canonical: true,
      price: ln.terms.satsPerCall,
      paymentHash: ln.paymentHash,
      tokenId: ln.tokenId,
      countId: ln.countId,
    });
    // The scheme is read as in an Authorization header, LSAT too; the preimage as hex or base64.
    // Not the minted text (a gate does not remember it), but the same grant.
    expect(verifyL402(`${ln.macaroon}:${Buffer.from(ln.preimage, 'hex').toString('base64')}`, { secret: SECRET, now: vectors.now })).toEqual({ ...ln.verdict, canonical: false });
    for (const r of ln.refusals) {
      expect(r.verdict).toEqual({ valid: false, reason: r.reason });
      expect(verifyL402(r.credential, { secret: SECRET, now: r.now })).toEqual(r.verdict);
    }
  });

  it("Aperture's proof of work: SHA-256(token id | u64 nonce) has the bits, and the credential verifies at `now`", () => {
    const tokenId = Buffer.from(pw.tokenId, 'hex');
    const digest = sha256(tokenId, Buffer.from(pw.nonce, 'hex'));
    expect(digest.toString('hex')).toBe(pw.digest);
    expect(leadingZeroBits(digest, pw.terms.powBits)).toBe(true);
    expect(pw.powCaveat).toBe(`pow=${pw.terms.powBits}:${pw.nonce}`);
    // The holder appends the caveat through the chain; the credential's payment part is the sentinel POW.
    const signature = hmac(Buffer.from(pw.chain.at(-1)!, 'hex'), Buffer.from(pw.powCaveat, 'utf8'));
    expect(signature.toString('hex')).toBe(pw.attenuatedSignature);
    const binary = v2Of('powgate', Buffer.from(pw.identifier, 'hex'), [...pw.caveats, pw.powCaveat], signature);
    expect(pw.credential).toBe(`${binary.toString('base64')}:POW`);
    expect(verifyL402(pw.credential, { secret: SECRET, now: vectors.now })).toEqual({
      valid: true,
      mode: 'pow',
      kid: vectors.keys.kid,
      scope: pw.terms.scope,
      calls: pw.terms.calls,
      expiresAt: Math.floor(pw.terms.expiresAt / 1000) * 1000,
      countUntil: Math.floor(pw.terms.expiresAt / 1000) * 1000,
      canonical: true,
      // Bits proven per call: the bundle's bits less log2(calls).
      price: pw.terms.powBits - Math.log2(pw.terms.calls),
      paymentHash: pw.paymentHash,
      tokenId: pw.tokenId,
      countId: countIdOf('pow', tokenId),
    });
  });

  it("the redeemed token is method 'l402': price in whole sats, token id the count id's 16 bytes", () => {
    const kid = Buffer.from(vectors.keys.kid, 'ascii');
    const scope = Buffer.from(ln.terms.scope, 'ascii');
    const expiresAt = Math.floor(ln.terms.expiresAt / 1000) * 1000;
    const payload = Buffer.concat([
      u8(2),
      u8(kid.length),
      kid,
      u8(4),
      Buffer.from('l402', 'ascii'),
      u16(scope.length),
      scope,
      u64(vectors.now),
      u64(expiresAt),
      Buffer.from(ln.countId, 'base64url'),
      u32(ln.terms.calls),
      u32(ln.terms.satsPerCall),
    ]);
    expect(payload.toString('hex')).toBe(ln.token.payload);
    const tokenKey = subkeyOf(SECRET, 'token');
    const mac = hmac(tokenKey, 'powgate/token/v2\0', payload).toString('base64url');
    expect(ln.token.string).toBe(`pgt2.${payload.toString('base64url')}.${mac}`);
    expect(verifyToken(ln.token.string, { secret: SECRET, now: vectors.now })).toEqual({
      valid: true,
      method: 'l402',
      issuedAt: vectors.now,
      expiresAt,
      scope: ln.terms.scope,
      kid: vectors.keys.kid,
      id: ln.countId,
      calls: ln.terms.calls,
      price: ln.terms.satsPerCall,
    });
  });

  it('the credential and its token spend one allowance at a gate', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(vectors.now);
    try {
      // A Lightning door (its node is never asked here): without one, a gate sells nothing for sats.
      const node = { kind: 'unused', createInvoice: () => Promise.reject(new Error('unused')), lookupInvoice: () => Promise.reject(new Error('unused')) };
      const gate = new Gate({ secret: SECRET, scopes: { [ln.terms.scope]: undefined }, lightning: { backend: node, satsPerCall: ln.terms.satsPerCall } });
      const scope = ln.terms.scope;
      expect(await gate.useL402(ln.credential, { scope })).toMatchObject({ ok: true, grant: { method: 'l402', used: 1 } });
      expect(await gate.useToken(ln.token.string, { scope })).toMatchObject({ ok: true, grant: { method: 'l402', used: 2 } });
      expect(await gate.useL402(ln.credential, { scope })).toMatchObject({ ok: true, grant: { used: 3 } });
      expect(await gate.useToken(ln.token.string, { scope })).toMatchObject({ ok: true, grant: { used: 4 } });
      expect(await gate.useL402(ln.credential, { scope })).toEqual({ ok: false, reason: 'token_exhausted' });
      expect(await gate.useToken(ln.token.string, { scope })).toEqual({ ok: false, reason: 'token_exhausted' });
      await gate.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it('docs/PROTOCOL.md names this file', () => {
    const doc = readFileSync(path.join(__dirname, '..', 'docs', 'PROTOCOL.md'), 'utf8');
    expect(doc).toContain('test/vectors/l402-v1.json');
  });
});
