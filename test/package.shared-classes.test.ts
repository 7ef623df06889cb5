// One copy of each class across the entries: an error thrown by powgate/http, powgate/mcp or
// powgate/client is `instanceof` the PowgateError of powgate, from CommonJS and from ESM alike.
// Fresh processes resolve the built package (dist/, built by `pretest`) by its own name.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.join(__dirname, '..');

/** One call per entry that throws a programmer error synchronously. */
const THROWERS = `
  [
    ['powgate', (m) => m.createChallenge({})],
    ['powgate/http', (m) => new m.PowgateService({})],
    ['powgate/mcp', (m) => m.registerGatedTool({}, 'tool', {}, () => {})],
    ['powgate/client', (m) => new m.PowgateClient({ budget: -1 })],
  ]`;

const REPORT = `
  const seen = [];
  for (const [entry, thrower] of throwers) {
    try { thrower(modules[entry]); seen.push({ entry, threw: false }); }
    catch (error) { seen.push({ entry, code: error.code, shared: error instanceof PowgateError, name: error.constructor.name }); }
  }
  process.stdout.write(JSON.stringify(seen));`;

function run(args: string[]): unknown {
  const child = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
  expect(child.stderr).toBe('');
  return JSON.parse(child.stdout);
}

function expectShared(seen: unknown) {
  expect(seen).toEqual(['powgate', 'powgate/http', 'powgate/mcp', 'powgate/client'].map((entry) => ({ entry, code: 'ERR_INVALID_ARGUMENT', shared: true, name: 'PowgateError' })));
}

describe('the entries share their classes', () => {
  it('from CommonJS: require() of each entry', () => {
    const script = `
      const throwers = ${THROWERS};
      const modules = Object.fromEntries(throwers.map(([entry]) => [entry, require(entry)]));
      const { PowgateError } = modules.powgate;
      ${REPORT}`;
    expectShared(run(['-e', script]));
  });

  it('from ESM: import() of each entry', () => {
    const script = `
      const throwers = ${THROWERS};
      const modules = Object.fromEntries(await Promise.all(throwers.map(async ([entry]) => [entry, await import(entry)])));
      const { PowgateError } = modules.powgate;
      ${REPORT}`;
    expectShared(run(['--input-type=module', '-e', script]));
  });
});
