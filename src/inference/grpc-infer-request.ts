import { decodeTensorBytes, elementSize } from './binary-tensors.js';
import { encodeMessage, grpcFrame, grpcUnframe, type InferParameterMessage } from './grpc-codec.js';
import {
  readModelInferRequest,
  type ContentsField,
  type ModelInferRequestWire,
  type Parameters,
  type WireContents,
} from './grpc-infer-wire.js';
import { isObject } from './json-object.js';
import { WireReader } from './protobuf-wire.js';

// A ModelInferRequest read as the Open Inference Protocol's gRPC servers read it (KServe's
// grpc_predict_v2.proto; Triton's and KServe's servers pick an input's values from the
// `contents` field of its datatype, or from `raw_input_contents` by input index), turned into the
// V2 JSON document the REST reading produces, so the contract, the limits, the extraction guard
// and the score-request check read one description whichever transport the request came by.
// The message is read from the wire by hand (grpc-infer-wire.ts), once per body.

/** Which `InferTensorContents` field carries each datatype; FP16 and BF16 have none (raw only). */
export const CONTENTS_FIELD: Readonly<Record<string, ContentsField>> = {
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
const CONTENTS_FIELDS = [...new Set(Object.values(CONTENTS_FIELD))];

export interface GrpcInferRead {
  readonly ok: true;
  /** The request as the V2 REST body that means the same (`inputs[].data` for typed contents). */
  readonly doc: Record<string, unknown>;
  /** raw_input_contents by input index (views into the body), decoded on demand as binary tensors are. */
  readonly binaryInputs: ReadonlyMap<number, Buffer> | undefined;
  /** The ModelInferRequest's bytes (the body without its length prefix). */
  readonly message: Buffer;
}

export type GrpcInferParse = GrpcInferRead | { readonly ok: false; readonly reason: string };

const decoded = new WeakMap<Buffer, ModelInferRequestWire | string>();

/**
 * An input whose `contents` appears twice on the wire. Protobuf runtimes merge the two (their
 * repeated values concatenated: the C++ and Python runtimes the model servers use), an earlier
 * reading of this gateway kept the last: such a request is ambiguous between readers, so it is
 * refused before it is read.
 */
function repeatedContents(m: ModelInferRequestWire): string | undefined {
  for (let i = 0; i < m.inputs.length; i++) {
    const seen = m.inputs[i]!.contentsSeen;
    if (seen > 1)
      return `inputs[${i}]: its contents appear ${seen} times in the message; servers merge them, so the request is ambiguous`;
  }
  return undefined;
}

/** The ModelInferRequest in a call's body (one length-prefixed message), read once per body: routing and reading share it. */
export function modelInferMessageOf(body: Buffer): ModelInferRequestWire | string {
  let m = decoded.get(body);
  if (m === undefined) {
    const bytes = grpcUnframe(body);
    if (typeof bytes === 'string') m = bytes;
    else {
      const read = readModelInferRequest(bytes);
      m = typeof read === 'string' ? read : (repeatedContents(read) ?? read);
    }
    decoded.set(body, m);
  }
  return m;
}

const fail = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });

/** A parameter map as the REST body's `parameters`, or why one of them cannot be: a parameter with no member set. */
function parametersOf(map: Parameters | undefined, where: string): Parameters | string | undefined {
  if (!map) return undefined;
  for (const k in map) if (map[k] === undefined) return `${where}.parameters.${k} has no value`;
  return map;
}

/** The elements of an input's typed contents, as the REST body's `data` would hold them. */
export function typedValues(datatype: string, contents: WireContents): unknown[] | undefined {
  const field = CONTENTS_FIELD[datatype];
  const values = field ? contents[field] : undefined;
  if (!values) return undefined;
  if (field === 'bytes_contents') return (values as Buffer[]).map((b) => b.toString('utf8'));
  return values;
}

/** The first contents field other than `except` that holds values. */
export function strayContents(
  contents: WireContents | undefined,
  except: ContentsField | undefined,
): string | undefined {
  if (!contents) return undefined;
  for (const f of CONTENTS_FIELDS) if (f !== except && (contents[f]?.length ?? 0) > 0) return f;
  return undefined;
}

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
  const inputs = msg.inputs;
  const raw = msg.raw_input_contents;
  if (raw.length > 0 && raw.length !== inputs.length)
    return fail(
      `raw_input_contents has ${raw.length} entries for ${inputs.length} inputs (one per input, in input order)`,
    );
  const names = new Set<string>();
  const docInputs: Array<Record<string, unknown>> = [];
  const binaryInputs = raw.length > 0 ? new Map<number, Buffer>() : undefined;
  for (let i = 0; i < inputs.length; i++) {
    const t = inputs[i]!;
    const name = t.name;
    const where = `inputs[${i}] (${name})`;
    if (names.has(name))
      return fail(`${where}: two inputs are named "${name}"; the server would read only one of them`);
    names.add(name);
    const datatype = t.datatype;
    if (t.badDim !== undefined) return fail(`${where}.shape: ${t.badDim} is not a non-negative integer`);
    const shape = t.shape;
    let size = 1;
    for (let d = 0; d < shape.length; d++) size *= shape[d]!;
    const parameters = parametersOf(t.parameters, where);
    if (typeof parameters === 'string') return fail(parameters);
    const input: Record<string, unknown> = { name, datatype, shape, ...(parameters ? { parameters } : {}) };
    if (binaryInputs) {
      if (strayContents(t.contents, undefined))
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
      const stray = strayContents(t.contents, field);
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
  for (let i = 0; i < (msg.outputs?.length ?? 0); i++) {
    const o = msg.outputs![i]!;
    const name = o.name;
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
  return { ok: true, doc, binaryInputs, message: grpcUnframe(body) as Buffer };
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

const PARAMETERS_FIELD = 4;
const OUTPUTS_FIELD = 6;

/**
 * The framed ModelInferRequest the proxy sends instead when the response policy rewrote the
 * request's parameters or requested outputs (score-requests.ts): every other field of the
 * client's message is copied byte for byte (inputs and raw contents untouched), and the new
 * parameters and outputs follow them (a message is the concatenation of its fields, in any order).
 */
export function grpcRequestBytes(message: Buffer, doc: Record<string, unknown>): Buffer {
  const replaceOutputs = Array.isArray(doc['outputs']);
  const kept: Buffer[] = [];
  const r = new WireReader(message, 0, message.length);
  while (r.pos < r.end) {
    const from = r.pos;
    const key = r.tag();
    r.skip(key & 7);
    const n = key >>> 3;
    if (n === PARAMETERS_FIELD || (n === OUTPUTS_FIELD && replaceOutputs)) continue;
    kept.push(message.subarray(from, r.pos));
  }
  const outputs = replaceOutputs
    ? (doc['outputs'] as unknown[])
        .filter(isObject)
        .map((o) => ({ name: String(o['name']), parameters: parameterMap(o['parameters']) ?? {} }))
    : undefined;
  kept.push(
    encodeMessage('ModelInfer', 'request', {
      parameters: parameterMap(doc['parameters']) ?? {},
      ...(outputs ? { outputs } : {}),
    }),
  );
  return grpcFrame(Buffer.concat(kept));
}
