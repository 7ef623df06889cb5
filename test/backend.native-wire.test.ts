// The C++ wire constants (native/wire.h, read through the addon's `wire` export) must be
// TypeScript's: the packer and the kernels lay out the same bytes as src/protocol.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadNativeAddon } from '../src/backend/native.js';
import { workMessage, workPrefix } from '../src/protocol/work.js';
import { ID_BYTES, ID_CHARS, MAC_BYTES, MAX_SUB_PUZZLES, NONCE_BYTES, NONCE_CHARS, SIGNATURE_CHARS, WORK_LABEL, WORK_MESSAGE_BYTES, WORK_PREFIX_BYTES } from '../src/wire.js';

interface WireConstants {
  workLabel: string;
  idBytes: number;
  macBytes: number;
  idChars: number;
  macChars: number;
  nonceBytes: number;
  nonceChars: number;
  thresholdBytes: number;
  termsBytes: number;
  maxSubPuzzles: number;
  workPrefixBytes: number;
  workMessageBytes: number;
  workBlockPadding: Uint8Array;
}

function nativeWire(): WireConstants | undefined {
  try {
    return (loadNativeAddon() as unknown as { wire: WireConstants }).wire;
  } catch {
    return undefined;
  }
}

const wire = nativeWire();

describe.skipIf(!wire)('native wire constants', () => {
  it('match the TypeScript work message and challenge limits', () => {
    const w = wire!;
    const mac = createHash('sha256').update('mac').digest();
    expect(w.workPrefixBytes).toBe(WORK_PREFIX_BYTES);
    expect(w.workMessageBytes).toBe(WORK_MESSAGE_BYTES);
    expect(w.macBytes).toBe(mac.length);
    expect(w.macBytes).toBe(MAC_BYTES);
    expect(w.workLabel).toBe(WORK_LABEL);
    expect([w.idBytes, w.idChars, w.macChars, w.nonceBytes, w.nonceChars]).toEqual([ID_BYTES, ID_CHARS, SIGNATURE_CHARS, NONCE_BYTES, NONCE_CHARS]);
    expect(w.maxSubPuzzles).toBe(MAX_SUB_PUZZLES);
    const prefix = workPrefix(mac, 7);
    expect(Buffer.from(prefix.subarray(0, w.workLabel.length)).toString('latin1')).toBe(w.workLabel);
    expect(prefix.subarray(w.workLabel.length, w.workLabel.length + w.macBytes)).toEqual(mac);
    expect(workMessage(mac, 7, 1n).length - prefix.length).toBe(w.nonceBytes);
  });

  it('text and byte sizes agree: base64url of the id and MAC, hex of a nonce', () => {
    const w = wire!;
    expect(Buffer.alloc(w.idBytes).toString('base64url').length).toBe(w.idChars);
    expect(Buffer.alloc(w.macBytes).toString('base64url').length).toBe(w.macChars);
    expect(2 * w.nonceBytes).toBe(w.nonceChars);
    expect(w.thresholdBytes).toBe(8);
    // u32 steps, u64 threshold, u32 calls, u32 price
    expect(w.termsBytes).toBe(4 + 8 + 4 + 4);
  });

  it("the work block's padding is SHA-256's for a message of the work message's length", () => {
    const w = wire!;
    const expected = new Uint8Array(64);
    expected[WORK_MESSAGE_BYTES] = 0x80;
    new DataView(expected.buffer).setBigUint64(56, BigInt(WORK_MESSAGE_BYTES * 8));
    expect(w.workBlockPadding).toEqual(expected);
  });
});
