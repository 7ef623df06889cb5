// What one entry of the in-process replay store costs in memory, to size maxEntries and
// maxTokens: each count in a process of its own, the heap measured after a full GC before and
// after the store is filled with what a gate keeps (a redeemed challenge's id and its record; a
// token's call count). Usage: npm run bench:memory-store [-- 100000 1000000]
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { MemoryReplayStore } from '../../dist/index.js';
import os from 'node:os';

const HOUR = 3_600_000;

async function measure(count, kind) {
  const store = new MemoryReplayStore({ maxEntries: count, maxTokens: count });
  const until = Date.now() + HOUR;
  globalThis.gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < count; i++) {
    const id = randomBytes(16).toString('base64url');
    if (kind === 'ids') {
      // What the gate records with a spend: version, solution digest, issue time, token id.
      const record = `1.${randomBytes(32).toString('base64url')}.${Date.now()}.${randomBytes(16).toString('base64url')}`;
      await store.spendRecorded(id, until, record);
    } else {
      await store.spendCall(id, 1, until);
    }
  }
  globalThis.gc();
  const bytes = process.memoryUsage().heapUsed - before;
  globalThis.keepAlive = store; // until measured
  return bytes;
}

if (process.argv[2] === '--child') {
  const [count, kind] = [Number(process.argv[3]), process.argv[4]];
  process.stdout.write(JSON.stringify({ count, kind, bytes: await measure(count, kind) }));
} else {
  const counts = process.argv
    .slice(2)
    .map(Number)
    .filter((n) => n > 0);
  console.log(`${os.cpus()[0]?.model ?? 'cpu'} · node ${process.version} · ${os.arch()}`);
  console.log('| entries | kind | heap | bytes per entry |');
  console.log('|---:|---|---:|---:|');
  for (const count of counts.length ? counts : [100_000, 1_000_000]) {
    for (const kind of ['ids', 'tokens']) {
      const child = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--child', String(count), kind], { encoding: 'utf8' });
      if (child.status !== 0) throw new Error(child.stderr);
      const { bytes } = JSON.parse(child.stdout);
      console.log(
        `| ${count.toLocaleString('en')} | ${kind === 'ids' ? 'redeemed challenges' : 'counted tokens'} | ${(bytes / 2 ** 20).toFixed(1)} MiB | ${Math.round(bytes / count)} |`,
      );
    }
  }
}
