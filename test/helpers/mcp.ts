// MCP clients for the tests: the SDK's own Client over stdio (a subprocess) or Streamable HTTP (loopback).
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { build } from 'esbuild';
import { expect } from 'vitest';
import { CLI, CLI_SECRET } from './cli.js';

export interface Connected {
  client: Client;
  /** What the server wrote on stderr so far. */
  stderr: () => string;
  close: () => Promise<void>;
}

/** The SDK's Client over stdio, spawning `node <script> ...args`. */
export async function connectStdio(script: string, args: readonly string[], env: Record<string, string | undefined> = {}): Promise<Connected> {
  const merged: Record<string, string> = {};
  for (const [key, value] of Object.entries({ ...process.env, POWGATE_SECRET: CLI_SECRET, ...env })) if (value !== undefined) merged[key] = value;
  const transport = new StdioClientTransport({ command: process.execPath, args: [script, ...args], env: merged, stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const client = new Client({ name: 'powgate-test', version: '1.0.0' });
  await client.connect(transport);
  return { client, stderr: () => stderr, close: () => client.close() };
}

/** `powgate mcp ...args` (the built dist/cli.js) with the SDK's Client. */
export function connectCli(args: readonly string[] = [], env: Record<string, string | undefined> = {}): Promise<Connected> {
  return connectStdio(CLI, ['mcp', ...args], env);
}

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
// Inside the package, so that the bundle finds node_modules (the SDK, zod) and powgate's package.json.
const BUILT = fileURLToPath(new URL('../../node_modules/.cache/powgate-test/', import.meta.url));

/** Bundles a TypeScript fixture (and the src/ it imports) into one CommonJS file that node runs; packages stay external. */
export async function bundleFixture(name: string): Promise<string> {
  mkdirSync(BUILT, { recursive: true });
  const outfile = `${BUILT}${name.replace(/\.ts$/, '')}-${process.pid}.cjs`;
  await build({ entryPoints: [`${FIXTURES}${name}`], outfile, bundle: true, platform: 'node', format: 'cjs', packages: 'external', target: 'node20', logLevel: 'error' });
  return outfile;
}

export interface HttpApp {
  url: URL;
  close: () => Promise<void>;
}

/**
 * A stateless Streamable HTTP endpoint on loopback: a fresh McpServer from `make` and a
 * transport per request, as the SDK's stateless example does.
 */
export async function serveHttp(make: () => McpServer): Promise<HttpApp> {
  const server: Server = createServer((req, res) => {
    const mcp = make();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => {
      void transport.close();
      void mcp.close();
    });
    mcp
      .connect(transport)
      .then(() => transport.handleRequest(req, res))
      .catch(() => res.writeHead(500).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: new URL(`http://127.0.0.1:${port}/mcp`),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The SDK's Client over Streamable HTTP, optionally sending extra headers (an Authorization header). */
export async function connectHttp(url: URL, headers: Record<string, string> = {}): Promise<Connected> {
  const client = new Client({ name: 'powgate-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers } }));
  return { client, stderr: () => '', close: () => client.close() };
}

/** A tool result's JSON text content, parsed. */
export function textJson(result: CallToolResult): unknown {
  const first = result.content[0];
  expect(first?.type).toBe('text');
  return JSON.parse((first as { text: string }).text);
}

/** A tool result's first text content. */
export function textOf(result: CallToolResult): string {
  const first = result.content[0];
  return first?.type === 'text' ? first.text : '';
}

/** A tool result as the SDK's callTool types it (its result type is a union with the legacy `toolResult`). */
export function asResult(value: unknown): CallToolResult {
  return value as CallToolResult;
}
