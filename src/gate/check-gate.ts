import { invalid } from '../validate.js';
import type { Gate } from './gate.js';

/** The methods the transports call: a value with all of them is taken for a Gate (another copy of the class included). */
const GATE_METHODS = ['door', 'resource', 'doors', 'challenge', 'lightningOffer', 'redeem', 'redeemL402', 'useToken', 'useL402', 'refuse', 'status', 'degraded'] as const;

/**
 * `value` as a Gate, or a PowgateError `ERR_INVALID_ARGUMENT` naming `what`: for the
 * registration of a gated entry point, so that a wrong argument fails there and not at every call.
 * By shape, not instanceof: a CommonJS and an ES module copy of the class are both gates.
 */
export function checkGate(value: unknown, what = 'gate'): Gate {
  const candidate = value as Record<string, unknown> | null | undefined;
  if (typeof candidate !== 'object' || candidate === null || !GATE_METHODS.every((name) => typeof candidate[name] === 'function')) {
    throw invalid('a Gate', what, value);
  }
  return value as Gate;
}
