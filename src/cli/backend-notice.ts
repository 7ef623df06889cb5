import { backendInfo } from '../backend/loader.js';
import type { Io } from './command.js';

/**
 * The one line a server shows at start when the WebAssembly backend serves instead of the native
 * addon: that it is slower, and why (the loader's reason, or POWGATE_BACKEND). Undefined when the
 * addon serves, or when the backend cannot be decided (the first use reports that error).
 */
export function wasmNotice(io: Pick<Io, 'env'>): string | undefined {
  let info;
  try {
    info = backendInfo();
  } catch {
    return undefined;
  }
  if (info.backend !== 'wasm') return undefined;
  const why = info.nativeError ?? `POWGATE_BACKEND=${io.env.POWGATE_BACKEND ?? 'wasm'}`;
  return `the WebAssembly backend (about 5x slower than the native addon) serves: ${why}`;
}
