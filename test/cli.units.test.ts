// The command line's own parsing and formatting, without a subprocess.
import { describe, expect, it } from 'vitest';
import { UsageError, parseDuration, parseInteger, parseNumber } from '../src/cli/args.js';
import { formatRate, formatSeconds, formatTable } from '../src/cli/format.js';

describe('parseDuration', () => {
  it.each([
    ['5s', 5],
    ['5', 5],
    ['500ms', 0.5],
    ['1.5m', 90],
    ['2h', 7200],
    ['.25s', 0.25],
    [' 3s ', 3],
  ])('%j is %d s', (text, seconds) => expect(parseDuration(text, 'target')).toBe(seconds));

  it.each(['', '0', '0s', '-1s', '5 s', '5sec', '1e3', 'NaN', 'Infinity', '5d', '1.s'])('refuses %j', (text) => {
    expect(() => parseDuration(text, 'target')).toThrow(UsageError);
    expect(() => parseDuration(text, 'target')).toThrow(`for --target but received '${text}'`);
  });
});

describe('parseInteger and parseNumber', () => {
  it('take plain decimal numbers within bounds only', () => {
    expect(parseInteger('8', 'k', 1, 64)).toBe(8);
    for (const bad of ['0', '65', '8.0', '0x10', '1e1', '-1', '', ' ', '9007199254740993']) expect(() => parseInteger(bad, 'k', 1, 64), bad).toThrow(UsageError);
    expect(parseNumber('18.5', 'd', 1, 64)).toBe(18.5);
    expect(parseNumber('.5', 'p', 0.1, 99.9)).toBe(0.5);
    for (const bad of ['0.99', '64.01', 'NaN', '1e1', '+5', '5.', 'Infinity']) expect(() => parseNumber(bad, 'd', 1, 64), bad).toThrow(UsageError);
  });
});

describe('formatSeconds', () => {
  it.each([
    [0.9999999, '1.00 s'],
    [0.0009999, '1.00 ms'],
    [5e-7, '0.500 µs'],
    [0.00042, '420 µs'],
    [1.5, '1.50 s'],
    [90, '90.0 s'],
    [119.9, '2.00 min'],
    [130, '2.17 min'],
    [7_000, '1.94 h'],
    [1e5, '1.16 days'],
    [1e9, '31.7 years'],
    [Infinity, '∞'],
  ])('%d s reads %j', (seconds, text) => expect(formatSeconds(seconds)).toBe(text));
});

describe('formatRate and formatTable', () => {
  it('use SI prefixes and align columns', () => {
    expect([formatRate(512), formatRate(286_000), formatRate(48_500_000), formatRate(2.15e10)]).toEqual(['512 H/s', '286 kH/s', '48.5 MH/s', '21.5 GH/s']);
    expect(
      formatTable([
        ['a', 'bb', 'c'],
        ['ccc', 'd', 'e'],
      ]),
    ).toEqual(['a    bb  c', 'ccc  d   e']);
  });
});
