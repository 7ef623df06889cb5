// The README as the registry shows it. npm's page resolves a relative link against the
// `repository` field, and this package names none, so each link to a packed file (docs/ ships in
// the package) is made absolute to that file in this version's tarball on unpkg. prepack writes it
// (`write`, keeping the README as written beside it); postpack puts the README back (`restore`).
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const readme = path.join(root, 'README.md');
const kept = path.join(root, '.readme-as-written.md');

/** `text` with each relative Markdown link made absolute to `name@version`'s tarball on unpkg. */
function registryReadme(text, name, version) {
  return text.replace(/\]\((?!https?:|#|mailto:)([^)\s]+)\)/g, (_, target) => `](https://unpkg.com/${name}@${version}/${target})`);
}

const command = process.argv[2];
if (command === 'write') {
  // A .readme-as-written.md left by a pack that stopped half-way is the README as written.
  if (!existsSync(kept)) renameSync(readme, kept);
  const { name, version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  writeFileSync(readme, registryReadme(readFileSync(kept, 'utf8'), name, version));
} else if (command === 'restore') {
  if (existsSync(kept)) renameSync(kept, readme);
} else {
  console.error('usage: node scripts/registry-readme.mjs write|restore');
  process.exit(2);
}
