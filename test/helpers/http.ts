// Real HTTP on loopback for the service and middleware tests: a small client,
// in-process servers on free ports, and `powgate serve` subprocesses.
import { spawn, type ChildProcess } from 'node:child_process';
import { request as httpRequest, type Agent, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { CLI, CLI_SECRET } from './cli.js';

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: any;
}

export interface RequestOptions {
  method?: string;
  /** A value to send as JSON (with Content-Type: application/json unless headers say otherwise); a string or Buffer is sent as is. */
  body?: unknown;
  headers?: Record<string, string | string[]>;
  agent?: Agent;
  /** Local address to connect from (e.g. 127.0.0.2, for a distinct client). */
  localAddress?: string;
}

/** One HTTP request; resolves whatever the status. */
export function request(base: string, path: string, options: RequestOptions = {}): Promise<Reply> {
  const { method = options.body === undefined ? 'GET' : 'POST', body, agent, localAddress } = options;
  const headers: Record<string, string | string[]> = { ...options.headers };
  let payload: Buffer | undefined;
  if (body !== undefined) {
    payload = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type') && typeof body !== 'string' && !Buffer.isBuffer(body)) {
      headers['content-type'] = 'application/json';
    }
    headers['content-length'] = String(payload.length);
  }
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(path, base), { method, headers, agent, localAddress }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode!, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** POST `body` as JSON. */
export const post = (base: string, path: string, body?: unknown, options: RequestOptions = {}) => request(base, path, { ...options, method: 'POST', body });

/** Listens on a free loopback port; resolves the base URL. */
export async function listen(server: Server, host = '127.0.0.1'): Promise<string> {
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, host, resolve));
  return `http://${host}:${(server.address() as AddressInfo).port}`;
}

/** Closes a server and every connection it holds. */
export function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** A `powgate serve` subprocess: its URL, its log lines so far, and a graceful stop. */
export interface ServeProcess {
  url: string;
  child: ChildProcess;
  /** Every stdout line so far (pino JSON). */
  lines: string[];
  stderr: () => string;
  /** SIGTERM, then the exit code (SIGKILL after 10 s). */
  stop(): Promise<number | null>;
}

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** Starts `node dist/cli.js serve --port 0 ...args` and waits for its "listening" line. */
export function startServe(args: readonly string[], env: Record<string, string | undefined> = {}): Promise<ServeProcess> {
  const fullEnv: Record<string, string | undefined> = { ...process.env, POWGATE_SECRET: CLI_SECRET, ...env };
  for (const [key, value] of Object.entries(fullEnv)) if (value === undefined) delete fullEnv[key];
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', ...args], { env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      children.delete(child);
      resolve(code);
    }),
  );
  const lines: string[] = [];
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    const fail = (error: Error) => {
      child.kill('SIGKILL'); // Never leave a server behind.
      reject(error);
    };
    const timer = setTimeout(() => fail(new Error(`powgate serve did not start within 15 s:\n${stderr}`)), 15_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      lines.push(line);
      if (lines.length > 1) return;
      clearTimeout(timer);
      try {
        const { url, msg } = JSON.parse(line);
        if (msg !== 'listening') throw new Error(line);
        resolve({
          url,
          child,
          lines,
          stderr: () => stderr,
          stop: async () => {
            // A signal already sent is stopping it: a second one would mean "do not wait" (exit 143).
            if (!child.killed && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
            const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
            const code = await exited;
            clearTimeout(kill);
            return code;
          },
        });
      } catch (error) {
        fail(error as Error);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`powgate serve exited with ${code} before listening:\n${stderr}`));
    });
  });
}
