// npm install hook. The addon comes from, in order: a prebuilt binary shipped in prebuilds/
// (node-gyp-build's layout) that loads here; a build already in build/Release that is newer
// than every native source (a second install of a clone, npx inside it); a compilation with
// node-gyp. It never fails the install: when none of these works, the WebAssembly backend serves,
// and one line says so and why. POWGATE_SKIP_NATIVE=1 skips the addon; POWGATE_BUILD_NATIVE=1
// compiles even when a prebuild loads.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const require = createRequire(import.meta.url);
const say = (line) => console.warn(`powgate: ${line}`);
const WASM = 'the WebAssembly backend (about 5x slower to solve) will serve instead';

if (process.env.POWGATE_SKIP_NATIVE === '1') {
  say(`POWGATE_SKIP_NATIVE=1: not installing the native addon; ${WASM}.`);
  process.exit(0);
}

/** The addon file node-gyp-build would load from `dir` (prebuilds/ or build/), if any loads. */
function loads(file) {
  try {
    return typeof require(file).cpuFeatures === 'function';
  } catch {
    return false;
  }
}

function prebuild() {
  try {
    const file = require('node-gyp-build').path(root);
    return file.includes(`${path.sep}prebuilds${path.sep}`) && loads(file) ? file : undefined;
  } catch {
    return undefined;
  }
}

function newest(dir) {
  let time = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    time = Math.max(time, entry.isDirectory() ? newest(full) : statSync(full).mtimeMs);
  }
  return time;
}

function upToDateBuild() {
  const file = path.join(root, 'build', 'Release', 'powgate.node');
  try {
    const sources = Math.max(newest(path.join(root, 'native')), statSync(path.join(root, 'binding.gyp')).mtimeMs);
    return statSync(file).mtimeMs >= sources && loads(file) ? file : undefined;
  } catch {
    return undefined;
  }
}

const forced = process.env.POWGATE_BUILD_NATIVE === '1';
const ready = forced ? undefined : (prebuild() ?? upToDateBuild());
if (ready) {
  say(`native addon ready: ${path.relative(root, ready)}`);
  process.exit(0);
}

// Under npm, npm_config_node_gyp names npm's own node-gyp; otherwise PATH's.
const gyp = process.env.npm_config_node_gyp ? [process.execPath, process.env.npm_config_node_gyp] : ['node-gyp'];
const result = spawnSync(gyp[0], [...gyp.slice(1), 'rebuild'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
if (result.status === 0) {
  say('native addon compiled: build/Release/powgate.node');
} else {
  const why = result.error ? result.error.message : `node-gyp exited with ${result.status ?? result.signal}`;
  say(`the native addon could not be installed (no prebuilt binary for ${process.platform}-${process.arch}, and compiling failed: ${why}); ${WASM}.`);
}
