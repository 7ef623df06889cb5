// Strict reading of untrusted JSON: exact keys, own plain objects, nothing else.

/** Own enumerable keys of a plain object (or of a null-prototype one), else undefined. */
export function plainKeys(value: unknown): string[] | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return undefined;
  return Object.keys(value);
}

/** True when `value` is a plain object whose keys are all in `allowed` and include all of `required`. */
export function hasExactKeys(value: unknown, required: readonly string[], optional: readonly string[] = []): boolean {
  const keys = plainKeys(value);
  if (!keys || keys.length > required.length + optional.length) return false;
  for (const key of keys) if (!required.includes(key) && !optional.includes(key)) return false;
  for (const key of required) if (!keys.includes(key)) return false;
  return true;
}

/** How many of `keys` a plain object's enumerable keys are, in that order; -1 when they are anything else. */
export function keysInOrder(value: object, keys: readonly string[]): number {
  if ((value as { constructor?: unknown }).constructor !== Object) return -1;
  let i = 0;
  for (const key in value) {
    if (key !== keys[i]) return -1;
    i++;
  }
  return i;
}

/** Milliseconds since the epoch, as signed: a non-negative safe integer. */
export function isTimestamp(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Scopes are printable ASCII so that their bytes are unambiguous; at most 256 characters. */
const SCOPE_PATTERN = /^[\x20-\x7e]{0,256}$/;

export function isScope(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 256 && SCOPE_PATTERN.test(value);
}
