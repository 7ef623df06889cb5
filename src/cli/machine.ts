import { readFileSync } from 'node:fs';
import os from 'node:os';
import { backendInfo, type BackendInfo } from '../backend/loader.js';
import { loadNativeAddon, supportedIsas } from '../backend/native.js';
import type { NativeIsa } from '../backend/types.js';

/** What a figure means depends on the hardware it was measured on: printed and saved with every figure. */
export interface MachineFacts {
  cpuModel: string;
  /** os.availableParallelism(): what solvers use by default. */
  threads: number;
  /** The native kernels this CPU can run, fastest first; empty when the addon does not load. */
  nativeIsas: NativeIsa[];
  /** Whether the kernel runs under a hypervisor (figures from a VM are noisier). */
  virtualMachine: boolean | null;
  os: string;
  node: string;
  /** What serves: backend, kernel (the ISA in use), threads, version. */
  serving: BackendInfo;
}

export function machineFacts(): MachineFacts {
  let nativeIsas: NativeIsa[] = [];
  try {
    nativeIsas = supportedIsas(loadNativeAddon());
  } catch {
    // No addon: the wasm backend serves, and backendInfo() says why.
  }
  return {
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    threads: os.availableParallelism(),
    nativeIsas,
    virtualMachine: cpuFlags()?.includes('hypervisor') ?? null,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    serving: backendInfo(),
  };
}

function cpuFlags(): string[] | undefined {
  try {
    return /^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim().split(/\s+/);
  } catch {
    return undefined;
  }
}

/** The facts as header lines. */
export function describeMachine(m: MachineFacts): string[] {
  return [
    `CPU      ${m.cpuModel}${m.virtualMachine ? ' (virtual machine)' : ''}, ${m.threads} threads`,
    `kernels  ${m.nativeIsas.length ? m.nativeIsas.join(', ') : 'no native addon'}; serving: ${m.serving.backend}/${m.serving.isa}`,
    `Node     ${m.node} on ${m.os}`,
  ];
}
