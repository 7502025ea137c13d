// Open Inference Protocol tensor datatypes and the binary tensor data extension
// (PROTOCOLS.md §4.2): little-endian, row-major, no padding; BYTES = 4-byte LE length + bytes.

export type TensorValue = number | bigint | boolean | string;

const FIXED: Readonly<Record<string, number>> = {
  BOOL: 1, UINT8: 1, UINT16: 2, UINT32: 4, UINT64: 8, INT8: 1, INT16: 2, INT32: 4, INT64: 8, FP16: 2, FP32: 4, FP64: 8,
};

export function isFloatType(datatype: string): boolean {
  return datatype === 'FP16' || datatype === 'FP32' || datatype === 'FP64' || datatype === 'BF16';
}

export function isIntegerType(datatype: string): boolean {
  return datatype.startsWith('INT') || datatype.startsWith('UINT');
}

export function isNumericType(datatype: string): boolean {
  return isFloatType(datatype) || isIntegerType(datatype);
}

/** Flattens nested tensor data (`[[1,2],[3,4]]` ≡ `[1,2,3,4]`) without recursion limits on width. */
export function flatData(data: unknown): unknown[] {
  if (!Array.isArray(data)) return [data];
  if (!data.some(Array.isArray)) return data;
  return data.flat(Infinity);
}

function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 0x1f) return frac ? Number.NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/** Decodes one binary tensor; undefined when the bytes do not fit the datatype and element count. */
export function decodeBinaryTensor(datatype: string, bytes: Buffer, count: number): TensorValue[] | undefined {
  const out: TensorValue[] = [];
  if (datatype === 'BYTES') {
    let at = 0;
    while (at < bytes.length) {
      if (at + 4 > bytes.length) return undefined;
      const n = bytes.readUInt32LE(at);
      at += 4;
      if (at + n > bytes.length) return undefined;
      out.push(bytes.toString('utf8', at, at + n));
      at += n;
    }
    return out.length === count ? out : undefined;
  }
  const size = FIXED[datatype];
  if (size === undefined || bytes.length !== size * count) return undefined;
  for (let i = 0, at = 0; i < count; i++, at += size) {
    switch (datatype) {
      case 'BOOL': out.push(bytes[at] !== 0); break;
      case 'UINT8': out.push(bytes.readUInt8(at)); break;
      case 'UINT16': out.push(bytes.readUInt16LE(at)); break;
      case 'UINT32': out.push(bytes.readUInt32LE(at)); break;
      case 'UINT64': out.push(Number(bytes.readBigUInt64LE(at))); break;
      case 'INT8': out.push(bytes.readInt8(at)); break;
      case 'INT16': out.push(bytes.readInt16LE(at)); break;
      case 'INT32': out.push(bytes.readInt32LE(at)); break;
      case 'INT64': out.push(Number(bytes.readBigInt64LE(at))); break;
      case 'FP16': out.push(halfToNumber(bytes.readUInt16LE(at))); break;
      case 'FP32': out.push(bytes.readFloatLE(at)); break;
      case 'FP64': out.push(bytes.readDoubleLE(at)); break;
    }
  }
  return out;
}

/** Element count of a shape, or undefined when it is not a list of non-negative integers. */
export function elementCount(shape: unknown): number | undefined {
  if (!Array.isArray(shape)) return undefined;
  let n = 1;
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) return undefined;
    n *= d;
  }
  return n;
}
