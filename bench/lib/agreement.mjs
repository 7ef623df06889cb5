/**
 * Before anything is timed, every implementation must give the node:crypto oracle's
 * answer. For hashing (bench/hash/hash.mjs): the same digests, on the timed inputs and on
 * padding-boundary lengths with a count that leaves a partial SIMD group. For solving
 * (bench/solve/solve.mjs): the same first qualifying nonce over the same ranges.
 * A fast wrong answer is not a result.
 */
import { createHash } from 'node:crypto';
import { mixedInput, uniformInput } from './cases.mjs';
import { NEVER, belowThreshold, nativeSearch } from './nonce-search.mjs';

/** Lengths around the one- and two-block padding boundaries (55/56, 64, 119/120). */
const EDGE_LENGTHS = [1, 31, 40, 55, 56, 63, 64, 65, 119, 120, 128, 200];
/** Not a multiple of 8 or 16, so AVX2/AVX-512 kernels run their tail path too. */
const EDGE_COUNT = 37;
/** SHA-256("abc"), FIPS 180-2 appendix B.1: checks the oracle itself. */
const ABC_DIGEST = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';

/** Index of the first differing 32-byte digest, or -1. */
function firstMismatch(actual, expected) {
  if (actual.length !== expected.length) return 0;
  for (let i = 0; i < expected.length; i += 32) {
    if (!Buffer.from(actual.subarray(i, i + 32)).equals(Buffer.from(expected.subarray(i, i + 32)))) return i / 32;
  }
  return -1;
}

/** The timed (backend, input) pairs plus edge inputs on every backend. */
function pairsToCheck(cases, backends) {
  const edges = [...EDGE_LENGTHS.map((len) => uniformInput(len, EDGE_COUNT)), mixedInput(EDGE_COUNT, 300)];
  return [...cases.map((c) => ({ backend: c.backend, input: c.input })), ...backends.flatMap((backend) => edges.map((input) => ({ backend, input })))];
}

/**
 * Compares every backend with `oracle` (js). Returns `{ checked, mismatches }`;
 * each mismatch names the backend, input and first differing message.
 */
export function checkAgreement({ cases, backends, oracle }) {
  const abc = Buffer.from(oracle.hashUniform(new TextEncoder().encode('abc'), 3)).toString('hex');
  const mismatches = abc === ABC_DIGEST ? [] : [{ backend: 'js', input: '"abc"', message: 0, error: `oracle gave ${abc}` }];
  const references = new Map();
  const pairs = pairsToCheck(cases, backends);
  for (const { backend, input } of pairs) {
    if (!references.has(input.key)) references.set(input.key, input.hash(oracle));
    let at;
    try {
      at = firstMismatch(input.hash(backend), references.get(input.key));
    } catch (error) {
      mismatches.push({ backend: `${backend.name}/${backend.isa}`, input: input.key, error: error.message });
      continue;
    }
    if (at >= 0) mismatches.push({ backend: `${backend.name}/${backend.isa}`, input: input.key, message: at });
  }
  return { checked: pairs.length + 1, mismatches };
}

/** An easy threshold for the nonce-search check: 2^-12 per try, so a few hits per 20000 nonces. */
export const EASY = { thHi: 1 << 20, thLo: 0 };

/**
 * Ranges for the nonce-search check: from nonce 0 (where startSearch begins), a high word
 * of 1, one that ends at the top of the low word (with a high word above 2^31, which the
 * wasm kernel takes as a negative i32), and a range of 37 nonces (a partial SIMD group)
 * with the never-met threshold the timed runs use.
 */
export const SEARCH_RANGES = [
  { hi: 0, lo: 0, count: 20000, ...EASY },
  { hi: 1, lo: 12345, count: 20001, ...EASY },
  { hi: 0xfedcba98, lo: 2 ** 32 - 20000, count: 20000, ...EASY },
  { hi: 7, lo: 1000, count: 37, ...NEVER },
];

const describeRange = (r) => `hi ${r.hi}, lo ${r.lo}, ${r.count} nonces, threshold ${r.thHi}:${r.thLo}`;

/**
 * Every synchronous searcher must return the oracle's first qualifying nonce on every
 * range. Returns `{ checked, expected, mismatches }`; `expected` holds the oracle's answers,
 * and a run where the oracle finds nothing on the easy ranges counts as a mismatch (the
 * check would then prove little).
 */
export function checkSearchAgreement({ searchers, oracle, ranges = SEARCH_RANGES }) {
  const mismatches = [];
  const expected = ranges.map((r) => ({ range: r, first: oracle.search(r.hi, r.lo, r.count, r.thHi, r.thLo) }));
  if (!expected.some((e) => e.first >= 0)) mismatches.push({ searcher: oracle.name, range: 'all', error: 'no hit anywhere' });
  for (const searcher of searchers) {
    for (const { range, first } of expected) {
      let got;
      try {
        got = searcher.search(range.hi, range.lo, range.count, range.thHi, range.thLo);
      } catch (error) {
        got = `threw ${error.message}`;
      }
      if (got !== first) mismatches.push({ searcher: searcher.name, range: describeRange(range), expected: first, got });
    }
  }
  return { checked: searchers.length * ranges.length, expected, mismatches };
}

/** Whether nonce `nonce` (a bigint) meets `thHi:thLo` for `prefix`, by node:crypto. */
function nonceQualifies(prefix, nonce, { thHi, thLo }) {
  const message = Buffer.alloc(48);
  message.set(prefix);
  message.writeBigUInt64BE(nonce, 40);
  return belowThreshold(createHash('sha256').update(message).digest(), thHi, thLo);
}

/**
 * The timed entry point, `native.startSearch`, for each ISA. Fatal (`mismatches`): on one
 * thread it must find `first`, the oracle's lowest nonce in `range` (which starts at nonce
 * 0, as startSearch does); on `threads` threads with a limit of 2^20 it must find a nonce
 * that qualifies; with the never-met threshold it must end `exhausted` after exactly `limit`
 * hashes, which is what the throughput rows count on. Reported but not fatal (`defects`):
 * on `threads` threads with the limit equal to `range.count`, it must not call the range
 * exhausted, since `first` is in it. The timed calls never have a hit, so such a defect
 * does not touch their figures.
 */
export async function checkNativeSearch({ native, isas, prefix, range, first, threads, limit = 3 * 2 ** 15 + 5 }) {
  const mismatches = [];
  const defects = [];
  let checked = 0;
  const expect = (into, isa, what, ok, detail) => {
    checked++;
    const got = typeof detail.got === 'bigint' ? String(detail.got) : detail.got; // JSON has no bigint
    if (!ok) into.push({ searcher: `native/${isa} startSearch on ${what}`, range: describeRange(range), ...detail, got });
  };
  const search = (isa, n, options) => nativeSearch(native, isa, prefix, { threads: n, ...options });
  const qualifies = (r, below) => r.status === 'found' && r.nonce < BigInt(below) && nonceQualifies(prefix, r.nonce, range);
  for (const isa of isas) {
    const one = await search(isa, 1, { ...range, limit: range.count });
    expect(mismatches, isa, '1 thread', one.nonce === BigInt(first), { expected: first, got: one.nonce, status: one.status });
    const wide = await search(isa, threads, { ...range, limit: 2 ** 20 });
    expect(mismatches, isa, `${threads} threads, limit 2^20`, qualifies(wide, 2 ** 20), { expected: 'a qualifying nonce', got: wide.nonce, status: wide.status });
    const none = await search(isa, threads, { ...NEVER, limit });
    expect(mismatches, isa, `${threads} threads, never-met threshold, limit ${limit}`, none.status === 'exhausted' && none.hashes === limit, {
      expected: `exhausted after ${limit} hashes`,
      got: `${none.status} after ${none.hashes} hashes`,
    });
    const exact = await search(isa, threads, { ...range, limit: range.count });
    expect(defects, isa, `${threads} threads, limit ${range.count}`, qualifies(exact, range.count), {
      expected: `a qualifying nonce (the lowest is ${first})`,
      got: exact.nonce,
      status: exact.status,
    });
  }
  return { checked, mismatches, defects };
}
