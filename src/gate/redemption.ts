// Idempotent redemption: the spend of a redeemed challenge keeps what the token was made of
// (a digest of the solution, the issue time, the token id), so that a retry with the same
// solution, after an answer lost on the way (a slow store that applied the spend late, a
// dropped connection), gets the same token back instead of 'replayed'. The token is the same
// one, so its calls are counted once: a retry, or a replay by anyone else holding the same
// challenge and solution (who could as well have redeemed first), gains no call.
import { createHash, randomBytes } from 'node:crypto';
import type { RecordedSpend, ReplayStore, SpendEntry, SpendResult } from '../storage/types.js';

/** What a redemption issues, kept with its spend. */
export interface Issue {
  /** The solution's digest, base64url. */
  digest: string;
  issuedAt: number;
  /** The token id, 16 bytes. */
  id: Buffer;
}

const VERSION = 'r1';

/** The digest of a solution's nonces (called only once it verified, so they are canonical hex). */
export function solutionDigest(solution: unknown): string {
  const nonces = (solution as { nonces: readonly string[] }).nonces;
  return createHash('sha256')
    .update(`powgate/redeem/v1\0${nonces.join(',')}`)
    .digest('base64url')
    .slice(0, 32);
}

/** A fresh issue for `solution` at `now`. */
export function newIssue(solution: unknown, now: number): Issue {
  return { digest: solutionDigest(solution), issuedAt: now, id: randomBytes(16) };
}

function encode(issue: Issue): string {
  return `${VERSION}.${issue.digest}.${issue.issuedAt}.${issue.id.toString('base64url')}`;
}

/** A record read back from the store; undefined for anything else (a plain spend's `1`, a newer version). */
function decodeIssue(record: string | undefined): Issue | undefined {
  const parts = record?.split('.');
  if (parts?.length !== 4 || parts[0] !== VERSION || !/^\d{1,16}$/.test(parts[2]!)) return undefined;
  const id = Buffer.from(parts[3]!, 'base64url');
  return id.length === 16 ? { digest: parts[1]!, issuedAt: Number(parts[2]), id } : undefined;
}

/**
 * The gate's store for one redemption: its one spend keeps the issue (when the store can keep
 * records), and a 'replayed' spend remembers the record the first spend kept.
 */
export class RecordingStore implements ReplayStore {
  /** The first spend's issue, after a 'replayed' spend that found one. */
  held: Issue | undefined;
  /** The issue this redemption's spend kept (or tried to). */
  made: Issue | undefined;

  constructor(
    private readonly store: ReplayStore,
    private readonly issue: () => Issue,
  ) {}

  async spend(id: string, expiresAt: number): Promise<SpendResult> {
    if (typeof this.store.spendRecorded !== 'function') return this.store.spend(id, expiresAt);
    this.made = this.issue();
    const spent: RecordedSpend = await this.store.spendRecorded(id, expiresAt, encode(this.made));
    if (spent.result === 'replayed') this.held = decodeIssue(spent.record);
    return spent.result;
  }

  async epoch(): Promise<number | undefined> {
    return typeof this.store.epoch === 'function' ? this.store.epoch() : -Infinity;
  }

  spendMany(entries: readonly SpendEntry[]): Promise<SpendResult[]> {
    return this.store.spendMany(entries);
  }

  spendCall(id: string, calls: number, expiresAt: number): ReturnType<ReplayStore['spendCall']> {
    return this.store.spendCall(id, calls, expiresAt);
  }

  async close(): Promise<void> {}
}
