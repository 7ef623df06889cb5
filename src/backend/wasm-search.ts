import { WORK_PREFIX_BYTES } from '../wire.js';
import { checkPrefix, checkRange, type NonceRangeSearcher } from './nonce-range.js';
import { WASM_KERNEL_BASE64 } from './wasm-kernel.js';

// The kernel's exports (wasm/sha256_search.c).
interface KernelExports {
  readonly memory: { readonly buffer: ArrayBuffer };
  prefix_ptr(): number;
  set_prefix(): void;
  search(hi: number, lo: number, last: number, thresholdHi: number, thresholdLo: number): number;
}

// @types/node 20 declares no WebAssembly namespace (and the project's lib has no DOM), so
// type the few calls used here locally instead of declaring globals for everyone.
interface WasmApi {
  compile(bytes: Uint8Array): Promise<object>;
  instantiate(module: object, imports: object): Promise<{ readonly exports: object }>;
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

// Compiled once per thread (module-level); each searcher gets its own instance, so its own memory.
let compiled: Promise<object> | undefined;

/** The kernel module (wasm/sha256_search.c and sha256_check.c), compiled once per thread. */
function kernelModule(): Promise<object> {
  compiled ??= wasmApi.compile(Buffer.from(WASM_KERNEL_BASE64, 'base64')).catch((error: unknown) => {
    compiled = undefined; // let a later call retry rather than cache the failure
    throw error;
  });
  return compiled;
}

/** A new instance of the kernel (own memory, no imports); returns its exports. */
export async function instantiateKernel(): Promise<object> {
  return (await wasmApi.instantiate(await kernelModule(), {})).exports;
}

/**
 * Searches nonces of one 48-byte work message with powgate's own WebAssembly SIMD kernel
 * (4 nonces per instruction, rounds shared by all nonces computed once per call).
 * Not thread-safe: one searcher per thread, like the instance it wraps.
 */
export class WasmNonceSearcher implements NonceRangeSearcher {
  private readonly prefixView: Uint8Array;

  private constructor(private readonly kernel: KernelExports) {
    // Memory is fixed-size (never grows), so this view stays valid.
    this.prefixView = new Uint8Array(kernel.memory.buffer, kernel.prefix_ptr(), WORK_PREFIX_BYTES);
    kernel.set_prefix(); // 40 zero bytes until setPrefix() is called
  }

  /** Compiles (once per process, cached) and instantiates the kernel. */
  static async create(): Promise<WasmNonceSearcher> {
    return new WasmNonceSearcher((await instantiateKernel()) as KernelExports);
  }

  setPrefix(prefix: Uint8Array): void {
    this.prefixView.set(checkPrefix(prefix));
    this.kernel.set_prefix(); // hashes rounds 0..9, which depend on the prefix alone
  }

  search(hi: number, lo: number, count: number, thresholdHi: number, thresholdLo: number): number {
    checkRange(hi, lo, count, thresholdHi, thresholdLo);
    if (count === 0) return -1;
    // The kernel takes the last nonce rather than a count, which may be 2^32 (not a u32).
    // Arguments are passed as i32: values >= 2^31 wrap to the same bits, as intended.
    return this.kernel.search(hi, lo, lo + count - 1, thresholdHi, thresholdLo);
  }
}
