import type { Gate } from '../gate/gate.js';

/** The response header that lists how the gate serves degraded (see {@link Gate.degraded}), when it does. */
export const DEGRADED_HEADER = 'powgate-degraded';

/** The last list seen and its text: the list is the same object while nothing changes. */
let last: { list: readonly string[]; text: string } | undefined;

/** The {@link DEGRADED_HEADER} value for `gate` now, or undefined when it serves normally. */
export function degradedHeader(gate: Gate): string | undefined {
  const list = gate.degraded();
  if (list.length === 0) return undefined;
  if (last?.list !== list) last = { list, text: list.join(', ') };
  return last.text;
}
