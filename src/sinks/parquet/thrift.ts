// Thrift compact protocol, write side only: what Parquet's FileMetaData and PageHeader need.
// Field headers carry the id delta in the high nibble when it is 1..15, integers are zigzag
// varints, and a struct ends with a 0 byte. No I/O here.

/** Compact protocol type ids. */
export const CT = { TRUE: 1, FALSE: 2, BYTE: 3, I16: 4, I32: 5, I64: 6, DOUBLE: 7, BINARY: 8, LIST: 9, SET: 10, MAP: 11, STRUCT: 12 } as const;
export type CT = (typeof CT)[keyof typeof CT];

const utf8 = new TextEncoder();

export class ThriftWriter {
  buf: Uint8Array;
  len = 0;
  private last = 0;
  private readonly stack: number[] = [];

  constructor(capacity = 256) {
    this.buf = new Uint8Array(capacity);
  }

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.len++] = b;
  }

  /** Unsigned varint of a non-negative integer up to 2^53. */
  varint(v: number): void {
    this.ensure(10);
    while (v >= 0x80) {
      this.buf[this.len++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.len++] = v;
  }

  /** Zigzag varint of a safe integer (i16, i32 or i64 within ±2^52). */
  zigzag(v: number): void {
    this.varint(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  private header(id: number, type: CT): void {
    const delta = id - this.last;
    if (delta > 0 && delta <= 15) this.byte((delta << 4) | type);
    else { this.byte(type); this.zigzag(id); }
    this.last = id;
  }

  i8(id: number, v: number): void { this.header(id, CT.BYTE); this.byte(v & 0xff); }
  i16(id: number, v: number): void { this.header(id, CT.I16); this.zigzag(v); }
  i32(id: number, v: number): void { this.header(id, CT.I32); this.zigzag(v); }
  i64(id: number, v: number): void { this.header(id, CT.I64); this.zigzag(v); }
  bool(id: number, v: boolean): void { this.header(id, v ? CT.TRUE : CT.FALSE); }

  binary(id: number, v: Uint8Array): void {
    this.header(id, CT.BINARY);
    this.rawBinary(v);
  }

  string(id: number, v: string): void { this.binary(id, utf8.encode(v)); }

  rawBinary(v: Uint8Array): void {
    this.varint(v.length);
    this.ensure(v.length);
    this.buf.set(v, this.len);
    this.len += v.length;
  }

  /** Opens a struct-valued field; close it with end(). */
  struct(id: number): void {
    this.header(id, CT.STRUCT);
    this.begin();
  }

  /** Opens a struct that is a list element (no field header). */
  begin(): void {
    this.stack.push(this.last);
    this.last = 0;
  }

  end(): void {
    this.byte(0);
    this.last = this.stack.pop() ?? 0;
  }

  list(id: number, elem: CT, size: number): void {
    this.header(id, CT.LIST);
    if (size < 15) this.byte((size << 4) | elem);
    else { this.byte(0xf0 | elem); this.varint(size); }
  }

  /** The written bytes (a view of the internal buffer until the next write). */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }

  reset(): void {
    this.len = 0;
    this.last = 0;
    this.stack.length = 0;
  }
}
