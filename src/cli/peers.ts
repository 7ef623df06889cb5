// The optional peer dependencies, checked where a command needs them. The library entries import
// theirs statically (powgate/http: prom-client; powgate/mcp: the MCP SDK and zod), so there Node's
// own "Cannot find package" error names the missing one before any of powgate's code runs; the
// commands load theirs lazily, so they can say what to install instead.
import { PowgateError } from '../errors.js';

/** Each optional peer, and a module of it that every use of it loads anyway. */
const PEERS = {
  pino: 'pino',
  'prom-client': 'prom-client',
  zod: 'zod',
  '@modelcontextprotocol/sdk': '@modelcontextprotocol/sdk/types.js',
} as const;

/** An optional peer dependency of powgate. */
export type Peer = keyof typeof PEERS;

/**
 * Resolves when every one of `peers` can be imported; otherwise throws `ERR_PEER_MISSING`, naming
 * the missing ones and the command that installs them. `user` says who needs them (`powgate serve`).
 * A peer that is installed but fails to load (a missing dependency of its own) is rethrown as it is.
 */
export async function requirePeers(user: string, peers: readonly Peer[]): Promise<void> {
  const missing: Peer[] = [];
  for (const peer of peers) {
    try {
      await import(PEERS[peer]);
    } catch (error) {
      if (!isNotFound(error, peer)) throw error;
      missing.push(peer);
    }
  }
  if (missing.length === 0) return;
  const names = missing.join(' and ');
  throw new PowgateError(
    'ERR_PEER_MISSING',
    `${user} needs ${names} (optional peer ${missing.length === 1 ? 'dependency' : 'dependencies'} of powgate): npm install ${missing.join(' ')}`,
  );
}

function isNotFound(error: unknown, peer: Peer): boolean {
  const { code, message } = error as { code?: unknown; message?: unknown };
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && typeof message === 'string' && (message.includes(`'${peer}'`) || message.includes(`'${peer}/`));
}
