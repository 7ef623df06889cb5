// What an outside review of the Lightning door found, kept as regressions: a holder's shorter
// copy must not refill the allowance nor burn the original's calls, one client must not use
// up the node, a local mistake must not close the door, and free variants are not remembered.
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Gate, type GateOptions } from '../src/gate/gate.js';
import type { LightningBackend } from '../src/lightning/backend.js';
import { CAVEATS, verifyL402 } from '../src/protocol/l402.js';
import { addFirstPartyCaveat, macaroonFromBase64, macaroonToBase64 } from '../src/protocol/macaroon.js';
import { RedisReplayStore } from '../src/storage/redis.js';
import { redisServerPath, startRedis, type RedisServer } from './helpers/redis-server.js';
import { SECRET } from './helpers/protocol.js';

/** A node that knows its preimages, counts its invoices, and answers lookups with `state`. */
function fakeNode(delayMs = 0) {
  const node = {
    kind: 'fake',
    preimages: new Map<string, string>(),
    created: 0,
    memos: [] as string[],
    state: 'open' as 'open' | 'settled',
    async createInvoice({ amountSats, expirySeconds, memo }: { amountSats: number; expirySeconds: number; memo: string }) {
      node.created++;
      node.memos.push(memo);
      if (delayMs) await new Promise((resolve) => setTimeout(resolve, delayMs));
      const preimage = randomBytes(32);
      const paymentHash = createHash('sha256').update(preimage).digest('hex');
      node.preimages.set(paymentHash, preimage.toString('hex'));
      return { paymentHash, bolt11: `lnbcrt${amountSats}u1fake${paymentHash}`, amountSats, expiresAt: Date.now() + expirySeconds * 1000 };
    },
    async lookupInvoice() {
      return { state: node.state };
    },
  };
  return node satisfies LightningBackend;
}

function gateWith(node: LightningBackend, options: Partial<GateOptions> = {}) {
  return new Gate({ secret: SECRET, difficulty: 8, scopes: { search: undefined }, lightning: { backend: node, satsPerCall: 10 }, ...options });
}

async function buy(gate: Gate, node: ReturnType<typeof fakeNode>, calls: number, client = 'buyer') {
  const offered = await gate.lightningOffer(client, { scope: 'search', calls });
  if (!offered?.ok) throw new Error(`no offer: ${offered?.reason}`);
  return { macaroon: offered.offer.macaroon, preimage: node.preimages.get(offered.offer.paymentHash)!, offer: offered.offer };
}

function append(macaroon: string, ...caveats: string[]): string {
  let m = macaroonFromBase64(macaroon)!;
  for (const c of caveats) m = addFirstPartyCaveat(m, c);
  return macaroonToBase64(m);
}

async function passes(gate: Gate, credential: string, attempts: number): Promise<number> {
  let passed = 0;
  for (let i = 0; i < attempts; i++) if ((await gate.useL402(credential, { scope: 'search' })).ok) passed++;
  return passed;
}

describe('a holder’s shorter copy does not refill the allowance', () => {
  afterEach(() => vi.useRealTimers());

  it('Lightning, through the macaroon and through a redeemed token', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(1_800_000_000_000);
    const node = fakeNode();
    const gate = gateWith(node);
    const { macaroon, preimage } = await buy(gate, node, 3);
    let passed = 0;
    for (let round = 0; round < 4; round++) {
      const now = Date.now();
      const short = `${append(macaroon, `${CAVEATS.validUntil}=${Math.floor(now / 1000)}`)}:${preimage}`;
      passed += await passes(gate, short, 4);
      // A shorter copy cannot be redeemed: a token has one expiry.
      expect(gate.redeemL402(short)).toEqual({ ok: false, reason: 'malformed' });
      vi.setSystemTime(now + 12_000); // past the short copy's count life, were it its own
    }
    passed += await passes(gate, `${macaroon}:${preimage}`, 4);
    expect(passed).toBe(3);
  });

  it("Aperture's proof of work", async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(1_800_000_000_000);
    const gate = new Gate({ secret: SECRET, difficulty: 8, calls: 2, scopes: { search: undefined }, aperturePow: true });
    const refused = await gate.refuse('token_required', 'c', { scope: 'search', redeem: {} });
    const offer = refused.kind === 'payment_required' ? refused.body.accepts.find((a) => a.method === 'l402-pow') : undefined;
    if (offer?.method !== 'l402-pow') throw new Error('no pow offer');
    const tokenId = macaroonFromBase64(offer.macaroon)!.identifier.subarray(34, 66);
    const nonce = Buffer.alloc(8);
    for (let n = 0n; ; n++) {
      nonce.writeBigUInt64BE(n);
      const d = createHash('sha256').update(tokenId).update(nonce).digest();
      if (BigInt(`0x${d.toString('hex')}`) >> BigInt(256 - offer.pow) === 0n) break;
    }
    const solved = append(offer.macaroon, `pow=${offer.pow}:${nonce.toString('hex')}`);
    let passed = 0;
    for (let round = 0; round < 3; round++) {
      const now = Date.now();
      passed += await passes(gate, `${append(solved, `${CAVEATS.validUntil}=${Math.floor(now / 1000)}`)}:POW`, 3);
      vi.setSystemTime(now + 12_000);
    }
    expect(passed).toBe(2);
    // A gate that does not offer the dialect does not take it either.
    const plain = new Gate({ secret: SECRET, difficulty: 8, calls: 2, scopes: { search: undefined } });
    expect(await plain.useL402(`${solved}:POW`, { scope: 'search' })).toEqual({ ok: false, reason: 'malformed' });
    // Pooled keys are not offered the dialect: their calls count when redeemed, which it skips.
    const pooled = await gate.refuse('token_required', 'mcp:http', { scope: 'search', redeem: {}, pooled: true });
    expect(pooled.kind === 'payment_required' && pooled.body.accepts.map((a) => a.method)).toEqual(['pow']);
  });
});

const bin = redisServerPath();
describe.skipIf(!bin)('a delegate’s narrower copy in Redis', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(() => redis?.stop());

  it('does not burn the owner’s calls with its refused ones', async () => {
    const node = fakeNode();
    const gate = gateWith(node, { store: new RedisReplayStore({ url: redis.url }) });
    try {
      const { macaroon, preimage } = await buy(gate, node, 5);
      expect(await passes(gate, `${append(macaroon, `${CAVEATS.calls}=1`)}:${preimage}`, 5)).toBe(1);
      expect(await passes(gate, `${macaroon}:${preimage}`, 6)).toBe(4);
    } finally {
      await gate.close();
    }
  });
});

describe('the node is protected, and a local mistake does not close the door', () => {
  it('one client cannot use up the invoice budget, and concurrent refusals share one invoice', async () => {
    const node = fakeNode(20);
    const gate = gateWith(node, { maxCalls: 200, lightning: { backend: node, satsPerCall: 1, maxInvoicesPerClientPerMinute: 3 } });
    const offers = await Promise.all(Array.from({ length: 10 }, () => gate.lightningOffer('same', { scope: 'search', calls: 1 })));
    expect(node.created).toBe(1);
    expect(new Set(offers.map((o) => o?.ok && o.offer.paymentHash)).size).toBe(1);
    const greedy = [];
    for (let calls = 2; calls < 20; calls++) greedy.push(await gate.lightningOffer('greedy', { scope: 'search', calls }));
    expect(greedy.filter((o) => o?.ok)).toHaveLength(3);
    expect(greedy.at(-1)).toEqual({ ok: false, reason: 'lightning_busy' });
    expect((await gate.lightningOffer('someone else', { scope: 'search' }))?.ok).toBe(true);
  });

  it('asks the node before offering an old invoice again: another instance may have seen it paid', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const node = fakeNode();
      const gate = gateWith(node);
      const first = await buy(gate, node, 1);
      vi.setSystemTime(Date.now() + 31_000);
      expect((await buy(gate, node, 1)).offer.paymentHash).toBe(first.offer.paymentHash);
      node.state = 'settled';
      vi.setSystemTime(Date.now() + 31_000);
      expect((await buy(gate, node, 1)).offer.paymentHash).not.toBe(first.offer.paymentHash);
    } finally {
      vi.useRealTimers();
    }
  });

  it('a long scope is cut short in the memo, not refused as a node failure', async () => {
    const node = fakeNode();
    const long = `s${'x'.repeat(240)}`;
    const gate = gateWith(node, { scopes: { [long]: undefined, search: undefined } });
    const offered = await gate.lightningOffer('c', { scope: long });
    expect(offered?.ok).toBe(true);
    expect(node.memos[0]!.length).toBeLessThan(100);
    expect(gate.status().lightning?.down).toBe(false);
  });
});

describe('what a door accepts', () => {
  it('fails closed for sats without a Lightning door', async () => {
    const node = fakeNode();
    const seller = gateWith(node);
    const { macaroon, preimage } = await buy(seller, node, 2);
    const redeemed = seller.redeemL402(`${macaroon}:${preimage}`);
    if (!redeemed.ok) throw new Error(redeemed.reason);
    const noLightning = new Gate({ secret: SECRET, difficulty: 8, scopes: { search: undefined } });
    expect(await noLightning.useL402(`${macaroon}:${preimage}`, { scope: 'search' })).toEqual({ ok: false, reason: 'price_too_low' });
    expect(await noLightning.useToken(redeemed.token, { scope: 'search' })).toEqual({ ok: false, reason: 'price_too_low' });
  });

  it('marks only the minted text as canonical (what a gate remembers), not its free variants', async () => {
    const node = fakeNode();
    const gate = gateWith(node);
    const { macaroon, preimage } = await buy(gate, node, 10);
    const m = macaroonFromBase64(macaroon)!;
    const check = (credential: string) => verifyL402(credential, { secret: SECRET });
    expect(check(`${macaroon}:${preimage}`)).toMatchObject({ valid: true, canonical: true });
    const variants = [
      `${append(macaroon, 'junk=1')}:${preimage}`,
      `${macaroon}:${preimage.toUpperCase()}`,
      `${macaroon}:${Buffer.from(preimage, 'hex').toString('base64')}`,
      `${macaroon.replace(/=+$/, '')}:${preimage}`,
      `${macaroonToBase64({ ...m, location: 'elsewhere' })}:${preimage}`,
    ];
    // (Unpadded is a variant only when the minted text has padding.)
    for (const v of variants.filter((text) => text !== `${macaroon}:${preimage}`)) expect(check(v), v.slice(-20)).toMatchObject({ valid: true, canonical: false });
  });

  it('refuses a macaroon with more caveats than any powgate credential carries, before hashing', async () => {
    const node = fakeNode();
    const gate = gateWith(node);
    const { macaroon, preimage } = await buy(gate, node, 1);
    const many = append(macaroon, ...Array.from({ length: 12 }, (_, i) => `x=${i}`));
    expect(await gate.useL402(`${many}:${preimage}`, { scope: 'search' })).toEqual({ ok: false, reason: 'malformed' });
  });
});
