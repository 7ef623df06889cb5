/**
 * Inputs and timed cases of bench/verify/verify.mjs, the defender's side of proof of work:
 *
 * - packed proof batches for `backend.checkProofs` (40-byte prefix, 8-byte BE nonce and
 *   8-byte BE threshold per proof; one proof = one SHA-256 block compression), with the
 *   expected verdicts computed here with node:crypto, independently of every backend;
 * - (challenge, solution) pairs as a server receives them: real challenges from
 *   `createChallenge`, solved by brute force with node:crypto in this file (difficulty 1:
 *   about two hashes each), turned into JSON text and parsed back into plain objects;
 * - ALTCHA's (altcha-lib v2) challenge/solution pairs, the baseline;
 * - the benny cases over all of them. Every case records the CPU time the process used
 *   during its calls, so a figure "per core" is the rate divided by the cores it took.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createChallenge as altchaCreateChallenge, solveChallenge as altchaSolveChallenge, verifySolution as altchaVerifySolution } from 'altcha-lib';
import { deriveKey as altchaDeriveKey } from 'altcha-lib/algorithms/sha';
import { backendTag, seededBytes } from '../lib/cases.mjs';

/** Only for challenges this bench makes and verifies itself. */
export const SECRET = 'powgate bench secret (not for use) 0123456789abcdef';
/** ALTCHA's HMAC keys for its challenge signature and (fast path) its key signature. */
const ALTCHA_HMAC_KEY = 'altcha bench hmac key (not for use) 0123456789abcdef';
const ALTCHA_KEY_SIGNATURE_KEY = 'altcha bench key-signature key (not for use) 01234567';

/** Proofs per checkProofs call, and a count that leaves a partial 8- and 16-lane group (tail code). */
export const PROOF_BATCH = 4096;
export const PROOF_TAIL = 37;
/** Pairs per verifySolutions call, pairs per call of the one-by-one rows, ALTCHA verifications per call. */
export const PAIR_BATCH = 10_000;
export const ONE_BY_ONE = 1_000;
export const ALTCHA_PER_CALL = 200;
/** Challenges live an hour: none can expire while the bench runs. */
export const TTL_MS = 3_600_000;
/** The flood of wrong nonces uses a real difficulty, so a random nonce fails (and is re-drawn in the rare case it does not). */
export const FLOOD_DIFFICULTY = 16;

export const PREFIX_BYTES = 40;
const MESSAGE_BYTES = 48;
const U64_MAX = (1n << 64n) - 1n;
const LABEL = Buffer.from('PGW1', 'latin1');

const sha256 = (bytes) => createHash('sha256').update(bytes).digest();

// ---------------------------------------------------------------- proof batches

/**
 * `count` proofs laid out as checkProofs takes them, from seeded bytes so every run checks
 * the same ones. Prefixes look like the protocol's (`PGW1`, 32 MAC-like bytes, u32 sub-puzzle
 * index). Thresholds mix passing and failing proofs, with the exact boundary on both sides:
 * proof i with digest value v (first 8 bytes, BE) gets, by i mod 4, v + 1 (passes: v is
 * below it), v (fails: equal is not below), a random 64-bit threshold, or 2^(64-d) for a
 * d from 1 to 24 (a real challenge's threshold; mostly fails). Two proofs get thresholds
 * 0 (never passes) and 2^64 - 1. `expected` holds node:crypto's verdicts.
 */
export function proofBatch(count, seed) {
  const prefixes = seededBytes(PREFIX_BYTES * count, seed);
  const nonces = seededBytes(8 * count, seed + 1);
  const random = seededBytes(8 * count, seed + 2);
  const thresholds = new Uint8Array(8 * count);
  const expected = new Uint8Array(count);
  const thView = Buffer.from(thresholds.buffer);
  const randView = Buffer.from(random.buffer);
  const message = Buffer.alloc(MESSAGE_BYTES);
  for (let i = 0; i < count; i++) {
    const prefix = prefixes.subarray(PREFIX_BYTES * i, PREFIX_BYTES * (i + 1));
    prefix.set(LABEL, 0);
    Buffer.from(prefix.buffer, prefix.byteOffset, PREFIX_BYTES).writeUInt32BE(i % 3, 36);
    message.set(prefix, 0);
    message.set(nonces.subarray(8 * i, 8 * i + 8), PREFIX_BYTES);
    const value = sha256(message).readBigUInt64BE(0);
    let threshold;
    if (i === 5) threshold = 0n;
    else if (i === 6) threshold = U64_MAX;
    else if (i % 4 === 0) threshold = value === U64_MAX ? U64_MAX : value + 1n;
    else if (i % 4 === 1) threshold = value;
    else if (i % 4 === 2) threshold = randView.readBigUInt64BE(8 * i);
    else threshold = 1n << BigInt(64 - (1 + (random[8 * i] % 24)));
    thView.writeBigUInt64BE(threshold, 8 * i);
    expected[i] = value < threshold ? 1 : 0;
  }
  const passing = expected.reduce((n, v) => n + v, 0);
  return { key: `proofs x${count}`, count, prefixes, nonces, thresholds, expected, passing };
}

/**
 * Null when `backend.checkProofs` works, else why not: the method is missing from this
 * build, or it throws on one trivially valid proof (e.g. a backend that has the shared
 * argument checks but not yet its own kernel).
 */
export function checkProofsGap(backend) {
  if (typeof backend.checkProofs !== 'function') return 'no checkProofs method in this build';
  try {
    backend.checkProofs(new Uint8Array(PREFIX_BYTES), new Uint8Array(8), new Uint8Array(8).fill(0xff), new Uint8Array(1));
    return null;
  } catch (error) {
    return `checkProofs threw on one proof: ${error.message.split('\n')[0]}`;
  }
}

/** Index of the first verdict that differs from `batch.expected`, or -1. Throws what the backend throws. */
export function firstWrongVerdict(backend, batch) {
  const verdicts = new Uint8Array(batch.count).fill(7); // neither 0 nor 1: a verdict left unwritten shows
  const returned = backend.checkProofs(batch.prefixes, batch.nonces, batch.thresholds, verdicts);
  if (returned !== verdicts) return 0;
  for (let i = 0; i < batch.count; i++) if (verdicts[i] !== batch.expected[i]) return i;
  return -1;
}

// ---------------------------------------------------------------- powgate pairs

/** The protocol's work message for sub-puzzle 0, hashed with node:crypto: its first 8 bytes, BE. */
function workValue(message, nonce) {
  message.writeBigUInt64BE(nonce, PREFIX_BYTES);
  return sha256(message).readBigUInt64BE(0);
}

/** The first nonce from `start` whose proof passes (`pass`) or fails (`!pass`) `threshold`. */
function findNonce(signature, threshold, pass, start) {
  const message = Buffer.alloc(MESSAGE_BYTES);
  LABEL.copy(message, 0);
  signature.copy(message, 4);
  message.writeUInt32BE(0, 36);
  for (let nonce = start; ; nonce = (nonce + 1n) & U64_MAX) {
    if (workValue(message, nonce) < threshold === pass) return nonce;
  }
}

/**
 * JSON texts of `{ challenge, solution }` pairs, each with its own fresh challenge
 * (one sub-puzzle, issued at `now`, an hour to live), of one kind:
 * - `valid`: difficulty 1, the lowest nonce from 0 that passes;
 * - `bad_solution`: difficulty {@link FLOOD_DIFFICULTY}, a random nonce that fails (valid signature);
 * - `bad_signature`: a valid pair whose signature is replaced by 32 random bytes (forged).
 */
export function pairTexts(powgate, { count, now, kind }) {
  const difficulty = kind === 'bad_solution' ? FLOOD_DIFFICULTY : 1;
  const texts = new Array(count);
  for (let i = 0; i < count; i++) {
    const challenge = powgate.createChallenge({ secret: SECRET, difficulty, ttlMs: TTL_MS, now });
    const signature = Buffer.from(challenge.signature, 'base64url');
    const threshold = BigInt(`0x${challenge.threshold}`);
    const nonce = kind === 'bad_solution' ? findNonce(signature, threshold, false, randomBytes(8).readBigUInt64BE(0)) : findNonce(signature, threshold, true, 0n);
    if (kind === 'bad_signature') challenge.signature = randomBytes(32).toString('base64url');
    const solution = { v: 1, id: challenge.id, nonces: [nonce.toString(16).padStart(16, '0')], elapsedMs: 0 };
    texts[i] = JSON.stringify({ challenge, solution });
  }
  return texts;
}

/** Plain objects, as a server has them after JSON.parse of each request body. */
export const parsePairs = (texts) => texts.map((text) => JSON.parse(text));

/** A copy of parsed pairs with item `index`'s signature altered in one character (still canonical base64url). */
export function tamperedCopy(texts, index) {
  const pairs = parsePairs(texts);
  const sig = pairs[index].challenge.signature;
  pairs[index].challenge.signature = `${sig.slice(0, 10)}${sig[10] === 'A' ? 'B' : 'A'}${sig.slice(11)}`;
  return pairs;
}

/** A store that accepts every id of one batch, on the bench's fixed clock. */
export const freshStore = (powgate, maxEntries, now) => new powgate.MemoryReplayStore({ maxEntries, now: () => now });

// ---------------------------------------------------------------- ALTCHA pairs

/**
 * ALTCHA's two ways to verify a v2 solution, each on challenges made the way it needs:
 * - `rederive`: a signed challenge; verifySolution checks the HMAC of the parameters
 *   (WebCrypto) and derives the key again (SHA-256, cost 1: one hash);
 * - `keySignature`: deterministic mode with `hmacKeySignatureSecret`; verifySolution checks
 *   the parameters' HMAC and the derived key's HMAC (two WebCrypto HMACs, no derivation).
 */
export const ALTCHA_PATHS = ['rederive', 'keySignature'];

function altchaKeys(path) {
  return { hmacSignatureSecret: ALTCHA_HMAC_KEY, ...(path === 'keySignature' ? { hmacKeySignatureSecret: ALTCHA_KEY_SIGNATURE_KEY } : {}) };
}

/**
 * `count` distinct solved ALTCHA pairs (SHA-256, cost 1, counter 0..15 so a solve is at
 * most 16 hashes), round-tripped through JSON like powgate's, each with the options object
 * its `verifySolution` takes (challenge, solution, keys, deriveKey).
 */
export async function altchaPairs(count, path) {
  const keys = altchaKeys(path);
  const expiresAt = new Date(Date.now() + TTL_MS);
  const out = new Array(count);
  for (let i = 0; i < count; i++) {
    const challenge = await altchaCreateChallenge({ algorithm: 'SHA-256', cost: 1, counter: i % 16, deriveKey: altchaDeriveKey, expiresAt, ...keys });
    const solution = await altchaSolveChallenge({ challenge, deriveKey: altchaDeriveKey });
    const pair = JSON.parse(JSON.stringify({ challenge, solution }));
    out[i] = { ...pair, ...keys, deriveKey: altchaDeriveKey };
  }
  return out;
}

/** ALTCHA's verdict on one pair: true when `verified`. */
export const altchaVerify = async (options) => (await altchaVerifySolution(options)).verified === true;

/** A copy of an ALTCHA pair with one character of its challenge signature altered. */
export function altchaTampered(pair) {
  const sig = pair.challenge.signature;
  return { ...pair, challenge: { ...pair.challenge, signature: `${sig[0] === 'a' ? 'b' : 'a'}${sig.slice(1)}` } };
}

// ---------------------------------------------------------------- timed cases

const cpuMicros = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

/**
 * Wraps a case's `run` so it adds up the wall time of its calls and the CPU time the whole
 * process (every thread) used during them: `cores` = CPU ÷ wall. A call on the main thread
 * alone gives about 1; a backend that hands work to other threads gives more.
 */
function metered(c) {
  const meter = { calls: 0, wallMicros: 0, cpuMicros: 0 };
  const inner = c.run;
  const record = (wallStart, cpuStart) => {
    meter.calls++;
    meter.wallMicros += (performance.now() - wallStart) * 1000;
    meter.cpuMicros += cpuMicros() - cpuStart;
  };
  const run = c.async
    ? async () => {
        const wall = performance.now();
        const cpu = cpuMicros();
        await inner();
        record(wall, cpu);
      }
    : () => {
        const wall = performance.now();
        const cpu = cpuMicros();
        inner();
        record(wall, cpu);
      };
  return {
    ...c,
    run,
    meter,
    resetMeter() {
      Object.assign(meter, { calls: 0, wallMicros: 0, cpuMicros: 0 });
    },
  };
}

/** `backend.checkProofs` on a fixed batch into a preallocated verdict buffer: the timed loop allocates nothing. */
export function proofCase(backend, batch) {
  const verdicts = new Uint8Array(batch.count);
  return metered({
    id: `${backendTag(backend)} checkProofs x${batch.count}`,
    kind: 'proofs',
    backend: backendTag(backend),
    isa: backend.isa,
    unitsPerCall: batch.count,
    async: false,
    run: () => {
      backend.checkProofs(batch.prefixes, batch.nonces, batch.thresholds, verdicts);
    },
  });
}

/**
 * `verifySolutions(pairs, { secret, store, now[, backend] })` with a fresh store per call,
 * so a batch of valid pairs is accepted ('spent') every time. `role` tells the report
 * which rows are targets and baselines.
 */
export function verifyBatchCase(powgate, { id, role, pairs, now, backend }) {
  return metered({
    id,
    kind: 'pairs',
    role,
    unitsPerCall: pairs.length,
    async: true,
    run: () => powgate.verifySolutions(pairs, { secret: SECRET, store: freshStore(powgate, pairs.length, now), now, ...(backend ? { backend } : {}) }),
  });
}

/** `verifySolution` awaited pair after pair, with a fresh store per call (per `pairs.length` pairs). */
export function oneByOneCase(powgate, { id, role, pairs, now, backend }) {
  return metered({
    id,
    kind: 'pairs',
    role,
    unitsPerCall: pairs.length,
    async: true,
    run: async () => {
      const options = { secret: SECRET, store: freshStore(powgate, pairs.length, now), now, ...(backend ? { backend } : {}) };
      for (const { challenge, solution } of pairs) await powgate.verifySolution(challenge, solution, options);
    },
  });
}

/** altcha-lib v2 `verifySolution`, awaited pair after pair. ALTCHA keeps no replay record. */
export function altchaCase(path, pairs) {
  return metered({
    id: `altcha-lib v2 verifySolution (${path === 'keySignature' ? 'key signature' : 're-derive'}) 1-by-1 x${pairs.length}`,
    kind: 'pairs',
    role: 'altcha',
    altchaPath: path,
    unitsPerCall: pairs.length,
    async: true,
    run: async () => {
      for (const options of pairs) await altchaVerifySolution(options);
    },
  });
}
