/**
 * Before anything is timed, every implementation must produce the same digests
 * as the node:crypto oracle, on the timed inputs and on padding-boundary lengths
 * with a count that leaves a partial SIMD group. A fast wrong answer is not a result.
 */
import { mixedInput, uniformInput } from './cases.mjs';

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
