import { defineConfig } from 'tsup';

export default defineConfig({
  // The solver threads' entry is its own file: dist/solve-worker.cjs.
  entry: { index: 'src/index.ts', 'solve-worker': 'src/solver/worker.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  // __dirname/import.meta.url shims: the loader finds build/ relative to the package.
  shims: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
});
