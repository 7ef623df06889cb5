import { defineConfig } from 'tsup';

export default defineConfig({
  // The solver threads' entry is its own file: dist/solve-worker.cjs; the `powgate` command is dist/cli.js;
  // powgate/mcp is its own entry, so that importing powgate does not load the MCP SDK.
  entry: { index: 'src/index.ts', mcp: 'src/mcp/index.ts', 'solve-worker': 'src/solver/worker.ts', cli: 'src/cli/main.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  // __dirname/import.meta.url shims: the loader finds build/ relative to the package.
  shims: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
});
