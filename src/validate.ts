import { PowgateError } from './errors.js';

/** A short, secret-free description of a value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : `the number ${value}`;
  if (typeof value === 'string') return `a string of length ${value.length}`;
  if (typeof value === 'bigint') return 'a bigint';
  if (typeof value === 'boolean') return `${value}`;
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name} of ${value.byteLength} bytes`;
  const name = (value as object).constructor?.name;
  return name && name !== 'Object' ? `an instance of ${name}` : 'an object';
}

/** The standard programmer-error: "expected ... for ... but received ...". */
export function invalid(expected: string, what: string, value: unknown): PowgateError {
  return new PowgateError('ERR_INVALID_ARGUMENT', `expected ${expected} for ${what} but received ${describe(value)}`);
}

export function checkUint8Array(value: unknown, what: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw invalid('a Uint8Array', what, value);
  return value;
}

export function checkUint32Array(value: unknown, what: string): Uint32Array {
  if (!(value instanceof Uint32Array)) throw invalid('a Uint32Array', what, value);
  return value;
}

export function checkInteger(value: unknown, what: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(`an integer from ${min} to ${max}`, what, value);
  }
  return value;
}

export function checkArray(value: unknown, what: string): readonly unknown[] {
  if (!Array.isArray(value)) throw invalid('an array', what, value);
  return value;
}

/** `options` as a record; `undefined` counts as `{}`. */
export function checkOptions(options: unknown, what: string): Record<string, unknown> {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw invalid('an object', what, options);
  return options as Record<string, unknown>;
}
