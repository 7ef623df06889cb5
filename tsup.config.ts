import { defineConfig } from 'tsup';

export default defineConfig({
  // The solver threads' entry is its own file: dist/solve-worker.cjs; the `powgate` command is dist/cli.js;
  // powgate/http, powgate/mcp and powgate/client are entries of their own: importing powgate loads
  // neither prom-client and pino nor the MCP SDK.
  entry: { index: 'src/index.ts', http: 'src/http/index.ts', mcp: 'src/mcp/index.ts', client: 'src/client/index.ts', 'solve-worker': 'src/solver/worker.ts', cli: 'src/cli/main.ts' },
  format: ['esm', 'cjs'],
  // Shared chunks in CommonJS too (ESM splits by default): one copy of PowgateError and every other
  // class across the entries, so `instanceof` holds between require('powgate') and require('powgate/http').
  splitting: true,
  dts: true,
  // __dirname/import.meta.url shims: the loader finds build/ relative to the package.
  shims: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
});
