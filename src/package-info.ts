import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

let cached: { root: string; version: string } | undefined;

/** The installed package's root folder (where build/ and package.json live) and version. */
export function packageInfo(): { root: string; version: string } {
  if (cached) return cached;
  // Walks up from this file: src/ under tests, dist/ once built.
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest)) {
      const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'powgate') return (cached = { root: dir, version: pkg.version ?? '0.0.0' });
    }
    if (path.dirname(dir) === dir) throw new Error(`powgate: cannot find its package.json above ${__dirname}`);
  }
}
