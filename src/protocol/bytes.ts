// Canonical byte encodings for MAC inputs: fixed widths, big-endian, explicit lengths.

/** Appends fields to a growing byte string. */
export class ByteWriter {
  private parts: Uint8Array[] = [];

  label(ascii: string): this {
    return this.bytes(Buffer.from(`${ascii}\0`, 'latin1'));
  }
  u8(value: number): this {
    return this.bytes(Uint8Array.of(value));
  }
  u16(value: number): this {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(value);
    return this.bytes(b);
  }
  u32(value: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(value);
    return this.bytes(b);
  }
  u64(value: bigint | number): this {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt(value));
    return this.bytes(b);
  }
  /** A string with a one-byte length (kid, method). */
  short(text: string): this {
    const b = Buffer.from(text, 'utf8');
    return this.u8(b.length).bytes(b);
  }
  /** A string with a two-byte length (scope). */
  long(text: string): this {
    const b = Buffer.from(text, 'utf8');
    return this.u16(b.length).bytes(b);
  }
  bytes(b: Uint8Array): this {
    this.parts.push(b);
    return this;
  }
  finish(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** Reads fields back; every read past the end, and any bytes left over, make the input malformed. */
export class ByteReader {
  private at = 0;
  constructor(private readonly b: Buffer) {}

  private take(n: number): Buffer {
    if (this.at + n > this.b.length) throw new RangeError('truncated');
    const out = this.b.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
  u8(): number {
    return this.take(1)[0]!;
  }
  u16(): number {
    return this.take(2).readUInt16BE();
  }
  u32(): number {
    return this.take(4).readUInt32BE();
  }
  u64(): bigint {
    return this.take(8).readBigUInt64BE();
  }
  short(): string {
    return this.take(this.u8()).toString('utf8');
  }
  long(): string {
    return this.take(this.u16()).toString('utf8');
  }
  bytes(n: number): Buffer {
    return this.take(n);
  }
  end(): void {
    if (this.at !== this.b.length) throw new RangeError('trailing bytes');
  }
}
