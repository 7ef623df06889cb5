// npm install hook: build the addon, but never fail the install when it cannot
// compile; the WebAssembly backend serves instead. POWGATE_SKIP_NATIVE=1 skips it.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

if (process.env.POWGATE_SKIP_NATIVE === '1') {
  console.warn('powgate: POWGATE_SKIP_NATIVE=1, not building the native addon (the WASM backend will serve)');
  process.exit(0);
}

const result = spawnSync('node-gyp', ['rebuild'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
if (result.status !== 0) {
  const why = result.error ? result.error.message : `node-gyp exited with ${result.status ?? result.signal}`;
  console.warn(`powgate: the native addon did not build (${why}); the WASM backend will serve instead.`);
}
