/** Machine facts printed and saved with every set of figures, so a number is never read without its hardware. */
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** 1, 5 and 15 minute load averages, for the end-of-run record. */
export const loadAverage = () => os.loadavg();

/** The CPU flags that decide which SHA-256 kernels can run (plus `hypervisor`: figures from a VM are noisier). */
const RELEVANT_FLAGS = ['sha_ni', 'avx2', 'avx512f', 'avx512bw', 'avx512vl', 'hypervisor'];

/** /proc/cpuinfo split into one key/value map per logical CPU; empty off Linux. */
function readCpuinfo() {
  let text;
  try {
    text = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return [];
  }
  return text
    .split(/\n\s*\n/)
    .filter((block) => block.trim())
    .map((block) => Object.fromEntries(block.split('\n').map((line) => line.split(/\s*:\s*/, 2).map((s) => s.trim()))));
}

/** Distinct (socket, core) pairs; null when /proc/cpuinfo does not say. */
function physicalCores(cpus) {
  const ids = cpus.filter((c) => c['core id'] !== undefined).map((c) => `${c['physical id'] ?? 0}:${c['core id']}`);
  return ids.length ? new Set(ids).size : null;
}

/**
 * CPU model, core and thread counts, the ISA flags that matter here, the OS and
 * Node, and what powgate reports about itself.
 */
export function machineFacts({ backendInfo, version }) {
  const cpus = readCpuinfo();
  const flagSet = new Set((cpus[0]?.flags ?? '').split(/\s+/).filter(Boolean));
  return {
    cpuModel: cpus[0]?.['model name'] ?? os.cpus()[0]?.model ?? 'unknown',
    physicalCores: physicalCores(cpus),
    threads: os.availableParallelism(),
    isaFlags: Object.fromEntries(RELEVANT_FLAGS.map((f) => [f, cpus.length ? flagSet.has(f) : null])),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    // Other work on the box skews figures; the load before and after the run says if there was any.
    loadAverageAtStart: os.loadavg(),
    node: process.version,
    v8: process.versions.v8,
    powgateVersion: version,
    backendInfo,
  };
}

/** Human-readable lines for the header of the report. */
export function describeMachine(m) {
  const flags = Object.entries(m.isaFlags)
    .map(([flag, on]) => `${flag}${on === null ? '?' : on ? '+' : '-'}`)
    .join(' ');
  const info = m.backendInfo;
  return [
    `CPU       ${m.cpuModel}`,
    `cores     ${m.physicalCores ?? '?'} physical, ${m.threads} threads (os.availableParallelism)`,
    `ISA flags ${flags}`,
    `OS        ${m.os}, ${m.memoryGiB} GiB, load average ${m.loadAverageAtStart.map((l) => l.toFixed(2)).join(' ')}`,
    `Node      ${m.node} (V8 ${m.v8})`,
    `powgate   ${m.powgateVersion}; backendInfo: ${info.backend}/${info.isa}, ${info.threads} threads` +
      (info.nativeError ? `; native passed over: ${info.nativeError}` : ''),
  ];
}
