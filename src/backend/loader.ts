import { availableParallelism } from 'node:os';
import { PowgateError } from '../errors.js';
import { packageInfo } from '../package-info.js';
import { JsBackend } from './js.js';
import { NativeBackend, chooseIsa, loadNativeAddon } from './native.js';
import type { BackendName, NativeIsa, Sha256Backend } from './types.js';
import { WasmBackend } from './wasm.js';

const BACKENDS: readonly BackendName[] = ['native', 'wasm', 'js'];

/** What serves, as `backendInfo()` reports it. */
export interface BackendInfo {
  /** The backend that serves: `native` unless it cannot load (then `wasm`), or as forced by `POWGATE_BACKEND`. */
  backend: BackendName;
  /** The kernel: `avx512`, `shani`, `avx2` or `scalar` for native; `hash-wasm` or `node:crypto` otherwise. */
  isa: string;
  /** Threads available to solvers (`os.availableParallelism()`). */
  threads: number;
  /** powgate's version. */
  version: string;
  /** When the native backend was passed over: why. */
  nativeError?: string;
}

interface Choice {
  name: BackendName;
  isa: string;
  nativeError?: string;
  make: () => Promise<Sha256Backend>;
}

let choice: Choice | undefined;
let serving: Promise<Sha256Backend> | undefined;
let ready: Sha256Backend | undefined;

function forcedBackend(): BackendName | undefined {
  const forced = process.env.POWGATE_BACKEND;
  if (!forced) return undefined;
  if (!(BACKENDS as string[]).includes(forced)) {
    throw new PowgateError('ERR_INVALID_ENV', `expected one of ${BACKENDS.join(', ')} for POWGATE_BACKEND but received "${forced}"`);
  }
  return forced as BackendName;
}

function tryNative(isa?: NativeIsa): Choice {
  let native;
  try {
    native = loadNativeAddon();
  } catch (cause) {
    throw new PowgateError('ERR_BACKEND_UNAVAILABLE', `the native addon did not load: ${message(cause)}`, { cause });
  }
  const chosen = chooseIsa(native, isa);
  return { name: 'native', isa: chosen, make: async () => new NativeBackend(native, chosen) };
}

const WASM_CHOICE: Choice = { name: 'wasm', isa: 'hash-wasm', make: () => WasmBackend.create() };
const JS_CHOICE: Choice = { name: 'js', isa: 'node:crypto', make: async () => new JsBackend() };

/**
 * Decides once which backend serves: the forced one, or native with a fallback
 * to WebAssembly. A forced backend that cannot load is an error that lists
 * the attempt and what to do, never a silent fallback.
 */
function decide(): Choice {
  if (choice) return choice;
  const forced = forcedBackend();
  if (forced === 'js') return (choice = JS_CHOICE);
  if (forced === 'wasm') return (choice = WASM_CHOICE);
  try {
    return (choice = tryNative());
  } catch (error) {
    // A bad POWGATE_ISA is the programmer's to fix, never a reason to fall back.
    if (forced === 'native' || (error instanceof PowgateError && error.code !== 'ERR_BACKEND_UNAVAILABLE')) {
      throw unavailable('native', error, forced === 'native');
    }
    return (choice = { ...WASM_CHOICE, nativeError: message(error) });
  }
}

function unavailable(name: BackendName, cause: unknown, forced: boolean): PowgateError {
  if (cause instanceof PowgateError && cause.code !== 'ERR_BACKEND_UNAVAILABLE') return cause;
  const lines = [
    `powgate could not load the ${name} backend${forced ? ' (forced by POWGATE_BACKEND)' : ''}.`,
    'Attempts:',
    `  - ${name}: ${message(cause)}`,
    'What to do:',
    '  - rebuild the addon: `npm rebuild powgate` (needs python3, make and a C++17 compiler)',
    '  - or unset POWGATE_BACKEND, or set POWGATE_BACKEND=wasm, to use the WebAssembly backend',
  ];
  return new PowgateError('ERR_BACKEND_UNAVAILABLE', lines.join('\n'), { cause });
}

function message(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0]!;
}

/** The backend that serves this process, loaded on first call and then shared. */
export function getBackend(): Promise<Sha256Backend> {
  if (!serving) {
    const chosen = decide();
    serving = chosen.make();
    serving.then(
      (backend) => (ready = backend),
      () => (serving = undefined),
    );
  }
  return serving;
}

/** The serving backend once getBackend() has loaded it, else undefined: lets hot paths skip an await. */
export function readyBackend(): Sha256Backend | undefined {
  return ready;
}

/**
 * A specific backend, bypassing `POWGATE_BACKEND` (benchmarks, tests, tools);
 * for native, `isa` forces a kernel. Throws `ERR_BACKEND_UNAVAILABLE` or
 * `ERR_ISA_UNSUPPORTED` when it cannot serve.
 */
export async function loadBackend(name: BackendName, options: { isa?: NativeIsa } = {}): Promise<Sha256Backend> {
  if (!(BACKENDS as string[]).includes(name)) {
    throw new PowgateError('ERR_INVALID_ARGUMENT', `expected one of ${BACKENDS.join(', ')} for name but received "${String(name)}"`);
  }
  if (name === 'js') return JS_CHOICE.make();
  if (name === 'wasm') return WASM_CHOICE.make();
  try {
    return await tryNative(options.isa).make();
  } catch (error) {
    throw unavailable('native', error, false);
  }
}

/**
 * Which backend and kernel serve here, how many threads solvers may use and
 * powgate's version. Loads the native addon (synchronously) if not yet loaded.
 */
export function backendInfo(): BackendInfo {
  const chosen = decide();
  const info: BackendInfo = {
    backend: chosen.name,
    isa: chosen.isa,
    threads: availableParallelism(),
    version: packageInfo().version,
  };
  if (chosen.nativeError) info.nativeError = chosen.nativeError;
  return info;
}
