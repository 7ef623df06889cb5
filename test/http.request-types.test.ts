// `req.powgate` for TypeScript users, as they compile against the built package: typed on
// Express's and Fastify's requests by declaration merging, and harmless where neither is installed.
import { describe, expect, it } from 'vitest';
import { COMPILE_TIMEOUT_MS, compileConsumer, EXPRESS_TYPES, HTTP_PEERS } from './helpers/consumer-project.js';

const GATE = `import { Gate } from 'powgate';\nconst gate = new Gate({ secret: 'a consumer secret that is at least 32 bytes long' });\n`;

describe('req.powgate for TypeScript users', () => {
  it('compiles for a user of node:http with neither Express nor Fastify installed', { timeout: COMPILE_TIMEOUT_MS }, () => {
    const source = `${GATE}
import { createServer } from 'node:http';
import { powgateMiddleware, type PowgateRequest } from 'powgate/http';
const guard = powgateMiddleware(gate, { scope: 'search' });
createServer((req, res) => guard(req, res, () => res.end(String((req as PowgateRequest).powgate?.calls))));
`;
    const { code, output } = compileConsumer(HTTP_PEERS, { 'main.ts': source });
    expect(output).toBe('');
    expect(code).toBe(0);
  });

  it('types request.powgate on Express and on Fastify, and catches a wrong use of it', { timeout: COMPILE_TIMEOUT_MS }, () => {
    const source = `${GATE}
import express from 'express';
import fastify from 'fastify';
import { powgateFastify, powgateMiddleware, type PowgateGrant } from 'powgate/http';

const app = express();
app.get('/search', powgateMiddleware(gate, { scope: 'search' }), (req, res) => {
  const grant: PowgateGrant | undefined = req.powgate;
  res.json({ left: grant && grant.used !== undefined ? grant.calls - grant.used : null });
});

const server = fastify();
await server.register(powgateFastify, { gate, scope: 'search' });
server.get('/search', async (request) => {
  const grant: PowgateGrant | null = request.powgate;
  return { scope: grant?.scope ?? null };
});

// @ts-expect-error a grant is not a string
export const wrong: string = app.request.powgate;
// @ts-expect-error Fastify's is null until the gate passes the request, never undefined
export const absent: undefined = (null as unknown as import('fastify').FastifyRequest).powgate;
`;
    const { code, output } = compileConsumer([...HTTP_PEERS, ...EXPRESS_TYPES, 'fastify'], { 'main.ts': source });
    expect(output).toBe('');
    expect(code).toBe(0);
  });
});
