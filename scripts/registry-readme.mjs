// The README as the registry shows it. npm's page resolves a relative link against the
// `repository` field, and this package names none, so each link to a packed file (docs/ ships in
// the package) is made absolute to that file in this version's tarball on unpkg.
//   write    (prepack) keeps the README as written in .readme-as-written.md and rewrites README.md
//   restore  (postpack; postpublish under npm publish, which reads README.md again for the
//            registry page after postpack) puts the README as written back
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const readme = path.join(root, 'README.md');
const kept = path.join(root, '.readme-as-written.md');
const { name, version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));

/** `text` with each relative Markdown link made absolute to this version's tarball on unpkg. */
function registryReadme(text) {
  return text.replace(/\]\((?!https?:|#|mailto:)([^)\s]+)\)/g, (_, target) => `](https://unpkg.com/${name}@${version}/${target})`);
}

/** Whether README.md is still the rewrite of the kept README: nobody edited it meanwhile. */
function untouched() {
  return readFileSync(readme, 'utf8') === registryReadme(readFileSync(kept, 'utf8'));
}

function stop(message) {
  console.error(`registry-readme: ${message}`);
  process.exit(1);
}

const command = process.argv[2];
if (command === 'write') {
  if (!existsSync(kept)) renameSync(readme, kept);
  // A kept README is left by a pack or publish that stopped half-way: README.md is its rewrite.
  else if (!untouched()) stop('README.md was edited after a pack that stopped left .readme-as-written.md: merge the two by hand, then delete it');
  writeFileSync(readme, registryReadme(readFileSync(kept, 'utf8')));
} else if (command === 'restore') {
  if (process.env.npm_command === 'publish' && process.env.npm_lifecycle_event === 'postpack') process.exit(0);
  if (!existsSync(kept)) process.exit(0);
  if (!untouched()) stop('README.md was edited while it was packed: the README as written is in .readme-as-written.md');
  renameSync(kept, readme);
} else {
  stop('usage: node scripts/registry-readme.mjs write|restore');
}
