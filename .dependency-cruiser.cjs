// The layer rules of ARCHITECTURE.md, checked by `npm run deps`: a request flows down, never
// back up, and never sideways except where a rule below says so. Type-only imports count too
// (a layer that names another's types depends on it).

/** Each layer's files, as a path pattern. */
const LAYERS = {
  base: '^src/(errors|validate|package-info|wire|base64url)\\.ts$',
  backend: '^src/backend/',
  storage: '^src/storage/',
  protocol: '^src/protocol/',
  solver: '^src/solver/',
  lightning: '^src/lightning/',
  gate: '^src/gate/',
  http: '^src/http/',
  mcp: '^src/mcp/',
  client: '^src/client/',
  cli: '^src/cli/',
  main: '^src/index\\.ts$',
};

/** What each layer may import besides itself (cli/ may import anything). */
const MAY_IMPORT = {
  base: [],
  backend: ['base'],
  storage: ['base', 'backend'],
  protocol: ['base', 'backend', 'storage'],
  solver: ['base', 'backend', 'protocol'],
  lightning: ['base', 'storage', 'protocol'],
  gate: ['base', 'backend', 'storage', 'protocol', 'solver', 'lightning'],
  http: ['base', 'backend', 'storage', 'protocol', 'solver', 'lightning', 'gate'],
  mcp: ['base', 'backend', 'storage', 'protocol', 'solver', 'lightning', 'gate', 'http'],
  client: ['base', 'backend', 'protocol', 'solver', 'lightning'],
  // The main entry loads neither the HTTP nor the MCP side (nor prom-client, pino, the MCP SDK):
  // powgate/http, powgate/mcp and powgate/client are entries of their own.
  main: ['base', 'backend', 'storage', 'protocol', 'solver', 'lightning', 'gate'],
};

/** The backend's interface: what layers above it may name (its implementations stay inside). */
const BACKEND_INTERFACE = '^src/backend/(types|loader|mac-key|search-engine|nonce-searcher)\\.ts$';

const anyOf = (names) => names.map((name) => LAYERS[name]);

const layerRules = Object.entries(MAY_IMPORT).map(([layer, allowed]) => ({
  name: `${layer}-imports-only-${allowed.length ? allowed.join('-') : 'base'}`,
  comment: `${layer} may import ${allowed.length ? allowed.join(', ') : 'nothing else'} (and itself): see ARCHITECTURE.md`,
  severity: 'error',
  from: { path: LAYERS[layer] },
  to: { path: '^src/', pathNot: anyOf([layer, ...allowed]) },
}));

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'backend-only-through-its-interface',
      comment: 'above backend/ (cli/ excepted), code names Sha256Backend, the loader and MacKey, never an implementation',
      severity: 'error',
      from: { path: '^src/(storage|protocol|solver|lightning|gate|http|mcp|client)/|^src/index\\.ts$' },
      to: { path: LAYERS.backend, pathNot: BACKEND_INTERFACE },
    },
    {
      name: 'a-file-in-no-layer',
      comment: 'a src/ file outside every layer: put it in one, or add it to LAYERS (and ARCHITECTURE.md)',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^src/', pathNot: Object.values(LAYERS) },
    },
    {
      name: 'no-circular',
      comment: 'two modules that import each other, directly or through others',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'no-unresolvable',
      comment: 'an import that resolves to no file or package',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^src/backend/wasm-kernel\\.ts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.d.ts'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};
