// The client against the README's own Express example, run as written (only the port changes,
// as in readme.deploy.test.ts): an agent of a few lines gets through it, call after call.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { wrapFetchWithPowgate, type PaymentInfo } from '../src/client/index.js';
import { PowgateError } from '../src/errors.js';
import { startReadmeExpress } from './helpers/readme-express.js';

let base = '';
let stop: () => void = () => undefined;

beforeAll(async () => {
  ({ base, stop } = await startReadmeExpress('client-readme-express'));
});
afterAll(() => stop());

it('a five-line agent gets through the Express example again and again, paying per call', async () => {
  const payments: PaymentInfo[] = [];
  // The agent (the hash rate is measured on first use, on the solver that will run):
  const pay = wrapFetchWithPowgate(fetch, { maxSecondsPerCall: 5, onPayment: (p) => payments.push(p) });
  for (let i = 0; i < 4; i++) {
    const res = await pay(`${base}/search?q=${i}`);
    expect([res.status, await res.json()]).toEqual([200, { results: [], paidBy: 'pow' }]);
  }
  expect(payments).toHaveLength(4);
  for (const p of payments) {
    expect(p).toMatchObject({ origin: base, scope: 'search', method: 'pow', calls: 1, price: { method: 'pow', calls: 1 } });
    // 18 bits a call at first (the example's base), more as this client buys more (adaptive pricing).
    expect(p.price.seconds).toBeGreaterThan(0);
    expect(p.cpuSeconds).toBeGreaterThan(0);
  }
});

it("buys bundles through the example's /api/challenge: N calls a payment, then buys again", async () => {
  const payments: PaymentInfo[] = [];
  const pay = wrapFetchWithPowgate(fetch, { calls: 4, onPayment: (p) => payments.push(p) });
  const remaining: (string | null)[] = [];
  for (let i = 0; i < 6; i++) {
    const res = await pay(`${base}/search`);
    expect(res.status).toBe(200);
    remaining.push(res.headers.get('powgate-calls-remaining'));
  }
  expect(remaining).toEqual(['3', '2', '1', '0', '3', '2']);
  expect(payments.map((p) => p.calls)).toEqual([4, 4]);
  // Concurrent calls share what was bought: the two calls left, then one purchase for the rest.
  const replies = await Promise.all(Array.from({ length: 6 }, () => pay(`${base}/search`)));
  expect(replies.map((r) => r.status)).toEqual(Array(6).fill(200));
  expect(payments).toHaveLength(3);
});

it('refuses a price over budget before any work, in milliseconds', async () => {
  const pay = wrapFetchWithPowgate(fetch, { hashRate: 1 });
  const started = performance.now();
  const error = await pay(`${base}/search`).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PowgateError);
  expect(error).toMatchObject({ code: 'ERR_BUDGET_EXCEEDED', price: { method: 'pow', calls: 1 } });
  expect((error as PowgateError).price!.seconds).toBeGreaterThanOrEqual(2 ** 18);
  expect(performance.now() - started).toBeLessThan(1_000);
});
