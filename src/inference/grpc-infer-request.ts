import { decodeTensorBytes, elementSize } from './binary-tensors.js';
import {
  decodeMessage,
  encodeMessage,
  grpcFrame,
  grpcUnframe,
  type InferParameterMessage,
  type ModelInferRequestMessage,
  type TensorContentsMessage,
} from './grpc-codec.js';
import { isObject } from './json-object.js';

// A ModelInferRequest read as the Open Inference Protocol's gRPC servers read it (KServe's
// grpc_predict_v2.proto; Triton's and KServe's servers pick an input's values from the
// `contents` field of its datatype, or from `raw_input_contents` by input index), turned into the
// V2 JSON document the REST reading produces, so the contract, the limits, the extraction guard
// and the score-request check read one description whichever transport the request came by.

/** Which `InferTensorContents` field carries each datatype; FP16 and BF16 have none (raw only). */
export const CONTENTS_FIELD: Readonly<Record<string, keyof TensorContentsMessage>> = {
  BOOL: 'bool_contents',
  INT8: 'int_contents',
  INT16: 'int_contents',
  INT32: 'int_contents',
  INT64: 'int64_contents',
  UINT8: 'uint_contents',
  UINT16: 'uint_contents',
  UINT32: 'uint_contents',
  UINT64: 'uint64_contents',
  FP32: 'fp32_contents',
  FP64: 'fp64_contents',
  BYTES: 'bytes_contents',
};
export const CONTENTS_FIELDS = [...new Set(Object.values(CONTENTS_FIELD))];

export interface GrpcInferRead {
  readonly ok: true;
  /** The request as the V2 REST body that means the same (`inputs[].data` for typed contents). */
  readonly doc: Record<string, unknown>;
  /** raw_input_contents by input index (views into the body), decoded on demand as binary tensors are. */
  readonly binaryInputs: ReadonlyMap<number, Buffer> | undefined;
  readonly message: ModelInferRequestMessage;
}

export type GrpcInferParse = GrpcInferRead | { readonly ok: false; readonly reason: string };

const decoded = new WeakMap<Buffer, ModelInferRequestMessage | string>();

/** A varint at `at`: its value (exact below 2^53) and where the next field starts; undefined when cut short. */
function varint(b: Buffer, at: number): [number, number] | undefined {
  let value = 0;
  let scale = 1;
  for (let i = at; i < b.length && i < at + 10; i++) {
    value += (b[i]! & 0x7f) * scale;
    if (b[i]! < 0x80) return [value, i + 1];
    scale *= 128;
  }
  return undefined;
}

/**
 * Walks the fields of a message on the wire, calling `field` with each field number and, for
 * length-delimited ones, the payload's bounds. False when the bytes are not a well-formed message.
 */
function eachField(
  b: Buffer,
  from: number,
  to: number,
  field: (n: number, start: number, end: number) => boolean,
): boolean {
  let at = from;
  while (at < to) {
    const tag = varint(b, at);
    if (!tag) return false;
    const [key, next] = tag;
    const n = Math.floor(key / 8);
    const type = key % 8;
    at = next;
    if (type === 0) {
      const v = varint(b, at);
      if (!v) return false;
      at = v[1];
    } else if (type === 1) at += 8;
    else if (type === 5) at += 4;
    else if (type === 2) {
      const len = varint(b, at);
      if (!len || len[1] + len[0] > to) return false;
      if (!field(n, len[1], len[1] + len[0])) return false;
      at = len[1] + len[0];
    } else return false; // groups (3, 4) are not in this protocol
  }
  return at === to;
}

const INPUTS_FIELD = 5;
const CONTENTS_FIELD_NUMBER = 5;

/**
 * An input whose `contents` appears twice on the wire. Protobuf runtimes merge the two (their
 * repeated values concatenated: the C++ and Python runtimes the model servers use), protobufjs
 * keeps the last: the gateway would check other values than the server predicts on, so such a
 * request is refused before it is read.
 */
function repeatedContents(message: Buffer): string | undefined {
  let found: string | undefined;
  let index = 0;
  const ok = eachField(message, 0, message.length, (n, start, end) => {
    if (n !== INPUTS_FIELD) return true;
    let seen = 0;
    const well = eachField(message, start, end, (m) => {
      if (m === CONTENTS_FIELD_NUMBER) seen++;
      return true;
    });
    if (well && seen > 1)
      found ??= `inputs[${index}]: its contents appear ${seen} times in the message; servers merge them, so the request is ambiguous`;
    index++;
    return well;
  });
  return ok ? found : 'the ModelInfer request is not a valid protobuf message';
}

/** The ModelInferRequest in a call's body (one length-prefixed message), decoded once per body: routing and reading share it. */
export function modelInferMessageOf(body: Buffer): ModelInferRequestMessage | string {
  let m = decoded.get(body);
  if (m === undefined) {
    const bytes = grpcUnframe(body);
    m =
      typeof bytes === 'string'
        ? bytes
        : (repeatedContents(bytes) ?? decodeMessage<ModelInferRequestMessage>('ModelInfer', 'request', bytes));
    decoded.set(body, m);
  }
  return m;
}

const fail = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });

/** An int64 carried as a decimal string, as a number when it is one exactly. */
function int64(v: string | undefined): number | undefined {
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** InferParameter → the JSON value the REST body would carry (undefined when no member is set). */
export function parameterValue(p: InferParameterMessage): boolean | number | string | undefined {
  if (p.bool_param !== undefined) return p.bool_param;
  if (p.string_param !== undefined) return p.string_param;
  if (p.int64_param !== undefined) return int64(p.int64_param) ?? p.int64_param;
  return undefined;
}

function parametersOf(
  map: Record<string, InferParameterMessage> | undefined,
  where: string,
): Record<string, unknown> | string | undefined {
  if (!map) return undefined;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(map)) {
    const v = parameterValue(map[k]!);
    if (v === undefined) return `${where}.parameters.${k} has no value`;
    out[k] = v;
  }
  return out;
}

/** The elements of an input's typed contents, as the REST body's `data` would hold them. */
export function typedValues(datatype: string, contents: TensorContentsMessage): unknown[] | undefined {
  const field = CONTENTS_FIELD[datatype];
  const values = field ? contents[field] : undefined;
  if (!values) return undefined;
  if (field === 'bytes_contents') return (values as Buffer[]).map((b) => b.toString('utf8'));
  if (field === 'int64_contents' || field === 'uint64_contents') return (values as string[]).map(Number);
  return values;
}

const hasAnyContents = (c: TensorContentsMessage | undefined): boolean =>
  c !== undefined && CONTENTS_FIELDS.some((f) => (c[f]?.length ?? 0) > 0);

/**
 * Reads the body of a ModelInfer call (one length-prefixed message). Refused, as the model
 * server would refuse or misread them: raw contents mixed with typed contents, a raw entry per
 * input missing or extra, raw bytes or typed contents that disagree with the declared shape and
 * datatype, values in a contents field other than the datatype's, two inputs (or two requested
 * outputs) of one name, a shape dimension that is negative or not an exact integer.
 */
export function readGrpcInferBody(body: Buffer): GrpcInferParse {
  const msg = modelInferMessageOf(body);
  if (typeof msg === 'string') return fail(msg);
  const inputs = msg.inputs ?? [];
  const raw = msg.raw_input_contents ?? [];
  if (raw.length > 0 && raw.length !== inputs.length)
    return fail(
      `raw_input_contents has ${raw.length} entries for ${inputs.length} inputs (one per input, in input order)`,
    );
  const names = new Set<string>();
  const docInputs: Array<Record<string, unknown>> = [];
  const binaryInputs = raw.length > 0 ? new Map<number, Buffer>() : undefined;
  for (let i = 0; i < inputs.length; i++) {
    const t = inputs[i]!;
    const name = t.name ?? '';
    const where = `inputs[${i}] (${name})`;
    if (names.has(name))
      return fail(`${where}: two inputs are named "${name}"; the server would read only one of them`);
    names.add(name);
    const datatype = t.datatype ?? '';
    const shape: number[] = [];
    for (const d of t.shape ?? []) {
      const n = int64(d);
      if (n === undefined || n < 0) return fail(`${where}.shape: ${d} is not a non-negative integer`);
      shape.push(n);
    }
    const size = shape.reduce((a, b) => a * b, 1);
    const parameters = parametersOf(t.parameters, where);
    if (typeof parameters === 'string') return fail(parameters);
    const input: Record<string, unknown> = { name, datatype, shape, ...(parameters ? { parameters } : {}) };
    if (binaryInputs) {
      if (hasAnyContents(t.contents))
        return fail(`${where}: has both contents and raw_input_contents; a request uses one or the other`);
      const rawBytes = raw[i]!;
      const width = elementSize(datatype);
      if (width !== undefined) {
        if (rawBytes.length !== size * width)
          return fail(
            `${where}: raw_input_contents holds ${rawBytes.length} bytes; shape [${shape.join(', ')}] of ${datatype} needs ${size * width}`,
          );
      } else if (datatype === 'BYTES') {
        const elements = decodeTensorBytes('BYTES', rawBytes);
        if (typeof elements === 'string') return fail(`${where}: raw_input_contents: ${elements}`);
        if (elements.length !== size)
          return fail(
            `${where}: raw_input_contents holds ${elements.length} BYTES elements; shape [${shape.join(', ')}] needs ${size}`,
          );
      } else {
        return fail(`${where}: datatype ${datatype} cannot be read`);
      }
      binaryInputs.set(i, rawBytes);
    } else {
      const field = CONTENTS_FIELD[datatype];
      if (!field)
        return fail(
          `${where}: datatype ${datatype || '(none)'} has no typed contents field${datatype === 'FP16' || datatype === 'BF16' ? '; send it in raw_input_contents' : ''}`,
        );
      const stray = CONTENTS_FIELDS.find((f) => f !== field && (t.contents?.[f]?.length ?? 0) > 0);
      if (stray) return fail(`${where}: ${datatype} values belong in contents.${field}, not contents.${stray}`);
      const data = t.contents ? (typedValues(datatype, t.contents) ?? []) : [];
      if (data.length !== size)
        return fail(
          `${where}: contents.${field} holds ${data.length} elements; shape [${shape.join(', ')}] needs ${size}`,
        );
      input['data'] = data;
    }
    docInputs.push(input);
  }
  const outputs: Array<Record<string, unknown>> = [];
  const outNames = new Set<string>();
  for (let i = 0; i < (msg.outputs ?? []).length; i++) {
    const o = msg.outputs![i]!;
    const name = o.name ?? '';
    if (outNames.has(name)) return fail(`outputs[${i}] (${name}): the output is requested twice`);
    outNames.add(name);
    const parameters = parametersOf(o.parameters, `outputs[${i}]`);
    if (typeof parameters === 'string') return fail(parameters);
    outputs.push({ name, ...(parameters ? { parameters } : {}) });
  }
  const parameters = parametersOf(msg.parameters, 'request');
  if (typeof parameters === 'string') return fail(parameters);
  const doc: Record<string, unknown> = {
    ...(msg.id ? { id: msg.id } : {}),
    ...(parameters ? { parameters } : {}),
    inputs: docInputs,
    ...(msg.outputs ? { outputs } : {}),
  };
  return { ok: true, doc, binaryInputs, message: msg };
}

function parameterMessage(v: unknown): InferParameterMessage | undefined {
  if (typeof v === 'boolean') return { bool_param: v };
  if (typeof v === 'number' && Number.isSafeInteger(v)) return { int64_param: String(v) };
  if (typeof v === 'string') return { string_param: v };
  return undefined;
}

function parameterMap(p: unknown): Record<string, InferParameterMessage> | undefined {
  if (!isObject(p)) return undefined;
  const out: Record<string, InferParameterMessage> = {};
  for (const k of Object.keys(p)) {
    const m = parameterMessage(p[k]);
    if (m) out[k] = m;
  }
  return out;
}

/**
 * The framed ModelInferRequest the proxy sends instead when the response policy rewrote the
 * request's parameters or requested outputs (score-requests.ts): the inputs and their bytes are
 * the client's, untouched.
 */
export function grpcRequestBytes(message: ModelInferRequestMessage, doc: Record<string, unknown>): Buffer {
  const outputs = Array.isArray(doc['outputs'])
    ? doc['outputs']
        .filter(isObject)
        .map((o) => ({ name: String(o['name']), parameters: parameterMap(o['parameters']) ?? {} }))
    : message.outputs;
  const next: ModelInferRequestMessage = {
    ...message,
    parameters: parameterMap(doc['parameters']) ?? {},
    ...(outputs ? { outputs } : {}),
  };
  return grpcFrame(encodeMessage('ModelInfer', 'request', next));
}
