// The README's Express example, run as written in a child process (only the port changes):
// for the suites that send an agent through it.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { CLI_SECRET } from './cli.js';

const root = path.join(__dirname, '..', '..');

/** Starts the example as `<name>.mjs` (a file of its own: suites run in parallel); its base URL and a stop. */
export async function startReadmeExpress(name: string): Promise<{ base: string; stop: () => void }> {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  const code = /<!-- example:express -->\n```js\n([\s\S]*?)```\n<!-- \/example:express -->/.exec(readme)?.[1];
  if (code === undefined) throw new Error('the README has no example:express block');
  // Inside the package, so that 'powgate' is the package itself.
  const dir = path.join(root, 'build', 'readme-examples');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.mjs`);
  writeFileSync(file, code.replace('app.listen(3000)', 'app.listen(0, function () { console.log(this.address().port); })'));
  const child = spawn(process.execPath, [file], { env: { ...process.env, POWGATE_SECRET: CLI_SECRET }, stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the example exited with code ${code}`)));
  });
  return { base: `http://127.0.0.1:${port}`, stop: () => child.kill() };
}
