// A stand-in Lightning node for tests: a real HTTP server on 127.0.0.1 speaking the
// subsets of LND REST and LNbits that powgate uses, signing real BOLT11 invoices with
// a fixed test key, and "paying" an invoice by releasing its preimage.
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import bolt11 from 'bolt11';

/**
 * How the stand-in answers:
 * - `up`: correctly.
 * - `down`: closes every connection, new and open, without answering.
 * - `slow`: answers correctly after `delayMs`.
 * - `garbage`: invoices whose BOLT11 carries another payment hash; lookups with nonsense fields.
 * - `wrong-amount`: invoices whose BOLT11 asks for one sat more than requested.
 * - `not-json`: an HTML page with status 200.
 * - `oversize`: a valid JSON object of 1 MiB, streamed without a content-length.
 */
export type StandInMode = 'up' | 'down' | 'slow' | 'garbage' | 'wrong-amount' | 'not-json' | 'oversize';

/** Options of startStandInNode. */
export interface StandInNodeOptions {
  /** The BOLT11 network: `regtest` (`lnbcrt…`) or `bitcoin` (`lnbc…`). Default `regtest`. */
  network?: 'regtest' | 'bitcoin';
  /** The field LNbits puts the invoice in: `bolt11` (newer) or `payment_request` (older). Default `bolt11`. */
  lnbitsField?: 'bolt11' | 'payment_request';
  /** Serve https with this key and certificate (PEM) instead of http. Default: http. */
  tls?: { key: string; cert: string };
}

/** A running stand-in node. */
export interface StandInNode {
  /** `http://127.0.0.1:<port>` (or https with `tls`): both LND REST and LNbits live here. */
  url: string;
  /** The macaroon LND's endpoints accept, as hex. */
  lndMacaroonHex: string;
  /** The API key LNbits' endpoints accept. */
  lnbitsKey: string;
  /** The node's public key (hex), the payee in every BOLT11 it signs. */
  nodePublicKey: string;
  /** Pays an invoice: marks it settled and returns its preimage (hex). Throws if unknown, expired or already paid. */
  pay(bolt11: string): string;
  /** How many invoices were created, through either API. */
  invoicesCreated(): number;
  /** How many requests arrived (answered or not). */
  requestsReceived(): number;
  /** Changes how the node answers from now on; `delayMs` is the delay of `slow` (default 10,000). */
  setMode(mode: StandInMode, delayMs?: number): void;
  /** Stops the server, dropping open connections and pending answers. */
  close(): Promise<void>;
}

/** The fixed private key the stand-in signs invoices with. */
export const STAND_IN_PRIVATE_KEY = createHash('sha256').update('powgate stand-in lightning node').digest('hex');

const NETWORKS = {
  regtest: { bech32: 'bcrt', pubKeyHash: 0x6f, scriptHash: 0xc4, validWitnessVersions: [0] },
  bitcoin: { bech32: 'bc', pubKeyHash: 0x00, scriptHash: 0x05, validWitnessVersions: [0] },
};

interface Invoice {
  hash: string;
  preimage: string;
  bolt11: string;
  amountSats: number;
  memo: string;
  createdAt: number; // seconds since the epoch
  expirySeconds: number;
  settled: boolean;
}

type Reply = { status: number; body: unknown };

/** Starts a stand-in node on 127.0.0.1 with a random port, macaroon and API key. */
export async function startStandInNode(options: StandInNodeOptions = {}): Promise<StandInNode> {
  const network = NETWORKS[options.network ?? 'regtest'];
  const lnbitsField = options.lnbitsField ?? 'bolt11';
  const lndMacaroonHex = randomBytes(96).toString('hex');
  const lnbitsKey = randomBytes(16).toString('hex');
  const byHash = new Map<string, Invoice>();
  const byBolt11 = new Map<string, Invoice>();
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let mode: StandInMode = 'up';
  let delayMs = 10_000;
  let created = 0;
  let received = 0;

  const expired = (invoice: Invoice) => Date.now() >= (invoice.createdAt + invoice.expirySeconds) * 1000;

  function issue(amountSats: number, memo: string, expirySeconds: number): Invoice {
    const preimage = randomBytes(32).toString('hex');
    const hash = createHash('sha256').update(Buffer.from(preimage, 'hex')).digest('hex');
    const createdAt = Math.floor(Date.now() / 1000);
    const signedHash = mode === 'garbage' ? randomBytes(32).toString('hex') : hash;
    const signedAmount = mode === 'wrong-amount' ? amountSats + 1 : amountSats;
    const unsigned = bolt11.encode(
      {
        network,
        satoshis: signedAmount,
        timestamp: createdAt,
        tags: [
          { tagName: 'payment_hash', data: signedHash },
          { tagName: 'payment_secret', data: randomBytes(32).toString('hex') },
          { tagName: 'description', data: memo },
          { tagName: 'expire_time', data: expirySeconds },
          { tagName: 'feature_bits', data: { word_length: 4, payment_secret: { required: true }, var_onion_optin: { required: true } } },
        ],
      },
      false,
    );
    const invoice: Invoice = { hash, preimage, bolt11: bolt11.sign(unsigned, STAND_IN_PRIVATE_KEY).paymentRequest!, amountSats, memo, createdAt, expirySeconds, settled: false };
    byHash.set(hash, invoice);
    byBolt11.set(invoice.bolt11, invoice);
    created += 1;
    return invoice;
  }

  /** The invoice's terms from a request body, or undefined when they are not valid. */
  function terms(amount: unknown, memo: unknown, expiry: unknown): [number, string, number] | undefined {
    const sats = Number(amount);
    const seconds = expiry === undefined ? 86_400 : Number(expiry);
    if (!Number.isSafeInteger(sats) || sats < 1 || !Number.isSafeInteger(seconds) || seconds < 1) return undefined;
    if (memo !== undefined && typeof memo !== 'string') return undefined;
    return [sats, memo ?? '', seconds];
  }

  function lnd(method: string, path: string, headers: http.IncomingHttpHeaders, body: Record<string, unknown>): Reply {
    if (headers['grpc-metadata-macaroon'] !== lndMacaroonHex) {
      return { status: 401, body: { code: 16, message: 'verification failed: signature mismatch after caveat verification', details: [] } };
    }
    if (method === 'POST' && path === '/v1/invoices') {
      const asked = terms(body.value, body.memo, body.expiry);
      if (!asked) return { status: 400, body: { code: 3, message: 'invalid invoice', details: [] } };
      const invoice = issue(...asked);
      const r_hash = Buffer.from(invoice.hash, 'hex').toString('base64');
      return { status: 200, body: { r_hash, payment_request: invoice.bolt11, add_index: String(created), payment_addr: randomBytes(32).toString('base64') } };
    }
    const lookup = /^\/v1\/invoice\/([0-9a-f]{64})$/.exec(path);
    if (method === 'GET' && lookup) {
      const invoice = byHash.get(lookup[1]!);
      if (!invoice) return { status: 404, body: { code: 5, message: 'unable to locate invoice', details: [] } };
      if (mode === 'garbage') return { status: 200, body: { state: 'BANANA', settled: 'perhaps' } };
      const state = invoice.settled ? 'SETTLED' : expired(invoice) ? 'CANCELED' : 'OPEN'; // LND cancels expired invoices.
      return {
        status: 200,
        body: {
          memo: invoice.memo,
          r_preimage: Buffer.from(invoice.preimage, 'hex').toString('base64'), // LND shows it even before payment.
          r_hash: Buffer.from(invoice.hash, 'hex').toString('base64'),
          value: String(invoice.amountSats),
          value_msat: String(invoice.amountSats * 1000),
          settled: invoice.settled,
          creation_date: String(invoice.createdAt),
          expiry: String(invoice.expirySeconds),
          payment_request: invoice.bolt11,
          state,
        },
      };
    }
    return { status: 404, body: { code: 5, message: 'Not Found', details: [] } };
  }

  function lnbits(method: string, path: string, headers: http.IncomingHttpHeaders, body: Record<string, unknown>): Reply {
    if (headers['x-api-key'] !== lnbitsKey) return { status: 401, body: { detail: 'Invalid key.' } };
    if (method === 'POST' && path === '/api/v1/payments') {
      const asked = body.out === false && body.unit === 'sat' ? terms(body.amount, body.memo, body.expiry) : undefined;
      if (!asked) return { status: 400, body: { detail: 'invalid invoice' } };
      const invoice = issue(...asked);
      return { status: 201, body: { payment_hash: invoice.hash, [lnbitsField]: invoice.bolt11, checking_id: invoice.hash } };
    }
    const lookup = /^\/api\/v1\/payments\/([0-9a-f]{64})$/.exec(path);
    if (method === 'GET' && lookup) {
      const invoice = byHash.get(lookup[1]!);
      if (!invoice) return { status: 404, body: { detail: 'Payment does not exist.' } };
      if (mode === 'garbage') return { status: 200, body: { paid: 'perhaps' } };
      // Naive UTC, as LNbits writes its dates.
      const expiry = new Date((invoice.createdAt + invoice.expirySeconds) * 1000).toISOString().replace('Z', '');
      return {
        status: 200,
        body: {
          paid: invoice.settled,
          preimage: invoice.settled ? invoice.preimage : null,
          details: {
            status: invoice.settled ? 'success' : 'pending',
            payment_hash: invoice.hash,
            bolt11: invoice.bolt11,
            amount: invoice.amountSats * 1000,
            memo: invoice.memo,
            expiry,
          },
        },
      };
    }
    return { status: 404, body: { detail: 'Not Found' } };
  }

  function answer(request: http.IncomingMessage, response: http.ServerResponse, raw: string): void {
    if (mode === 'not-json') {
      response.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>502 Bad Gateway</body></html>');
      return;
    }
    if (mode === 'oversize') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write('{"padding":"');
      for (let i = 0; i < 16; i += 1) response.write('x'.repeat(64 * 1024));
      response.end('"}');
      return;
    }
    let body: Record<string, unknown> = {};
    try {
      if (raw) body = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      response.writeHead(400, { 'content-type': 'application/json' }).end('{"message":"invalid JSON"}');
      return;
    }
    const path = new URL(request.url ?? '/', 'http://stand-in').pathname;
    const method = request.method ?? 'GET';
    const reply = path.startsWith('/api/') ? lnbits(method, path, request.headers, body) : lnd(method, path, request.headers, body);
    response.writeHead(reply.status, { 'content-type': 'application/json' }).end(JSON.stringify(reply.body));
  }

  const handler = (request: http.IncomingMessage, response: http.ServerResponse) => {
    received += 1;
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (mode === 'down') return request.socket.destroy();
      const raw = Buffer.concat(chunks).toString('utf8');
      if (mode !== 'slow') return answer(request, response, raw);
      const timer = setTimeout(() => {
        timers.delete(timer);
        answer(request, response, raw);
      }, delayMs);
      timers.add(timer);
    });
  };

  const server = options.tls ? (await import('node:https')).createServer(options.tls, handler) : http.createServer(handler);
  server.on('connection', (socket: Socket) => {
    if (mode === 'down') return socket.destroy();
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const nodePublicKey = bolt11.decode(issueProbe()).payeeNodeKey ?? '';

  /** A throwaway invoice, signed once to learn the node's public key. */
  function issueProbe(): string {
    const unsigned = bolt11.encode(
      {
        network,
        satoshis: 1,
        timestamp: 0,
        tags: [
          { tagName: 'payment_hash', data: '00'.repeat(32) },
          { tagName: 'description', data: '' },
        ],
      },
      false,
    );
    return bolt11.sign(unsigned, STAND_IN_PRIVATE_KEY).paymentRequest!;
  }

  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    lndMacaroonHex,
    lnbitsKey,
    nodePublicKey,
    pay(request: string): string {
      const invoice = byBolt11.get(request.toLowerCase());
      if (!invoice) throw new Error('the stand-in node did not issue this invoice');
      if (invoice.settled) throw new Error('this invoice is already paid');
      if (expired(invoice)) throw new Error('this invoice has expired');
      invoice.settled = true;
      return invoice.preimage;
    },
    invoicesCreated: () => created,
    requestsReceived: () => received,
    setMode(next: StandInMode, delay = 10_000): void {
      mode = next;
      delayMs = delay;
      if (next === 'down') for (const socket of sockets) socket.destroy();
    },
    async close(): Promise<void> {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
