import { expect } from 'vitest';
import { PowgateError } from '../../src/errors.js';

/** `fn` throws a PowgateError with this code (and, when given, a message matching). */
export function expectCode(fn: () => unknown, code: string, message?: RegExp): void {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(PowgateError);
    expect((error as PowgateError).code).toBe(code);
    if (message) expect((error as PowgateError).message).toMatch(message);
    return;
  }
  throw new Error('expected a PowgateError');
}
