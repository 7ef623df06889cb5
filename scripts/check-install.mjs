// npm run check:install: the package installed as a user without a compiler would install it.
// Packs the package (prepack: dist, the prebuild for this platform and the registry's README), installs the tarball into
// an empty project with a PATH that holds node, npm and sh but no compiler, and checks that the
// native addon serves from the prebuild; then the same tarball without its prebuilds, which must
// install anyway, say in one line that the WebAssembly backend serves and why, and serve it.
// The optional peers (the MCP SDK, zod, pino, prom-client) are not installed with it: the core
// entry must solve and verify, from require() and import(), and `powgate calibrate` run without
// them, while `powgate serve` and `powgate mcp` stop with ERR_PEER_MISSING naming what to install.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const work = mkdtempSync(path.join(tmpdir(), 'powgate-install-'));
// prepack leaves prebuilds/ in the checkout, where node-gyp-build would prefer it to WebAssembly
// in a later run without build/: removed unless it was there before.
const prebuildsDir = path.join(root, 'prebuilds');
const hadPrebuilds = existsSync(prebuildsDir);
// prebuildify builds in build/ and leaves no build/Release/powgate.node: the checkout's own
// addon is put back afterwards.
const addon = path.join(root, 'build', 'Release', 'powgate.node');
const addonCopy = path.join(work, 'powgate.node');
if (existsSync(addon)) copyFileSync(addon, addonCopy);
let failed = false;

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', ...options });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.status}:\n${result.stderr}${result.stdout}`);
  return result;
}

function check(label, ok, detail) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${label}${ok ? '' : `: ${detail}`}`);
  failed ||= !ok;
}

/** A PATH with node, npm and sh only: no cc, c++, make or python for node-gyp to find. */
function bareBin() {
  const bin = path.join(work, 'bin');
  mkdirSync(bin);
  const npmCli = process.env.npm_execpath ?? run('sh', ['-c', 'readlink -f "$(command -v npm)"']).stdout.trim();
  symlinkSync(process.execPath, path.join(bin, 'node'));
  symlinkSync(npmCli, path.join(bin, 'npm'));
  for (const tool of ['sh', 'env']) symlinkSync(run('sh', ['-c', `command -v ${tool}`]).stdout.trim(), path.join(bin, tool));
  return bin;
}

function install(tarball, name, bin) {
  const dir = path.join(work, name);
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true }));
  const env = { ...process.env, PATH: bin };
  for (const key of Object.keys(env)) if (key.startsWith('npm_')) delete env[key];
  const installed = run(path.join(bin, 'npm'), ['install', '--no-audit', '--no-fund', '--foreground-scripts', tarball], { cwd: dir, env });
  const notice = `${installed.stdout}${installed.stderr}`.split('\n').filter((line) => line.startsWith('powgate: '));
  const info = run(path.join(bin, 'node'), ['--input-type=module', '-e', "import { backendInfo } from 'powgate'; console.log(JSON.stringify(await backendInfo()))"], {
    cwd: dir,
    env,
  });
  return { dir, env, notice, info: JSON.parse(info.stdout) };
}

const PEERS = ['@modelcontextprotocol/sdk', 'zod', 'pino', 'prom-client'];

/** A challenge solved and verified through `load` ('require' or 'import'): the verdict's ok. */
const ROUND_TRIP = (load) => `
  const { createChallenge, solve, verifySolution, MemoryReplayStore } = ${load === 'require' ? "require('powgate')" : "await import('powgate')"};
  const secret = require('node:crypto').randomBytes(32);
  const store = new MemoryReplayStore(); // before the challenge: a store refuses what predates it
  const challenge = createChallenge({ secret, difficulty: 10, subPuzzles: 2 });
  const solution = await solve(challenge, { threads: 2 });
  const verdict = await verifySolution(challenge, solution, { secret, store });
  console.log(JSON.stringify(verdict.ok));`;

/** The core entry and the commands in a project that has powgate and none of its optional peers. */
function checkWithoutPeers({ dir, env }, bin) {
  const installed = PEERS.filter((peer) => existsSync(path.join(dir, 'node_modules', peer)));
  check('the optional peers are not installed with powgate', installed.length === 0, installed.join(', '));
  const node = (args) => spawnSync(path.join(bin, 'node'), args, { cwd: dir, env, encoding: 'utf8' });
  for (const load of ['require', 'import']) {
    const script =
      load === 'require'
        ? `(async () => { ${ROUND_TRIP(load)} })()`
        : `import { createRequire } from 'node:module'; const require = createRequire(import.meta.url); ${ROUND_TRIP(load)}`;
    const result = node(load === 'require' ? ['-e', script] : ['--input-type=module', '-e', script]);
    check(`without the peers: ${load}('powgate') solves and verifies`, result.status === 0 && result.stdout.trim() === 'true', `${result.stderr}${result.stdout}`);
  }
  const cli = path.join(dir, 'node_modules', '.bin', 'powgate');
  const calibrated = node([cli, 'calibrate', '--target', '200ms', '--duration', '1s', '--json']);
  let difficulty;
  try {
    difficulty = JSON.parse(calibrated.stdout).perCall.challengeDifficulty;
  } catch {}
  check('without the peers: powgate calibrate runs', calibrated.status === 0 && typeof difficulty === 'number', `${calibrated.stderr}${calibrated.stdout}`);
  const secretEnv = { ...env, POWGATE_SECRET: randomBytes(32).toString('hex') };
  for (const [command, missing] of [
    ['serve', 'pino prom-client'],
    ['mcp', '@modelcontextprotocol/sdk zod'],
  ]) {
    const result = spawnSync(path.join(bin, 'node'), command === 'serve' ? [cli, command, '--port', '0'] : [cli, command], {
      cwd: dir,
      env: secretEnv,
      encoding: 'utf8',
      input: '',
      timeout: 20_000,
    });
    const says = result.stderr.includes(`npm install ${missing}`);
    check(
      `without the peers: powgate ${command} stops, naming them and the install command`,
      result.status === 1 && says && result.stdout === '',
      `exit ${result.status}: ${result.stderr}${result.stdout}`,
    );
    console.log(`     ${result.stderr.trim()}`);
  }
}

/** The registry's README: every link absolute, and each one into the package names a file it ships. */
function checkReadmeLinks(tarball, packed) {
  const text = run('tar', ['xzfO', tarball, 'package/README.md']).stdout;
  const targets = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]);
  const relative = targets.filter((target) => !/^(https?:|#|mailto:)/.test(target));
  check('the packed README has no relative links (the registry page cannot resolve them)', relative.length === 0, relative.join(', '));
  const prefix = `https://unpkg.com/${packed.name}@${packed.version}/`;
  const files = new Set(packed.files.map((file) => file.path));
  const inPackage = targets.filter((target) => target.startsWith(prefix)).map((target) => target.slice(prefix.length).replace(/#.*/, ''));
  const missing = inPackage.filter((file) => !files.has(file));
  check(`its ${inPackage.length} links into the package name files the package ships`, inPackage.length > 0 && missing.length === 0, missing.join(', '));
}

// prepack rewrote README.md for the registry: an interrupted check puts it back too.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    spawnSync('node', [path.join(root, 'scripts', 'registry-readme.mjs'), 'restore'], { stdio: 'inherit' });
    process.exit(130);
  });
}

try {
  const bin = bareBin();
  check('no compiler on the install PATH', spawnSync('sh', ['-c', 'command -v c++ || command -v make'], { env: { PATH: bin } }).status !== 0, 'found one');
  run('npm', ['run', 'prepack'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  const [packed] = JSON.parse(run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: root }).stdout);
  const tarball = path.join(work, packed.filename);
  const prebuilds = packed.files.filter((file) => file.path.startsWith('prebuilds/')).map((file) => file.path);
  check('the package ships a prebuild', prebuilds.length > 0, 'none in the tarball');
  console.log(`     ${prebuilds.join(', ')}`);
  checkReadmeLinks(tarball, packed);

  const withPrebuild = install(tarball, 'with-prebuild', bin);
  console.log(`     ${withPrebuild.notice.join(' | ')}`);
  check('with its prebuild: the native backend serves', withPrebuild.info.backend === 'native', JSON.stringify(withPrebuild.info));
  checkWithoutPeers(withPrebuild, bin);

  const unpacked = path.join(work, 'unpacked');
  mkdirSync(unpacked);
  run('tar', ['xzf', tarball, '-C', unpacked]);
  rmSync(path.join(unpacked, 'package', 'prebuilds'), { recursive: true, force: true });
  const bare = path.join(work, 'without-prebuild.tgz');
  run('tar', ['czf', bare, '-C', unpacked, 'package']);
  const withoutPrebuild = install(bare, 'without-prebuild', bin);
  console.log(`     ${withoutPrebuild.notice.join(' | ')}`);
  check(
    'without it: installed, and one line names the WebAssembly fallback',
    withoutPrebuild.notice.some((line) => /WebAssembly backend/.test(line)),
    withoutPrebuild.notice.join(' | '),
  );
  check(
    'without it: the WebAssembly backend serves, saying why',
    withoutPrebuild.info.backend === 'wasm' && typeof withoutPrebuild.info.nativeError === 'string',
    JSON.stringify(withoutPrebuild.info),
  );
} finally {
  run('node', [path.join(root, 'scripts', 'registry-readme.mjs'), 'restore']);
  if (!hadPrebuilds) rmSync(prebuildsDir, { recursive: true, force: true });
  if (existsSync(addonCopy)) {
    mkdirSync(path.dirname(addon), { recursive: true });
    copyFileSync(addonCopy, addon);
  }
  rmSync(work, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
