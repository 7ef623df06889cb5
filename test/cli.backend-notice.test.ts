// `powgate serve` and `powgate mcp` say at start, in one line, when the WebAssembly backend serves
// instead of the native addon: that it is slower, and why. mcp says it on stderr only (stdout is
// the protocol). The addon "moved away" is POWGATE_NATIVE_PATH aimed at a file that is not there.
import { describe, expect, it } from 'vitest';
import { loadNativeAddon } from '../src/backend/native.js';
import { runCli } from './helpers/cli.js';
import { startServe } from './helpers/http.js';

let nativeLoads = true;
try {
  loadNativeAddon();
} catch {
  nativeLoads = false;
}

const NOTICE = /^the WebAssembly backend \(about 5x slower than the native addon\) serves: (.+)$/;
const MISSING = { POWGATE_NATIVE_PATH: '/nonexistent/powgate.node', POWGATE_BACKEND: undefined };
const FORCED = { POWGATE_BACKEND: 'wasm', POWGATE_NATIVE_PATH: undefined };

/** The messages of serve's start-up log lines, up to and including the replay-protection warning. */
async function serveMessages(env: Record<string, string | undefined>): Promise<string[]> {
  const served = await startServe(['--log-level', 'warn'], env);
  const started = performance.now();
  while (!served.lines.some((line) => /replay protection/.test(line)) && performance.now() - started < 10_000) await new Promise((resolve) => setTimeout(resolve, 20));
  // The notice, when there is one, is flushed with the lines before it.
  await new Promise((resolve) => setTimeout(resolve, 200));
  await served.stop();
  return served.lines.map((line) => JSON.parse(line).msg as string);
}

describe('the WebAssembly notice at start', () => {
  it('serve, forced by POWGATE_BACKEND=wasm: one warning line that says so', async () => {
    const notices = (await serveMessages(FORCED)).filter((msg) => NOTICE.test(msg));
    expect(notices).toEqual(['the WebAssembly backend (about 5x slower than the native addon) serves: POWGATE_BACKEND=wasm']);
  }, 30_000);

  it("serve, the addon missing: the loader's reason", async () => {
    const notices = (await serveMessages(MISSING)).filter((msg) => NOTICE.test(msg));
    expect(notices).toHaveLength(1);
    expect(notices[0]!.match(NOTICE)![1]).toMatch(/^the native addon did not load: Cannot find module '\/nonexistent\/powgate\.node'/);
  }, 30_000);

  it.skipIf(!nativeLoads)(
    'serve, the addon loaded: no notice',
    async () => {
      const messages = await serveMessages({ POWGATE_BACKEND: undefined, POWGATE_NATIVE_PATH: undefined });
      expect(messages[0]).toBe('listening');
      expect(messages.filter((msg) => /WebAssembly/.test(msg))).toEqual([]);
    },
    30_000,
  );

  it('mcp: on stderr, never on stdout', async () => {
    for (const env of [FORCED, MISSING]) {
      const result = await runCli(['mcp'], { env });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toBe('');
      const notices = result.stderr.split('\n').filter((line) => line.startsWith('powgate mcp: the WebAssembly backend'));
      expect(notices).toHaveLength(1);
      expect(notices[0]!.slice('powgate mcp: '.length)).toMatch(NOTICE);
    }
  }, 30_000);

  it.skipIf(!nativeLoads)('mcp, the addon loaded: no notice', async () => {
    const result = await runCli(['mcp'], { env: { POWGATE_BACKEND: undefined, POWGATE_NATIVE_PATH: undefined } });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toMatch(/WebAssembly/);
  });
});
