import { MAX_MAC_KEYS } from './types.js';
import { PowgateError } from '../errors.js';
import { checkArray, checkInteger, checkUint32Array, checkUint8Array, describe, invalid } from '../validate.js';
import { WORK_PREFIX_BYTES } from '../wire.js';
import type { MacKey } from './mac-key.js';
import type { BackendName, Sha256Backend } from './types.js';

export const DIGEST_BYTES = 32;

/**
 * The shared half of every backend: argument checks, packing and output
 * buffers. A backend supplies only the two unchecked hashing loops.
 */
export abstract class BatchHasher implements Sha256Backend {
  abstract readonly name: BackendName;
  abstract readonly isa: string;

  protected abstract hashOffsetsUnchecked(data: Uint8Array, offsets: Uint32Array, out: Uint8Array): void;
  protected abstract hashUniformUnchecked(data: Uint8Array, messageLength: number, out: Uint8Array): void;
  protected abstract checkProofsUnchecked(prefixes: Uint8Array, nonces: Uint8Array, thresholds: Uint8Array, verdicts: Uint8Array): void;
  protected abstract checkMacsUnchecked(keys: readonly MacKey[], keyIndexes: Uint8Array, data: Uint8Array, messageLength: number, macs: Uint8Array, verdicts: Uint8Array): void;

  hashBatch(messages: readonly Uint8Array[], out?: Uint8Array): Uint8Array {
    checkArray(messages, 'messages');
    const offsets = new Uint32Array(messages.length + 1);
    let total = 0;
    for (let i = 0; i < messages.length; i++) {
      const message = checkUint8Array(messages[i], `messages[${i}]`);
      offsets[i] = total;
      total += message.length;
    }
    if (total > 0xffffffff) throw tooLarge(total);
    offsets[messages.length] = total;
    const data = new Uint8Array(total);
    for (let i = 0; i < messages.length; i++) data.set(messages[i]!, offsets[i]!);
    return this.hashOffsets(data, offsets, out);
  }

  hashOffsets(data: Uint8Array, offsets: Uint32Array, out?: Uint8Array): Uint8Array {
    checkUint8Array(data, 'data');
    checkUint32Array(offsets, 'offsets');
    if (offsets.length === 0) {
      throw new PowgateError('ERR_INVALID_ARGUMENT', 'expected count + 1 entries for offsets but received an empty Uint32Array');
    }
    for (let i = 1; i < offsets.length; i++) {
      if (offsets[i]! < offsets[i - 1]!) {
        throw new PowgateError('ERR_INVALID_ARGUMENT', `expected non-decreasing offsets but offsets[${i}] < offsets[${i - 1}]`);
      }
    }
    if (offsets[offsets.length - 1]! > data.length) {
      throw new PowgateError('ERR_INVALID_ARGUMENT', `expected offsets within data (${data.length} bytes) but the last offset is ${offsets[offsets.length - 1]}`);
    }
    const target = outputFor(offsets.length - 1, out);
    this.hashOffsetsUnchecked(data, offsets, target);
    return target;
  }

  hashUniform(data: Uint8Array, messageLength: number, out?: Uint8Array): Uint8Array {
    checkUint8Array(data, 'data');
    checkInteger(messageLength, 'messageLength', 1, 0xffffffff);
    if (data.length % messageLength !== 0) {
      throw new PowgateError('ERR_INVALID_ARGUMENT', `expected data to hold whole messages of ${messageLength} bytes but received ${describe(data)}`);
    }
    const target = outputFor(data.length / messageLength, out);
    this.hashUniformUnchecked(data, messageLength, target);
    return target;
  }

  checkProofs(prefixes: Uint8Array, nonces: Uint8Array, thresholds: Uint8Array, verdicts?: Uint8Array): Uint8Array {
    checkUint8Array(nonces, 'nonces');
    if (nonces.length % 8 !== 0) throw invalid('8 bytes per proof', 'nonces', nonces);
    const count = nonces.length / 8;
    checkSized(prefixes, WORK_PREFIX_BYTES * count, 'prefixes', '40 bytes per proof');
    checkSized(thresholds, 8 * count, 'thresholds', '8 bytes per proof');
    const target = verdicts === undefined ? new Uint8Array(count) : checkSized(verdicts, count, 'verdicts', 'one byte per proof');
    this.checkProofsUnchecked(prefixes, nonces, thresholds, target);
    return target;
  }

  checkMacs(keys: readonly MacKey[], keyIndexes: Uint8Array, data: Uint8Array, messageLength: number, macs: Uint8Array, verdicts?: Uint8Array): Uint8Array {
    checkKeys(keys);
    checkUint8Array(keyIndexes, 'keyIndexes');
    const count = keyIndexes.length;
    for (let i = 0; i < count; i++) {
      if (keyIndexes[i]! >= keys.length) throw invalid(`an index below ${keys.length}`, `keyIndexes[${i}]`, keyIndexes[i]);
    }
    checkInteger(messageLength, 'messageLength', 0, 0xffffffff);
    checkSized(data, count * messageLength, 'data', `${messageLength} bytes per message`);
    checkSized(macs, DIGEST_BYTES * count, 'macs', '32 bytes per message');
    const target = verdicts === undefined ? new Uint8Array(count) : checkSized(verdicts, count, 'verdicts', 'one byte per message');
    this.checkMacsUnchecked(keys, keyIndexes, data, messageLength, macs, target);
    return target;
  }
}

// A frozen list (a key ring's) cannot change once checked: check it once.
const checkedKeys = new WeakSet<readonly MacKey[]>();

function checkKeys(keys: readonly MacKey[]): void {
  if (checkedKeys.has(keys)) return;
  checkArray(keys, 'keys');
  if (keys.length === 0 || keys.length > MAX_MAC_KEYS) throw invalid(`1 to ${MAX_MAC_KEYS} keys`, 'keys', keys);
  keys.forEach((key, i) => {
    if (!(key?.key instanceof Uint8Array) || !(key.pads instanceof Uint32Array) || key.pads.length !== 16) {
      throw invalid('a MacKey from prepareMacKey()', `keys[${i}]`, key);
    }
  });
  if (Object.isFrozen(keys)) checkedKeys.add(keys);
}

function checkSized(value: unknown, length: number, what: string, unit: string): Uint8Array {
  checkUint8Array(value, what);
  if ((value as Uint8Array).length !== length) throw invalid(`${length} bytes (${unit})`, what, value);
  return value as Uint8Array;
}

function outputFor(count: number, out: Uint8Array | undefined): Uint8Array {
  if (out === undefined) return new Uint8Array(DIGEST_BYTES * count);
  checkUint8Array(out, 'out');
  if (out.length !== DIGEST_BYTES * count) {
    throw new PowgateError('ERR_INVALID_ARGUMENT', `expected ${DIGEST_BYTES * count} bytes (32 per message) for out but received ${describe(out)}`);
  }
  return out;
}

function tooLarge(total: number): PowgateError {
  return new PowgateError('ERR_INVALID_ARGUMENT', `expected at most 4 GiB of messages in one batch but received ${total} bytes`);
}
