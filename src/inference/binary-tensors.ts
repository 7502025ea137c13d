// The binary tensor data extension (https://github.com/triton-inference-server/server/blob/main/docs/protocol/extension_binary_data.md): `<N bytes JSON><tensor bytes>` with
// `Inference-Header-Content-Length: N`; outputs carrying `parameters.binary_data_size` have their
// data, in output order, little-endian and row-major, after the JSON.

type Reader = (buf: Buffer, offset: number) => number | bigint | boolean;

const FIXED: Readonly<Record<string, readonly [number, Reader]>> = {
  BOOL: [1, (b, o) => b.readUInt8(o) !== 0],
  UINT8: [1, (b, o) => b.readUInt8(o)],
  INT8: [1, (b, o) => b.readInt8(o)],
  UINT16: [2, (b, o) => b.readUInt16LE(o)],
  INT16: [2, (b, o) => b.readInt16LE(o)],
  UINT32: [4, (b, o) => b.readUInt32LE(o)],
  INT32: [4, (b, o) => b.readInt32LE(o)],
  UINT64: [8, (b, o) => b.readBigUInt64LE(o)],
  INT64: [8, (b, o) => b.readBigInt64LE(o)],
  FP32: [4, (b, o) => b.readFloatLE(o)],
  FP64: [8, (b, o) => b.readDoubleLE(o)],
  FP16: [2, (b, o) => halfToNumber(b.readUInt16LE(o))],
  // bfloat16 is the upper half of an IEEE 754 binary32.
  BF16: [2, (b, o) => bfloat16ToNumber(b.readUInt16LE(o))],
};

/** Bytes per element of a fixed-width datatype; undefined for BYTES and unknown types. */
export const elementSize = (datatype: string): number | undefined => FIXED[datatype]?.[0];

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

function bfloat16ToNumber(bits: number): number {
  u32[0] = bits << 16;
  return f32[0]!;
}

/** IEEE 754 binary16 (sign, 5-bit exponent, 10-bit fraction) to a number. */
function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 0x1f) return frac === 0 ? sign * Infinity : NaN;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/** The elements of one binary tensor, row-major; or why its bytes cannot be read as that datatype. */
export function decodeTensorBytes(datatype: string, bytes: Buffer): unknown[] | string {
  if (datatype === 'BYTES') {
    const out: string[] = [];
    for (let o = 0; o < bytes.length;) {
      if (o + 4 > bytes.length) return 'a BYTES element is cut short';
      const len = bytes.readUInt32LE(o);
      o += 4;
      if (o + len > bytes.length) return 'a BYTES element is cut short';
      out.push(bytes.toString('utf8', o, o + len));
      o += len;
    }
    return out;
  }
  const fixed = FIXED[datatype];
  if (!fixed) return `binary ${datatype} data cannot be read`;
  const [size, read] = fixed;
  if (bytes.length % size !== 0) return `binary ${datatype} data is not a whole number of elements`;
  const out: unknown[] = [];
  for (let o = 0; o < bytes.length; o += size) {
    const v = read(bytes, o);
    out.push(typeof v === 'bigint' ? Number(v) : v);
  }
  return out;
}

/** Parses a binary-extension answer into its JSON document with every output's `data` filled in. */
export function parseBinaryAnswer(body: Buffer, headerLength: number): Record<string, unknown> | string {
  if (!Number.isInteger(headerLength) || headerLength < 0 || headerLength > body.length)
    return 'Inference-Header-Content-Length does not fit the answer';
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8', 0, headerLength));
  } catch {
    return 'the JSON part of a binary answer is not JSON';
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    return 'the JSON part of a binary answer is not an object';
  const outputs = (doc as Record<string, unknown>)['outputs'];
  let offset = headerLength;
  if (Array.isArray(outputs)) {
    for (const o of outputs as Array<Record<string, unknown>>) {
      const size = (o?.['parameters'] as Record<string, unknown> | undefined)?.['binary_data_size'];
      if (size === undefined) continue;
      if (!Number.isInteger(size) || (size as number) < 0 || offset + (size as number) > body.length)
        return 'binary_data_size runs past the answer';
      const data = decodeTensorBytes(String(o['datatype']), body.subarray(offset, offset + (size as number)));
      if (typeof data === 'string') return data;
      offset += size as number;
      o['data'] = data;
    }
  }
  if (offset !== body.length) return 'the binary answer has bytes no output claims';
  return doc as Record<string, unknown>;
}
