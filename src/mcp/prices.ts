import type { Gate } from '../gate/gate.js';
import { doorPrices, type DoorPrices, type ReferenceHardware } from '../gate/discovery.js';

/** The `_meta` key of a gated tool's entry in tools/list: its door and prices, machine-readable. */
export const PRICE_META_KEY = 'powgate/price';

/** A gated tool's `_meta[PRICE_META_KEY]`: its door, and how calls are sold there (see doorPrices). */
export function priceMeta(gate: Gate, scope: string, reference?: ReferenceHardware): { scope: string; doors: DoorPrices } {
  return { scope, doors: doorPrices(gate, scope, reference) };
}

/** A price in a sentence for a tool's description: "about 2^18 hashes per call (0.2 s on X), or 10 sats (Lightning)". */
export function describePrices(prices: DoorPrices, reference?: ReferenceHardware): string {
  const parts: string[] = [];
  for (const p of prices) {
    if (p.method === 'pow') {
      const bits = Math.round(p.price_bits * 10) / 10;
      const range = p.price_bits_max > p.price_bits ? ` (up to 2^${Math.round(p.price_bits_max * 10) / 10} for clients calling fast)` : '';
      const time = p.seconds_per_call === null ? '' : `, about ${p.seconds_per_call} s on ${reference?.machine ?? 'the reference machine'}`;
      parts.push(`proof of work of about 2^${bits} SHA-256 hashes per call${range}${time}`);
    } else {
      parts.push(`${p.sats} sats per call over Lightning (L402)`);
    }
  }
  return parts.join(', or ');
}
