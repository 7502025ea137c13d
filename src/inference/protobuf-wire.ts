import { isUtf8 } from 'node:buffer';

// Protocol Buffers wire format read by hand (https://protobuf.dev/programming-guides/encoding/),
// for the few messages the gateway must read on every call: a length-delimited walk that reads
// only what is asked, straight from the bytes, without building a generic message first.
// Semantics are the ones the model servers' runtimes (C++ and Python upb protobuf) apply:
// a singular field seen twice keeps the last value, a repeated scalar may arrive packed or not
// (and both at once), a proto3 string must be valid UTF-8, a varint has at most 10 bytes.
// What those runtimes would read in a way the gateway does not (a known field with another wire
// type, which they keep as an unknown field; groups) is refused instead: fail closed.

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_FIXED32 = 5;

/** Thrown inside a read and caught where the message is read: the bytes are not the message. */
export class WireError extends Error {}

const TWO_32 = 4294967296;

/**
 * A cursor over one message (or one length-delimited field of it). Reads advance `pos`; a read
 * past `end` throws WireError. `hi` holds the upper 32 bits of the last varint read.
 */
export class WireReader {
  pos: number;
  hi = 0;

  constructor(
    readonly buf: Buffer,
    from: number,
    readonly end: number,
  ) {
    this.pos = from;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** A varint: its low 32 bits returned (unsigned), its high 32 bits left in `hi`. */
  varint(): number {
    const b = this.buf;
    const end = this.end;
    let p = this.pos;
    let lo = 0;
    let byte: number;
    for (let shift = 0; shift < 28; shift += 7) {
      if (p >= end) throw new WireError('a varint is cut short');
      byte = b[p++]!;
      lo |= (byte & 0x7f) << shift;
      if (byte < 0x80) {
        this.pos = p;
        this.hi = 0;
        return lo >>> 0;
      }
    }
    if (p >= end) throw new WireError('a varint is cut short');
    byte = b[p++]!;
    lo |= (byte & 0x0f) << 28;
    let hi = (byte & 0x7f) >> 4;
    if (byte >= 0x80) {
      for (let shift = 3; ; shift += 7) {
        if (shift > 31) throw new WireError('a varint is longer than 10 bytes');
        if (p >= end) throw new WireError('a varint is cut short');
        byte = b[p++]!;
        hi |= (byte & 0x7f) << shift;
        if (byte < 0x80) break;
      }
    }
    this.pos = p;
    this.hi = hi >>> 0;
    return lo >>> 0;
  }

  /** A field's key: its number times 8 plus its wire type (field 0 does not exist). */
  tag(): number {
    const key = this.varint();
    if (this.hi !== 0 || key < 8) throw new WireError('a field key is out of range');
    return key;
  }

  /** The end of the length-delimited payload that starts after its length; `pos` is left at its start. */
  lengthEnd(): number {
    const n = this.varint();
    if (this.hi !== 0 || n > this.end - this.pos) throw new WireError('a length runs past the message');
    return this.pos + n;
  }

  /** Moves past a field this reading does not use. */
  skip(wireType: number): void {
    if (wireType === WIRE_VARINT) this.varint();
    else if (wireType === WIRE_LEN) this.pos = this.lengthEnd();
    else if (wireType === WIRE_FIXED64) this.advance(8);
    else if (wireType === WIRE_FIXED32) this.advance(4);
    else throw new WireError(`wire type ${wireType} (groups) is not used by this protocol`);
  }

  advance(n: number): void {
    if (n > this.end - this.pos) throw new WireError('a fixed-width value is cut short');
    this.pos += n;
  }

  /** A proto3 `string`: UTF-8, as the runtimes check it (their parse fails otherwise). */
  string(): string {
    const end = this.lengthEnd();
    const s = utf8At(this.buf, this.pos, end);
    this.pos = end;
    return s;
  }

  /** A `string` field whose key said wire type `wireType`: refused unless length-delimited. */
  stringField(wireType: number, what: string): string {
    expectWire(wireType, WIRE_LEN, what);
    return this.string();
  }

  /** A `bytes` field: a view into the message, not a copy. */
  bytes(): Buffer {
    const end = this.lengthEnd();
    const out = this.buf.subarray(this.pos, end);
    this.pos = end;
    return out;
  }
}

/** Bytes [from, to) as a string, refused unless valid UTF-8; ASCII (names, datatypes) is read without a copy. */
export function utf8At(b: Buffer, from: number, to: number): string {
  let ascii = true;
  for (let i = from; i < to; i++)
    if (b[i]! >= 0x80) {
      ascii = false;
      break;
    }
  if (ascii) return b.toString('latin1', from, to);
  if (!isUtf8(b.subarray(from, to))) throw new WireError('a string field is not valid UTF-8');
  return b.toString('utf8', from, to);
}

/** A wire type check for a known field: another type would be an unknown field to the runtimes. */
export function expectWire(wireType: number, want: number, field: string): void {
  if (wireType !== want) throw new WireError(`${field} arrives with wire type ${wireType}, not ${want}`);
}

/** An int64 (two's complement in 64 bits) as a number: exact below 2^53 in magnitude, else the nearest double. */
export function int64Of(lo: number, hi: number): number {
  if (hi < 0x200000) return hi * TWO_32 + lo;
  return Number(BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo)));
}

/** A uint64 as a number (exact below 2^53, else the nearest double). */
export const uint64Of = (lo: number, hi: number): number => hi * TWO_32 + lo;

/** An int64's exact decimal text (for messages naming a value that is not a safe integer). */
export const int64Text = (lo: number, hi: number): string =>
  BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo)).toString();

/** Whether an int64 is a non-negative integer below 2^53 (a number that can be used as it is). */
export const isSafeNonNegative = (hi: number): boolean => hi < 0x200000;

/**
 * A message written field by field into one growing buffer. A length-delimited field reserves
 * five bytes for its length (enough below 2^35 bytes), and its payload is moved back over the
 * unused ones when it is closed, so a nested message is written once, without a size pass.
 */
export class WireWriter {
  buf: Buffer;
  pos = 0;

  constructor(sizeHint: number) {
    this.buf = Buffer.allocUnsafe(Math.max(64, sizeHint));
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }

  /** A varint of a non-negative integer below 2^53. */
  varint(v: number): void {
    this.room(10);
    const b = this.buf;
    while (v >= 0x80) {
      b[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    b[this.pos++] = v;
  }

  /** A 64-bit varint of any integer in [-2^63, 2^64): negatives in two's complement (ten bytes). */
  varint64(v: number): void {
    if (v >= 0 && v <= Number.MAX_SAFE_INTEGER) return this.varint(v);
    let x = BigInt.asUintN(64, BigInt(v));
    this.room(10);
    while (x >= 0x80n) {
      this.buf[this.pos++] = Number(x & 0x7fn) | 0x80;
      x >>= 7n;
    }
    this.buf[this.pos++] = Number(x);
  }

  tag(field: number, wireType: number): void {
    this.varint(field * 8 + wireType);
  }

  string(field: number, s: string): void {
    const len = s.length;
    // Short ASCII (labels, names, datatypes) is copied in place in one pass, its one-byte length
    // written before it: a native write per string cost more than the string itself for an
    // answer of hundreds of labels.
    if (len < 0x80 && field < 16) {
      this.room(2 + len);
      const b = this.buf;
      const start = this.pos;
      let p = start + 2;
      let i = 0;
      for (; i < len; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        b[p++] = c;
      }
      if (i === len) {
        b[start] = field * 8 + WIRE_LEN;
        b[start + 1] = len;
        this.pos = p;
        return;
      }
    }
    const n = Buffer.byteLength(s, 'utf8');
    this.tag(field, WIRE_LEN);
    this.varint(n);
    this.room(n);
    this.pos += this.buf.write(s, this.pos, n, 'utf8');
  }

  float(v: number): void {
    this.room(4);
    this.pos = this.buf.writeFloatLE(v, this.pos);
  }

  double(v: number): void {
    this.room(8);
    this.pos = this.buf.writeDoubleLE(v, this.pos);
  }

  /** Opens a length-delimited field; returns where its payload starts, for `close`. */
  open(field: number): number {
    this.tag(field, WIRE_LEN);
    this.room(5);
    this.pos += 5;
    return this.pos;
  }

  close(start: number): void {
    const n = this.pos - start;
    let k = 1;
    for (let v = n; v >= 0x80; v = Math.floor(v / 0x80)) k++;
    if (k > 5) throw new RangeError('a length-delimited field is over 2^35 bytes');
    const at = start - 5;
    const b = this.buf;
    if (k < 5) b.copyWithin(at + k, start, this.pos);
    // The length goes in the bytes reserved for it (no room() here: the payload is already placed).
    let p = at;
    let v = n;
    while (v >= 0x80) {
      b[p++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    b[p] = v;
    this.pos = at + k + n;
  }

  /** The bytes written (a view of the buffer). */
  bytes(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

/**
 * Walks the fields of [pos, end): `field` gets each field's number and wire type and must read
 * or skip its value. Throws WireError when the last field does not end exactly at `end`.
 */
export function eachField(
  r: WireReader,
  end: number,
  what: string,
  field: (n: number, wireType: number) => void,
): void {
  while (r.pos < end) {
    const key = r.tag();
    field(key >>> 3, key & 7);
  }
  if (r.pos !== end) throw new WireError(`${what} runs past its field`);
}

/** A whole message read by `read`, or why its bytes are not that message. */
export function readWhole<T>(bytes: Buffer, what: string, read: (r: WireReader) => T): T | string {
  try {
    return read(new WireReader(bytes, 0, bytes.length));
  } catch (err) {
    if (err instanceof WireError) return `the ${what} is not a valid protobuf message (${err.message})`;
    throw err;
  }
}
