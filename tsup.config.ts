import { defineConfig, type Options } from 'tsup';

// Shared by the three builds: __dirname/import.meta.url shims (the loader finds build/ relative to
// the package), source maps, Node 20. dist/ is emptied by `npm run build`, not here: the three
// builds run at once and a clean in one would race the others' output.
const common: Options = { shims: true, sourcemap: true, clean: false, target: 'node20' };

export default defineConfig([
  {
    ...common,
    // powgate/http, powgate/mcp and powgate/client are entries of their own: importing powgate loads
    // neither prom-client and pino nor the MCP SDK.
    entry: { index: 'src/index.ts', http: 'src/http/index.ts', mcp: 'src/mcp/index.ts', client: 'src/client/index.ts' },
    format: ['esm', 'cjs'],
    // Shared chunks in CommonJS too (ESM splits by default): one copy of PowgateError and every other
    // class across the entries, so `instanceof` holds between require('powgate') and require('powgate/http').
    splitting: true,
    dts: true,
  },
  // The `powgate` command (the bin): ESM only.
  { ...common, entry: { cli: 'src/cli/main.ts' }, format: ['esm'] },
  // The solver threads' entry (src/solver/pool.ts starts dist/solve-worker.cjs): CommonJS only.
  { ...common, entry: { 'solve-worker': 'src/solver/worker.ts' }, format: ['cjs'] },
]);
