// The MCP SDK's shapes, as far as the wrapper reads them: written out here so that powgate's
// declarations compile for a user of powgate/client who never installed the SDK. The SDK's own
// types are assignable to them (test/client.mcp.test.ts wraps the SDK's Client).

/** A tools/call request's parameters (the SDK's `CallToolRequest['params']`). */
export interface McpCallToolParams {
  name: string;
  arguments?: Record<string, unknown>;
  _meta?: Record<string, unknown>;
  [key: string]: unknown;
}

/** Per-request options (the SDK's `RequestOptions`); the wrapper reads `signal` and passes the rest on. */
export interface McpRequestOptions {
  signal?: AbortSignal;
  timeout?: number;
  [key: string]: unknown;
}

/** A tools/list request's parameters (the SDK's `ListToolsRequest['params']`). */
export interface McpListToolsParams {
  cursor?: string;
  [key: string]: unknown;
}

/** A tools/list answer (the SDK's `ListToolsResult`). */
export interface McpListToolsResult {
  tools: { name: string; inputSchema?: unknown; [key: string]: unknown }[];
  nextCursor?: string;
  [key: string]: unknown;
}

/** The server's name and version from the handshake (the SDK's `Implementation`). */
export interface McpImplementation {
  name: string;
  version: string;
  [key: string]: unknown;
}
