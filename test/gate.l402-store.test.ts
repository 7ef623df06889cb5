// A paid preimage never spends beyond its allowance: concurrent calls through one gate and
// through two gates (two instances) sharing a store, in memory and in a real Redis.
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gate } from '../src/gate/gate.js';
import type { LightningBackend } from '../src/lightning/backend.js';
import { MemoryReplayStore } from '../src/storage/memory.js';
import { RedisReplayStore } from '../src/storage/redis.js';
import type { ReplayStore } from '../src/storage/types.js';
import { redisServerPath, startRedis, type RedisServer } from './helpers/redis-server.js';
import { SECRET } from './helpers/protocol.js';

/** A node that issues invoices it knows the preimages of, and never answers a lookup: enough to mint offers. */
function fakeNode(): LightningBackend & { preimages: Map<string, string> } {
  const preimages = new Map<string, string>();
  return {
    kind: 'fake',
    preimages,
    async createInvoice({ amountSats, expirySeconds }) {
      const preimage = randomBytes(32);
      const paymentHash = createHash('sha256').update(preimage).digest('hex');
      preimages.set(paymentHash, preimage.toString('hex'));
      return { paymentHash, bolt11: `lnbcrt${amountSats}u1fake${paymentHash}`, amountSats, expiresAt: Date.now() + expirySeconds * 1000 };
    },
    async lookupInvoice() {
      return { state: 'open' };
    },
  };
}

async function paidCredential(gate: Gate, node: ReturnType<typeof fakeNode>, calls: number): Promise<string> {
  const offered = await gate.lightningOffer(`client-${randomBytes(4).toString('hex')}`, { scope: 'search', calls });
  if (!offered?.ok) throw new Error('no offer');
  return `${offered.offer.macaroon}:${node.preimages.get(offered.offer.paymentHash)}`;
}

function spendConcurrently(gates: Gate[], credential: string, attempts: number) {
  return Promise.all(Array.from({ length: attempts }, (_, i) => gates[i % gates.length]!.useL402(credential, { scope: 'search' })));
}

function suite(name: string, makeStore: () => ReplayStore) {
  describe(name, () => {
    it('passes exactly the allowance of concurrent calls, across two gates sharing the store', async () => {
      const node = fakeNode();
      const store = makeStore();
      const options = { secret: SECRET, difficulty: 8, scopes: { search: undefined }, maxCalls: 50, lightning: { backend: node }, store };
      const gates = [new Gate(options), new Gate({ ...options, store: name === 'memory' ? store : makeStore() })];
      try {
        const credential = await paidCredential(gates[0]!, node, 25);
        const results = await spendConcurrently(gates, credential, 200);
        const passed = results.filter((r) => r.ok);
        expect(passed).toHaveLength(25);
        expect(new Set(passed.map((r) => r.ok && r.grant.used))).toEqual(new Set(Array.from({ length: 25 }, (_, i) => i + 1)));
        expect(results.filter((r) => !r.ok && r.reason === 'token_exhausted')).toHaveLength(175);
        // The token it redeems for shares the count: nothing left there either.
        const redeemed = gates[1]!.redeemL402(credential);
        expect(redeemed.ok).toBe(true);
        if (redeemed.ok) expect(await gates[0]!.useToken(redeemed.token, { scope: 'search' })).toEqual({ ok: false, reason: 'token_exhausted' });
        // Another invoice has an allowance of its own.
        const other = await paidCredential(gates[0]!, node, 2);
        expect((await gates[1]!.useL402(other, { scope: 'search' })).ok).toBe(true);
      } finally {
        await Promise.all(gates.map((g) => g.close()));
      }
    });

    it('counts a redeemed token and its macaroon together, however they interleave', async () => {
      const node = fakeNode();
      const gate = new Gate({ secret: SECRET, difficulty: 8, scopes: { search: undefined }, lightning: { backend: node }, store: makeStore() });
      try {
        const credential = await paidCredential(gate, node, 10);
        const redeemed = gate.redeemL402(credential);
        if (!redeemed.ok) throw new Error(redeemed.reason);
        const results = await Promise.all(
          Array.from({ length: 40 }, (_, i) => (i % 2 ? gate.useL402(credential, { scope: 'search' }) : gate.useToken(redeemed.token, { scope: 'search' }))),
        );
        expect(results.filter((r) => r.ok)).toHaveLength(10);
      } finally {
        await gate.close();
      }
    });
  });
}

suite('memory', () => new MemoryReplayStore());

const bin = redisServerPath();
if (!bin) console.warn('powgate tests: redis-server is not installed, so the L402 Redis tests are skipped');
describe.skipIf(!bin)('redis', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });
  // Every store on the same server and prefix: separate connections, as separate instances have.
  const prefix = `l402-${randomBytes(4).toString('hex')}:`;
  suite('a real redis-server', () => new RedisReplayStore({ url: redis.url, keyPrefix: prefix }));
});
