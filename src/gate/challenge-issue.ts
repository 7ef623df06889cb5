// Issuing: the price a client's rate earns at a door, a challenge at it, a Lightning offer for it.
import { createChallenge } from '../protocol/challenge.js';
import { DIFFICULTY_STEPS, PROTOCOL_MAX_DIFFICULTY, PROTOCOL_MIN_DIFFICULTY, difficultySteps } from '../protocol/difficulty.js';
import { log2Steps } from '../protocol/price.js';
import { isScope } from '../protocol/shape.js';
import { checkInteger, invalid } from '../validate.js';
import { difficultyFor } from './adaptive-difficulty.js';
import type { GateCore } from './core.js';
import type { ChallengeRefusal } from './envelope.js';
import { DEFAULT_CHANNEL, type Channel } from './events.js';
import { explainRefusal } from './explain.js';
import type { LightningDoor } from './lightning-door.js';
import type { ChallengeResult, ClientCounting } from './options.js';

/** What {@link Gate.challenge} takes. */
export type ChallengeOptions = { scope?: string; difficulty?: number; calls?: number } & ClientCounting;

function refusal(reason: ChallengeRefusal): Extract<ChallengeResult, { ok: false }> {
  return { ok: false, reason, detail: explainRefusal(reason) };
}

/** See {@link Gate.priceFor}. */
export async function priceFor(
  core: GateCore,
  client: string,
  scope: string,
  weight: number,
  channel?: Channel,
): Promise<{ difficulty: number; requests: number | undefined } | undefined> {
  const { settings } = core;
  const base = core.doors.baseOf(scope);
  if (base === undefined) throw invalid('a declared scope', 'scope', scope);
  const requests = await settings.counter.hit(client, settings.difficulty.windowMs, weight);
  if (requests === undefined) {
    if (!settings.failOpen) return undefined;
    core.funnel.failedOpen(scope, channel);
    return { difficulty: base, requests };
  }
  return { difficulty: difficultyFor(settings.difficulty, requests, base), requests };
}

/** See {@link Gate.challenge}. */
export async function issueChallenge(core: GateCore, client: string, options: ChallengeOptions): Promise<ChallengeResult> {
  const result = await challenge(core, client, options);
  const { funnel } = core;
  if (funnel.observed) {
    if (result.ok) funnel.emit({ stage: 'challenge_issued', scope: result.challenge.scope, door: 'work', channel: options.channel ?? DEFAULT_CHANNEL });
    else funnel.refused('challenge', result.reason, options.scope ?? '', 'work', options.channel);
  }
  return result;
}

async function challenge(core: GateCore, client: string, options: ChallengeOptions): Promise<ChallengeResult> {
  const { settings, doors } = core;
  const scope = options.scope ?? '';
  if (!isScope(scope)) throw invalid('printable ASCII of at most 256 characters', 'scope', scope);
  if (!doors.has(scope)) return refusal('unknown_scope');
  await writeEpoch(core);
  const calls = options.calls === undefined ? settings.calls : options.calls;
  if (typeof calls !== 'number' || !Number.isInteger(calls) || calls < 1 || calls > settings.maxCalls) {
    return { ok: false, reason: 'calls_out_of_range', detail: `calls must be an integer from 1 to ${settings.maxCalls}` };
  }
  const price = await priceFor(core, client, scope, options.pooled === true ? 0 : calls, options.channel);
  if (!price) return refusal('store_unavailable');
  let perCall = price.difficulty;
  if (options.difficulty !== undefined) {
    const asked = options.difficulty;
    const most = doors.baseOf(scope)! + doors.headroom;
    if (typeof asked !== 'number' || !(asked >= perCall && asked <= most)) {
      return { ok: false, reason: 'difficulty_out_of_range', detail: `difficulty must be from ${perCall} (this client's current price per call) to ${most}` };
    }
    perCall = asked;
  }
  const steps = difficultySteps(perCall) + log2Steps(calls);
  if (steps > PROTOCOL_MAX_DIFFICULTY * DIFFICULTY_STEPS) return { ok: false, reason: 'calls_out_of_range', detail: "that many calls at this price exceed the protocol's 64 bits" };
  const issued = createChallenge({
    ...core.keys,
    difficulty: steps / DIFFICULTY_STEPS,
    calls,
    scope,
    subPuzzles: settings.subPuzzles,
    ttlMs: settings.challengeTtlMs,
    minDifficulty: PROTOCOL_MIN_DIFFICULTY,
    maxDifficulty: PROTOCOL_MAX_DIFFICULTY,
  });
  return { ok: true, challenge: issued, requests: price.requests };
}

/**
 * Makes the store mark when its memory begins before the first challenge is issued (a fresh
 * Redis would otherwise mark it at the first redemption, after challenges it then refuses).
 * Tried again while the store cannot answer.
 */
function writeEpoch(core: GateCore): Promise<unknown> | undefined {
  const { store } = core.settings;
  if (core.epochWritten === undefined && typeof store.epoch === 'function') {
    core.epochWritten = store.epoch().then((since) => {
      if (since === undefined) core.epochWritten = undefined;
    });
  }
  return core.epochWritten;
}

/** See {@link Gate.lightningOffer}. */
export async function lightningOffer(
  core: GateCore,
  client: string,
  options: { scope?: string; calls?: number } & ClientCounting,
): Promise<Awaited<ReturnType<LightningDoor['offer']>> | undefined> {
  const { settings, doors, funnel } = core;
  const scope = options.scope ?? '';
  if (!doors.has(scope)) throw invalid('a declared scope', 'scope', scope);
  const sats = doors.satsOf(scope);
  if (sats === undefined) return undefined;
  const calls = checkInteger(options.calls ?? settings.calls, 'calls', 1, settings.maxCalls);
  const offered = await settings.lightning!.offer(client, scope, calls, sats, options.pooled !== true);
  if (funnel.observed) {
    const channel = options.channel ?? DEFAULT_CHANNEL;
    if (offered.ok) funnel.emit({ stage: 'challenge_issued', scope, door: 'lightning', channel });
    else funnel.emit({ stage: 'degraded', degraded: 'lightning_unavailable', reason: offered.reason, scope, door: 'lightning', channel });
  }
  return offered;
}
