// SpentIds, MemoryReplayStore's table: it must behave as a Map<string, number> in
// insertion order, where a challenge id's canonical text and its 16 bytes are the same key.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NONE, SpentIds } from '../src/storage/spent-ids.js';

/** The table's entries, oldest first, as [id, expiresAt], ids spelled as texts. */
function contents(table: SpentIds, textOf: (entry: number) => string): [string, number][] {
  const out: [string, number][] = [];
  for (let entry = table.first(); entry !== NONE; entry = table.next(entry)) out.push([textOf(entry), table.expiresAt(entry)]);
  return out;
}

const bytesOf = (text: string) => Buffer.from(text, 'base64url');

describe('SpentIds', () => {
  it('finds a challenge id by its text or its bytes, whichever way it was added', () => {
    const table = new SpentIds();
    const a = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
    const b = Buffer.from('ffeeddccbbaa99887766554433221100', 'hex');
    // Bytes anywhere in a buffer: at an offset that is not a multiple of 4.
    const padded = Buffer.concat([Buffer.alloc(3), a]);
    table.addBytes(padded, 3, 10);
    table.addText(b.toString('base64url'), 20);
    expect(table.expiresAt(table.findText(a.toString('base64url')))).toBe(10);
    expect(table.expiresAt(table.findBytes(b, 0))).toBe(20);
    expect(table.findBytes(Buffer.alloc(16), 0)).toBe(NONE);
    expect(table.size).toBe(2);
  });

  it('keeps non-canonical and other texts apart from every byte id', () => {
    const table = new SpentIds();
    const id = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
    const text = id.toString('base64url'); // 22 characters, last one's 4 spare bits zero
    table.addBytes(id, 0, 1);
    // Same 16 bytes under Node's lenient decoding, but not the canonical spelling: another key.
    const spareBits = text.slice(0, 21) + String.fromCharCode(text.charCodeAt(21) + 1);
    expect(bytesOf(spareBits).equals(id)).toBe(true);
    for (const other of [spareBits, `${text}A`, text.slice(0, 21), text.replace(/./, '+'), text.replace(/./, '\u0141'), '', 'a'.repeat(256)]) {
      expect(table.findText(other), other).toBe(NONE);
      table.addText(other, 2);
      expect(table.expiresAt(table.findText(other))).toBe(2);
    }
    expect(table.expiresAt(table.findText(text))).toBe(1);
    expect(table.size).toBe(8);
  });

  it('finds every id that is left after thousands of deletes in random order, and none that is gone', () => {
    const table = new SpentIds();
    const ids = Array.from({ length: 5000 }, (_, i) => createHash('sha256').update(`id ${i}`).digest().subarray(0, 16));
    ids.forEach((id, i) => table.addBytes(id, 0, i));
    const gone = new Set<number>();
    for (let i = 0; i < ids.length; i++) {
      const victim = (i * 7919) % ids.length; // a permutation: 7919 is prime and does not divide 5000
      if (victim % 3 === 0) continue;
      table.delete(table.findBytes(ids[victim]!, 0));
      gone.add(victim);
    }
    expect(table.size).toBe(ids.length - gone.size);
    ids.forEach((id, i) => {
      const entry = table.findBytes(id, 0);
      if (gone.has(i)) expect(entry, `id ${i}`).toBe(NONE);
      else expect(table.expiresAt(entry), `id ${i}`).toBe(i);
    });
  });

  it('behaves as a Map in insertion order under adds, deletes (head, middle, tail) and growth (property)', () => {
    const pool = Array.from({ length: 40 }, (_, i) => Buffer.from(Array.from({ length: 16 }, (_, j) => (i * 37 + j * (i + 1)) & 0xff)));
    // Some ids share their first word or all but the last byte, so probe runs cross and shift.
    pool[1] = Buffer.concat([pool[0]!.subarray(0, 4), pool[1]!.subarray(4)]);
    pool[2] = Buffer.concat([pool[0]!.subarray(0, 15), Uint8Array.of(pool[0]![15]! ^ 1)]);
    const texts = [...pool.map((b) => b.toString('base64url')), 'short', 'x'.repeat(22), 'y'.repeat(30)];
    const op = fc.oneof(
      fc.record({ kind: fc.constant('add' as const), id: fc.nat(texts.length - 1), asBytes: fc.boolean(), expiresAt: fc.integer({ min: 0, max: 1000 }) }),
      fc.record({ kind: fc.constant('delete' as const), at: fc.nat(60) }),
      fc.record({ kind: fc.constant('reserve' as const), count: fc.nat(70) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const table = new SpentIds();
        const model = new Map<string, number>();
        const textOfEntry = new Map<number, string>();
        for (const o of ops) {
          if (o.kind === 'add') {
            const text = texts[o.id]!;
            const canonical = o.id < pool.length;
            const found = canonical && o.asBytes ? table.findBytes(pool[o.id]!, 0) : table.findText(text);
            expect(found === NONE).toBe(!model.has(text));
            if (found !== NONE) {
              expect(table.expiresAt(found)).toBe(model.get(text));
              table.delete(found); // re-added at the end, as MemoryReplayStore does
              model.delete(text);
            }
            if (canonical && o.asBytes) table.addBytes(pool[o.id]!, 0, o.expiresAt);
            else table.addText(text, o.expiresAt);
            model.set(text, o.expiresAt);
            textOfEntry.set(table.findText(text), text);
          } else if (o.kind === 'delete') {
            const held = contents(table, (e) => textOfEntry.get(e)!);
            if (held.length === 0) continue;
            const [text] = held[o.at % held.length]!;
            table.delete(table.findText(text));
            model.delete(text);
          } else {
            table.reserve(o.count);
          }
          expect(table.size).toBe(model.size);
          expect(contents(table, (e) => textOfEntry.get(e)!)).toEqual([...model]);
          for (const text of texts) expect(table.findText(text) === NONE).toBe(!model.has(text));
        }
      }),
      { numRuns: 200 },
    );
  });
});
