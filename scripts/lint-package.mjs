// npm run lint:package: what a user installs, checked as the anchors check theirs: publint on the
// package's files, and @arethetypeswrong/cli on the packed tarball (Node 16+ resolution: every
// entry's types must match its JavaScript, from ESM and from CommonJS). The tarball is packed
// without the prepack scripts: prebuilds do not change what is resolved.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const run = (command, args) => {
  const result = spawnSync(command, args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (result.status !== 0) {
    process.stdout.write(result.stdout ?? '');
    process.exit(result.status ?? 1);
  }
  return result.stdout;
};

process.stdout.write(run('npx', ['publint', '--pack', 'false', '--level', 'warning']));
const dir = mkdtempSync(path.join(tmpdir(), 'powgate-pack-'));
try {
  const [packed] = JSON.parse(run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir]));
  process.stdout.write(run('npx', ['attw', path.join(dir, packed.filename), '--profile', 'node16']));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
