// Degraded is labelled (issue 15): a fail-open pass during a store outage, a Lightning node that
// failed, per-instance replay protection and proofs checked by WASM instead of the addon are each
// said in the response (Powgate-Degraded), in status, and counted; a normal gate says nothing.
import { createServer } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Gate, type GateOptions } from '../src/gate/gate.js';
import { HttpMetrics } from '../src/http/metrics.js';
import { powgateMiddleware } from '../src/http/index.js';
import { PowgateService } from '../src/http/service.js';
import { LndRestBackend } from '../src/lightning/index.js';
import { MemoryReplayStore } from '../src/storage/memory.js';
import type { ReplayStore } from '../src/storage/types.js';
import { solve } from '../src/solver/solve.js';
import { close, listen, post, request, startServe } from './helpers/http.js';
import { startStandInNode, type StandInNode } from './helpers/lightning-node.js';
import { sample } from './helpers/metrics.js';
import { SECRET } from './helpers/protocol.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((f) => f()));
});

let node: StandInNode;
beforeAll(async () => {
  node = await startStandInNode();
});
afterAll(() => node.close());

/** A store in front of a memory one that can go down: then it answers store_unavailable (as Redis does). */
class FlakyStore implements ReplayStore {
  down = false;
  readonly #inner = new MemoryReplayStore();
  async spend(id: string, expiresAt: number) {
    return this.down ? ('store_unavailable' as const) : this.#inner.spend(id, expiresAt);
  }
  async spendMany(entries: Parameters<ReplayStore['spendMany']>[0]) {
    return this.down ? entries.map(() => 'store_unavailable' as const) : this.#inner.spendMany(entries);
  }
  async spendCall(id: string, calls: number, expiresAt: number) {
    return this.down ? { ok: false as const, reason: 'store_unavailable' as const } : this.#inner.spendCall(id, calls, expiresAt);
  }
  async close() {}
}

async function app(options: Partial<GateOptions>) {
  const gate = new Gate({ secret: SECRET, difficulty: 4, calls: 5, ...options });
  const metrics = new HttpMetrics({ defaultMetrics: false, cacheMs: 0 });
  const service = new PowgateService(gate, { metrics, metricsAccess: 'public' });
  const gated = powgateMiddleware(gate, { metrics });
  const server = createServer((req, res) => {
    if (req.url === '/work') return gated(req, res, () => res.end('done'));
    service.handle(req, res);
  });
  const url = await listen(server);
  cleanups.push(
    () => close(server),
    () => gate.close(),
  );
  return { url, gate, metrics };
}

async function tokenFrom(url: string): Promise<string> {
  const { challenge } = (await post(url, '/api/challenge', {})).json;
  return (await post(url, '/api/verify', { challenge, solution: await solve(challenge, { threads: 1 }) })).json.token;
}

describe('degraded, labelled', () => {
  it('a gate on a shared store with the addon serves plainly: no header, nothing degraded', async () => {
    const { url, gate } = await app({ store: new FlakyStore() });
    if (gate.status().backend !== 'native') return; // the addon is built on this machine; the WASM case is below
    const status = await request(url, '/api/status');
    expect(status.json.degraded).toEqual([]);
    expect(status.headers['powgate-degraded']).toBeUndefined();
    const metrics = (await request(url, '/metrics')).text;
    expect(sample(metrics, 'powgate_degraded{what="fail_open"}')).toBe(0);
    expect(sample(metrics, 'powgate_degraded{what="replay_per_instance"}')).toBe(0);
  });

  it('fail open during a store outage: the pass says fail_open, status lists it, metrics count it', async () => {
    const store = new FlakyStore();
    const { url } = await app({ store, failOpen: true });
    const token = await tokenFrom(url);
    store.down = true;
    const passed = await request(url, '/work', { headers: { authorization: `Bearer ${token}` } });
    expect(passed.status).toBe(200);
    expect(passed.headers['powgate-degraded']).toContain('fail_open');
    expect(passed.headers['powgate-calls-remaining']).toBe('');
    expect((await request(url, '/api/status')).json.degraded).toContain('fail_open');
    const text = (await request(url, '/metrics')).text;
    expect(sample(text, 'powgate_degraded_events_total{what="fail_open",channel="api"}')).toBe(1);
    expect(sample(text, 'powgate_degraded{what="fail_open"}')).toBe(1);
  });

  it('a memory store: replay protection per instance, said on every answer and in status', async () => {
    const { url } = await app({});
    const refused = await request(url, '/work');
    expect([refused.status, refused.headers['powgate-degraded']]).toEqual([402, expect.stringContaining('replay_per_instance')]);
    expect((await request(url, '/api/status')).json.degraded).toContain('replay_per_instance');
    expect(sample((await request(url, '/metrics')).text, 'powgate_degraded{what="replay_per_instance"}')).toBe(1);
  });

  it('Lightning down: the refusal offers work only, says lightning_unavailable, and it is counted', async () => {
    node.setMode('down');
    cleanups.push(() => node.setMode('up'));
    const { url } = await app({ store: new FlakyStore(), lightning: { backend: new LndRestBackend({ url: node.url, macaroon: node.lndMacaroonHex }), satsPerCall: 2 } });
    const refused = await request(url, '/work');
    expect(refused.status).toBe(402);
    expect(refused.json.cause.unavailable).toEqual([expect.objectContaining({ method: 'l402', reason: 'lightning_unavailable' })]);
    expect(refused.headers['powgate-degraded']).toContain('lightning_unavailable');
    const text = (await request(url, '/metrics')).text;
    expect(sample(text, 'powgate_degraded_events_total{what="lightning_unavailable",channel="api"}')).toBe(1);
    expect(sample(text, 'powgate_degraded{what="lightning_unavailable"}')).toBe(1);
  });

  it('powgate serve on WASM (POWGATE_BACKEND=wasm): /api/status and every answer say backend_wasm', async () => {
    const served = await startServe(['--difficulty', '4'], { POWGATE_BACKEND: 'wasm' });
    cleanups.push(() => served.stop());
    const status = await request(served.url, '/api/status');
    expect(status.json.backend).toBe('wasm');
    expect(status.json.degraded).toEqual(['backend_wasm', 'replay_per_instance']);
    expect(status.headers['powgate-degraded']).toBe('backend_wasm, replay_per_instance');
    expect(await served.stop()).toBe(0);
  });
});
