// The Lightning backends against the stand-in node: one suite run against LND REST and
// LNbits, then option checks, TLS, and configuration from the environment.
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode } from 'light-bolt11-decoder';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { PowgateError } from '../src/errors.js';
import { type LightningBackend, lightningFromEnv, LightningUnavailable, LnbitsBackend, LndRestBackend } from '../src/lightning/index.js';
import { type StandInNode, startStandInNode } from './helpers/lightning-node.js';

let node: StandInNode;
beforeAll(async () => {
  node = await startStandInNode();
});
afterAll(() => node.close());
afterEach(() => {
  node.setMode('up');
  vi.useRealTimers();
});

const sha256 = (hex: string) => createHash('sha256').update(Buffer.from(hex, 'hex')).digest('hex');
const ask = { amountSats: 21, memo: 'powgate test call', expirySeconds: 600 };
const otherSecret = randomBytes(32).toString('hex');

/** Awaits a rejection: a LightningUnavailable whose message quotes none of the secrets. */
async function unavailable(promise: Promise<unknown>, secrets: string[] = []): Promise<LightningUnavailable> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(LightningUnavailable);
  const refusal = error as LightningUnavailable;
  expect(refusal.code).toBe('ERR_LIGHTNING_UNAVAILABLE');
  for (const secret of [...secrets, node.lndMacaroonHex, node.lnbitsKey]) expect(refusal.message).not.toContain(secret);
  return refusal;
}

async function timed<T>(promise: Promise<T>): Promise<number> {
  const started = performance.now();
  await promise;
  return performance.now() - started;
}

function invalidArgument(run: () => unknown, ...secrets: string[]): PowgateError {
  let error: unknown;
  try {
    run();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(PowgateError);
  expect((error as PowgateError).code).toBe('ERR_INVALID_ARGUMENT');
  for (const secret of secrets) expect((error as PowgateError).message).not.toContain(secret);
  return error as PowgateError;
}

interface Leg {
  name: string;
  kind: string;
  make(options?: { timeoutMs?: number }): LightningBackend;
  withWrongCredential(): LightningBackend;
}
const legs: Leg[] = [
  {
    name: 'LndRestBackend',
    kind: 'lnd',
    make: (options = {}) => new LndRestBackend({ url: node.url, macaroon: node.lndMacaroonHex, ...options }),
    withWrongCredential: () => new LndRestBackend({ url: node.url, macaroon: otherSecret }),
  },
  {
    name: 'LnbitsBackend',
    kind: 'lnbits',
    make: (options = {}) => new LnbitsBackend({ url: node.url, invoiceKey: node.lnbitsKey, ...options }),
    withWrongCredential: () => new LnbitsBackend({ url: node.url, invoiceKey: otherSecret }),
  },
];

describe.each(legs)('$name against the stand-in node', (leg) => {
  it('creates an invoice, sees it open, then settled with the preimage once paid', async () => {
    const backend = leg.make();
    expect(backend.kind).toBe(leg.kind);
    const before = node.invoicesCreated();
    const invoice = await backend.createInvoice(ask);
    expect(node.invoicesCreated()).toBe(before + 1);
    expect(invoice.paymentHash).toMatch(/^[0-9a-f]{64}$/);
    expect(invoice.amountSats).toBe(21);
    expect(await backend.lookupInvoice(invoice.paymentHash)).toEqual({ state: 'open' }); // No preimage before payment.
    const released = node.pay(invoice.bolt11);
    const settled = await backend.lookupInvoice(invoice.paymentHash);
    expect(settled).toEqual({ state: 'settled', preimage: released });
    expect(sha256(settled.preimage!)).toBe(invoice.paymentHash);
  });

  it('returns a BOLT11 with the hash, amount, memo and expiry asked for', async () => {
    const started = Date.now();
    const invoice = await leg.make().createInvoice(ask);
    expect(invoice.bolt11).toMatch(/^lnbcrt210n1/);
    const sections = decode(invoice.bolt11).sections;
    const value = (name: string) => sections.find((s) => s.name === name && 'value' in s) as { value: unknown } | undefined;
    expect(value('payment_hash')?.value).toBe(invoice.paymentHash);
    expect(value('amount')?.value).toBe('21000');
    expect(value('description')?.value).toBe(ask.memo);
    expect(invoice.expiresAt).toBeGreaterThanOrEqual(Math.floor(started / 1000) * 1000 + 600_000);
    expect(invoice.expiresAt).toBeLessThanOrEqual(Date.now() + 600_000);
  });

  it('reports an unpaid invoice past its expiry as expired, and the node will not take payment', async () => {
    const backend = leg.make();
    const invoice = await backend.createInvoice({ ...ask, expirySeconds: 60 });
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 61_000);
    expect(await backend.lookupInvoice(invoice.paymentHash)).toEqual({ state: 'expired' });
    expect(() => node.pay(invoice.bolt11)).toThrow(/expired/);
  });

  it('answers many concurrent calls, each with its own invoice', async () => {
    const backend = leg.make();
    const invoices = await Promise.all(Array.from({ length: 40 }, () => backend.createInvoice(ask)));
    expect(new Set(invoices.map((invoice) => invoice.paymentHash)).size).toBe(40);
    const states = await Promise.all(invoices.map((invoice) => backend.lookupInvoice(invoice.paymentHash)));
    expect(states.every((state) => state.state === 'open')).toBe(true);
  });

  it('reports an invoice the node does not know as canceled', async () => {
    expect(await leg.make().lookupInvoice(sha256(otherSecret))).toEqual({ state: 'canceled' });
  });

  it('refuses a wrong credential without quoting either credential', async () => {
    const backend = leg.withWrongCredential();
    const refusal = await unavailable(backend.createInvoice(ask), [otherSecret]);
    expect(refusal.message).toMatch(/refused the credential \(HTTP 401\)/);
    await unavailable(backend.lookupInvoice(sha256(otherSecret)), [otherSecret]);
  });

  it('is unavailable at once while the node is down, and works again once it is up', async () => {
    const backend = leg.make();
    await backend.createInvoice(ask); // Leaves a kept-alive connection for 'down' to cut.
    node.setMode('down');
    expect(await timed(unavailable(backend.createInvoice(ask)))).toBeLessThan(1000);
    await unavailable(backend.lookupInvoice(sha256(otherSecret)));
    node.setMode('up');
    await expect(backend.createInvoice(ask)).resolves.toMatchObject({ amountSats: 21 });
  });

  it('gives up after timeoutMs when the node is slow', async () => {
    node.setMode('slow', 10_000);
    const backend = leg.make({ timeoutMs: 200 });
    let refusal: LightningUnavailable | undefined;
    const ms = await timed(unavailable(backend.createInvoice(ask)).then((e) => (refusal = e)));
    expect(refusal?.message).toMatch(/did not answer within 200 ms/);
    expect(ms).toBeGreaterThanOrEqual(150);
    expect(ms).toBeLessThan(1500);
    expect(await timed(unavailable(backend.lookupInvoice(sha256(otherSecret))))).toBeLessThan(1500);
  });

  it('gives up when the caller aborts, and without a request when the signal is already aborted', async () => {
    node.setMode('slow', 10_000);
    const backend = leg.make({ timeoutMs: 30_000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('the client went away')), 100);
    let refusal: LightningUnavailable | undefined;
    const ms = await timed(unavailable(backend.createInvoice(ask, controller.signal)).then((e) => (refusal = e)));
    expect(ms).toBeLessThan(1500);
    expect(refusal?.message).toMatch(/aborted/);
    expect((refusal!.cause as Error).message).toBe('the client went away');
    const received = node.requestsReceived();
    await unavailable(backend.lookupInvoice(sha256(otherSecret), AbortSignal.abort()));
    expect(node.requestsReceived()).toBe(received);
  });

  it('refuses an invoice whose BOLT11 carries another payment hash', async () => {
    node.setMode('garbage');
    const refusal = await unavailable(leg.make().createInvoice(ask));
    expect(refusal.message).toMatch(/returned an invoice that does not match the request \(its payment hash differs\)/);
  });

  it('refuses an invoice whose BOLT11 asks for another amount', async () => {
    node.setMode('wrong-amount');
    const refusal = await unavailable(leg.make().createInvoice(ask));
    expect(refusal.message).toMatch(/returned an invoice that does not match the request \(its amount differs\)/);
  });

  it('refuses an answer that is not JSON, or larger than 64 KiB, on both calls', async () => {
    const backend = leg.make();
    const invoice = await backend.createInvoice(ask);
    node.setMode('not-json');
    expect((await unavailable(backend.createInvoice(ask))).message).toMatch(/not JSON/);
    expect((await unavailable(backend.lookupInvoice(invoice.paymentHash))).message).toMatch(/not JSON/);
    node.setMode('oversize');
    expect((await unavailable(backend.createInvoice(ask))).message).toMatch(/larger than 65536 bytes/);
    expect((await unavailable(backend.lookupInvoice(invoice.paymentHash))).message).toMatch(/larger than 65536 bytes/);
    node.setMode('up');
    expect(await backend.lookupInvoice(invoice.paymentHash)).toEqual({ state: 'open' });
  });

  it('refuses a lookup answer with nonsense fields', async () => {
    const backend = leg.make();
    const invoice = await backend.createInvoice(ask);
    node.setMode('garbage');
    await unavailable(backend.lookupInvoice(invoice.paymentHash));
  });

  it('throws ERR_INVALID_ARGUMENT for a bad request or payment hash, before any request', async () => {
    const backend = leg.make();
    const received = node.requestsReceived();
    const bad: unknown[] = [
      { ...ask, amountSats: 0 },
      { ...ask, amountSats: 1.5 },
      { ...ask, memo: 'x'.repeat(257) },
      { ...ask, memo: undefined },
      { ...ask, expirySeconds: 0 },
      null,
    ];
    for (const request of bad) {
      await expect(backend.createInvoice(request as typeof ask)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    }
    for (const hash of ['', 'ab', sha256(otherSecret).toUpperCase(), `${sha256(otherSecret)}/../x`, 42]) {
      await expect(backend.lookupInvoice(hash as string)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    }
    expect(node.requestsReceived()).toBe(received);
  });
});

describe('LnbitsBackend with an older LNbits (payment_request instead of bolt11)', () => {
  it('creates and settles an invoice', async () => {
    const older = await startStandInNode({ lnbitsField: 'payment_request', network: 'bitcoin' });
    try {
      const backend = new LnbitsBackend({ url: older.url, invoiceKey: older.lnbitsKey });
      const invoice = await backend.createInvoice(ask);
      expect(invoice.bolt11).toMatch(/^lnbc210n1/);
      const preimage = older.pay(invoice.bolt11);
      expect(await backend.lookupInvoice(invoice.paymentHash)).toEqual({ state: 'settled', preimage });
      expect(() => older.pay(invoice.bolt11)).toThrow(/already paid/);
    } finally {
      await older.close();
    }
  });
});

describe('backend options', () => {
  const macaroon = randomBytes(64).toString('hex');
  const key = randomBytes(16).toString('hex');

  it('accept a macaroon as bytes, and loopback http URLs', async () => {
    const backend = new LndRestBackend({ url: `${node.url}/`, macaroon: Buffer.from(node.lndMacaroonHex, 'hex') });
    await expect(backend.createInvoice(ask)).resolves.toMatchObject({ amountSats: 21 });
    for (const url of ['http://localhost:8080', 'http://[::1]:8080', 'http://127.0.0.2', 'https://lnd.example.com:8080']) {
      expect(new LndRestBackend({ url, macaroon }).kind).toBe('lnd');
      expect(new LnbitsBackend({ url, invoiceKey: key }).kind).toBe('lnbits');
    }
  });

  it('refuse bad URLs without quoting them', () => {
    const bad = ['http://lnd.example.com', 'ftp://127.0.0.1', 'not a url', '', `https://admin:${key}@lnd.example.com`, `https://lnd.example.com/?key=${key}`];
    for (const url of bad) {
      invalidArgument(() => new LndRestBackend({ url, macaroon }), key, macaroon);
      invalidArgument(() => new LnbitsBackend({ url, invoiceKey: key }), key);
    }
    expect(invalidArgument(() => new LndRestBackend({ url: 'http://lnd.example.com', macaroon })).message).toMatch(/https URL/);
  });

  it('refuse missing or malformed credentials without quoting them', () => {
    const url = 'https://lnd.example.com';
    for (const bad of [undefined, '', 'xyz', `${macaroon}0`, `${macaroon} `, 'ab'.repeat(20_000), new Uint8Array(0), 42]) {
      const error = invalidArgument(() => new LndRestBackend({ url, macaroon: bad as string }), macaroon);
      expect(error.message).toMatch(/for macaroon/);
    }
    for (const bad of [undefined, '', `${key} `, `${key}\n`, 'k'.repeat(257), 42]) {
      const error = invalidArgument(() => new LnbitsBackend({ url, invoiceKey: bad as string }), key);
      expect(error.message).toMatch(/for invoiceKey/);
    }
    invalidArgument(() => new LndRestBackend(undefined as never));
    invalidArgument(() => new LnbitsBackend('x' as never));
  });

  it('refuse a bad timeoutMs or tlsCert', () => {
    const url = 'https://lnd.example.com';
    for (const timeoutMs of [0, -1, 1.5, 60_001, '100', Number.NaN]) {
      invalidArgument(() => new LndRestBackend({ url, macaroon, timeoutMs: timeoutMs as number }));
      invalidArgument(() => new LnbitsBackend({ url, invoiceKey: key, timeoutMs: timeoutMs as number }));
    }
    for (const tlsCert of ['', 'not a certificate', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', new Uint8Array(8), 42]) {
      expect(invalidArgument(() => new LndRestBackend({ url, macaroon, tlsCert: tlsCert as string })).message).toMatch(/tlsCert/);
    }
  });
});

/** A self-signed certificate for 127.0.0.1 made with openssl, or why there is none. */
function selfSigned(dir: string): { key: string; cert: string } | string {
  const result = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout',
      join(dir, 'tls.key'),
      '-out',
      join(dir, 'tls.cert'),
    ],
    { encoding: 'utf8' },
  );
  if (result.error || result.status !== 0) return 'openssl could not make a certificate';
  return { key: readFileSync(join(dir, 'tls.key'), 'utf8'), cert: readFileSync(join(dir, 'tls.cert'), 'utf8') };
}

const tlsDir = mkdtempSync(join(tmpdir(), 'powgate-lightning-tls-'));
const tls = selfSigned(tlsDir);
if (typeof tls === 'string') console.warn(`powgate tests: ${tls}, so the LND-over-https tests are skipped`);

describe.skipIf(typeof tls === 'string')(typeof tls === 'string' ? `LND over https (skipped: ${tls})` : 'LND over https with its self-signed certificate', () => {
  let secure: StandInNode;
  beforeAll(async () => {
    secure = await startStandInNode({ tls: tls as { key: string; cert: string } });
  });
  afterAll(async () => {
    await secure.close();
    rmSync(tlsDir, { recursive: true, force: true });
  });

  it('trusts the certificate given as tlsCert, and only then', async () => {
    const { cert } = tls as { cert: string };
    const trusting = new LndRestBackend({ url: secure.url, macaroon: secure.lndMacaroonHex, tlsCert: cert });
    const invoice = await trusting.createInvoice(ask);
    expect(await trusting.lookupInvoice(invoice.paymentHash)).toEqual({ state: 'open' });
    const distrusting = new LndRestBackend({ url: secure.url, macaroon: secure.lndMacaroonHex });
    const refusal = await unavailable(distrusting.createInvoice(ask), [secure.lndMacaroonHex]);
    expect(refusal.message).toMatch(/TLS certificate is not trusted/);
  });

  it('reads the certificate from POWGATE_LND_TLS_CERT_FILE', async () => {
    const backend = lightningFromEnv({
      POWGATE_LND_URL: secure.url,
      POWGATE_LND_MACAROON: secure.lndMacaroonHex,
      POWGATE_LND_TLS_CERT_FILE: join(tlsDir, 'tls.cert'),
    });
    await expect(backend!.createInvoice(ask)).resolves.toMatchObject({ amountSats: 21 });
  });
});

describe('lightningFromEnv', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'powgate-lightning-env-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, content: string | Uint8Array) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };

  /** The ERR_INVALID_ENV thrown for `env`, its message quoting none of the secrets. */
  function envError(env: Record<string, string>, ...secrets: string[]): string {
    let error: unknown;
    try {
      lightningFromEnv(env);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PowgateError);
    expect((error as PowgateError).code).toBe('ERR_INVALID_ENV');
    for (const secret of [...secrets, node.lndMacaroonHex, node.lnbitsKey]) expect((error as PowgateError).message).not.toContain(secret);
    return (error as PowgateError).message;
  }

  it('returns undefined when no node is configured (empty variables count as unset)', () => {
    expect(lightningFromEnv({})).toBeUndefined();
    expect(lightningFromEnv({ POWGATE_LND_URL: '', POWGATE_LNBITS_KEY: '', HOME: '/root' })).toBeUndefined();
  });

  it('makes a working LND backend from a hex macaroon, a binary macaroon file or a hex file', async () => {
    const bytes = Buffer.from(node.lndMacaroonHex, 'hex');
    const envs = [
      { POWGATE_LND_URL: node.url, POWGATE_LND_MACAROON: node.lndMacaroonHex },
      { POWGATE_LND_URL: node.url, POWGATE_LND_MACAROON_FILE: file('admin.macaroon', bytes) },
      { POWGATE_LND_URL: node.url, POWGATE_LND_MACAROON_FILE: file('macaroon.hex', `${node.lndMacaroonHex.toUpperCase()}\n`) },
    ];
    for (const env of envs) {
      const backend = lightningFromEnv(env, { timeoutMs: 1000 });
      expect(backend?.kind).toBe('lnd');
      await expect(backend!.createInvoice(ask)).resolves.toMatchObject({ amountSats: 21 });
    }
  });

  it('makes a working LNbits backend from a key or a key file', async () => {
    const envs = [
      { POWGATE_LNBITS_URL: node.url, POWGATE_LNBITS_KEY: node.lnbitsKey },
      { POWGATE_LNBITS_URL: node.url, POWGATE_LNBITS_KEY_FILE: file('lnbits.key', `${node.lnbitsKey}\n`) },
    ];
    for (const env of envs) {
      const backend = lightningFromEnv(env);
      expect(backend?.kind).toBe('lnbits');
      await expect(backend!.createInvoice(ask)).resolves.toMatchObject({ amountSats: 21 });
    }
  });

  it('refuses both nodes, or a value and its file, at once', () => {
    const lnd = { POWGATE_LND_URL: node.url, POWGATE_LND_MACAROON: node.lndMacaroonHex };
    const lnbits = { POWGATE_LNBITS_URL: node.url, POWGATE_LNBITS_KEY: node.lnbitsKey };
    expect(envError({ ...lnd, ...lnbits })).toMatch(/both POWGATE_LND_\* and POWGATE_LNBITS_\*/);
    expect(envError({ ...lnd, POWGATE_LND_MACAROON_FILE: file('m', 'ab') })).toMatch(/both POWGATE_LND_MACAROON and POWGATE_LND_MACAROON_FILE/);
    expect(envError({ ...lnbits, POWGATE_LNBITS_KEY_FILE: file('k', 'ab') })).toMatch(/both POWGATE_LNBITS_KEY and POWGATE_LNBITS_KEY_FILE/);
  });

  it('names the missing variable of an incomplete configuration', () => {
    expect(envError({ POWGATE_LND_MACAROON: node.lndMacaroonHex })).toMatch(/POWGATE_LND_URL is not set/);
    expect(envError({ POWGATE_LND_URL: node.url })).toMatch(/set POWGATE_LND_MACAROON or POWGATE_LND_MACAROON_FILE/);
    expect(envError({ POWGATE_LNBITS_KEY: node.lnbitsKey })).toMatch(/POWGATE_LNBITS_URL is not set/);
    expect(envError({ POWGATE_LNBITS_URL: node.url })).toMatch(/set POWGATE_LNBITS_KEY or POWGATE_LNBITS_KEY_FILE/);
  });

  it('names the variable holding a bad value, never quoting it', () => {
    const hex = node.lndMacaroonHex;
    expect(envError({ POWGATE_LND_URL: node.url, POWGATE_LND_MACAROON: `${hex}zz` }, `${hex}zz`)).toMatch(/POWGATE_LND_MACAROON\b/);
    expect(envError({ POWGATE_LND_URL: `http://user:${otherSecret}@lnd.example.com`, POWGATE_LND_MACAROON: hex }, otherSecret)).toMatch(/POWGATE_LND_URL/);
    expect(envError({ POWGATE_LNBITS_URL: 'http://lnbits.example.com', POWGATE_LNBITS_KEY: node.lnbitsKey })).toMatch(/POWGATE_LNBITS_URL/);
    expect(envError({ POWGATE_LNBITS_URL: node.url, POWGATE_LNBITS_KEY: `${otherSecret} x` }, otherSecret)).toMatch(/POWGATE_LNBITS_KEY\b/);
    const badCert = file('bad.cert', `not a certificate ${otherSecret}`);
    expect(envError({ POWGATE_LND_URL: node.url, POWGATE_LND_MACAROON: hex, POWGATE_LND_TLS_CERT_FILE: badCert }, otherSecret)).toMatch(/POWGATE_LND_TLS_CERT_FILE/);
  });

  it('names the variable of a file that cannot be read, is empty, or is not a file', () => {
    const missing = join(dir, 'no-such-file');
    expect(envError({ POWGATE_LND_URL: node.url, POWGATE_LND_MACAROON_FILE: missing })).toMatch(/cannot read the file named by POWGATE_LND_MACAROON_FILE \(ENOENT\)/);
    expect(envError({ POWGATE_LNBITS_URL: node.url, POWGATE_LNBITS_KEY_FILE: missing })).toMatch(/POWGATE_LNBITS_KEY_FILE \(ENOENT\)/);
    expect(envError({ POWGATE_LND_URL: node.url, POWGATE_LND_MACAROON: node.lndMacaroonHex, POWGATE_LND_TLS_CERT_FILE: missing })).toMatch(/POWGATE_LND_TLS_CERT_FILE \(ENOENT\)/);
    expect(envError({ POWGATE_LNBITS_URL: node.url, POWGATE_LNBITS_KEY_FILE: file('empty', '') })).toMatch(/POWGATE_LNBITS_KEY_FILE is empty/);
    expect(envError({ POWGATE_LNBITS_URL: node.url, POWGATE_LNBITS_KEY_FILE: dir })).toMatch(/POWGATE_LNBITS_KEY_FILE is not a regular file/);
    const spaced = file('spaced.key', `${otherSecret} ${otherSecret}`);
    expect(envError({ POWGATE_LNBITS_URL: node.url, POWGATE_LNBITS_KEY_FILE: spaced }, otherSecret)).toMatch(/content of POWGATE_LNBITS_KEY_FILE/);
  });
});
