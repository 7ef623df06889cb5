// powgate's declarations as a TypeScript user with the compiler's defaults (skipLibCheck off)
// gets them: the core entry and powgate/client compile with none of the optional peers
// installed (ioredis, the MCP SDK, zod, pino, prom-client), and with ioredis installed its
// clients are accepted where powgate takes one.
import { describe, expect, it } from 'vitest';
import { COMPILE_TIMEOUT_MS, compileConsumer } from './helpers/consumer-project.js';

describe('declarations without the optional peers', () => {
  it('the core entry and powgate/client compile with no peer installed', { timeout: COMPILE_TIMEOUT_MS }, () => {
    const source = `
import { Gate, RedisReplayStore, createChallenge, solve, verifySolution, type GateStatus, type RedisClient } from 'powgate';
import { wrapFetchWithPowgate, wrapMcpClientWithPowgate, type McpToolClient } from 'powgate/client';
const secret = 'a consumer secret that is at least 32 bytes long';
const gate = new Gate({ secret, store: new RedisReplayStore({ url: 'redis://127.0.0.1:6379' }) });
const status: GateStatus = gate.status();
const challenge = createChallenge({ secret, difficulty: 8 });
const verdict = await verifySolution(challenge, await solve(challenge), { secret });
const pay = wrapFetchWithPowgate(fetch, { maxSecondsPerCall: 5 });
declare const tools: McpToolClient;
const paid = wrapMcpClientWithPowgate(tools, { maxSecondsPerCall: 5 });
// @ts-expect-error a Redis client has a pipeline
export const notRedis: RedisClient = {};
// @ts-expect-error and eval and ping
export const halfRedis: RedisClient = { pipeline: () => undefined };
export { status, verdict, pay, paid };
`;
    const { code, output } = compileConsumer([], { 'main.ts': source });
    expect(output).toBe('');
    expect(code).toBe(0);
  });

  it("takes ioredis's Redis and Cluster as a store's client", { timeout: COMPILE_TIMEOUT_MS }, () => {
    const source = `
import { Cluster, Redis } from 'ioredis';
import { RedisRateCounter, RedisReplayStore } from 'powgate';
const store = new RedisReplayStore({ client: new Redis({ lazyConnect: true }) });
const counter = new RedisRateCounter({ client: new Cluster([{ host: '127.0.0.1', port: 7000 }], { lazyConnect: true }) });
export { store, counter };
`;
    const { code, output } = compileConsumer(['ioredis'], { 'main.ts': source });
    expect(output).toBe('');
    expect(code).toBe(0);
  });
});
