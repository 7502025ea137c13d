import {
  eachField,
  readWhole,
  WIRE_FIXED32,
  WIRE_FIXED64,
  WIRE_LEN,
  WIRE_VARINT,
  WireError,
  WireReader,
  expectWire,
  int64Of,
  int64Text,
  isSafeNonNegative,
  uint64Of,
} from './protobuf-wire.js';

// The Open Inference Protocol's ModelInfer messages (KServe grpc_predict_v2.proto) read from the
// wire in one pass (protobuf-wire.ts says how the wire is read): field numbers below are the
// .proto's. Typed contents are decoded straight into the value lists the contract and the answer
// reduction read; raw contents stay views into the message.

/** An InferParameter's value as the REST body would carry it; undefined when no member is set. */
export type ParameterValue = boolean | number | string | undefined;
export type Parameters = Record<string, ParameterValue>;

/** `InferTensorContents` fields by name; each holds the values of that field, in wire order. */
export interface WireContents {
  bool_contents?: boolean[];
  int_contents?: number[];
  int64_contents?: number[];
  uint_contents?: number[];
  uint64_contents?: number[];
  fp32_contents?: number[];
  fp64_contents?: number[];
  bytes_contents?: Buffer[];
}
export type ContentsField = keyof WireContents;

/** InferInputTensor and InferOutputTensor (same fields, same numbers). */
export interface WireTensor {
  name: string;
  datatype: string;
  /** The dimensions, every one a non-negative integer below 2^53 (see badDim). */
  shape: number[];
  /** The first dimension that is not a non-negative integer below 2^53, as its decimal text. */
  badDim: string | undefined;
  parameters: Parameters | undefined;
  contents: WireContents | undefined;
  /** How many times `contents` appears on the wire (runtimes merge repeats). */
  contentsSeen: number;
}

export interface WireRequestedOutput {
  name: string;
  parameters: Parameters | undefined;
}

export interface ModelInferRequestWire {
  model_name: string;
  model_version: string;
  id: string;
  parameters: Parameters | undefined;
  inputs: WireTensor[];
  /** undefined when the field never appears (then the server answers every output). */
  outputs: WireRequestedOutput[] | undefined;
  raw_input_contents: Buffer[];
}

export interface ModelInferResponseWire {
  outputs: WireTensor[];
  raw_output_contents: Buffer[];
}

const CONTENTS_BY_NUMBER: readonly (ContentsField | undefined)[] = [
  undefined,
  'bool_contents',
  'int_contents',
  'int64_contents',
  'uint_contents',
  'uint64_contents',
  'fp32_contents',
  'fp64_contents',
  'bytes_contents',
];

// A map's key `__proto__` must be an own property like any other key, not the object's prototype.
function setKey(into: Parameters, key: string, value: ParameterValue): void {
  if (key === '__proto__')
    Object.defineProperty(into, key, { value, enumerable: true, writable: true, configurable: true });
  else into[key] = value;
}

/** One InferParameter: its oneof member, the last one on the wire winning (a later member clears an earlier one). */
function readParameter(r: WireReader, end: number, value: ParameterValue): ParameterValue {
  eachField(r, end, 'a parameter', (n, wt) => {
    if (n === 1) {
      expectWire(wt, WIRE_VARINT, 'bool_param');
      const lo = r.varint();
      value = lo !== 0 || r.hi !== 0;
    } else if (n === 2) {
      expectWire(wt, WIRE_VARINT, 'int64_param');
      const lo = r.varint();
      const hi = r.hi;
      const v = int64Of(lo, hi);
      value = Number.isSafeInteger(v) ? v : int64Text(lo, hi);
    } else if (n === 3) {
      value = r.stringField(wt, 'string_param');
    } else r.skip(wt);
  });
  return value;
}

/** One `map<string, InferParameter>` entry into `into` (a later entry of one key replaces the earlier). */
function readParameterEntry(r: WireReader, into: Parameters): void {
  let key = '';
  let value: ParameterValue = undefined;
  eachField(r, r.lengthEnd(), 'a parameter entry', (n, wt) => {
    if (n === 1) {
      key = r.stringField(wt, 'a parameter key');
    } else if (n === 2) {
      expectWire(wt, WIRE_LEN, 'a parameter value');
      // A value message seen twice is merged into one: the member read last wins.
      value = readParameter(r, r.lengthEnd(), value);
    } else r.skip(wt);
  });
  setKey(into, key, value);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
// Below this many values a typed-array view costs more than reading each value from the buffer.
const VIEW_FROM = 16;
// V8 gives `new Array(n)` slow (dictionary) elements above about 100 000; longer runs are pushed.
const PRESIZED_UP_TO = 65536;
let scratch = new ArrayBuffer(4096);

/**
 * Little-endian floats (fixed32 or fixed64) in [from, to) after the values of `out`: the list
 * returned is `out` or, when `out` is empty, a new list sized once (pushing value by value
 * measured ten times slower for 1024 floats: the list regrows and changes elements kind). A
 * long run is read through a Float32Array/Float64Array over the bytes (copied first when they are
 * not aligned for one) instead of one buffer read per value.
 */
function appendFloats(b: Buffer, from: number, to: number, width: 4 | 8, out: number[]): number[] {
  const n = (to - from) / width;
  const list = out.length === 0 && n <= PRESIZED_UP_TO ? (new Array(n) as number[]) : out;
  let k = list === out ? out.length : 0;
  const put = (v: number) => {
    if (list === out) out.push(v);
    else list[k++] = v;
  };
  if (n < VIEW_FROM || !LITTLE_ENDIAN) {
    if (width === 4) for (let o = from; o < to; o += 4) put(b.readFloatLE(o));
    else for (let o = from; o < to; o += 8) put(b.readDoubleLE(o));
    return list;
  }
  let buffer: ArrayBufferLike = b.buffer;
  let at = b.byteOffset + from;
  if (at % width !== 0) {
    if (scratch.byteLength < to - from) scratch = new ArrayBuffer(to - from);
    new Uint8Array(scratch).set(b.subarray(from, to));
    buffer = scratch;
    at = 0;
  }
  const view = width === 4 ? new Float32Array(buffer, at, n) : new Float64Array(buffer, at, n);
  if (list === out) for (let i = 0; i < n; i++) out.push(view[i]!);
  else for (let i = 0; i < n; i++) list[i] = view[i]!;
  return list;
}

/** The values of one FP32 or FP64 field occurrence, packed (one length-delimited run) or one unpacked value, after `into`'s. */
function readFloats(r: WireReader, field: 'fp32_contents' | 'fp64_contents', wt: number, into: number[]): number[] {
  const width = field === 'fp32_contents' ? 4 : 8;
  let from = r.pos;
  let to: number;
  if (wt === WIRE_LEN) {
    to = r.lengthEnd();
    from = r.pos;
    if ((to - from) % width !== 0) throw new WireError(`packed ${field} is not a whole number of values`);
  } else {
    expectWire(wt, width === 4 ? WIRE_FIXED32 : WIRE_FIXED64, field);
    to = from + width;
    r.advance(width);
  }
  r.pos = to;
  return appendFloats(r.buf, from, to, width, into);
}

/** The values of one varint field occurrence, packed (one length-delimited run) or one unpacked value. */
function readVarints(r: WireReader, field: ContentsField, wt: number, into: unknown[]): void {
  const end = wt === WIRE_LEN ? r.lengthEnd() : -1;
  if (end < 0) expectWire(wt, WIRE_VARINT, field);
  do {
    if (end >= 0 && r.pos >= end) break;
    const lo = r.varint();
    if (field === 'bool_contents') into.push(lo !== 0 || r.hi !== 0);
    else if (field === 'int_contents') into.push(lo | 0);
    else if (field === 'uint_contents') into.push(lo);
    else if (field === 'int64_contents') into.push(int64Of(lo, r.hi));
    else into.push(uint64Of(lo, r.hi));
  } while (end >= 0);
  if (end >= 0 && r.pos !== end) throw new WireError(`packed ${field} runs past its field`);
}

/** InferTensorContents: every field's values, repeats concatenated as the runtimes concatenate them. */
function readContents(r: WireReader, end: number, into: WireContents): void {
  eachField(r, end, 'contents', (n, wt) => {
    const field = CONTENTS_BY_NUMBER[n];
    if (field === undefined) return r.skip(wt);
    if (field === 'fp32_contents' || field === 'fp64_contents') {
      into[field] = readFloats(r, field, wt, into[field] ?? []);
      return;
    }
    const values = (into[field] ??= []) as unknown[];
    if (field === 'bytes_contents') {
      expectWire(wt, WIRE_LEN, field);
      values.push(r.bytes());
    } else readVarints(r, field, wt, values);
  });
}

/** Dimensions of one shape field occurrence (packed, or one unpacked varint) appended to the tensor's. */
function readShape(r: WireReader, wt: number, t: WireTensor): void {
  const end = wt === WIRE_LEN ? r.lengthEnd() : -1;
  if (end < 0) expectWire(wt, WIRE_VARINT, 'a tensor shape');
  do {
    if (end >= 0 && r.pos >= end) break;
    const lo = r.varint();
    if (isSafeNonNegative(r.hi)) t.shape.push(r.hi * 4294967296 + lo);
    else t.badDim ??= int64Text(lo, r.hi);
  } while (end >= 0);
  if (end >= 0 && r.pos !== end) throw new WireError('packed shape runs past its field');
}

function readTensor(r: WireReader): WireTensor {
  const t: WireTensor = {
    name: '',
    datatype: '',
    shape: [],
    badDim: undefined,
    parameters: undefined,
    contents: undefined,
    contentsSeen: 0,
  };
  eachField(r, r.lengthEnd(), 'a tensor', (n, wt) => {
    if (n === 1) {
      t.name = r.stringField(wt, 'a tensor name');
    } else if (n === 2) {
      t.datatype = r.stringField(wt, 'a tensor datatype');
    } else if (n === 3) readShape(r, wt, t);
    else if (n === 4) {
      expectWire(wt, WIRE_LEN, 'tensor parameters');
      readParameterEntry(r, (t.parameters ??= {}));
    } else if (n === 5) {
      expectWire(wt, WIRE_LEN, 'tensor contents');
      t.contentsSeen++;
      readContents(r, r.lengthEnd(), (t.contents ??= {}));
    } else r.skip(wt);
  });
  return t;
}

function readRequestedOutput(r: WireReader): WireRequestedOutput {
  const o: WireRequestedOutput = { name: '', parameters: undefined };
  eachField(r, r.lengthEnd(), 'a requested output', (n, wt) => {
    if (n === 1) {
      o.name = r.stringField(wt, 'an output name');
    } else if (n === 2) {
      expectWire(wt, WIRE_LEN, 'output parameters');
      readParameterEntry(r, (o.parameters ??= {}));
    } else r.skip(wt);
  });
  return o;
}

/** A ModelInferRequest, or why its bytes are not one. */
export function readModelInferRequest(bytes: Buffer): ModelInferRequestWire | string {
  return readWhole(bytes, 'ModelInfer request', (r) => {
    const m: ModelInferRequestWire = {
      model_name: '',
      model_version: '',
      id: '',
      parameters: undefined,
      inputs: [],
      outputs: undefined,
      raw_input_contents: [],
    };
    eachField(r, r.end, 'the request', (n, wt) => {
      if (n >= 1 && n <= 3) {
        expectWire(wt, WIRE_LEN, 'a ModelInferRequest string');
        const s = r.string();
        if (n === 1) m.model_name = s;
        else if (n === 2) m.model_version = s;
        else m.id = s;
      } else if (n === 4) {
        expectWire(wt, WIRE_LEN, 'request parameters');
        readParameterEntry(r, (m.parameters ??= {}));
      } else if (n === 5) {
        expectWire(wt, WIRE_LEN, 'an input');
        m.inputs.push(readTensor(r));
      } else if (n === 6) {
        expectWire(wt, WIRE_LEN, 'a requested output');
        (m.outputs ??= []).push(readRequestedOutput(r));
      } else if (n === 7) {
        expectWire(wt, WIRE_LEN, 'raw_input_contents');
        m.raw_input_contents.push(r.bytes());
      } else r.skip(wt);
    });
    return m;
  });
}

/** A ModelInferResponse's outputs and raw contents (names and ids the gateway writes itself), or why its bytes are not one. */
export function readModelInferResponse(bytes: Buffer): ModelInferResponseWire | string {
  return readWhole(bytes, 'ModelInfer response', (r) => {
    const m: ModelInferResponseWire = { outputs: [], raw_output_contents: [] };
    eachField(r, r.end, 'the answer', (n, wt) => {
      if (n === 5) {
        expectWire(wt, WIRE_LEN, 'an output');
        m.outputs.push(readTensor(r));
      } else if (n === 6) {
        expectWire(wt, WIRE_LEN, 'raw_output_contents');
        m.raw_output_contents.push(r.bytes());
      } else if (n >= 1 && n <= 3) {
        // model_name, model_version, id: not passed on, but a string that is not UTF-8 fails the parse.
        expectWire(wt, WIRE_LEN, 'a ModelInferResponse string');
        r.string();
      } else if (n === 4) {
        expectWire(wt, WIRE_LEN, 'answer parameters');
        readParameterEntry(r, {});
      } else r.skip(wt);
    });
    return m;
  });
}

/** ModelReadyRequest and ModelMetadataRequest: the model (field 1) and version (field 2) they ask about. */
export function readModelName(bytes: Buffer, rpc: string): { name: string; version: string } | string {
  return readWhole(bytes, `${rpc} request`, (r) => {
    const m = { name: '', version: '' };
    eachField(r, r.end, 'the request', (n, wt) => {
      if (n === 1 || n === 2) {
        expectWire(wt, WIRE_LEN, 'a model name or version');
        if (n === 1) m.name = r.string();
        else m.version = r.string();
      } else r.skip(wt);
    });
    return m;
  });
}
