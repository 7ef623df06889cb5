// /metrics (issue 16): not served on the public handler by default, behind a bearer when
// asked, on a listener of its own through metricsHandler, and one collection per cache period.
import { createServer } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { Gate } from '../src/gate/gate.js';
import { HttpMetrics } from '../src/http/metrics.js';
import { createPowgateServer, PowgateService, type PowgateServiceOptions } from '../src/http/index.js';
import { close, listen, request, startServe } from './helpers/http.js';
import { SECRET } from './helpers/protocol.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((f) => f()));
});

async function started(options: PowgateServiceOptions = {}, metrics = new HttpMetrics({ defaultMetrics: false })) {
  const gate = new Gate({ secret: SECRET, difficulty: 4 });
  const service = new PowgateService(gate, { metrics, ...options });
  const server = createPowgateServer(service);
  const url = await listen(server);
  cleanups.push(
    () => close(server),
    () => gate.close(),
  );
  return { url, service };
}

const BEARER = 'metrics-bearer-0123456789abcdef';

describe('GET /metrics', () => {
  it('is not served on the service handler by default (404), nor counted as a route', async () => {
    const { url } = await started();
    expect((await request(url, '/metrics')).status).toBe(404);
    expect((await request(url, '/api/status')).json.routes).not.toContain('GET /metrics');
  });

  it('with a bearer: 401 without it or with another, 200 with it', async () => {
    const { url } = await started({ metricsAccess: { bearer: BEARER } });
    const none = await request(url, '/metrics');
    expect([none.status, none.json.error, none.headers['www-authenticate']]).toEqual([401, 'unauthorized', 'Bearer realm="metrics"']);
    expect((await request(url, '/metrics', { headers: { authorization: `Bearer ${BEARER}x` } })).status).toBe(401);
    expect((await request(url, '/metrics', { headers: { authorization: 'Basic abc' } })).status).toBe(401);
    const good = await request(url, '/metrics', { headers: { authorization: `Bearer ${BEARER}` } });
    expect([good.status, good.text]).toEqual([200, expect.stringContaining('powgate_http_requests_total')]);
  });

  it('serves on a listener of its own through metricsHandler, and nothing else there', async () => {
    const { url: publicUrl, service } = await started();
    await request(publicUrl, '/api/status');
    const own = createServer(service.metricsHandler);
    const url = await listen(own);
    cleanups.push(() => close(own));
    const text = (await request(url, '/metrics')).text;
    expect(text).toContain('powgate_http_requests_total{route="/api/status",method="GET",status="200",channel="api"} 1');
    expect((await request(url, '/api/status')).status).toBe(404);
    expect((await request(url, '/metrics', { method: 'POST', body: {} })).status).toBe(405);
  });

  it('collects once per cache period: scrapes within it are the same text (a flood costs one collection)', async () => {
    const { url } = await started({ metricsAccess: 'public' }, new HttpMetrics({ defaultMetrics: false, cacheMs: 3_600_000 }));
    const first = (await request(url, '/metrics')).text;
    const flood = await Promise.all(Array.from({ length: 20 }, () => request(url, '/metrics')));
    for (const reply of flood) expect(reply.text).toBe(first);
    const fresh = await started({ metricsAccess: 'public' }, new HttpMetrics({ defaultMetrics: false, cacheMs: 0 }));
    await request(fresh.url, '/metrics');
    expect((await request(fresh.url, '/metrics')).text).toContain('powgate_http_requests_total{route="/metrics",method="GET",status="200",channel="api"} 1');
  });

  it('refuses a short bearer or another access with ERR_INVALID_ARGUMENT', () => {
    const gate = new Gate({ secret: SECRET, difficulty: 4 });
    expect(() => new PowgateService(gate, { metricsAccess: { bearer: 'short' } })).toThrow(/metricsAccess/);
    expect(() => new PowgateService(gate, { metricsAccess: 'open' as never })).toThrow(/metricsAccess/);
    expect(() => new HttpMetrics({ cacheMs: -1 })).toThrow(/cacheMs/);
  });
});

describe('powgate serve and /metrics', () => {
  it('--metrics-port: metrics on their own listener (its URL in the listening line), none on the service port', async () => {
    const served = await startServe(['--metrics-port', '0']);
    cleanups.push(() => served.stop());
    const { metrics } = JSON.parse(served.lines[0]!);
    expect(metrics).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect((await request(served.url, '/metrics')).status).toBe(404);
    const scraped = await request(metrics, '/metrics');
    expect([scraped.status, scraped.text]).toEqual([200, expect.stringContaining('powgate_http_requests_total')]);
    expect(await served.stop()).toBe(0);
  });

  it('POWGATE_METRICS_TOKEN: metrics on the service port behind that bearer', async () => {
    const served = await startServe([], { POWGATE_METRICS_TOKEN: BEARER });
    cleanups.push(() => served.stop());
    expect((await request(served.url, '/metrics')).status).toBe(401);
    expect((await request(served.url, '/metrics', { headers: { authorization: `Bearer ${BEARER}` } })).status).toBe(200);
    expect(await served.stop()).toBe(0);
  });
});
