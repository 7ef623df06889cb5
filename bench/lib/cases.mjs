/**
 * Backends under test and the benchmark cases built on them. An *input* is a
 * fixed batch of messages plus the call that hashes it; a *case* is one input on
 * one backend, with its own output buffer so the timed loop allocates nothing.
 */

export const NATIVE_ISAS = ['scalar', 'shani', 'avx2', 'avx512'];
export const DIGEST_BYTES = 32;

/**
 * SHA-256 appends 0x80 and a 64-bit length, so an n-byte message takes this
 * many 64-byte block compressions: 40 B -> 1, 55 B -> 1, 56 B -> 2, 64 B -> 2.
 */
export function compressionsFor(bytes) {
  return Math.floor((bytes + 8) / 64) + 1;
}

/** Deterministic bytes (xorshift32) so every run hashes the same data. */
export function seededBytes(length, seed) {
  const bytes = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = x & 0xff;
  }
  return bytes;
}

/** Equal-length messages laid end to end, hashed with `hashUniform` (the SIMD fast path). */
export function uniformInput(messageBytes, batch) {
  const data = seededBytes(messageBytes * batch, messageBytes * 7919 + batch);
  return {
    key: `uniform/${messageBytes}B/x${batch}`,
    method: 'hashUniform',
    messages: `${messageBytes} B`,
    batch,
    compressions: batch * compressionsFor(messageBytes),
    hash: (backend, out) => backend.hashUniform(data, messageBytes, out),
  };
}

/** Messages of mixed lengths 0..maxBytes as an array, hashed with `hashBatch` (packing cost included). */
export function mixedInput(batch, maxBytes) {
  const lengths = seededBytes(batch, 0xbeef + batch).map((b) => b % (maxBytes + 1));
  const pool = seededBytes(maxBytes, 0xfeed);
  const messages = Array.from(lengths, (len, i) => pool.slice(0, len).map((b) => b ^ i));
  return {
    key: `batch/0-${maxBytes}B/x${batch}`,
    method: 'hashBatch',
    messages: `0..${maxBytes} B`,
    batch,
    compressions: messages.reduce((sum, m) => sum + compressionsFor(m.length), 0),
    hash: (backend, out) => backend.hashBatch(messages, out),
  };
}

/** `native/avx512`, `wasm`, `js`: how a backend is named in tables and ids. */
export function backendTag(backend) {
  return backend.name === 'native' ? `native/${backend.isa}` : backend.name;
}

/** One input on one backend; `run` is what benny times. */
export function makeCase(backend, input) {
  const out = new Uint8Array(DIGEST_BYTES * input.batch);
  return {
    id: `${backendTag(backend)} ${input.method} ${input.messages} x${input.batch}`,
    backend,
    input,
    run: () => {
      input.hash(backend, out);
    },
  };
}

/** Tries to load a backend; a failure becomes a `skipped` record with the reason. */
async function attempt(loadBackend, name, options, skipped) {
  try {
    return await loadBackend(name, options);
  } catch (error) {
    skipped.push({ backend: name, ...options, code: error.code ?? 'ERR_UNKNOWN', reason: error.message });
    return undefined;
  }
}

/**
 * Every native ISA this CPU and build can run, wasm and js, plus the ISA that
 * powgate picks by default (`best`). js is the oracle, so it must load.
 */
export async function loadBackends(loadBackend) {
  const skipped = [];
  const native = [];
  for (const isa of NATIVE_ISAS) {
    const backend = await attempt(loadBackend, 'native', { isa }, skipped);
    if (backend) native.push(backend);
  }
  const picked = native.length ? await attempt(loadBackend, 'native', {}, []) : undefined;
  const best = native.find((b) => b.isa === picked?.isa);
  const wasm = await attempt(loadBackend, 'wasm', {}, skipped);
  const js = await loadBackend('js');
  return { native, best, wasm, js, skipped };
}

/**
 * The benchmark matrix. Priority order: 40 B and 64 B uniform batches of 4096
 * on every backend, a 16384 batch on the best native ISA, then mixed-length
 * `hashBatch` on the best native ISA and js.
 */
export function buildCases({ native, best, wasm, js }) {
  const batch = 4096;
  const inputs = { u40: uniformInput(40, batch), u64: uniformInput(64, batch) };
  const all = [...native, wasm, js].filter(Boolean);
  const cases = all.flatMap((backend) => [makeCase(backend, inputs.u40), makeCase(backend, inputs.u64)]);
  if (best) cases.push(makeCase(best, uniformInput(40, 16384)));
  const mixed = mixedInput(batch, 100);
  for (const backend of [best, js].filter(Boolean)) cases.push(makeCase(backend, mixed));
  return cases;
}
