// Every test suite runs once per backend leg: js, wasm and native with each
// kernel the CPU has. POWGATE_TEST_BACKENDS=native,wasm narrows the legs
// (the ASan run tests only native).
import { JsBackend } from '../../src/backend/js.js';
import { NATIVE_ISAS, NativeBackend, loadNativeAddon, supportedIsas } from '../../src/backend/native.js';
import type { Sha256Backend } from '../../src/backend/types.js';
import { WasmBackend } from '../../src/backend/wasm.js';

export interface BackendLeg {
  label: string;
  /** Why this leg cannot run here; printed in the suite name. */
  skip?: string;
  load: () => Promise<Sha256Backend>;
}

function wanted(name: string): boolean {
  const only = process.env.POWGATE_TEST_BACKENDS;
  return !only || only.split(',').includes(name);
}

function nativeLegs(): BackendLeg[] {
  let native;
  try {
    native = loadNativeAddon();
  } catch (error) {
    const why = `native addon did not load: ${(error as Error).message.split('\n')[0]}`;
    console.warn(`powgate tests: ${why}; the native leg is skipped`);
    return [{ label: 'native', skip: why, load: () => Promise.reject(new Error(why)) }];
  }
  const supported = supportedIsas(native);
  return NATIVE_ISAS.map((isa) => ({
    label: `native/${isa}`,
    ...(supported.includes(isa) ? {} : { skip: `this CPU lacks ${isa}` }),
    load: async () => new NativeBackend(native, isa),
  }));
}

export function backendLegs(): BackendLeg[] {
  const legs: BackendLeg[] = [];
  if (wanted('js')) legs.push({ label: 'js', load: async () => new JsBackend() });
  if (wanted('wasm')) legs.push({ label: 'wasm', load: () => WasmBackend.create() });
  if (wanted('native')) legs.push(...nativeLegs());
  return legs;
}

/** The suite title, with the reason when the leg is skipped. */
export function legTitle(leg: BackendLeg): string {
  return leg.skip ? `${leg.label} (skipped: ${leg.skip})` : leg.label;
}
