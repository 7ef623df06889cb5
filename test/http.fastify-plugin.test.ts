// powgateFastify on a real Fastify: registered at the root it guards every route of the app (it
// opens no context of its own, as fastify-plugin would); registered inside an encapsulated
// context it guards that context's routes only; either way `request.powgate` carries the grant.
import fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { PowgateError } from '../src/errors.js';
import { Gate } from '../src/gate/gate.js';
import { REMAINING_HEADER, powgateFastify, type PowgateGrant } from '../src/http/index.js';
import { solve } from '../src/solver/solve.js';
import { SECRET } from './helpers/protocol.js';

const apps: FastifyInstance[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

function newApp(): FastifyInstance {
  const app = fastify();
  apps.push(app);
  return app;
}

/** A token for `scope`, bought the way a client buys one: challenge, solve, redeem. */
async function tokenFor(gate: Gate, scope: string, calls = 2): Promise<string> {
  const issued = await gate.challenge('buyer', { scope, calls });
  if (!issued.ok) throw new Error(issued.reason);
  const redeemed = await gate.redeem(issued.challenge, await solve(issued.challenge, { threads: 1 }));
  if (!redeemed.ok) throw new Error(redeemed.reason);
  return redeemed.token;
}

/** What a handler saw on `request.powgate`. */
function grantView(grant: PowgateGrant | null) {
  return grant === null ? null : { scope: grant.scope, calls: grant.calls, used: grant.used };
}

describe('powgateFastify', () => {
  it('registered at the root, guards the routes declared after it and sets request.powgate', async () => {
    const gate = new Gate({ secret: SECRET, difficulty: 4 });
    const app = newApp();
    await app.register(powgateFastify, { gate, scope: 'search' });
    app.get('/search', async (request) => ({ grant: grantView(request.powgate) }));
    await app.ready();
    expect(app.printPlugins()).toContain('powgate');

    const refused = await app.inject({ method: 'GET', url: '/search' });
    expect(refused.statusCode).toBe(402);
    expect(refused.headers['www-authenticate']).toMatch(/^PowGate realm="powgate", scope="search", error="token_required"/);
    expect(refused.json()).toMatchObject({ error: 'payment_required', cause: { reason: 'token_required' }, accepts: [{ method: 'pow' }] });

    const token = await tokenFor(gate, 'search');
    const passed = await app.inject({ method: 'GET', url: '/search', headers: { authorization: `Bearer ${token}` } });
    expect(passed.statusCode).toBe(200);
    expect(passed.json()).toEqual({ grant: { scope: 'search', calls: 2, used: 1 } });
    expect(passed.headers[REMAINING_HEADER]).toBe('1');
  });

  it('registered inside an encapsulated context, guards that context only', async () => {
    const gate = new Gate({ secret: SECRET, difficulty: 4 });
    const app = newApp();
    app.get('/free', async (request) => ({ decorated: 'powgate' in request, grant: request.powgate ?? null }));
    await app.register(async (paid) => {
      await paid.register(powgateFastify, { gate, scope: 'paid' });
      paid.get('/paid', async (request) => ({ grant: grantView(request.powgate) }));
    });
    // A second context with its own door: the request decorator is declared once per context, never twice.
    await app.register(async (other) => {
      await other.register(powgateFastify, { gate, scope: 'other' });
      other.get('/other', async (request) => ({ grant: grantView(request.powgate) }));
    });
    await app.ready();

    const free = await app.inject({ method: 'GET', url: '/free' });
    expect(free.statusCode).toBe(200);
    expect(free.json()).toEqual({ decorated: false, grant: null });

    expect((await app.inject({ method: 'GET', url: '/paid' })).statusCode).toBe(402);
    const token = await tokenFor(gate, 'paid');
    const passed = await app.inject({ method: 'GET', url: '/paid', headers: { 'x-powgate-token': token } });
    expect(passed.statusCode).toBe(200);
    expect(passed.json()).toEqual({ grant: { scope: 'paid', calls: 2, used: 1 } });
    // The door is the context's: a token for 'paid' does not open 'other'.
    const elsewhere = await app.inject({ method: 'GET', url: '/other', headers: { 'x-powgate-token': token } });
    expect(elsewhere.statusCode).toBe(402);
    expect(elsewhere.json()).toMatchObject({ cause: { reason: 'scope_mismatch' } });
  });

  it('answers 503 with Retry-After when the gate fails closed', async () => {
    const down = { spend: async () => 'store_unavailable', spendMany: async () => [], spendCall: async () => ({ ok: false, reason: 'store_unavailable' }), close: async () => {} };
    const gate = new Gate({ secret: SECRET, difficulty: 4, store: down as never, counter: { hit: async () => undefined, close: async () => {} } as never });
    const app = newApp();
    await app.register(powgateFastify, { gate });
    app.get('/', async () => 'ok');
    const refused = await app.inject({ method: 'GET', url: '/' });
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.json()).toMatchObject({ error: 'store_unavailable', accepts: [] });
  });

  it('fails the registration, with a PowgateError, when its options are wrong', async () => {
    for (const options of [{}, { gate: {} }, { gate: new Gate({ secret: SECRET, difficulty: 4 }), scope: 'a\nb' }]) {
      const app = newApp();
      app.register(powgateFastify, options as never);
      const error = await app.ready().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(PowgateError);
      expect((error as PowgateError).code).toBe('ERR_INVALID_ARGUMENT');
    }
  });
});
