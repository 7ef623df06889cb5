// Throwaway redis-server processes on loopback for the RedisReplayStore tests:
// no persistence, a free port, killed by stop() (and on exit, as a safety net).
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createConnection, createServer } from 'node:net';
import { delimiter, join } from 'node:path';

export interface RedisServer {
  url: string;
  port: number;
  /** Kills the server and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port (stopping it first if it runs), empty. */
  restart(): Promise<void>;
}

/** The redis-server binary on PATH, or undefined when it is not installed. */
export function redisServerPath(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'redis-server');
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

const running = new Set<ChildProcess>();
const dirs = new Set<string>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A loopback port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

function launch(bin: string, port: number, dir: string, extra: readonly string[] = []): Promise<ChildProcess> {
  // A config file (a sentinel's) must come first. A directory of its own: a replica writes
  // dump.rdb when it syncs, and any server started later in that directory would load it.
  const [file, rest] = extra[0]?.endsWith('.conf') ? [[extra[0]], extra.slice(1)] : [[], extra];
  const args = [...file, '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--enable-debug-command', 'local', ...rest];
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let output = '';
  const keep = (data: Buffer) => (output = (output + data.toString()).slice(-4000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  child.once('exit', () => running.delete(child));
  return (async () => {
    for (const started = Date.now(); Date.now() - started < 10_000; ) {
      if (child.exitCode !== null || child.signalCode !== null) break;
      if (await ping(port)) return child;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await kill(child);
    throw new Error(`redis-server on port ${port} did not answer PING:\n${output}`);
  })();
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

/**
 * Starts redis-server on a free loopback port (or `port`) and waits until it answers PING;
 * `extra` arguments are appended (a `.conf` file first is passed first: `sentinel.conf --sentinel`).
 */
export async function startRedis(extra: readonly string[] = [], port?: number): Promise<RedisServer> {
  const bin = redisServerPath();
  if (!bin) throw new Error('redis-server is not installed');
  port ??= await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'powgate-redis-'));
  dirs.add(dir);
  let child = await launch(bin, port, dir, extra);
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop: () => kill(child),
    restart: async () => {
      await kill(child);
      rmSync(dir, { recursive: true, force: true }); // Empty, whatever it wrote.
      mkdirSync(dir);
      child = await launch(bin, port!, dir, extra);
    },
  };
}
