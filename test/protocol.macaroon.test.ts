// The macaroon codec against js-macaroon (an implementation this project did not write) and public vectors;
// then every way an untrusted macaroon can be damaged.
import { createHmac } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  MAX_CAVEATS,
  MAX_MACAROON_BYTES,
  addFirstPartyCaveat,
  decodeMacaroon,
  encodeMacaroon,
  macaroonFromBase64,
  macaroonSignatureValid,
  macaroonToBase64,
  mintMacaroon,
  type Macaroon,
} from '../src/protocol/macaroon.js';
import { expectCode } from './helpers/errors.js';
import { SEED, randomBytes, rng } from './helpers/random.js';

// js-macaroon ships no types: the few calls used here.
interface JsMacaroon {
  location: string | null;
  identifier: Uint8Array;
  signature: Uint8Array;
  caveats: { identifier: Uint8Array; vid?: Uint8Array }[];
  addFirstPartyCaveat(caveat: string | Uint8Array): void;
  verify(rootKey: Uint8Array, check: (condition: string) => string | null): void;
  exportBinary(): Uint8Array;
}
const js = createRequire(import.meta.url)('macaroon') as {
  newMacaroon(params: { rootKey: Uint8Array; identifier: Uint8Array; location: string; version: number }): JsMacaroon;
  importMacaroon(bytes: Uint8Array): JsMacaroon;
};

const next = rng(SEED);
const ROOT = Buffer.from(randomBytes(next, 32));
const OTHER_ROOT = Buffer.from(randomBytes(next, 32));
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const l402Identifier = Buffer.concat([Buffer.alloc(2), randomBytes(next, 32), randomBytes(next, 32)]);
const binary = Uint8Array.from([0, 0xff, 0xfe, 0x80, 0x0a, 0]);

const cases: { name: string; identifier: Uint8Array; location: string; caveats: (string | Uint8Array)[] }[] = [
  { name: 'no caveats', identifier: Buffer.from('id'), location: 'lsat', caveats: [] },
  { name: 'an L402 identifier', identifier: l402Identifier, location: 'lsat', caveats: ['services=api:0', 'api_valid_until=1900000000'] },
  { name: 'an empty location', identifier: l402Identifier, location: '', caveats: ['a=b'] },
  { name: 'binary caveats', identifier: randomBytes(next, 200), location: 'https://example.com/', caveats: [binary, 'x', new Uint8Array(0)] },
  { name: 'MAX_CAVEATS caveats', identifier: l402Identifier, location: 'lsat', caveats: Array.from({ length: MAX_CAVEATS }, (_, i) => `c${i}=${'v'.repeat(i)}`) },
];
const allText = (caveats: (string | Uint8Array)[]): boolean => caveats.every((c) => typeof c === 'string');

function jsMint(c: (typeof cases)[number], rootKey = ROOT): JsMacaroon {
  const m = js.newMacaroon({ rootKey, identifier: c.identifier, location: c.location, version: 2 });
  for (const caveat of c.caveats) m.addFirstPartyCaveat(caveat);
  return m;
}

function mint(caveats = 5): Macaroon {
  return mintMacaroon(ROOT, l402Identifier, { location: 'lsat', caveats: Array.from({ length: caveats }, (_, i) => `k${i}=v${i}`) });
}

describe('against js-macaroon', () => {
  it.each(cases)('mints the same signature, and js-macaroon reads and verifies ours: $name', (c) => {
    const ours = mintMacaroon(ROOT, c.identifier, { location: c.location, caveats: c.caveats });
    expect(hex(ours.signature)).toBe(hex(jsMint(c).signature));

    const theirs = js.importMacaroon(encodeMacaroon(ours));
    expect(theirs.location ?? '').toBe(c.location);
    expect(hex(theirs.identifier)).toBe(hex(c.identifier));
    expect(theirs.caveats.map((x) => hex(x.identifier))).toEqual(ours.caveats.map(hex));
    expect(hex(theirs.signature)).toBe(hex(ours.signature));
    // js-macaroon hands each condition to `check` as text, so it cannot verify binary caveats.
    if (allText(c.caveats)) {
      expect(() => theirs.verify(ROOT, () => null)).not.toThrow();
      expect(() => theirs.verify(OTHER_ROOT, () => null)).toThrow(/signature mismatch/);
    }
    expect(macaroonSignatureValid(ours, ROOT)).toBe(true);
    expect(macaroonSignatureValid(ours, OTHER_ROOT)).toBe(false);
  });

  it('encodes byte for byte as js-macaroon where its exportBinary still works (small macaroons only)', () => {
    for (const c of cases.slice(0, 3)) {
      const ours = mintMacaroon(ROOT, c.identifier, { location: c.location, caveats: c.caveats });
      expect(hex(encodeMacaroon(ours))).toBe(hex(jsMint(c).exportBinary()));
    }
  });

  it('attenuates as js-macaroon does, and both verify the result', () => {
    const ours = addFirstPartyCaveat(mint(2), 'pow=20:00000000000abcde');
    const theirs = js.importMacaroon(encodeMacaroon(mint(2)));
    theirs.addFirstPartyCaveat('pow=20:00000000000abcde');
    expect(hex(ours.signature)).toBe(hex(theirs.signature));
    expect(() => js.importMacaroon(encodeMacaroon(ours)).verify(ROOT, () => null)).not.toThrow();
    expect(macaroonSignatureValid(ours, ROOT)).toBe(true);
    expect(mint(2).caveats).toHaveLength(2);
  });

  it('derives the key as go-macaroon (key generator as the HMAC key, unpadded) and libmacaroons (padded) do', () => {
    const derive = (kg: Buffer): Buffer => createHmac('sha256', kg).update(ROOT).digest();
    const padded = Buffer.alloc(32);
    padded.write('macaroons-key-generator', 'latin1');
    const sig0 = createHmac('sha256', derive(padded)).update(l402Identifier).digest();
    expect(derive(padded)).toEqual(derive(Buffer.from('macaroons-key-generator')));
    expect(hex(mintMacaroon(ROOT, l402Identifier).signature)).toBe(hex(sig0));
  });
});

describe('public vectors', () => {
  // libmacaroons test/unit/caveat_v2_1.vtest and caveat_v2_4.vtest (rescrv/libmacaroons): key "this is the key", authorized.
  const KEY = Buffer.from('this is the key');
  const vectors = [
    { text: 'AgETaHR0cDovL2V4YW1wbGUub3JnLwIFa2V5aWQAAhRhY2NvdW50ID0gMzczNTkyODU1OQAABiD1SAf23G7fiL8PcwazgiVio2JTPb9zObphdl2kvSWdhw', caveats: ['account = 3735928559'] },
    {
      text: 'AgETaHR0cDovL2V4YW1wbGUub3JnLwIFa2V5aWQAAhRhY2NvdW50ID0gMzczNTkyODU1OQACDHVzZXIgPSBhbGljZQAABiBL6WfNHqDGsmuvakqU7psFsViG2guoXoxCqTyNDhJe_A',
      caveats: ['account = 3735928559', 'user = alice'],
    },
  ];
  it.each(vectors)('reads, verifies and re-mints libmacaroons V2 vector with $caveats.length caveat(s)', ({ text, caveats }) => {
    const m = macaroonFromBase64(text)!;
    expect(m.location).toBe('http://example.org/');
    expect(m.identifier.toString()).toBe('keyid');
    expect(m.caveats.map(String)).toEqual(caveats);
    expect(macaroonSignatureValid(m, KEY)).toBe(true);
    const again = mintMacaroon(KEY, Buffer.from('keyid'), { location: 'http://example.org/', caveats });
    expect(encodeMacaroon(again).toString('base64url')).toBe(text);
  });

  it("refuses go-macaroon's V2 vector, whose second caveat is third-party (go-macaroon marshal_test.go TestMarshalBinaryRoundTrip)", () => {
    const vid = Buffer.concat([Buffer.alloc(24), Buffer.from('d36ec502e05886d1f0279f055fa52554d16d16c1b14074bbb83ff0fdd79dc2fe098f0ed4a2b091130e6b5db46a20a86b', 'hex')]);
    const sig = Buffer.from('d27db2fd1f22760e4c3dae8137e2d8fc1df6c0741c18aed4b97256bf78d1f55c', 'hex');
    const data = Buffer.concat([
      Buffer.from('\x02\x01\x0ehttp://mybank/\x02\x1cwe used our other secret key\x00\x02\x14account = 3735928559\x00', 'latin1'),
      Buffer.from("\x01\x13http://auth.mybank/\x02'this was how we remind auth of key/pred\x04\x48", 'latin1'),
      vid,
      Buffer.from('\x00\x00\x06\x20', 'latin1'),
      sig,
    ]);
    expect(() => js.importMacaroon(data)).not.toThrow();
    expect(decodeMacaroon(data)).toBeUndefined();
  });
});

// Hand-built V2 bytes, for what encodeMacaroon refuses to write.
const varint = (n: number): number[] => {
  const out: number[] = [];
  for (; n >= 0x80; n >>>= 7) out.push((n & 0x7f) | 0x80);
  return [...out, n];
};
const packet = (type: number, data: Uint8Array | string): Buffer => {
  const d = Buffer.from(data);
  return Buffer.concat([Buffer.from([type, ...varint(d.length)]), d]);
};
const EOS = Buffer.from([0]);
function raw(parts: { location?: string; identifier?: Uint8Array; caveats?: Buffer[]; signature?: Uint8Array; extra?: Buffer[] } = {}): Buffer {
  return Buffer.concat([
    Buffer.from([2]),
    ...(parts.location ? [packet(1, parts.location)] : []),
    packet(2, parts.identifier ?? Buffer.from('id')),
    EOS,
    ...(parts.caveats ?? []).flatMap((c) => [packet(2, c), EOS]),
    EOS,
    packet(6, parts.signature ?? Buffer.alloc(32)),
    ...(parts.extra ?? []),
  ]);
}

describe('tampering', () => {
  const m = mint(5);
  const bytes = encodeMacaroon(m);

  it('round-trips, and every decoded macaroon re-encodes to its input', () => {
    expect(decodeMacaroon(bytes)).toEqual(m);
    expect(hex(encodeMacaroon(decodeMacaroon(raw())!))).toBe(hex(raw()));
  });

  // The location is an unsigned hint (as in every macaroon library): a flip there may decode with a valid chain.
  const sameSigned = (a: Macaroon, b: Macaroon): boolean =>
    a.identifier.equals(b.identifier) && a.signature.equals(b.signature) && a.caveats.length === b.caveats.length && a.caveats.every((c, i) => c.equals(b.caveats[i]!));

  it.each([
    ['with', m],
    ['without', { ...m, location: '' }],
  ])('never accepts a flipped bit %s a location: each is malformed, fails the chain or changes only the location', (_, base) => {
    const encoded = encodeMacaroon(base);
    let decoded = 0;
    for (let i = 0; i < encoded.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const b = Buffer.from(encoded);
        b[i]! ^= 1 << bit;
        const t = decodeMacaroon(b);
        if (!t) continue;
        decoded++;
        if (macaroonSignatureValid(t, ROOT)) {
          expect(sameSigned(t, base)).toBe(true);
          expect(t.location).not.toBe(base.location);
          expect(base.location).not.toBe('');
        }
      }
    }
    expect(decoded).toBeGreaterThan(encoded.length); // most payload flips decode, and then fail the chain
  });

  it('refuses removed, unchained, reordered caveats and a swapped identifier', () => {
    const invalid = (changes: Partial<Macaroon>): boolean => macaroonSignatureValid(decodeMacaroon(encodeMacaroon({ ...m, ...changes }))!, ROOT);
    expect(invalid({ caveats: m.caveats.slice(0, 4) })).toBe(false);
    expect(invalid({ caveats: m.caveats.slice(1) })).toBe(false);
    expect(invalid({ caveats: [...m.caveats, Buffer.from('k9=v9')] })).toBe(false);
    expect(invalid({ caveats: [m.caveats[1]!, m.caveats[0]!, ...m.caveats.slice(2)] })).toBe(false);
    expect(invalid({ identifier: Buffer.concat([Buffer.alloc(2), randomBytes(next, 64)]) })).toBe(false);
    expect(invalid({ location: 'elsewhere' })).toBe(true); // the location is an unsigned hint
  });

  it('refuses every truncation', () => {
    for (let n = 0; n < bytes.length; n++) expect(decodeMacaroon(bytes.subarray(0, n))).toBeUndefined();
  });

  it('refuses malformed framing', () => {
    const sig = Buffer.alloc(32);
    const bad: Buffer[] = [
      Buffer.concat([Buffer.from([1]), raw().subarray(1)]), // version 1 byte
      Buffer.concat([Buffer.from([3]), raw().subarray(1)]),
      Buffer.from([2, 2, 0x82, 0x00, 0x41, 0x41, 0]), // overlong identifier length
      Buffer.concat([Buffer.from([2, 0x82, 0x00, 2, 0x41, 0x41, 0, 0]), packet(6, sig)]), // overlong field type
      Buffer.concat([Buffer.from([2, 2, 0xff, 0xff, 0xff, 0xff, 0x07]), Buffer.alloc(64)]), // huge declared length
      Buffer.concat([Buffer.from([2, 2, 0x80, 0x80, 0x01]), Buffer.alloc(64)]), // three-byte length
      raw({ extra: [Buffer.from([0])] }), // trailing bytes
      Buffer.concat([raw(), raw()]), // two macaroons
      raw({ signature: Buffer.alloc(31) }),
      raw({ signature: Buffer.alloc(33) }),
      Buffer.concat([Buffer.from([2]), packet(2, 'id'), packet(1, 'loc'), EOS, EOS, packet(6, sig)]), // out of order
      Buffer.concat([Buffer.from([2]), packet(1, ''), packet(2, 'id'), EOS, EOS, packet(6, sig)]), // empty location (never encoded)
      Buffer.concat([Buffer.from([2]), packet(1, Buffer.from([0xff])), packet(2, 'id'), EOS, EOS, packet(6, sig)]), // location not UTF-8
      Buffer.concat([Buffer.from([2]), packet(2, 'id'), EOS, packet(2, 'c'), packet(4, Buffer.alloc(72)), EOS, EOS, packet(6, sig)]), // third party
      Buffer.concat([Buffer.from([2]), packet(2, 'id'), EOS, packet(1, 'there'), packet(2, 'c'), EOS, EOS, packet(6, sig)]), // caveat location
      Buffer.concat([Buffer.from([2]), packet(2, 'id'), EOS, packet(3, 'c'), EOS, EOS, packet(6, sig)]), // unknown field type
      Buffer.concat([Buffer.from([2]), packet(2, 'id'), packet(2, 'id'), EOS, EOS, packet(6, sig)]), // repeated field
      Buffer.concat([Buffer.from([2]), packet(2, 'id'), EOS, EOS, packet(5, sig)]),
      Buffer.concat([Buffer.from([2]), packet(2, 'id'), EOS, packet(6, sig)]), // no caveat terminator
      Buffer.concat([Buffer.from([2]), packet(1, 'loc'), EOS, EOS, packet(6, sig)]), // no identifier
    ];
    for (const b of bad) expect(decodeMacaroon(b), hex(b)).toBeUndefined();
    const empty = Buffer.concat([Buffer.from([2]), packet(2, ''), EOS, packet(2, ''), EOS, EOS, packet(6, sig)]);
    expect(decodeMacaroon(empty)).toBeDefined(); // an empty identifier or caveat is legal
  });

  it('refuses more than MAX_CAVEATS caveats and more than MAX_MACAROON_BYTES', () => {
    const caveats = (n: number): Buffer[] => Array.from({ length: n }, () => Buffer.from('c'));
    expect(decodeMacaroon(raw({ caveats: caveats(MAX_CAVEATS) }))?.caveats).toHaveLength(MAX_CAVEATS);
    expect(decodeMacaroon(raw({ caveats: caveats(MAX_CAVEATS + 1) }))).toBeUndefined();
    const fill = (size: number): Buffer => raw({ identifier: Buffer.alloc(size - raw({ identifier: Buffer.alloc(200) }).length + 200) });
    expect(fill(MAX_MACAROON_BYTES)).toHaveLength(MAX_MACAROON_BYTES);
    expect(decodeMacaroon(fill(MAX_MACAROON_BYTES))).toBeDefined();
    expect(decodeMacaroon(fill(MAX_MACAROON_BYTES + 1))).toBeUndefined();
    expect(macaroonFromBase64(fill(MAX_MACAROON_BYTES).toString('base64'))).toBeDefined();
    expect(macaroonFromBase64(fill(MAX_MACAROON_BYTES + 1).toString('base64'))).toBeUndefined();
    // What cannot be read back is never written.
    expectCode(() => mintMacaroon(ROOT, Buffer.alloc(1), { caveats: caveats(MAX_CAVEATS + 1) }), 'ERR_INVALID_ARGUMENT');
    expectCode(() => addFirstPartyCaveat(mintMacaroon(ROOT, Buffer.alloc(1), { caveats: caveats(MAX_CAVEATS) }), 'c'), 'ERR_INVALID_ARGUMENT');
    expectCode(() => encodeMacaroon(mintMacaroon(ROOT, Buffer.alloc(MAX_MACAROON_BYTES))), 'ERR_INVALID_ARGUMENT');
  });

  it(`never throws on random or mutated bytes (seed ${SEED})`, () => {
    for (let i = 0; i < 3000; i++) {
      const b = i % 2 ? Buffer.from(randomBytes(next, Math.floor(next() * 300))) : Buffer.from(bytes);
      if (i % 2 === 0) for (let k = 0; k < 1 + (i % 5); k++) b[Math.floor(next() * b.length)] = Math.floor(next() * 256);
      const t = decodeMacaroon(b);
      if (t) {
        expect(hex(encodeMacaroon(t))).toBe(hex(b));
        expect(macaroonSignatureValid(t, ROOT) && !sameSigned(t, m)).toBe(false);
      }
      expect(macaroonFromBase64(b.toString('latin1'))).toBeUndefined();
    }
  });

  it('does not share memory with the bytes it decoded', () => {
    const b = Buffer.from(bytes);
    const t = decodeMacaroon(b)!;
    b.fill(0);
    expect(macaroonSignatureValid(t, ROOT)).toBe(true);
  });
});

describe('base64', () => {
  // Sized to need padding; the identifier's 0xff bytes put several '/' in the text.
  const m = mintMacaroon(ROOT, Buffer.alloc(66, 0xff), { location: 'lsat', caveats: ['k0=v'] });
  const std = macaroonToBase64(m);

  it('writes standard padded base64 and reads every common form', () => {
    expect(std).toMatch(/^[A-Za-z0-9+/]+=+$/);
    expect(std).toMatch(/\/.*\//);
    const body = std.replace(/=+$/, '');
    const url = Buffer.from(std, 'base64').toString('base64url');
    const forms = [std, body, url, url + std.slice(body.length)];
    for (const text of forms) expect(macaroonFromBase64(text), text).toEqual(m);
  });

  it('refuses what is not base64 of a macaroon, without throwing', () => {
    const body = std.replace(/=+$/, '');
    const padding = std.length - body.length;
    const last = body[body.length - 1]!;
    const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const bad: unknown[] = [
      '',
      ` ${std}`,
      `${std}\n`,
      `${std}=`,
      body + '='.repeat(padding === 1 ? 2 : 1), // wrong padding
      `${body}A`, // a dangling character
      body.slice(0, -1) + ALPHABET[ALPHABET.indexOf(last) | 1], // non-zero spare bits (Node would ignore them)
      std.replace('/', '_'), // two alphabets (Node would decode it to the same bytes)
      'macaroon!',
      'A'.repeat(10_000),
      undefined,
      42,
    ];
    for (const text of bad) expect(macaroonFromBase64(text as string), String(text).slice(0, 40)).toBeUndefined();
  });
});

describe('arguments', () => {
  it('throws a PowgateError on programmer errors', () => {
    expectCode(() => mintMacaroon('key' as unknown as Uint8Array, Buffer.alloc(1)), 'ERR_INVALID_ARGUMENT');
    expectCode(() => mintMacaroon(ROOT, 'id' as unknown as Uint8Array), 'ERR_INVALID_ARGUMENT');
    expectCode(() => mintMacaroon(ROOT, Buffer.alloc(1), { location: 7 as unknown as string }), 'ERR_INVALID_ARGUMENT');
    expectCode(() => mintMacaroon(ROOT, Buffer.alloc(1), { caveats: [7 as unknown as string] }), 'ERR_INVALID_ARGUMENT');
    expectCode(() => macaroonSignatureValid(mint(0), 'key' as unknown as Uint8Array), 'ERR_INVALID_ARGUMENT');
  });

  it('copies its inputs', () => {
    const id = Buffer.from(l402Identifier);
    const caveat = Buffer.from('a=b');
    const m = mintMacaroon(ROOT, id, { caveats: [caveat] });
    id.fill(0);
    caveat.fill(0);
    expect(macaroonSignatureValid(m, ROOT)).toBe(true);
  });
});
