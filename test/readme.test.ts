// The README's example runs as written (against the built package) and does what it says.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';

it('the README example issues, solves, verifies and checks a token', () => {
  const root = path.join(__dirname, '..');
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  const code = /<!-- example -->\n```js\n([\s\S]*?)```\n<!-- \/example -->/.exec(readme)?.[1];
  expect(code, 'the README has an example block').toBeDefined();
  expect(code!.trim().split('\n').length).toBeLessThan(15);
  const runnable = code!.replace("from 'powgate'", `from ${JSON.stringify(path.join(root, 'dist', 'index.js'))}`);
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', runnable], {
    env: { ...process.env, POWGATE_SECRET: 'an example secret of at least 32 bytes' },
    encoding: 'utf8',
  });
  expect(child.stderr).toBe('');
  expect(child.stdout).toMatch(/valid: true[\s\S]*method: 'pow'[\s\S]*scope: 'tool:search'/);
});
