/** Machine facts printed and saved with every set of figures, so a number is never read without its hardware. */
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** 1, 5 and 15 minute load averages, for the end-of-run record. */
export const loadAverage = () => os.loadavg();

/** Other processes plus hypervisor steal taking more than this many cores make figures suspect: the benches say so. */
export const BUSY_CORES_WARNING = 0.25;

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
    // A model name such as 'AMD EPYC' does not tell Zen 3 from Zen 5: the family and model do.
    cpuFamily: cpus[0]?.['cpu family'] ?? null,
    cpuModelNumber: cpus[0]?.model ?? null,
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
    `CPU       ${m.cpuModel}${m.cpuFamily === null ? '' : ` (family ${m.cpuFamily}, model ${m.cpuModelNumber})`}`,
    `cores     ${m.physicalCores ?? '?'} physical, ${m.threads} threads (os.availableParallelism)`,
    `ISA flags ${flags}`,
    `OS        ${m.os}, ${m.memoryGiB} GiB, load average ${m.loadAverageAtStart.map((l) => l.toFixed(2)).join(' ')}`,
    `Node      ${m.node} (V8 ${m.v8})`,
    `powgate   ${m.powgateVersion}; backendInfo: ${info.backend}/${info.isa}, ${info.threads} threads${info.nativeError ? `; native passed over: ${info.nativeError}` : ''}`,
  ];
}

/**
 * The machine-wide CPU counters of /proc/stat (all CPUs, in clock ticks) and this
 * process's own CPU time, at one instant. `system` is null off Linux.
 */
export function cpuSnapshot() {
  let system = null;
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, sys, _idle, _iowait, irq, softirq, steal = 0] = fields;
    // guest time is already inside user; idle, iowait and steal are time the guest did not run.
    system = { busy: user + nice + sys + irq + softirq, steal, total: fields.slice(0, 8).reduce((a, b) => a + (b || 0), 0) };
  } catch {
    // not Linux: only the process's own figures
  }
  const own = process.cpuUsage();
  return { at: performance.now(), system, ownMicros: own.user + own.system };
}

/**
 * CPU use between two snapshots, in cores (1 = one core fully busy): everything, this
 * process (with its native and worker threads), everyone else, and the hypervisor's
 * steal. `others` is what matters: another process running beside a bench halves
 * the figures on a 2-core machine. Fields are null off Linux.
 */
export function cpuLoadBetween(a, b) {
  const seconds = (b.at - a.at) / 1000;
  const own = (b.ownMicros - a.ownMicros) / 1e6 / seconds;
  if (!a.system || !b.system || b.system.total === a.system.total) return { seconds, own, all: null, others: null, steal: null };
  const cores = os.availableParallelism();
  const share = (field) => ((b.system[field] - a.system[field]) / (b.system.total - a.system.total)) * cores;
  const all = share('busy');
  return { seconds, own, all, others: Math.max(0, all - own), steal: share('steal') };
}

/** CPU use over the next `ms` milliseconds while this process sleeps (see {@link cpuLoadBetween}). */
export async function sampleCpuLoad(ms = 1000) {
  const start = cpuSnapshot();
  await new Promise((resolve) => setTimeout(resolve, ms));
  return cpuLoadBetween(start, cpuSnapshot());
}

/**
 * Samples until other processes and steal take less than {@link BUSY_CORES_WARNING} cores,
 * for at most `maxSeconds`. Returns the last sample and how long it waited.
 */
export async function waitForIdle(maxSeconds, log = console.log) {
  const started = performance.now();
  let load = await sampleCpuLoad();
  const busy = (l) => l.others !== null && l.others + l.steal >= BUSY_CORES_WARNING;
  while (busy(load) && performance.now() - started < maxSeconds * 1000) {
    log(`waiting for the machine to go idle: ${describeCpuLoad(load)}`);
    await new Promise((resolve) => setTimeout(resolve, 4000));
    load = await sampleCpuLoad();
  }
  return { load, waitedSeconds: (performance.now() - started) / 1000 };
}

/**
 * A warning line when other processes, or the hypervisor (steal: this VM's vCPUs wanted
 * to run and were not scheduled), took enough CPU to skew the figures; else null.
 */
export function busyWarning(load, when) {
  if (load?.others === null || load?.others === undefined) return null;
  if (load.others + load.steal < BUSY_CORES_WARNING) return null;
  return (
    `WARNING: other processes used ${load.others.toFixed(2)} cores and the hypervisor stole ${load.steal.toFixed(2)} ${when}; ` +
    'figures are suspect (on a 2-core VM a neighbour halves them)'
  );
}

/** One line: CPU use by others, by this process and stolen by the hypervisor. */
export function describeCpuLoad(load) {
  if (load.others === null) return `own ${load.own.toFixed(2)} cores (no /proc/stat: other processes unknown)`;
  return `others ${load.others.toFixed(2)} cores, own ${load.own.toFixed(2)}, steal ${load.steal.toFixed(2)} (over ${load.seconds.toFixed(1)} s)`;
}

/**
 * Before timing: samples the CPU for a second (waiting up to `waitIdleSeconds` for other
 * processes to go quiet), prints what it saw and a warning when the machine is busy.
 */
export async function checkIdle(waitIdleSeconds) {
  const { load, waitedSeconds } = await waitForIdle(waitIdleSeconds);
  console.log(`cpu       ${describeCpuLoad(load)}${waitedSeconds > 2 ? `, after waiting ${waitedSeconds.toFixed(0)} s` : ''}`);
  const warning = busyWarning(load, 'before the run');
  if (warning) console.log(warning);
  return load;
}

/** Warning lines for the rounds during which other processes were busy. */
export function roundWarnings(roundLoads) {
  return roundLoads.map((load, i) => busyWarning(load, `during round ${i + 1}`)).filter(Boolean);
}
