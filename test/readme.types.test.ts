// Every TypeScript or JavaScript example in the README and docs/ compiles, as a TypeScript user
// would copy it, under strict with skipLibCheck off, against the built package's declarations.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { COMPILE_TIMEOUT_MS, compileConsumer, EXPRESS_TYPES, HTTP_PEERS } from './helpers/consumer-project.js';

const root = path.join(__dirname, '..');
const pages = ['README.md', ...readdirSync(path.join(root, 'docs')).map((name) => `docs/${name}`)].filter((name) => name.endsWith('.md'));
const blocks = pages.flatMap((page) =>
  [...readFileSync(path.join(root, page), 'utf8').matchAll(/```(?:js|ts)\n([\s\S]*?)```/g)].map((m, i) => ({ file: `${page.replace(/\W/g, '-')}-${i}.ts`, code: m[1]! })),
);

/**
 * What an example leaves to its reader (a one-line excerpt's imports, the bytes it names): declared
 * here with the types a user would have, keyed by the example's first line.
 */
const CONTEXT: Record<string, string> = {
  'const verdicts = await verifySolutions(': `import { verifySolutions, type ReplayStore, type VerifyPair } from 'powgate';
declare const pairs: VerifyPair[], secret: string, store: ReplayStore;`,
  "import { backendInfo, getBackend, prepareMacKey } from 'powgate';": `
declare const packed: Uint8Array, prefixes: Uint8Array, nonces: Uint8Array, thresholds: Uint8Array;
declare const key: Uint8Array, keyIndexes: Uint8Array, data: Uint8Array, length: number, macs: Uint8Array;`,
  "import { PowgateError } from 'powgate';": `import { wrapFetchWithPowgate } from 'powgate/client';
declare const pay: ReturnType<typeof wrapFetchWithPowgate>, url: string;`,
  "import { createServer } from 'node:http';\nimport { Gate } from 'powgate';": `import { pino } from 'pino';
declare const secret: string;`,
  "import { Gate } from 'powgate';\nimport { discoveryHandler,": `import type { Express } from 'express';
declare const secret: string, app: Express;`,
  'import { gateTool, registerPowgateTools,': `import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { Gate } from 'powgate';
declare const server: McpServer, gate: Gate;`,
  'import { addressClientKey, markClientAddress,': `import { createServer } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { Gate } from 'powgate';
declare const gate: Gate, search: (args: { query: string }) => Promise<CallToolResult>;`,
  "const partners = new Set(['203.0.113.7']);": `import type { Logger } from 'pino';
import type { Gate } from 'powgate';
import { type HttpMetrics, powgateMiddleware } from 'powgate/http';
declare const gate: Gate, metrics: HttpMetrics, logger: Logger;`,
};

it('every example in the README and docs/ compiles under strict', { timeout: COMPILE_TIMEOUT_MS }, () => {
  expect(blocks.length).toBeGreaterThanOrEqual(20);
  const sources: Record<string, string> = {};
  for (const { file, code } of blocks) {
    const context = Object.entries(CONTEXT).find(([first]) => code.startsWith(first))?.[1] ?? '';
    // The context goes after the example so that line numbers in errors are the example's own.
    sources[file] = `${code}\n${context}\nexport {};\n`;
  }
  const { code, output } = compileConsumer(
    [...HTTP_PEERS, 'ioredis', ...EXPRESS_TYPES, '@modelcontextprotocol/sdk', 'zod', '@getalby/sdk', '@getalby/lightning-tools', 'nostr-tools', 'nostr-wasm', '@noble', '@scure'],
    sources,
  );
  expect(output).toBe('');
  expect(code).toBe(0);
  // The declared context is used: an example that stops naming it makes its entry stale.
  expect(Object.keys(CONTEXT).filter((first) => !blocks.some((b) => b.code.startsWith(first)))).toEqual([]);
});
