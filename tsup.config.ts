import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  // __dirname/import.meta.url shims: the loader finds build/ relative to the package.
  shims: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
});
