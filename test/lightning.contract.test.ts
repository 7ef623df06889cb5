// The backend contract against a real node, when one is configured in the environment:
// create, look up (open), cross-check the BOLT11. Paying is not possible here, so the
// settled half of the contract is covered by the stand-in node only.
import { createHash, randomBytes } from 'node:crypto';
import { decode } from 'light-bolt11-decoder';
import { describe, expect, it } from 'vitest';
import { type LightningBackend, lightningFromEnv, LightningUnavailable } from '../src/lightning/index.js';

/** The real node's settings, renamed from POWGATE_TEST_* to what lightningFromEnv reads; undefined when not configured. */
function testEnv(node: 'LND' | 'LNBITS', secret: string): Record<string, string> | undefined {
  const { env } = process;
  if (!env[`POWGATE_TEST_${node}_URL`] || !(env[`POWGATE_TEST_${node}_${secret}`] || env[`POWGATE_TEST_${node}_${secret}_FILE`])) return undefined;
  const renamed: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (name.startsWith(`POWGATE_TEST_${node}_`) && value) renamed[name.replace('POWGATE_TEST_', 'POWGATE_')] = value;
  }
  return renamed;
}

const nodes = [
  { name: 'LND', env: testEnv('LND', 'MACAROON'), how: 'POWGATE_TEST_LND_URL and POWGATE_TEST_LND_MACAROON or _MACAROON_FILE (+ POWGATE_TEST_LND_TLS_CERT_FILE)' },
  { name: 'LNbits', env: testEnv('LNBITS', 'KEY'), how: 'POWGATE_TEST_LNBITS_URL and POWGATE_TEST_LNBITS_KEY or _KEY_FILE' },
];
const ask = { amountSats: 10, memo: 'powgate contract test', expirySeconds: 300 };
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

for (const { name, env, how } of nodes) {
  if (!env) console.warn(`powgate tests: no real ${name} node configured, so its contract tests are skipped (set ${how})`);

  describe.skipIf(!env)(env ? `the backend contract against a real ${name} node` : `the backend contract against a real ${name} node (skipped: set ${how})`, () => {
    const backend = (): LightningBackend => lightningFromEnv(env, { timeoutMs: 10_000 })!;

    it('creates an invoice whose BOLT11 carries the hash, amount and expiry, and sees it open', async () => {
      const started = Date.now();
      const invoice = await backend().createInvoice(ask);
      expect(invoice.paymentHash).toMatch(/^[0-9a-f]{64}$/);
      expect(invoice.amountSats).toBe(ask.amountSats);
      const sections = decode(invoice.bolt11).sections;
      const value = (section: string) => (sections.find((s) => s.name === section && 'value' in s) as { value: unknown } | undefined)?.value;
      expect(value('payment_hash')).toBe(invoice.paymentHash);
      expect(value('amount')).toBe(String(ask.amountSats * 1000));
      // The node's clock, not ours, dates the invoice: allow a minute either way.
      expect(Math.abs(invoice.expiresAt - (started + ask.expirySeconds * 1000))).toBeLessThan(60_000);
      expect(await backend().lookupInvoice(invoice.paymentHash)).toEqual({ state: 'open' });
    });

    it('gives every invoice its own payment hash', async () => {
      const [a, b] = await Promise.all([backend().createInvoice(ask), backend().createInvoice(ask)]);
      expect(a.paymentHash).not.toBe(b.paymentHash);
    });

    it('reports an invoice the node never issued as canceled', async () => {
      expect(await backend().lookupInvoice(sha256(randomBytes(32)))).toEqual({ state: 'canceled' });
    });

    it('refuses an already-aborted call without asking the node', async () => {
      await expect(backend().createInvoice(ask, AbortSignal.abort())).rejects.toBeInstanceOf(LightningUnavailable);
    });
  });
}
