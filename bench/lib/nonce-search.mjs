/**
 * Nonce searchers over powgate's work message (docs/PROTOCOL.md): a 40-byte prefix and
 * a u64 big-endian nonce, 48 bytes, one SHA-256 block. A nonce qualifies when the
 * digest's first 8 bytes, read big-endian, are below the threshold `thHi * 2^32 + thLo`.
 *
 * Every synchronous searcher here keeps one contract, that of src/backend/nonce-range.ts:
 * `search(hi, lo, count, thHi, thLo)` returns the lowest qualifying low word in
 * `lo .. lo + count - 1` (with the high word `hi`), or -1.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { createSHA256 } from 'hash-wasm';

export const PREFIX_BYTES = 40;
export const MESSAGE_BYTES = 48;

/** Threshold 1: a try succeeds with probability 2^-64, so a search of N nonces is exactly N hashes. */
export const NEVER = { thHi: 0, thLo: 1 };

/** Kernel ids as the addon numbers them (native/cpu_features.h), in the order the rows list them. */
export const ISA_IDS = { scalar: 0, shani: 1, avx2: 2, avx512: 3 };

/** startSearch's final status codes. */
export const SEARCH_STATUS = ['found', 'cancelled', 'exhausted'];

/** A work prefix as the protocol builds it: `PGW1`, a 32-byte stand-in MAC from `label`, sub-puzzle 0. */
export function benchPrefix(label = 'powgate solve bench') {
  const prefix = Buffer.alloc(PREFIX_BYTES);
  prefix.write('PGW1', 0, 'latin1');
  createHash('sha256').update(label).digest().copy(prefix, 4);
  return new Uint8Array(prefix);
}

/** Whether a digest's first 8 bytes, big-endian, are below `thHi:thLo`. */
export function belowThreshold(digest, thHi, thLo) {
  const h0 = ((digest[0] << 24) | (digest[1] << 16) | (digest[2] << 8) | digest[3]) >>> 0;
  if (h0 !== thHi) return h0 < thHi;
  const h1 = ((digest[4] << 24) | (digest[5] << 16) | (digest[6] << 8) | digest[7]) >>> 0;
  return h1 < thLo;
}

/** A 48-byte message buffer holding `prefix`, with a setter for the nonce words. */
function messageFor(prefix) {
  const message = Buffer.alloc(MESSAGE_BYTES);
  message.set(prefix);
  return message;
}

/**
 * Baseline (a): one `createHash('sha256').update(msg).digest()` per nonce, the nonce
 * written into a Buffer.
 */
export function cryptoLoopSearcher(prefix) {
  const message = messageFor(prefix);
  return {
    name: 'node:crypto loop',
    search(hi, lo, count, thHi, thLo) {
      message.writeUInt32BE(hi, 40);
      for (let i = 0; i < count; i++) {
        message.writeUInt32BE(lo + i, 44);
        if (belowThreshold(createHash('sha256').update(message).digest(), thHi, thLo)) return lo + i;
      }
      return -1;
    },
  };
}

/** Baseline (b): hash-wasm's SHA-256 used naively, `init(); update(msg); digest('binary')` per nonce. */
export async function hashWasmLoopSearcher(prefix) {
  const hasher = await createSHA256();
  const message = messageFor(prefix);
  return {
    name: 'hash-wasm loop',
    search(hi, lo, count, thHi, thLo) {
      message.writeUInt32BE(hi, 40);
      for (let i = 0; i < count; i++) {
        message.writeUInt32BE(lo + i, 44);
        hasher.init();
        hasher.update(message);
        if (belowThreshold(hasher.digest('binary'), thHi, thLo)) return lo + i;
      }
      return -1;
    },
  };
}

const nodeGypBuild = createRequire(import.meta.url)('node-gyp-build');

/** The addon, found the way the package finds it (node-gyp-build on the repo root). */
export function loadAddon(repoRoot) {
  return nodeGypBuild(repoRoot);
}

/** Which addon binary was measured: its path, build time and SHA-256, so a figure is tied to a build. */
export function addonFacts(repoRoot) {
  const file = nodeGypBuild.resolve(repoRoot);
  return {
    path: path.relative(repoRoot, file),
    builtAt: statSync(file).mtime.toISOString(),
    sha256: createHash('sha256').update(readFileSync(file)).digest('hex'),
  };
}

/** The native ISAs this CPU runs, from the addon's cpuid check. */
export function nativeIsas(native) {
  const features = native.cpuFeatures();
  return Object.keys(ISA_IDS).filter((isa) => isa === 'scalar' || features[isa]);
}

/** The addon's synchronous one-thread kernel (`searchNonces`) for one ISA. */
export function nativeKernelSearcher(native, isa, prefix) {
  return {
    name: `native/${isa} searchNonces`,
    search: (hi, lo, count, thHi, thLo) => native.searchNonces(ISA_IDS[isa], prefix, hi, lo, count, thHi, thLo),
  };
}

/**
 * `native.startSearch` as a promise: `limit` nonces per sub-puzzle from nonce 0 on the
 * native solver threads. Resolves `{ status, hashes, nonce }` (nonce a bigint when found).
 * `tuning` ('intel' | 'zen') forces a kernel variant: the addon reads POWGATE_TUNING when
 * a search starts, so it is set only around the call.
 */
export function nativeSearch(native, isa, prefix, { thHi, thLo, threads, limit, tuning = null }) {
  return new Promise((resolve) => {
    const saved = process.env.POWGATE_TUNING;
    if (tuning) process.env.POWGATE_TUNING = tuning;
    try {
      native.startSearch(ISA_IDS[isa], prefix, thHi, thLo, threads, limit, (done, hashes, nonces, status) => {
        if (!done) return;
        const nonce = nonces?.length ? Buffer.from(nonces.buffer, nonces.byteOffset, 8).readBigUInt64BE(0) : null;
        resolve({ status: SEARCH_STATUS[status], hashes, nonce: status === 0 ? nonce : null });
      });
    } finally {
      if (tuning) {
        if (saved === undefined) delete process.env.POWGATE_TUNING;
        else process.env.POWGATE_TUNING = saved;
      }
    }
  });
}

/**
 * powgate's WebAssembly SIMD kernel. dist/ does not export it, so this reads the
 * generated src/backend/wasm-kernel.ts, checks the bytes against the SHA-256 in its
 * header, and calls the exports as src/backend/wasm-search.ts does.
 */
export async function wasmKernelSearcher(repoRoot, prefix) {
  const file = path.join(repoRoot, 'src', 'backend', 'wasm-kernel.ts');
  const source = readFileSync(file, 'utf8');
  const base64 = /WASM_KERNEL_BASE64\s*=\s*'([A-Za-z0-9+/=]+)'/.exec(source)?.[1];
  if (!base64) throw new Error(`no WASM_KERNEL_BASE64 string in ${file}`);
  const bytes = Buffer.from(base64, 'base64');
  const expected = /SHA-256 ([0-9a-f]{64})/.exec(source)?.[1];
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (expected && expected !== actual) throw new Error(`${file}: the kernel's SHA-256 is ${actual}, its header says ${expected}`);

  const { instance } = await WebAssembly.instantiate(bytes, {});
  const kernel = instance.exports;
  new Uint8Array(kernel.memory.buffer, kernel.prefix_ptr(), PREFIX_BYTES).set(prefix);
  kernel.set_prefix(); // rounds that depend on the prefix alone, once
  return {
    name: 'wasm kernel (ours)',
    bytes: bytes.length,
    sha256: actual,
    // The kernel takes the last nonce (inclusive), not a count; i32 arguments wrap as intended.
    search: (hi, lo, count, thHi, thLo) => (count === 0 ? -1 : kernel.search(hi, lo, lo + count - 1, thHi, thLo)),
  };
}
