import { backendInfo } from '../backend/loader.js';
import type { Gate } from '../gate/gate.js';
import { packageInfo } from '../package-info.js';
import { MemoryReplayStore } from '../storage/memory.js';
import { RedisReplayStore } from '../storage/redis.js';
import { withoutPaths } from './public-error.js';

/** An error's whole message on one line: the loader's first line alone does not say what failed. */
export function oneLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error))
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .join(' ');
}

/** `log`, but each distinct line once: a client polling status must not flood the log. */
export function logOnce(log: (line: string) => void): (line: string) => void {
  const seen = new Set<string>();
  return (line) => {
    if (seen.has(line) || seen.size >= 16) return;
    seen.add(line);
    log(line);
  };
}

/**
 * Secret-free status: the gate's settings, and the backend (or why it cannot load, without
 * throwing). Load errors go to `log` whole and to the answer without file paths.
 */
export function statusOf(gate: Gate, log: (line: string) => void = () => {}): Record<string, unknown> {
  let backend: Record<string, unknown>;
  try {
    const info = backendInfo();
    backend = { ok: true, name: info.backend, isa: info.isa, threads: info.threads };
    if (info.nativeError) {
      log(`native addon not loaded: ${info.nativeError}`);
      backend.native_error = withoutPaths(info.nativeError);
    }
  } catch (error) {
    log(`backend unavailable: ${oneLine(error)}`);
    backend = { ok: false, error: withoutPaths(oneLine(error)) };
  }
  const d = gate.difficulty;
  return {
    version: packageInfo().version,
    backend,
    gate: {
      difficulty: { base: d.base, min: d.min, max: d.max, free_requests: d.freeRequests, window_ms: d.windowMs, bits_per_doubling: d.bitsPerDoubling },
      doors: gate.doors(),
      sub_puzzles: gate.subPuzzles,
      calls: gate.calls,
      max_calls: gate.maxCalls,
      challenge_ttl_ms: gate.challengeTtlMs,
      token_ttl_ms: gate.tokenTtlMs,
      fail_open: gate.failOpen,
      store: storeKind(gate.store),
      // Degraded when several instances serve one address: each accepts a solution once.
      replay_protection: storeKind(gate.store) === 'memory' ? 'per-instance' : 'shared',
      ...(gate.lightning ? { lightning: { backend: gate.lightning.backend.kind, sats_per_call: gate.lightning.satsPerCall, down: gate.lightning.down } } : {}),
      aperture_pow: gate.aperturePow,
      degraded: gate.degraded(),
    },
  };
}

/** By class name as well as instanceof: under require(), powgate and powgate/mcp may hold two copies of each class. */
function storeKind(store: Gate['store']): 'memory' | 'redis' | 'custom' {
  const name = (store as object).constructor?.name ?? '';
  if (store instanceof MemoryReplayStore || /^MemoryReplayStore\d*$/.test(name)) return 'memory';
  if (store instanceof RedisReplayStore || /^RedisReplayStore\d*$/.test(name)) return 'redis';
  return 'custom';
}
