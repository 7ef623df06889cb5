// Which door to try first: the `prefer` order, then only doors this client can pay.
import { invalid } from '../validate.js';
import type { Offer, PaymentMethod } from './offers.js';

/** The default order: powgate's proof of work, then Aperture's, then Lightning (only with a wallet and sats allowed). */
const DEFAULT_PREFER: readonly PaymentMethod[] = Object.freeze(['pow', 'l402-pow', 'l402']);
const METHODS: readonly string[] = DEFAULT_PREFER;

/** Checks a `prefer` list: known methods, no repeats; methods left out are never used. */
export function checkPrefer(value: unknown): readonly PaymentMethod[] {
  if (value === undefined) return DEFAULT_PREFER;
  if (!Array.isArray(value) || value.length === 0 || value.some((m, i) => !METHODS.includes(m) || value.indexOf(m) !== i)) {
    throw invalid(`a non-empty list of distinct methods among ${METHODS.join(', ')}`, 'prefer', value);
  }
  return Object.freeze([...value]) as readonly PaymentMethod[];
}

/**
 * The offers to try, best first: those whose method is in `prefer`, in its order (the
 * server's order among equals); Lightning only with a wallet; L402 credentials (Lightning,
 * Aperture) only where they can be presented (`l402: false` when the request's own
 * Authorization header is taken).
 */
export function rankOffers(offers: readonly Offer[], options: { prefer: readonly PaymentMethod[]; wallet: boolean; l402: boolean }): Offer[] {
  const usable = offers.filter((o) => options.prefer.includes(o.method) && (o.method === 'pow' || options.l402) && (o.method !== 'l402' || options.wallet));
  return usable.sort((a, b) => options.prefer.indexOf(a.method) - options.prefer.indexOf(b.method));
}
