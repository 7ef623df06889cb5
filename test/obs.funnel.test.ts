// The funnel, measured (issue 15): metrics scraped over real HTTP move as a client walks it,
// refused -> challenge -> redeem -> paid call -> allowance exhausted -> refused again, through the
// 402 middleware and the token service sharing one gate; the challenge-to-redeem histogram counts.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Gate } from '../src/gate/gate.js';
import type { GateEvent } from '../src/gate/events.js';
import { HttpMetrics } from '../src/http/metrics.js';
import { powgateMiddleware } from '../src/http/index.js';
import { PowgateService } from '../src/http/service.js';
import { solve } from '../src/solver/solve.js';
import { close, listen, post, request } from './helpers/http.js';
import { sample } from './helpers/metrics.js';
import { SECRET, failingNonce } from './helpers/protocol.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((f) => f()));
});

function logSink(): { logs: string[]; logger: pino.Logger } {
  const logs: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      logs.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return { logs, logger: pino({ level: 'info' }, stream) };
}

async function app() {
  const gate = new Gate({ secret: SECRET, difficulty: 4, calls: 2 });
  const metrics = new HttpMetrics({ defaultMetrics: false, cacheMs: 0 });
  const { logs, logger } = logSink();
  const service = new PowgateService(gate, { metrics, metricsAccess: 'public' });
  const gated = powgateMiddleware(gate, { scope: 'search', logger, metrics });
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.url?.startsWith('/search')) return gated(req, res, () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"results":[]}'));
    service.handle(req, res);
  });
  const url = await listen(server);
  cleanups.push(
    () => close(server),
    () => gate.close(),
  );
  return { url, gate, logs };
}

const labels = 'scope="search",door="work",channel="api"';

describe('the funnel, scraped', () => {
  it('every stage moves as the funnel is walked, with the histogram of challenge-to-redeem seconds', async () => {
    const { url, logs } = await app();
    const scrape = async () => (await request(url, '/metrics')).text;
    const before = await scrape();
    expect(sample(before, `powgate_challenges_issued_total{${labels}}`)).toBe(0);

    const refused = await request(url, '/search?q=cats&token=secret-in-query');
    expect(refused.status).toBe(402);
    let text = await scrape();
    expect(sample(text, `powgate_gate_refusals_total{${labels},step="call",reason="token_required"}`)).toBe(1);
    expect(sample(text, `powgate_challenges_issued_total{${labels}}`)).toBe(1);
    expect(sample(text, 'powgate_http_requests_total{route="gated:search",method="GET",status="402",channel="api"}')).toBe(1);
    expect(sample(text, 'powgate_refusals_total{route="gated:search",reason="token_required",channel="api"}')).toBe(1);
    // The middleware's refusal is logged: the path without its query (nor the token in it).
    const line = JSON.parse(logs.find((l) => l.includes('"refused"'))!);
    expect(line).toMatchObject({ msg: 'refused', method: 'GET', path: '/search', status: 402, reason: 'token_required', scope: 'search', channel: 'api' });
    expect(logs.join('\n')).not.toContain('secret-in-query');

    const challenge = refused.json.accepts[0].challenge;
    const solution = await solve(challenge, { threads: 1 });
    const redeemed = await post(url, '/api/verify', { challenge, solution });
    expect(redeemed.status).toBe(200);
    text = await scrape();
    expect(sample(text, `powgate_redemptions_total{${labels}}`)).toBe(1);
    expect(sample(text, 'powgate_challenge_to_redeem_seconds_count{scope="search",channel="api"}')).toBe(1);
    expect(sample(text, 'powgate_challenge_to_redeem_seconds_bucket{le="+Inf",scope="search",channel="api"}')).toBe(1);
    expect(sample(text, 'powgate_challenge_to_redeem_seconds_sum{scope="search",channel="api"}')).toBeGreaterThan(0);

    const auth = { authorization: `Bearer ${redeemed.json.token}` };
    expect((await request(url, '/search?q=a', { headers: auth })).status).toBe(200);
    text = await scrape();
    expect(sample(text, `powgate_paid_calls_total{${labels}}`)).toBe(1);
    expect(sample(text, `powgate_allowances_exhausted_total{${labels}}`)).toBe(0);
    expect((await request(url, '/search?q=b', { headers: auth })).status).toBe(200);
    text = await scrape();
    expect(sample(text, `powgate_paid_calls_total{${labels}}`)).toBe(2);
    expect(sample(text, `powgate_allowances_exhausted_total{${labels}}`)).toBe(1);

    const exhausted = await request(url, '/search?q=c', { headers: auth });
    expect([exhausted.status, exhausted.json.cause.reason]).toEqual([402, 'token_exhausted']);
    text = await scrape();
    expect(sample(text, `powgate_gate_refusals_total{${labels},step="call",reason="token_exhausted"}`)).toBe(1);
    expect(sample(text, `powgate_challenges_issued_total{${labels}}`)).toBe(2);
    expect(sample(text, `powgate_paid_calls_total{${labels}}`)).toBe(2);

    // A replayed redemption is a refusal at the redeem step, its scope read from the (signed) challenge.
    expect((await post(url, '/api/verify', { challenge, solution: { ...solution, nonces: [failingNonce(challenge)] } })).status).toBe(403);
    text = await scrape();
    expect(sample(text, `powgate_gate_refusals_total{${labels},step="redeem",reason="bad_solution"}`)).toBe(1);
  });

  it('a scope the gate has no door for is never a label value', async () => {
    const { url } = await app();
    expect((await post(url, '/api/challenge', { scope: 'made-up-by-a-client' })).status).toBe(400);
    const text = (await request(url, '/metrics')).text;
    expect(sample(text, 'powgate_gate_refusals_total{scope="(other)",door="work",channel="api",step="challenge",reason="unknown_scope"}')).toBe(1);
    expect(text).not.toContain('made-up-by-a-client');
  });

  it('observers get each event; one that throws changes no verdict; watching twice counts once', async () => {
    const gate = new Gate({ secret: SECRET, difficulty: 4 });
    cleanups.push(() => gate.close());
    const events: GateEvent[] = [];
    const stop = gate.observe((event) => events.push(event));
    gate.observe(() => {
      throw new Error('a broken observer');
    });
    const metrics = new HttpMetrics({ defaultMetrics: false, cacheMs: 0 });
    metrics.watch(gate);
    metrics.watch(gate);
    const issued = await gate.challenge('c', { channel: 'mcp_stdio' });
    expect(issued.ok).toBe(true);
    expect(events).toEqual([{ stage: 'challenge_issued', scope: '', door: 'work', channel: 'mcp_stdio' }]);
    expect(sample(await metrics.text(), 'powgate_challenges_issued_total{scope="",door="work",channel="mcp_stdio"}')).toBe(1);
    stop();
    await gate.challenge('c');
    expect(events).toHaveLength(1);
  });
});
