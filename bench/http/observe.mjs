// What watching a gate with metrics costs a token check (issue 15). Gate.useToken with a spend
// (memory store), in three setups, interleaved rounds, median and best of each:
//   - unobserved: no observer (the events are never built);
//   - metrics (deferred cells): HttpMetrics.watch(gate), as shipped: a plain cell per label set;
//   - metrics (label hashing): the naive observer, counter.inc({ scope, door, channel }) per event.
// Run: npx tsup && node bench/http/observe.mjs [--calls N] [--rounds R] [--dist DIR]
// --dist DIR times another build's Gate (e.g. the main checkout's, before events), unobserved only.
import { Counter, Registry } from 'prom-client';
import { pathToFileURL } from 'node:url';

const distAt = process.argv.indexOf('--dist');
const dist = distAt === -1 ? new URL('../../dist/', import.meta.url) : pathToFileURL(`${process.argv[distAt + 1]}/`);
const { Gate, solve } = await import(new URL('index.js', dist).href);
const { HttpMetrics } = await import(new URL('http.js', dist).href);

const arg = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : Number(process.argv[at + 1]);
};
const CALLS = arg('calls', 200_000);
const ROUNDS = arg('rounds', 7);
const SECRET = 'a bench secret that is at least 32 bytes long';

async function setup(kind) {
  const gate = new Gate({ secret: SECRET, difficulty: 1, maxCalls: 1_000_000, scopes: { search: 1 } });
  if (kind === 'cached') new HttpMetrics({ defaultMetrics: false }).watch(gate);
  if (kind === 'hashing') {
    const registry = new Registry();
    const paid = new Counter({ name: 'paid_calls_total', help: 'x', labelNames: ['scope', 'door', 'channel'], registers: [registry] });
    gate.observe((event) => {
      if (event.stage === 'paid_call') paid.inc({ scope: event.scope, door: event.door, channel: event.channel });
    });
  }
  return gate;
}

async function tokenFor(gate) {
  const issued = await gate.challenge('bench', { scope: 'search', calls: 1_000_000 });
  const solution = await solve(issued.challenge);
  const redeemed = await gate.redeem(issued.challenge, solution);
  if (!redeemed.ok) throw new Error(redeemed.reason);
  return redeemed.token;
}

async function round(gate, token) {
  const started = performance.now();
  for (let i = 0; i < CALLS; i++) {
    const used = await gate.useToken(token, { scope: 'search' });
    if (!used.ok) throw new Error(used.reason);
  }
  return CALLS / ((performance.now() - started) / 1000);
}

const kinds = distAt === -1 ? ['unobserved', 'cached', 'hashing'] : ['unobserved'];
const gates = {};
const rates = Object.fromEntries(kinds.map((k) => [k, []]));
for (const kind of kinds) gates[kind] = await setup(kind);
for (let r = 0; r <= ROUNDS; r++) {
  for (const kind of kinds) {
    // A fresh token each round: its calls never run out mid-round.
    const rate = await round(gates[kind], await tokenFor(gates[kind]));
    if (r > 0) rates[kind].push(rate); // round 0 warms up
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const label = { unobserved: 'unobserved', cached: 'metrics (deferred cells)', hashing: 'metrics (label hashing)' };
console.log(`Gate.useToken with a spend (memory store), ${CALLS} calls a round, ${ROUNDS} rounds, node ${process.version}, ${dist.pathname}`);
for (const kind of kinds) {
  console.log(`${label[kind].padEnd(28)} median ${(median(rates[kind]) / 1e6).toFixed(2)} M calls/s   best ${(Math.max(...rates[kind]) / 1e6).toFixed(2)} M calls/s`);
}
for (const gate of Object.values(gates)) await gate.close();
