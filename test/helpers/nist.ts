import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface NistVector {
  bits: number;
  message: Uint8Array;
  digest: string;
}

/** Reads a CAVP .rsp file; `Len = 0` carries `Msg = 00`, so the message is the first Len/8 bytes. */
export function readNistVectors(file: string): NistVector[] {
  const text = readFileSync(path.join(__dirname, '..', 'vectors', file), 'utf8');
  const vectors: NistVector[] = [];
  let bits = -1;
  let msg = '';
  for (const line of text.split(/\r?\n/)) {
    const [key, value] = line.split(' = ');
    if (key === 'Len') bits = Number(value);
    else if (key === 'Msg') msg = value!;
    else if (key === 'MD') {
      vectors.push({ bits, message: new Uint8Array(Buffer.from(msg, 'hex').subarray(0, bits / 8)), digest: value! });
    }
  }
  return vectors;
}
