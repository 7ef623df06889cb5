import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { DEGRADATIONS, type GateEvent } from '../gate/events.js';
import type { Gate } from '../gate/gate.js';
import { invalid } from '../validate.js';
import { deferredCounter, type DeferredCounter } from './label-cache.js';

type FunnelLabel = 'scope' | 'door' | 'channel';

/** Seconds from a challenge's issue to its redemption: what a call's price costs a client, as the server sees it. */
export const CHALLENGE_TO_REDEEM_BUCKETS: readonly number[] = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300];

/**
 * The gate's funnel as Prometheus metrics, counted from its events (see {@link Gate.observe}),
 * per scope, door (`work`, `lightning`) and channel:
 * `<prefix>gate_refusals_total{scope,door,channel,step,reason}`, `<prefix>challenges_issued_total`,
 * `<prefix>redemptions_total`, `<prefix>paid_calls_total`, `<prefix>allowances_exhausted_total`,
 * `<prefix>challenge_to_redeem_seconds{scope,channel}`, `<prefix>degraded_events_total{what,channel}`
 * and the gauge `<prefix>degraded{what}` (1 while a watched gate serves that way).
 */
export class GateMetrics {
  readonly refusals: Counter<FunnelLabel | 'step' | 'reason'>;
  readonly challenges: Counter<FunnelLabel>;
  readonly redemptions: Counter<FunnelLabel>;
  readonly paidCalls: Counter<FunnelLabel>;
  readonly exhausted: Counter<FunnelLabel>;
  readonly redeemSeconds: Histogram<'scope' | 'channel'>;
  readonly degradedEvents: Counter<'what' | 'channel'>;
  readonly degraded: Gauge<'what'>;
  readonly #watched = new Map<Gate, () => void>();
  readonly #refusals: DeferredCounter<FunnelLabel | 'step' | 'reason'>;
  readonly #funnel: Record<'challenge_issued' | 'redeemed' | 'paid_call' | 'allowance_exhausted', DeferredCounter<FunnelLabel>>;
  readonly #degradedEvents: DeferredCounter<'what' | 'channel'>;
  /** The observer given to each watched gate. */
  readonly #observer = (event: GateEvent): void => this.count(event);

  constructor(registry: Registry, prefix = 'powgate_') {
    const registers = [registry];
    const funnel = ['scope', 'door', 'channel'] as const;
    const refusals = deferredCounter(Counter, {
      name: `${prefix}gate_refusals_total`,
      help: 'Refusals by the gate, by scope, door, channel, step (call, challenge, redeem) and reason',
      labelNames: [...funnel, 'step', 'reason'] as const,
      registers,
    });
    const stage = (name: string, help: string) => deferredCounter(Counter, { name: `${prefix}${name}`, help, labelNames: funnel, registers });
    const challenges = stage('challenges_issued_total', 'Challenges (door work) and invoices (door lightning) offered');
    const redemptions = stage('redemptions_total', 'Solutions and paid invoices redeemed for a token');
    const paidCalls = stage('paid_calls_total', "Gated calls that spent one of a token's calls and went through");
    const exhausted = stage('allowances_exhausted_total', 'Tokens whose last call was spent');
    [this.refusals, this.#refusals] = [refusals.counter, refusals.cells];
    [this.challenges, this.redemptions, this.paidCalls, this.exhausted] = [challenges.counter, redemptions.counter, paidCalls.counter, exhausted.counter];
    this.#funnel = { challenge_issued: challenges.cells, redeemed: redemptions.cells, paid_call: paidCalls.cells, allowance_exhausted: exhausted.cells };
    this.redeemSeconds = new Histogram({
      name: `${prefix}challenge_to_redeem_seconds`,
      help: "Seconds from a challenge's signed issue time to its redemption, as the server sees it (solving, plus the round trips)",
      labelNames: ['scope', 'channel'],
      buckets: [...CHALLENGE_TO_REDEEM_BUCKETS],
      registers,
    });
    const degradedEvents = deferredCounter(Counter, {
      name: `${prefix}degraded_events_total`,
      help: 'Times the gate served degraded (fail_open: a call let through uncounted; lightning_unavailable: a refusal without an invoice), by channel',
      labelNames: ['what', 'channel'] as const,
      registers,
    });
    [this.degradedEvents, this.#degradedEvents] = [degradedEvents.counter, degradedEvents.cells];
    const watched = this.#watched;
    this.degraded = new Gauge({
      name: `${prefix}degraded`,
      help: 'Whether a watched gate serves degraded now, by way (1) or not (0)',
      labelNames: ['what'],
      registers,
      collect() {
        const now = new Set<string>();
        for (const gate of watched.keys()) for (const what of gate.degraded()) now.add(what);
        for (const what of DEGRADATIONS) this.set({ what }, now.has(what) ? 1 : 0);
      },
    });
  }

  /** Counts `gate`'s events from now on (once, however often it is watched). Returns a function that stops. */
  watch(gate: Gate): () => void {
    if (typeof gate?.observe !== 'function') throw invalid('a Gate', 'gate', gate);
    let stop = this.#watched.get(gate);
    if (stop === undefined) {
      const unobserve = gate.observe(this.#observer);
      stop = () => {
        unobserve();
        this.#watched.delete(gate);
      };
      this.#watched.set(gate, stop);
    }
    return stop;
  }

  /** Counts one event. */
  count(event: GateEvent): void {
    const { stage, scope, door, channel } = event;
    if (stage === 'refused') {
      this.#refusals.inc(scope, door, channel, event.step ?? 'call', event.reason ?? 'unknown');
    } else if (stage === 'degraded') {
      this.#degradedEvents.inc(event.degraded ?? 'unknown', channel);
    } else {
      this.#funnel[stage].inc(scope, door, channel);
      // Redemptions are rare next to calls: observed directly.
      if (stage === 'redeemed' && event.seconds !== undefined) this.redeemSeconds.observe({ scope, channel }, event.seconds);
    }
  }
}
