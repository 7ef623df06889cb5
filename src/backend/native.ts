import { createRequire } from 'node:module';
import path from 'node:path';
import { PowgateError } from '../errors.js';
import { packageInfo } from '../package-info.js';
import { BatchHasher } from './batch.js';
import type { MacKey } from './mac-key.js';
import { checkPrefix, checkRange, type NonceRangeSearcher } from './nonce-range.js';
import { nativeSearchEngine } from './native-search-engine.js';
import type { SearchEngine } from './search-engine.js';
import type { NativeIsa, PackChallenges } from './types.js';

/** What the C++ addon exports (native/*_binding.cc). */
export interface NativeAddon {
  /** `tuning`: which variant of the nonce kernels serves (`POWGATE_TUNING`, else by cpuid vendor and family). */
  cpuFeatures(): { shani: boolean; avx2: boolean; avx512: boolean; best: number; tuning: NativeTuning };
  hashOffsets(isa: number, data: Uint8Array, offsets: Uint32Array, out: Uint8Array): void;
  hashUniform(isa: number, data: Uint8Array, messageLength: number, out: Uint8Array): void;
  checkProofs(isa: number, prefixes: Uint8Array, nonces: Uint8Array, thresholds: Uint8Array, verdicts: Uint8Array): void;
  /** `pads`: 16 words a key (see MacKey), keys in order. */
  checkMacs(isa: number, pads: Uint32Array, keyIndexes: Uint8Array, data: Uint8Array, messageLength: number, macs: Uint8Array, verdicts: Uint8Array): void;
  /** Searches nonces on the native solver threads; `onEvent` gets progress (done = 0) and then the end (done = 1). */
  startSearch(
    isa: number,
    prefixes: Uint8Array,
    thresholdHi: number,
    thresholdLo: number,
    threads: number,
    limit: number,
    onEvent: (done: number, hashes: number, nonces: Uint8Array | undefined, status: number) => void,
  ): object;
  cancelSearch(handle: object): void;
  packChallenges: PackChallenges;
  /**
   * The lowest low word in lo .. lo + count - 1 meeting the threshold, or -1 (one thread, synchronous).
   * `tuning` (TUNING_IDS) picks a kernel variant; absent, the addon's choice.
   */
  searchNonces(isa: number, prefix: Uint8Array, hi: number, lo: number, count: number, thresholdHi: number, thresholdLo: number, tuning?: number): number;
}

/**
 * The nonce kernels come in variants tuned per microarchitecture (native/cpu_features.h):
 * they differ for SHA-NI and AVX-512, and each must keep the same contract.
 */
export type NativeTuning = 'intel' | 'zen';
const TUNING_IDS: Record<NativeTuning, number> = { intel: 0, zen: 1 };
export const NATIVE_TUNINGS = Object.keys(TUNING_IDS) as NativeTuning[];

/** Kernel ids as the addon numbers them (native/cpu_features.h). */
export const ISA_IDS: Record<NativeIsa, number> = { scalar: 0, shani: 1, avx2: 2, avx512: 3 };
export const NATIVE_ISAS = Object.keys(ISA_IDS) as NativeIsa[];

let addon: NativeAddon | undefined;

/**
 * Loads the addon on first use, never at import time: from `POWGATE_NATIVE_PATH`
 * when set (the ASan build, tests), else wherever node-gyp-build finds it.
 * Throws the loader's own error, which the caller chains.
 */
export function loadNativeAddon(): NativeAddon {
  if (addon) return addon;
  const require = createRequire(__filename);
  const explicit = process.env.POWGATE_NATIVE_PATH;
  addon = explicit ? (require(path.resolve(explicit)) as NativeAddon) : (require('node-gyp-build') as (dir: string) => NativeAddon)(packageInfo().root);
  return addon;
}

/** The kernels this CPU can run, fastest batch kernel first. */
export function supportedIsas(native: NativeAddon): NativeIsa[] {
  const f = native.cpuFeatures();
  const order: NativeIsa[] = ['avx512', 'shani', 'avx2', 'scalar'];
  return order.filter((isa) => isa === 'scalar' || f[isa]);
}

/** `POWGATE_ISA` when set (checked), else the CPU's best kernel. */
export function chooseIsa(native: NativeAddon, requested = process.env.POWGATE_ISA || undefined): NativeIsa {
  const supported = supportedIsas(native);
  if (requested === undefined) return supported[0]!;
  if (!(NATIVE_ISAS as string[]).includes(requested)) {
    throw new PowgateError('ERR_INVALID_ENV', `expected one of ${NATIVE_ISAS.join(', ')} for POWGATE_ISA but received "${requested}"`);
  }
  if (!supported.includes(requested as NativeIsa)) {
    throw new PowgateError('ERR_ISA_UNSUPPORTED', `POWGATE_ISA=${requested} was requested but this build, on this CPU (and its OS), runs only ${supported.join(', ')}`);
  }
  return requested as NativeIsa;
}

/** The C++ kernels: one synchronous N-API call per batch. */
export class NativeBackend extends BatchHasher {
  readonly name = 'native' as const;
  private readonly isaId: number;
  /** The addon's packer, for verifySolutions' fast path. */
  readonly packChallenges: PackChallenges;

  constructor(
    private readonly native: NativeAddon,
    readonly isa: NativeIsa,
  ) {
    super();
    this.isaId = ISA_IDS[isa];
    this.packChallenges = native.packChallenges.bind(native);
  }

  createSearchEngine(): SearchEngine {
    return nativeSearchEngine(this.native, this.isaId);
  }

  protected hashOffsetsUnchecked(data: Uint8Array, offsets: Uint32Array, out: Uint8Array): void {
    this.native.hashOffsets(this.isaId, data, offsets, out);
  }

  protected hashUniformUnchecked(data: Uint8Array, messageLength: number, out: Uint8Array): void {
    this.native.hashUniform(this.isaId, data, messageLength, out);
  }

  protected checkProofsUnchecked(prefixes: Uint8Array, nonces: Uint8Array, thresholds: Uint8Array, verdicts: Uint8Array): void {
    this.native.checkProofs(this.isaId, prefixes, nonces, thresholds, verdicts);
  }

  protected checkMacsUnchecked(keys: readonly MacKey[], keyIndexes: Uint8Array, data: Uint8Array, messageLength: number, macs: Uint8Array, verdicts: Uint8Array): void {
    this.native.checkMacs(this.isaId, packedPads(keys), keyIndexes, data, messageLength, macs, verdicts);
  }
}

// Key lists are long-lived (a key ring's, frozen), so their pads are packed once per
// list, and repacked if an unfrozen list's entries were replaced.
const packed = new WeakMap<readonly MacKey[], { keys: MacKey[]; pads: Uint32Array }>();

function packedPads(keys: readonly MacKey[]): Uint32Array {
  let entry = packed.get(keys);
  if (!entry || (!Object.isFrozen(keys) && (entry.keys.length !== keys.length || entry.keys.some((key, i) => key !== keys[i])))) {
    const pads = new Uint32Array(16 * keys.length);
    keys.forEach((key, i) => pads.set(key.pads, 16 * i));
    entry = { keys: [...keys], pads };
    packed.set(keys, entry);
  }
  return entry.pads;
}

/** A native kernel on this thread, synchronously: the kernels' contract, for tests and tools. */
export class NativeNonceSearcher implements NonceRangeSearcher {
  private prefix = new Uint8Array(40);

  /** `tuning`: force a kernel variant; absent, the addon's choice. */
  constructor(
    private readonly native: NativeAddon,
    readonly isa: NativeIsa,
    readonly tuning?: NativeTuning,
  ) {}

  setPrefix(prefix: Uint8Array): void {
    this.prefix = Uint8Array.from(checkPrefix(prefix));
  }

  search(hi: number, lo: number, count: number, thresholdHi: number, thresholdLo: number): number {
    checkRange(hi, lo, count, thresholdHi, thresholdLo);
    const tuning = this.tuning === undefined ? undefined : TUNING_IDS[this.tuning];
    return this.native.searchNonces(ISA_IDS[this.isa], this.prefix, hi, lo, count, thresholdHi, thresholdLo, tuning);
  }
}
