// The acceptance test of batch verification: verifySolutions' verdicts equal the
// one-by-one verdicts of verifySolution and an independent oracle's, on seeded random
// mixes of valid, tampered, expired, replayed and malformed pairs, for batch sizes
// 0, 1, 15, 16, 17 and 10,000, on every backend leg (each native kernel too).
//
// The oracle is written here from docs/PROTOCOL.md alone, with node:crypto: the keys
// ("Keys"), the MAC input ("Challenge MAC"), T ("Difficulty and threshold"), the work
// message, the order of checks ("Verification") and replays as a Set. It shares no
// code with src/ but createChallenge, which issues the pairs.
import { createHash, createHmac } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { NativeBackend } from '../src/backend/native.js';
import type { Sha256Backend } from '../src/backend/types.js';
import { createChallenge } from '../src/protocol/challenge.js';
import type { KeyEntry, KeyOptions } from '../src/protocol/keys.js';
import { MemoryReplayStore } from '../src/storage/memory.js';
import { verifySolution, verifySolutions, type Verdict, type VerifyOptions, type VerifyPair } from '../src/protocol/verify.js';
import { backendLegs, legTitle } from './helpers/backends.js';
import { derivedKidOf, subkeyOf } from './helpers/key-derivation.js';
import { NOW } from './helpers/protocol.js';
import { SEED, rng } from './helpers/random.js';

console.info(`batch verification tests: seed ${SEED} (POWGATE_TEST_SEED=${SEED} replays)`);

type Json = Record<string, unknown>;

// ---- keys: two rotation keys, one single secret, and keys nobody verifies with ------------

const KEY_A: KeyEntry = { kid: 'a', secret: 'the first rotation key, at least 32 bytes' };
const KEY_B: KeyEntry = { kid: 'key-B_2025.rotated', secret: 'the second rotation key, 32 bytes or more' };
const SECRET_C = 'a single secret, whose key id is derived from it';
const OTHER_SECRET = 'an impostor secret, also 32 bytes or longer';

const hmac = (key: string | Uint8Array, data: string | Uint8Array): Buffer => createHmac('sha256', key).update(data).digest();
/** docs "Keys", derivation 2 (test/helpers/key-derivation.ts). */
const derivedKid = (secret: string): string => derivedKidOf(secret);
const challengeKey = (secret: string | Uint8Array): Buffer => subkeyOf(secret, 'challenge');
const KID_C = derivedKid(SECRET_C);

type Signer = 'A' | 'B' | 'C' | 'impostorA' | 'impostorC' | 'stranger';
const SIGNERS: Record<Signer, KeyOptions> = {
  A: { keys: [KEY_A] },
  B: { keys: [KEY_B] },
  C: { secret: SECRET_C },
  impostorA: { keys: [{ kid: KEY_A.kid, secret: OTHER_SECRET }] }, // a known kid, the wrong secret
  impostorC: { keys: [{ kid: KID_C, secret: OTHER_SECRET }] },
  stranger: { keys: [{ kid: 'stranger', secret: OTHER_SECRET }] },
};

/** A verifier's keys, and who signs what it accepts, does not know, or knows under a wrong secret. */
interface Config {
  name: string;
  keys: KeyOptions;
  signers: Signer[];
  foreign: Signer[];
  impostor: Signer;
  /** The oracle's key ring: kid -> challenge key. */
  ring: Map<string, Buffer>;
}

const CONFIGS: Config[] = [
  {
    name: 'keys [B, A]',
    keys: { keys: [KEY_B, KEY_A] },
    signers: ['A', 'B'],
    foreign: ['C', 'stranger'],
    impostor: 'impostorA',
    ring: new Map([
      [KEY_B.kid, challengeKey(KEY_B.secret)],
      [KEY_A.kid, challengeKey(KEY_A.secret)],
    ]),
  },
  {
    name: 'secret',
    keys: { secret: SECRET_C },
    signers: ['C'],
    foreign: ['A', 'stranger'],
    impostor: 'impostorC',
    ring: new Map([[KID_C, challengeKey(SECRET_C)]]),
  },
];

// ---- the oracle ----------------------------------------------------------------------------

// docs "Difficulty and threshold": R[j] = floor(2^64 * 2^(-2^j / 65536)).
const R = [
  0xffff4e8e25879bfan,
  0xfffe9d1cc60ddab1n,
  0xfffd3a3b7814eb53n,
  0xfffa747ea0040664n,
  0xfff4e91bff1b8c3dn,
  0xffe9d2b2f7db2755n,
  0xffd3a751c0f7e10bn,
  0xffa756521c8daed1n,
  0xff4ecb59511ec8a5n,
  0xfe9e115c7b8f884bn,
  0xfd3e0c0cf486c174n,
  0xfa83b2db722a033an,
  0xf5257d152486cc2cn,
  0xeac0c6e7dd24392en,
  0xd744fccad69d6af4n,
  0xb504f333f9de6484n,
];

function oracleThreshold(steps: number): bigint {
  const whole = Math.floor(steps / 65536);
  const fraction = steps % 65536;
  let m = 1n << 64n;
  for (let j = 0; j < 16; j++) if ((fraction >> j) & 1) m = (m * R[j]!) / (1n << 64n);
  const t = m / (1n << BigInt(whole));
  return t === 0n ? 1n : t;
}

const hex16 = (t: bigint): string => t.toString(16).padStart(16, '0');
const be = (bytes: number, value: number | bigint): Buffer => {
  const b = Buffer.alloc(bytes);
  if (bytes === 8) b.writeBigUInt64BE(BigInt(value));
  else b.writeUIntBE(Number(value), 0, bytes);
  return b;
};

/** Canonical unpadded base64url of exactly `bytes` bytes, else undefined. */
function canonicalBase64url(text: unknown, bytes: number): Buffer | undefined {
  if (typeof text !== 'string' || !/^[A-Za-z0-9_-]*$/.test(text)) return undefined;
  const decoded = Buffer.from(text, 'base64url');
  return decoded.length === bytes && decoded.toString('base64url') === text ? decoded : undefined;
}

const isTime = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;

/** The object's own enumerable keys when it is a plain object (or has a null prototype). */
function plainKeys(value: unknown): string[] | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null ? Object.keys(value) : undefined;
}

const sameSet = (keys: string[], required: string[], optional: string[] = []): boolean =>
  required.every((k) => keys.includes(k)) && keys.every((k) => required.includes(k) || optional.includes(k));

interface OracleOptions {
  ring: Map<string, Buffer>;
  now: number;
  skewMs: number;
  scope: string | undefined;
  min: number;
  max: number;
}

const CHALLENGE_FIELDS = ['v', 'id', 'kid', 'difficulty', 'threshold', 'subPuzzles', 'calls', 'price', 'scope', 'issuedAt', 'expiresAt', 'signature'];
const refuse = (reason: string): Verdict => ({ ok: false, reason }) as Verdict;

/** docs "Verification" steps 1 to 8 for one pair; the spend (step 9) is the caller's. */
function oracleChecks(pair: unknown, o: OracleOptions): Verdict {
  let c: Json;
  let s: Json;
  let idBytes: Buffer;
  let signature: Buffer;
  let steps: number;
  let threshold: bigint;
  try {
    // 1. shapes
    const p = pair as { challenge?: unknown; solution?: unknown } | null | undefined;
    const challenge = typeof p === 'object' && p !== null ? p.challenge : undefined;
    const solution = typeof p === 'object' && p !== null ? p.solution : undefined;
    if (typeof challenge === 'object' && challenge !== null && typeof solution === 'object' && solution !== null && (challenge as Json).v === 1) {
      return refuse('unsupported_version');
    }
    const ck = plainKeys(challenge);
    const sk = plainKeys(solution);
    if (!ck || !sk || !sameSet(ck, CHALLENGE_FIELDS) || !sameSet(sk, ['v', 'id', 'nonces'], ['elapsedMs'])) return refuse('malformed');
    c = Object.fromEntries(CHALLENGE_FIELDS.map((k) => [k, (challenge as Json)[k]]));
    s = Object.fromEntries(sk.map((k) => [k, (solution as Json)[k]]));
    if (c.v !== 2 || typeof c.kid !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(c.kid)) return refuse('malformed');
    const id = canonicalBase64url(c.id, 16);
    const sig = canonicalBase64url(c.signature, 32);
    if (!id || !sig || (c.id as string).length !== 22 || (c.signature as string).length !== 43) return refuse('malformed');
    const d = c.difficulty;
    if (typeof d !== 'number' || !(d >= 1 && d <= 64) || !Number.isInteger(d * 65536)) return refuse('malformed');
    steps = d * 65536;
    threshold = oracleThreshold(steps);
    if (c.threshold !== hex16(threshold)) return refuse('malformed');
    if (typeof c.subPuzzles !== 'number' || !Number.isInteger(c.subPuzzles) || c.subPuzzles < 1 || c.subPuzzles > 64) return refuse('malformed');
    if (typeof c.scope !== 'string' || !/^[\x20-\x7e]{0,256}$/.test(c.scope)) return refuse('malformed');
    if (!isTime(c.issuedAt) || !isTime(c.expiresAt) || c.expiresAt < c.issuedAt) return refuse('malformed');
    if (typeof c.calls !== 'number' || !Number.isInteger(c.calls) || c.calls < 1 || c.calls > 1_048_576) return refuse('malformed');
    if (typeof c.price !== 'number' || !(c.price >= 0 && c.price <= 70) || !Number.isInteger(c.price * 65536)) return refuse('malformed');
    if (s.v !== 1 || !canonicalBase64url(s.id, 16) || (s.id as string).length !== 22) return refuse('malformed');
    const nonces = s.nonces;
    if (!Array.isArray(nonces) || nonces.length < 1 || nonces.length > 64) return refuse('malformed');
    if (!nonces.every((n) => typeof n === 'string' && /^[0-9a-f]{16}$/.test(n))) return refuse('malformed');
    if ('elapsedMs' in s && !isTime(s.elapsedMs)) return refuse('malformed');
    idBytes = id;
    signature = sig;
  } catch {
    return refuse('malformed');
  }
  // 2. the key
  const key = o.ring.get(c.kid as string);
  if (!key) return refuse('unknown_key');
  // 3. the MAC (docs "Challenge MAC")
  const kid = c.kid as string;
  const scope = c.scope as string;
  const input = Buffer.concat([
    Buffer.from('powgate/challenge/v2\0', 'ascii'),
    be(1, 2),
    be(1, kid.length),
    Buffer.from(kid, 'ascii'),
    idBytes,
    be(4, steps),
    be(8, threshold),
    be(4, c.calls as number),
    be(4, (c.price as number) * 65536),
    be(1, c.subPuzzles as number),
    be(2, scope.length),
    Buffer.from(scope, 'ascii'),
    be(8, c.issuedAt as number),
    be(8, c.expiresAt as number),
  ]);
  if (!hmac(key, input).equals(signature)) return refuse('bad_signature');
  // 4. scope, 5. difficulty bounds, 6. lifetime
  if (o.scope !== undefined && scope !== o.scope) return refuse('scope_mismatch');
  const difficulty = c.difficulty as number;
  if (difficulty < o.min || difficulty > o.max) return refuse('difficulty_out_of_range');
  if (o.now > (c.expiresAt as number) + o.skewMs) return refuse('expired');
  if ((c.issuedAt as number) > o.now + o.skewMs) return refuse('not_yet_valid');
  // 7. the solution answers this challenge, 8. every proof (docs "Work message")
  const nonces = s.nonces as string[];
  if (s.id !== c.id || nonces.length !== c.subPuzzles) return refuse('bad_solution');
  for (let j = 0; j < nonces.length; j++) {
    const message = Buffer.concat([Buffer.from('PGW1'), signature, be(4, j), Buffer.from(nonces[j]!, 'hex')]);
    if (createHash('sha256').update(message).digest().readBigUInt64BE(0) >= threshold) return refuse('bad_solution');
  }
  return {
    ok: true,
    id: c.id as string,
    kid,
    scope,
    difficulty,
    subPuzzles: c.subPuzzles as number,
    calls: c.calls as number,
    price: c.price as number,
    issuedAt: c.issuedAt as number,
    expiresAt: c.expiresAt as number,
  };
}

/** Every pair in order, with replays judged by a Set of spent ids (seeded with those spent before). */
function oracleVerdicts(pairs: readonly unknown[], o: OracleOptions, spentBefore: readonly string[]): Verdict[] {
  const spent = new Set(spentBefore);
  return pairs.map((pair) => {
    const verdict = oracleChecks(pair, o);
    if (!verdict.ok) return verdict;
    if (spent.has(verdict.id)) return refuse('replayed');
    spent.add(verdict.id);
    return verdict;
  });
}

// ---- solved pairs, issued once and shared by every leg ---------------------------------------

type Profile = 'fresh' | 'edge-expiry' | 'edge-issue' | 'expired' | 'future';
const DIFFICULTIES = [1, 1.5, 2, 2.5, 2.75, 3, 1 + 1 / 65536];
const SCOPES = ['tool:search', 'tool:search', '', 'x', `long scope ${'~'.repeat(180)}`];
const TTL = 120_000;

interface Issued {
  /** The challenge as JSON text: each use parses its own copy, as a server would. */
  challenge: string;
  nonces: string[];
}

/** Brute force with node:crypto: difficulties of 1 to 3 bits take a handful of hashes. */
function solveHere(challenge: Json, next: () => number): string[] {
  const signature = Buffer.from(challenge.signature as string, 'base64url');
  const threshold = BigInt(`0x${challenge.threshold as string}`);
  const message = Buffer.alloc(48);
  message.write('PGW1', 0, 'ascii');
  signature.copy(message, 4);
  return Array.from({ length: challenge.subPuzzles as number }, (_, j) => {
    message.writeUInt32BE(j, 36);
    let nonce = BigInt(Math.floor(next() * 2 ** 32)) << 24n;
    for (; ; nonce++) {
      message.writeBigUInt64BE(nonce, 40);
      if (createHash('sha256').update(message).digest().readBigUInt64BE(0) < threshold) return hex16(nonce);
    }
  });
}

const poolNext = rng(SEED ^ 0x9e3779b9);
const pools = new Map<string, Issued[]>();

function issue(signer: Signer, profile: Profile, skewMs: number): Issued {
  const next = poolNext;
  const lag = Math.floor(next() * 60_000);
  const issuedAt = {
    fresh: NOW - lag,
    'edge-expiry': NOW - skewMs - TTL, // now = expiresAt + skew: the last accepted millisecond
    'edge-issue': NOW + skewMs, // issuedAt = now + skew: the first accepted millisecond
    expired: NOW - skewMs - TTL - 1 - lag,
    future: NOW + skewMs + 1 + lag,
  }[profile];
  const challenge = createChallenge({
    ...SIGNERS[signer],
    difficulty: DIFFICULTIES[Math.floor(next() * DIFFICULTIES.length)]!,
    subPuzzles: 1 + Math.floor(next() * 3),
    scope: SCOPES[Math.floor(next() * SCOPES.length)]!,
    now: issuedAt,
    ttlMs: TTL,
  });
  const json = JSON.parse(JSON.stringify(challenge)) as Json;
  return { challenge: JSON.stringify(json), nonces: solveHere(json, next) };
}

function pooled(signer: Signer, profile: Profile, skewMs: number, index: number): Issued {
  const key = `${signer}/${profile}/${skewMs}`;
  let pool = pools.get(key);
  if (!pool) pools.set(key, (pool = []));
  while (pool.length <= index) pool.push(issue(signer, profile, skewMs));
  return pool[index]!;
}

// ---- random mixes ----------------------------------------------------------------------------

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

interface Item {
  pair: unknown;
  label: string;
}

interface Fresh {
  challenge: Json;
  solution: Json;
}

/** Builds one batch; `clean` leaves out what makes the fast path's bulk decoding give up on the whole batch. */
class Mix {
  readonly items: Item[] = [];
  readonly spentBefore: { id: string; expiresAt: number }[] = [];
  private readonly cursors = new Map<string, number>();

  constructor(
    readonly next: () => number,
    readonly config: Config,
    readonly skewMs: number,
    readonly clean: boolean,
  ) {}

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)]!;
  }

  /** A pair no other item of this batch has, parsed from JSON, the solution's keys in the order a solver writes them. */
  fresh(signer: Signer = this.pick(this.config.signers), profile: Profile = 'fresh'): Fresh {
    const key = `${signer}/${profile}`;
    const index = this.cursors.get(key) ?? 0;
    this.cursors.set(key, index + 1);
    const issued = pooled(signer, profile, this.skewMs, index);
    const challenge = JSON.parse(issued.challenge) as Json;
    const solution: Json = { v: 1, id: challenge.id, nonces: [...issued.nonces] };
    if (this.next() < 0.5) solution.elapsedMs = this.int(100_000);
    return { challenge, solution };
  }

  add(label: string, challenge: unknown, solution: unknown): void {
    this.items.push({ label, pair: { challenge, solution } });
  }

  randomNonce(): string {
    return Array.from({ length: 16 }, () => '0123456789abcdef'[this.int(16)]).join('');
  }

  /** Another canonical id (or signature) of the same length. */
  otherBase64url(bytes: number): string {
    return Buffer.from(Array.from({ length: bytes }, () => this.int(256))).toString('base64url');
  }
}

const setChar = (text: string, at: number, char: string): string => text.slice(0, at) + char + text.slice(at + 1);

/** A character that Node's base64url and hex decoders read as `char` (its low byte), though it is not ASCII: U+0141 for 'A'... */
const lookalike = (char: string, high = 1): string => String.fromCharCode(char.charCodeAt(0) + 0x100 * high);
const LOOKALIKE_HIGH = [0x01, 0x02, 0x30, 0xff];

type Malformer = { name: string; breaksBulk?: boolean; make: (m: Mix, f: Fresh) => [unknown, unknown] };

const BAD_VALUES: unknown[] = [null, undefined, true, '1', 1.5, -1, NaN, Infinity, 2 ** 53, [], {}, ''];

const MALFORMERS: Malformer[] = [
  { name: 'extra challenge key', make: (_, f) => [{ ...f.challenge, extra: 1 }, f.solution] },
  { name: 'extra solution key', make: (_, f) => [f.challenge, { ...f.solution, extra: 1 }] },
  {
    name: 'missing challenge key',
    make: (m, f) => {
      const c = { ...f.challenge };
      delete c[m.pick(CHALLENGE_FIELDS)];
      return [c, f.solution];
    },
  },
  {
    name: 'missing solution key',
    make: (m, f) => {
      const s = { ...f.solution };
      delete s[m.pick(['v', 'id', 'nonces'])];
      return [f.challenge, s];
    },
  },
  { name: 'wrong type in the challenge', make: (m, f) => [{ ...f.challenge, [m.pick(CHALLENGE_FIELDS)]: m.pick(BAD_VALUES) }, f.solution] },
  { name: 'wrong type in the solution', make: (m, f) => [f.challenge, { ...f.solution, [m.pick(['v', 'id', 'nonces'])]: m.pick(BAD_VALUES) }] },
  {
    name: "'+', '/' or '=' in the signature",
    breaksBulk: true,
    make: (m, f) => [{ ...f.challenge, signature: setChar(f.challenge.signature as string, m.int(43), m.pick(['+', '/', '='])) }, f.solution],
  },
  {
    name: "'+', '/' or '=' in the id",
    breaksBulk: true,
    make: (m, f) => {
      const id = setChar(f.challenge.id as string, m.int(22), m.pick(['+', '/', '=']));
      return [
        { ...f.challenge, id },
        { ...f.solution, id },
      ];
    },
  },
  {
    name: "'+' or '/' in the solution's id only",
    breaksBulk: true,
    make: (m, f) => [f.challenge, { ...f.solution, id: setChar(f.solution.id as string, m.int(22), m.pick(['+', '/'])) }],
  },
  {
    name: 'signature with nonzero unused bits',
    make: (m, f) => {
      const sig = f.challenge.signature as string;
      const last = ALPHABET.indexOf(sig[42]!);
      return [{ ...f.challenge, signature: setChar(sig, 42, ALPHABET[(last & ~3) | (1 + m.int(3))]!) }, f.solution];
    },
  },
  {
    name: 'id with nonzero unused bits',
    make: (m, f) => {
      const id = f.challenge.id as string;
      const bad = setChar(id, 21, ALPHABET[(ALPHABET.indexOf(id[21]!) & ~15) | (1 + m.int(15))]!);
      return [
        { ...f.challenge, id: bad },
        { ...f.solution, id: bad },
      ];
    },
  },
  {
    name: 'upper-case hex nonce',
    breaksBulk: true,
    make: (m, f) => {
      const nonces = [...(f.solution.nonces as string[])];
      const j = m.int(nonces.length);
      nonces[j] = setChar(nonces[j]!, m.int(16), m.pick(['A', 'B', 'C', 'D', 'E', 'F']));
      return [f.challenge, { ...f.solution, nonces }];
    },
  },
  {
    name: 'nonce with a non-hex character',
    breaksBulk: true,
    make: (m, f) => {
      const nonces = [...(f.solution.nonces as string[])];
      nonces[0] = setChar(nonces[0]!, m.int(16), m.pick(['g', 'x', ' ', '.', '-']));
      return [f.challenge, { ...f.solution, nonces }];
    },
  },
  {
    name: 'nonce of 15 or 17 digits, or not a string',
    make: (m, f) => {
      const nonces: unknown[] = [...(f.solution.nonces as string[])];
      const n = nonces[0] as string;
      nonces[0] = m.pick([n.slice(1), `${n}0`, Number.parseInt(n.slice(8), 16), null]);
      return [f.challenge, { ...f.solution, nonces }];
    },
  },
  { name: 'no nonces', make: (_, f) => [f.challenge, { ...f.solution, nonces: [] }] },
  { name: '65 nonces', make: (_, f) => [f.challenge, { ...f.solution, nonces: new Array(65).fill((f.solution.nonces as string[])[0]) }] },
  { name: 'nonces not an array', make: (_, f) => [f.challenge, { ...f.solution, nonces: (f.solution.nonces as string[]).join(',') }] },
  {
    name: 'threshold not T(difficulty)',
    make: (m, f) => {
      const t = f.challenge.threshold as string;
      const upper = t.toUpperCase() === t ? `G${t.slice(1)}` : t.toUpperCase();
      return [{ ...f.challenge, threshold: m.pick([upper, t.slice(1), `0${t}`, hex16(BigInt(`0x${t}`) - 1n), `${t} `]) }, f.solution];
    },
  },
  { name: 'difficulty off the 1/65536 grid', make: (_, f) => [{ ...f.challenge, difficulty: (f.challenge.difficulty as number) + 2 ** -20 }, f.solution] },
  {
    name: 'difficulty outside 1..64',
    make: (m, f) => {
      const d = m.pick([0.5, 65, 0, -1]);
      return [{ ...f.challenge, difficulty: d, threshold: hex16(oracleThreshold(Math.max(0, d) * 65536)) }, f.solution];
    },
  },
  { name: 'subPuzzles 0, 65 or 1.5', make: (m, f) => [{ ...f.challenge, subPuzzles: m.pick([0, 65, 1.5]) }, f.solution] },
  { name: 'expiresAt before issuedAt', make: (_, f) => [{ ...f.challenge, expiresAt: (f.challenge.issuedAt as number) - 1 }, f.solution] },
  { name: 'times not safe integers', make: (m, f) => [{ ...f.challenge, [m.pick(['issuedAt', 'expiresAt'])]: m.pick([2 ** 53, -1, 1.5, 1e300]) }, f.solution] },
  { name: 'v not 1', make: (m, f) => (m.next() < 0.5 ? [{ ...f.challenge, v: m.pick([2, '1', 0]) }, f.solution] : [f.challenge, { ...f.solution, v: m.pick([2, '1']) }]) },
  {
    name: 'id of 21 or 23 characters',
    make: (m, f) => {
      const id = f.challenge.id as string;
      const bad = m.next() < 0.5 ? id.slice(0, 21) : `${id}A`;
      return [
        { ...f.challenge, id: bad },
        { ...f.solution, id: bad },
      ];
    },
  },
  { name: 'kid not of the pattern', make: (m, f) => [{ ...f.challenge, kid: m.pick(['', 'bad kid', 'x'.repeat(65), 'kid/1', 'é']) }, f.solution] },
  { name: 'scope not printable ASCII', make: (m, f) => [{ ...f.challenge, scope: m.pick(['tab\there', 'é', 'x'.repeat(257), 'nul\0']) }, f.solution] },
  {
    name: 'non-ASCII character that no decoder reads as ASCII',
    breaksBulk: true,
    make: (m, f) => {
      const char = m.pick(['é', 'Á', '\u00ff', '\uff21', '\u2028']);
      const where = m.pick(['id', 'signature', 'nonce']);
      if (where === 'nonce') {
        const nonces = [...(f.solution.nonces as string[])];
        nonces[0] = setChar(nonces[0]!, m.int(16), char);
        return [f.challenge, { ...f.solution, nonces }];
      }
      if (where === 'id') {
        const id = setChar(f.challenge.id as string, m.int(21), char);
        return [
          { ...f.challenge, id },
          { ...f.solution, id },
        ];
      }
      return [{ ...f.challenge, signature: setChar(f.challenge.signature as string, m.int(42), char) }, f.solution];
    },
  },
  {
    name: 'an emoji in the id (two UTF-16 units)',
    breaksBulk: true,
    make: (_, f) => {
      const id = `${(f.challenge.id as string).slice(0, 20)}😀`;
      return [
        { ...f.challenge, id },
        { ...f.solution, id },
      ];
    },
  },
  { name: 'challenge null, an array, a string or a number', make: (m, f) => [m.pick([null, [], [f.challenge], JSON.stringify(f.challenge), 42]), f.solution] },
  { name: 'solution null, an array or a string', make: (m, f) => [f.challenge, m.pick([null, [], [f.solution], JSON.stringify(f.solution)])] },
  { name: 'challenge as an array with its fields', make: (_, f) => [Object.assign([], f.challenge), f.solution] },
  { name: 'challenge as a class instance', make: (_, f) => [Object.assign(new (class Challenge {})(), f.challenge), f.solution] },
  { name: 'challenge as a Map', make: (_, f) => [new Map(Object.entries(f.challenge)), f.solution] },
  {
    name: 'a Proxy whose trap throws',
    make: (m, f) => {
      const trap = m.pick(['ownKeys', 'get', 'getPrototypeOf', 'getOwnPropertyDescriptor'] as const);
      const handler: ProxyHandler<Json> = {
        [trap]: () => {
          throw new Error('hostile');
        },
      };
      return m.next() < 0.5 ? [new Proxy(f.challenge, handler), f.solution] : [f.challenge, new Proxy(f.solution, handler)];
    },
  },
  {
    name: 'a getter that throws',
    make: (m, f) => {
      const onChallenge = m.next() < 0.5;
      const target = { ...(onChallenge ? f.challenge : f.solution) };
      Object.defineProperty(target, m.pick(Object.keys(target)), {
        enumerable: true,
        get: () => {
          throw new Error('hostile');
        },
      });
      return onChallenge ? [target, f.solution] : [f.challenge, target];
    },
  },
  {
    name: 'elapsedMs invalid',
    make: (m, f) => [f.challenge, { ...f.solution, elapsedMs: m.pick([-1, 1.5, '5', null, 2 ** 53, NaN, undefined]) }],
  },
];

/** The fields a tamperer may change, each consistently where the protocol would let one. */
const TAMPERS: { name: string; make: (m: Mix, f: Fresh) => [Json, Json] }[] = [
  {
    name: 'signature, one character',
    make: (m, f) => {
      const sig = f.challenge.signature as string;
      const at = m.int(43);
      return [{ ...f.challenge, signature: setChar(sig, at, ALPHABET[(ALPHABET.indexOf(sig[at]!) + 1 + m.int(63)) % 64]!) }, f.solution];
    },
  },
  {
    name: 'signature, one bit',
    make: (m, f) => {
      const mac = Buffer.from(f.challenge.signature as string, 'base64url');
      const bit = m.int(256);
      mac[bit >> 3]! ^= 1 << (bit & 7);
      return [{ ...f.challenge, signature: mac.toString('base64url') }, f.solution];
    },
  },
  { name: 'scope', make: (m, f) => [{ ...f.challenge, scope: m.pick(['tool:searcH', '', 'tool:search ', 'other'].filter((x) => x !== f.challenge.scope)) }, f.solution] },
  { name: 'expiresAt', make: (m, f) => [{ ...f.challenge, expiresAt: (f.challenge.expiresAt as number) + 1 + m.int(1000) }, f.solution] },
  { name: 'issuedAt', make: (m, f) => [{ ...f.challenge, issuedAt: (f.challenge.issuedAt as number) - 1 - m.int(1000) }, f.solution] },
  {
    name: 'difficulty with its threshold',
    make: (m, f) => {
      let d = f.challenge.difficulty as number;
      while (d === f.challenge.difficulty) d = m.pick([1, 1.25, 2, 3, 3.5, 4, 1 + 3 / 65536]);
      return [{ ...f.challenge, difficulty: d, threshold: hex16(oracleThreshold(d * 65536)) }, f.solution];
    },
  },
  {
    name: 'subPuzzles with the nonces',
    make: (m, f) => {
      const k = f.challenge.subPuzzles as number;
      const k2 = k === 1 ? 2 : k - 1;
      const nonces = Array.from({ length: k2 }, (_, j) => (f.solution.nonces as string[])[j] ?? m.randomNonce());
      return [
        { ...f.challenge, subPuzzles: k2 },
        { ...f.solution, nonces },
      ];
    },
  },
  { name: 'kid', make: (m, f) => [{ ...f.challenge, kid: m.pick([KEY_A.kid, KEY_B.kid, KID_C].filter((k) => k !== f.challenge.kid)) }, f.solution] },
  {
    name: 'id (the solution follows)',
    make: (m, f) => {
      const id = m.otherBase64url(16);
      return [
        { ...f.challenge, id },
        { ...f.solution, id },
      ];
    },
  },
];

type Kind = { name: string; weight: number; make: (m: Mix) => void };

/** Items a replay may copy (as JSON too): accepted ones, and a few refused ones. */
const REPLAYABLE = new Set(['valid', 'elapsedMs valid', 'keys in another order', 'null prototype or transparent Proxy', 'expired', 'unknown kid']);

const KINDS: Kind[] = [
  {
    name: 'valid',
    weight: 30,
    make: (m) => {
      const f = m.fresh();
      m.add('valid', f.challenge, f.solution);
    },
  },
  {
    name: 'valid at the edges of the lifetime',
    weight: 3,
    make: (m) => {
      const profile = m.pick(['edge-expiry', 'edge-issue'] as const);
      const f = m.fresh(undefined, profile);
      m.add(`valid, ${profile}`, f.challenge, f.solution);
    },
  },
  {
    name: 'expired',
    weight: 3,
    make: (m) => {
      const f = m.fresh(undefined, 'expired');
      m.add('expired', f.challenge, f.solution);
    },
  },
  {
    name: 'not yet valid',
    weight: 3,
    make: (m) => {
      const f = m.fresh(undefined, 'future');
      m.add('not yet valid', f.challenge, f.solution);
    },
  },
  {
    name: 'keys in another order',
    weight: 3,
    make: (m) => {
      const f = m.fresh();
      const shuffle = (o: Json) => Object.fromEntries(Object.entries(o).sort(() => m.next() - 0.5));
      const reversed = (o: Json) => Object.fromEntries(Object.entries(o).reverse());
      const which = m.int(3);
      const c = which === 1 ? f.challenge : m.next() < 0.5 ? reversed(f.challenge) : shuffle(f.challenge);
      const s = which === 0 ? f.solution : m.next() < 0.5 ? reversed(f.solution) : shuffle(f.solution);
      m.add('keys in another order', c, s);
    },
  },
  {
    name: 'elapsedMs absent, zero or largest',
    weight: 2,
    make: (m) => {
      const f = m.fresh();
      const s = { v: 1, id: f.solution.id, nonces: f.solution.nonces } as Json;
      const choice = m.int(3);
      if (choice === 1) s.elapsedMs = 0;
      if (choice === 2) s.elapsedMs = 2 ** 53 - 1;
      m.add('elapsedMs valid', f.challenge, s);
    },
  },
  {
    name: 'null prototype or a transparent Proxy',
    weight: 1,
    make: (m) => {
      const f = m.fresh();
      const c = m.next() < 0.5 ? Object.assign(Object.create(null) as Json, f.challenge) : new Proxy(f.challenge, {});
      m.add('null prototype or transparent Proxy', c, m.next() < 0.5 ? new Proxy(f.solution, {}) : f.solution);
    },
  },
  {
    name: 'tampered',
    weight: 12,
    make: (m) => {
      const t = m.pick(TAMPERS);
      const [c, s] = t.make(m, m.fresh());
      m.add(`tampered ${t.name}`, c, s);
    },
  },
  {
    name: 'wrong nonce',
    weight: 4,
    make: (m) => {
      const f = m.fresh();
      const nonces = [...(f.solution.nonces as string[])];
      if (m.next() < 0.7) nonces[m.int(nonces.length)] = m.randomNonce();
      else if (nonces.length > 1 && m.next() < 0.5) nonces.pop();
      else nonces.push(m.randomNonce());
      m.add('wrong nonce or nonce count', f.challenge, { ...f.solution, nonces });
    },
  },
  {
    name: "another challenge's solution",
    weight: 3,
    make: (m) => {
      const f = m.fresh();
      const g = m.fresh();
      m.add("another challenge's solution", f.challenge, m.next() < 0.5 ? g.solution : { ...f.solution, id: g.challenge.id });
    },
  },
  {
    name: 'impostor',
    weight: 2,
    make: (m) => {
      const f = m.fresh(m.config.impostor);
      m.add('known kid, wrong secret', f.challenge, f.solution);
    },
  },
  {
    name: 'unknown key',
    weight: 3,
    make: (m) => {
      const f = m.fresh(m.pick(m.config.foreign));
      m.add('unknown kid', f.challenge, f.solution);
    },
  },
  {
    name: 'replayed in the batch',
    weight: 5,
    make: (m) => {
      const earlier = m.items.filter((i) => REPLAYABLE.has(i.label));
      if (earlier.length === 0) return KINDS[0]!.make(m);
      const { challenge, solution } = m.pick(earlier).pair as { challenge: Json; solution: Json };
      const copy = m.next() < 0.5;
      m.add(
        copy ? 'replay (a JSON copy)' : 'replay (the same objects)',
        copy ? JSON.parse(JSON.stringify(challenge)) : challenge,
        copy ? JSON.parse(JSON.stringify(solution)) : solution,
      );
    },
  },
  {
    name: 'spent before the batch',
    weight: 2,
    make: (m) => {
      const f = m.fresh();
      m.spentBefore.push({ id: f.challenge.id as string, expiresAt: f.challenge.expiresAt as number });
      m.add('spent before the batch', f.challenge, f.solution);
    },
  },
  {
    name: 'malformed',
    weight: 14,
    make: (m) => {
      const list = m.clean ? MALFORMERS.filter((x) => !x.breaksBulk) : MALFORMERS;
      const x = m.pick(list);
      const [c, s] = x.make(m, m.fresh());
      m.add(`malformed: ${x.name}`, c, s);
    },
  },
  {
    name: 'not a pair',
    weight: 1,
    make: (m) => {
      const f = m.fresh();
      m.items.push({ label: 'not a pair', pair: m.pick([null, undefined, 7, 'pair', {}, { challenge: f.challenge }, { solution: f.solution }]) });
    },
  },
  { name: 'look-alike non-ASCII', weight: 2, make: (m) => lookalikeItem(m) },
];

/**
 * A non-ASCII character whose low byte is the character it replaces (U+0141 for 'A'...):
 * malformed, like any non-ASCII character, in the id, the signature or a nonce.
 */
function lookalikeItem(m: Mix): void {
  const f = m.fresh();
  const where = m.pick(['id', 'signature', 'nonce']);
  if (where === 'id') {
    const id = f.challenge.id as string;
    const at = m.int(22);
    const bad = setChar(id, at, lookalike(id[at]!, m.pick(LOOKALIKE_HIGH)));
    m.add('look-alike non-ASCII in the id', { ...f.challenge, id: bad }, { ...f.solution, id: bad });
  } else if (where === 'signature') {
    const sig = f.challenge.signature as string;
    const at = m.int(43);
    m.add('look-alike non-ASCII in the signature', { ...f.challenge, signature: setChar(sig, at, lookalike(sig[at]!, m.pick(LOOKALIKE_HIGH))) }, f.solution);
  } else {
    const nonces = [...(f.solution.nonces as string[])];
    const at = m.int(16);
    nonces[0] = setChar(nonces[0]!, at, lookalike(nonces[0]![at]!, m.pick(LOOKALIKE_HIGH)));
    m.add('look-alike non-ASCII in a nonce', f.challenge, { ...f.solution, nonces });
  }
}

/** One pair, accepted at now = expiresAt + skew, then the same pair again: it must be refused as replayed. */
function edgeReplay(m: Mix): Item[] {
  const f = m.fresh(undefined, 'edge-expiry');
  const pair = { challenge: f.challenge, solution: f.solution };
  return [
    { label: 'valid at the last accepted millisecond', pair },
    { label: 'replay at the last accepted millisecond', pair: JSON.parse(JSON.stringify(pair)) },
  ];
}

interface MixOptions {
  config: Config;
  skewMs: number;
  scope?: string;
  minDifficulty?: number;
  maxDifficulty?: number;
}

/** A random mix of `size` items; from 15 up, as many kinds as fit at least once, and one replay at the lifetime's edge. */
function buildMix(next: () => number, size: number, options: MixOptions, clean: boolean): Mix {
  const m = new Mix(next, options.config, options.skewMs, clean);
  if (size === 0) return m;
  const total = KINDS.reduce((sum, k) => sum + k.weight, 0);
  const random = (): void => {
    let r = next() * total;
    for (const kind of KINDS) if ((r -= kind.weight) < 0) return kind.make(m);
    KINDS[0]!.make(m);
  };
  if (size >= 15) {
    const edge = edgeReplay(m);
    // Every kind once (a replay needs a valid item before it), in random order after the first.
    KINDS[0]!.make(m);
    for (const kind of KINDS.slice(1).sort(() => next() - 0.5)) if (m.items.length < size - 2) kind.make(m);
    while (m.items.length < size - 2) random();
    m.items.length = size - 2;
    const at = m.int(m.items.length + 1);
    m.items.splice(at, 0, edge[0]!);
    m.items.splice(at + 1 + m.int(m.items.length - at), 0, edge[1]!);
  } else {
    while (m.items.length < size) random();
    m.items.length = size;
  }
  return m;
}

// ---- running a mix three ways ----------------------------------------------------------------

interface Outcome {
  batch: Verdict[];
  single: Verdict[];
  oracle: Verdict[];
}

function verifyOptions(o: MixOptions, backend: Sha256Backend, store: MemoryReplayStore): VerifyOptions {
  return {
    ...o.config.keys,
    store,
    now: NOW,
    skewMs: o.skewMs,
    backend,
    ...(o.scope !== undefined ? { scope: o.scope } : {}),
    ...(o.minDifficulty !== undefined ? { minDifficulty: o.minDifficulty } : {}),
    ...(o.maxDifficulty !== undefined ? { maxDifficulty: o.maxDifficulty } : {}),
  };
}

async function storeWith(spent: readonly { id: string; expiresAt: number }[], skewMs: number): Promise<MemoryReplayStore> {
  const store = new MemoryReplayStore({ now: () => NOW, since: 0 });
  for (const { id, expiresAt } of spent) expect(await store.spend(id, expiresAt + skewMs)).toBe('spent');
  return store;
}

async function runThreeWays(backend: Sha256Backend, m: Mix, o: MixOptions): Promise<Outcome> {
  const pairs = m.items.map((i) => i.pair) as VerifyPair[];
  const batch = await verifySolutions(pairs, verifyOptions(o, backend, await storeWith(m.spentBefore, o.skewMs)));
  const singleOptions = verifyOptions(o, backend, await storeWith(m.spentBefore, o.skewMs));
  const single: Verdict[] = [];
  for (const pair of pairs) {
    const p = pair as { challenge?: unknown; solution?: unknown } | null | undefined;
    const isObject = typeof p === 'object' && p !== null;
    single.push(await verifySolution(isObject ? p.challenge : undefined, isObject ? p.solution : undefined, singleOptions));
  }
  const oracle = oracleVerdicts(
    pairs,
    { ring: o.config.ring, now: NOW, skewMs: o.skewMs, scope: o.scope, min: o.minDifficulty ?? 1, max: o.maxDifficulty ?? 40 },
    m.spentBefore.map((s) => s.id),
  );
  return { batch, single, oracle };
}

const show = (v: Verdict | undefined): string => (v === undefined ? 'nothing' : v.ok ? `ok ${JSON.stringify(v)}` : v.reason);

/** Every item whose three verdicts are not the same, described. */
function disagreements(m: Mix, { batch, single, oracle }: Outcome): string[] {
  const out: string[] = [];
  if (batch.length !== m.items.length) out.push(`verifySolutions gave ${batch.length} verdicts for ${m.items.length} pairs`);
  m.items.forEach((item, i) => {
    if (!isDeepStrictEqual(batch[i], oracle[i]) || !isDeepStrictEqual(single[i], oracle[i])) {
      out.push(`#${i} ${item.label}: batch ${show(batch[i])}; one by one ${show(single[i])}; oracle ${show(oracle[i])}`);
    }
  });
  return out;
}

function expectAgreement(m: Mix, outcome: Outcome, context = ''): void {
  const differ = disagreements(m, outcome);
  expect(differ.slice(0, 25), `${differ.length} of ${m.items.length} items differ${context ? ` (${context})` : ''}`).toEqual([]);
}

function randomOptions(next: () => number, config: Config): MixOptions {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
  const bounds = pick([{}, {}, { minDifficulty: 1.5 }, { maxDifficulty: 2.5 }, { minDifficulty: 1.25, maxDifficulty: 2.75 }]);
  return { config, skewMs: pick([5_000, 5_000, 0, 60_000]), ...(next() < 0.3 ? { scope: 'tool:search' } : {}), ...bounds };
}

const describeOptions = (o: MixOptions): string =>
  [
    o.config.name,
    `skew ${o.skewMs}`,
    o.scope !== undefined ? `scope ${o.scope}` : '',
    o.minDifficulty ? `min ${o.minDifficulty}` : '',
    o.maxDifficulty ? `max ${o.maxDifficulty}` : '',
  ]
    .filter(Boolean)
    .join(', ');

// ---- the suites ------------------------------------------------------------------------------

const SIZES = [0, 1, 15, 16, 17];
const LARGE = 10_000;

backendLegs().forEach((leg, legIndex) => {
  describe.skipIf(leg.skip)(legTitle(leg), () => {
    let backend: Sha256Backend;
    const next = rng(SEED + 7919 * (legIndex + 1));
    beforeAll(async () => {
      backend = await leg.load();
    });

    for (const size of SIZES) {
      for (const clean of [true, false]) {
        it(`batch of ${size}, a random mix${clean ? ' the fast path can take' : ' with anything in it'}: batch = one by one = oracle`, async () => {
          for (const config of CONFIGS) {
            const options = randomOptions(next, config);
            const m = buildMix(next, size, options, clean);
            const outcome = await runThreeWays(backend, m, options);
            expect(outcome.batch, describeOptions(options)).toHaveLength(size);
            expectAgreement(m, outcome, describeOptions(options));
          }
        });
      }
    }

    it(`batch of ${LARGE.toLocaleString('en')}: a random mix the fast path can take, key rotation, default options`, async () => {
      const options: MixOptions = { config: CONFIGS[legIndex % 2]!, skewMs: 5_000 };
      const m = buildMix(next, LARGE, options, true);
      const outcome = await runThreeWays(backend, m, options);
      expectAgreement(m, outcome);
      // Not vacuous: every verdict the mix can produce is there.
      const reasons = new Set(outcome.oracle.map((v) => (v.ok ? 'ok' : v.reason)));
      expect([...reasons].sort()).toEqual(['ok', 'malformed', 'unknown_key', 'bad_signature', 'expired', 'not_yet_valid', 'bad_solution', 'replayed'].sort());
    });

    it(`batch of ${LARGE.toLocaleString('en')} with a required scope and difficulty bounds`, async () => {
      const options: MixOptions = { config: CONFIGS[(legIndex + 1) % 2]!, skewMs: 5_000, scope: 'tool:search', minDifficulty: 1.5, maxDifficulty: 2.75 };
      const m = buildMix(next, LARGE, options, legIndex % 2 === 0);
      const outcome = await runThreeWays(backend, m, options);
      expectAgreement(m, outcome);
      const reasons = new Set(outcome.oracle.map((v) => (v.ok ? 'ok' : v.reason)));
      expect(reasons).toContain('scope_mismatch');
      expect(reasons).toContain('difficulty_out_of_range');
    });

    it('several MAC input lengths in one batch (kids of 1 and 18 characters, scopes of 0 to 191): every group checked', async () => {
      const options: MixOptions = { config: CONFIGS[0]!, skewMs: 5_000 };
      const m = new Mix(next, options.config, options.skewMs, true);
      for (let i = 0; i < 120; i++) {
        const f = m.fresh(i % 2 ? 'A' : 'B');
        if (i % 5 === 4) {
          const t = TAMPERS[1]!.make(m, f); // one bit of the signature
          m.add('tampered signature, one bit', t[0], t[1]);
        } else m.add('valid', f.challenge, f.solution);
      }
      const lengths = new Set(m.items.map((i) => `${(i.pair as { challenge: Json }).challenge.kid}/${((i.pair as { challenge: Json }).challenge.scope as string).length}`));
      expect(lengths.size).toBeGreaterThanOrEqual(6);
      const outcome = await runThreeWays(backend, m, options);
      expectAgreement(m, outcome);
      expect(outcome.batch.filter((v) => v.ok)).toHaveLength(96);
    });

    it('pairs straight from JSON in the order powgate writes them: all accepted, through the fast path on native', async () => {
      const options: MixOptions = { config: CONFIGS[legIndex % 2]!, skewMs: 5_000 };
      const m = new Mix(next, options.config, options.skewMs, true);
      for (let i = 0; i < 40; i++) {
        const f = m.fresh();
        m.add('valid', f.challenge, f.solution);
      }
      // On native, count the packer's calls: the fast path ran and did not give up on the batch.
      let packed = 0;
      let checked = backend;
      if (backend instanceof NativeBackend) {
        const own = await leg.load();
        const pack = (own as NativeBackend).packChallenges;
        Object.defineProperty(own, 'packChallenges', { value: (...args: Parameters<typeof pack>) => (packed++, pack(...args)) });
        checked = own;
      }
      const outcome = await runThreeWays(checked, m, options);
      expectAgreement(m, outcome);
      expect(outcome.batch.every((v) => v.ok)).toBe(true);
      if (backend instanceof NativeBackend) expect(packed).toBeGreaterThan(0);
    });

    it('non-ASCII look-alikes (U+0141 for "A"...) in an id, a signature or a nonce are malformed, in a batch too', async () => {
      const options: MixOptions = { config: CONFIGS[0]!, skewMs: 5_000 };
      const m = new Mix(next, options.config, options.skewMs, true);
      const f = m.fresh();
      m.add('valid', f.challenge, f.solution);
      const id = f.challenge.id as string;
      const sig = f.challenge.signature as string;
      const nonce = (f.solution.nonces as string[])[0]!;
      for (const at of [0, 5, 20]) {
        const bad = setChar(id, at, lookalike(id[at]!));
        // The same challenge again under another spelling of its id: a replay, were it accepted.
        m.add(`id[${at}] look-alike`, { ...f.challenge, id: bad }, { ...f.solution, id: bad });
      }
      for (const at of [0, 30, 41]) m.add(`signature[${at}] look-alike`, { ...f.challenge, signature: setChar(sig, at, lookalike(sig[at]!)) }, f.solution);
      for (const at of [0, 15]) {
        m.add(`nonce[${at}] look-alike`, f.challenge, { ...f.solution, nonces: [setChar(nonce, at, lookalike(nonce[at]!)), ...(f.solution.nonces as string[]).slice(1)] });
      }
      const outcome = await runThreeWays(backend, m, options);
      expectAgreement(m, outcome);
      expect(outcome.batch.filter((v) => v.ok)).toHaveLength(1);
    });

    it('a pair whose nonces change between reads spoils no other pair of its batch', async () => {
      const options: MixOptions = { config: CONFIGS[0]!, skewMs: 5_000 };
      const m = new Mix(next, options.config, options.skewMs, true);
      const hostile = m.fresh();
      const victim = m.fresh();
      const wrong = { ...victim.solution, nonces: (victim.solution.nonces as string[]).map(() => m.randomNonce()) };
      // Its first read gives a well-formed nonce; any later read, that nonce followed by the victim's right ones.
      const real = hostile.solution.nonces as string[];
      let reads = 0;
      const shifty = [...real];
      Object.defineProperty(shifty, real.length - 1, {
        enumerable: true,
        get: () => (reads++ === 0 ? real[real.length - 1] : real[real.length - 1] + (victim.solution.nonces as string[]).join('')),
      });
      const pairs: VerifyPair[] = [
        { challenge: hostile.challenge, solution: { ...hostile.solution, nonces: shifty } },
        { challenge: victim.challenge, solution: wrong },
      ];
      const expected = oracleVerdicts([pairs[1]], { ring: options.config.ring, now: NOW, skewMs: 5_000, scope: undefined, min: 1, max: 40 }, []);
      const verdicts = await verifySolutions(pairs, verifyOptions(options, backend, await storeWith([], 5_000)));
      expect(verdicts[1]).toEqual(expected[0]);
    });
  });
});

describe('the replay store and the lifetime agree', () => {
  it('a pair accepted at now = expiresAt + skew (the last accepted millisecond) is refused the second time', async () => {
    for (const skewMs of [0, 5_000]) {
      const f = new Mix(rng(SEED), CONFIGS[0]!, skewMs, true).fresh('A', 'edge-expiry');
      const options = { keys: [KEY_A], now: NOW, skewMs };
      expect((f.challenge.expiresAt as number) + skewMs).toBe(NOW);
      const store = new MemoryReplayStore({ now: () => NOW, since: 0 });
      const first = await verifySolution(f.challenge, f.solution, { ...options, store });
      const second = await verifySolution(f.challenge, f.solution, { ...options, store });
      expect([first.ok, second], `skew ${skewMs}, one by one`).toEqual([true, { ok: false, reason: 'replayed' }]);
      const batch = await verifySolutions([f, f], { ...options, store: new MemoryReplayStore({ now: () => NOW, since: 0 }) });
      expect([batch[0]!.ok, batch[1]], `skew ${skewMs}, in one batch`).toEqual([true, { ok: false, reason: 'replayed' }]);
    }
  });
});
