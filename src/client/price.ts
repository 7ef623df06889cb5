// What a door costs, priced before any work: CPU-seconds from the difficulty and a hash rate, or sats.
import type { PaymentPrice } from '../errors.js';
import type { Challenge } from '../protocol/challenge.js';
import { expectedHashes } from '../protocol/difficulty.js';
import type { Offer } from './offers.js';

/** Expected hashes to solve a powgate challenge: each sub-puzzle's 2^64 / threshold, summed. */
function challengeHashes(challenge: Challenge): number {
  return challenge.subPuzzles * expectedHashes(BigInt(`0x${challenge.threshold}`));
}

/**
 * The price of paying `offer`: expected CPU-seconds (core-seconds: expected hashes over one
 * core's rate) for the proof-of-work doors, sats for Lightning; and the calls it buys.
 * `rate` is the hashes per second of one core for that door's solver (unused for `l402`).
 */
export function priceOf(offer: Offer, rate: number): PaymentPrice {
  switch (offer.method) {
    case 'pow':
      return { method: 'pow', seconds: challengeHashes(offer.challenge) / rate, calls: offer.challenge.calls };
    case 'l402-pow':
      return { method: 'l402-pow', seconds: 2 ** offer.bits / rate, calls: offer.calls };
    case 'l402':
      return { method: 'l402', sats: offer.amountSats, calls: offer.calls };
  }
}

/** A price in words, for error messages: "about 12.5 CPU-seconds for 1 call". */
export function describePrice(price: PaymentPrice): string {
  const amount = price.sats !== undefined ? `${price.sats} sats` : `about ${formatSeconds(price.seconds ?? 0)} CPU-seconds`;
  return `${amount} for ${price.calls} call${price.calls === 1 ? '' : 's'} (${price.method})`;
}

function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return String(seconds);
  if (seconds >= 1e6) return seconds.toExponential(2);
  return seconds >= 10 ? seconds.toFixed(0) : seconds.toPrecision(3);
}
