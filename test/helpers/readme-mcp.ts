// The README's MCP example (its example:mcp block) as code to run: as written (stdio), or with
// only its transport line swapped for Streamable HTTP on a free port it prints (one session).
import { readFileSync } from 'node:fs';
import path from 'node:path';

const STDIO_LINE = 'await server.connect(new StdioServerTransport());';
const HTTP_LINES = [
  "const { StreamableHTTPServerTransport } = await import('@modelcontextprotocol/sdk/server/streamableHttp.js');",
  'const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: () => crypto.randomUUID() });',
  'await server.connect(transport);',
  "const listener = (await import('node:http')).createServer((req, res) => transport.handleRequest(req, res));",
  "listener.listen(0, '127.0.0.1', () => console.log(listener.address().port));",
].join('\n');

/** The example's code for `kind`; throws when the README has no such block or its transport line moved. */
export function readmeMcpExample(kind: 'stdio' | 'http'): string {
  const readme = readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
  const code = /<!-- example:mcp -->\n```js\n([\s\S]*?)```\n<!-- \/example:mcp -->/.exec(readme)?.[1];
  if (code === undefined) throw new Error('the README has no example:mcp block');
  if (!code.includes(STDIO_LINE)) throw new Error(`the README's MCP example no longer ends with ${STDIO_LINE}`);
  return kind === 'stdio' ? code : code.replace(STDIO_LINE, HTTP_LINES);
}
