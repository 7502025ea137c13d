import type { DecisionContext, InferenceParse } from '../decision/decision-context.js';
import type { InferenceRequest } from '../protocol/inference-data.js';
import { deny } from '../decision/denial.js';
import { headerValue } from '../decision/request-view.js';
import { isObject } from './json-object.js';
import { decodeTensorBytes } from './binary-tensors.js';
import { readStrictJson } from './strict-json.js';
import { readGrpcInferBody } from './grpc-infer-request.js';
import { readV1Body, v1ContentTypeProblem } from './v1-body.js';

export type { InferenceParse } from '../decision/decision-context.js';
export type { InferenceRequest };

function batchSizeV2(doc: Record<string, unknown>): number {
  const inputs = doc['inputs'];
  if (!Array.isArray(inputs)) return 1;
  let batch = 0;
  for (const input of inputs) {
    const shape = isObject(input) ? input['shape'] : undefined;
    const first: unknown = Array.isArray(shape) ? shape[0] : undefined;
    if (typeof first === 'number' && Number.isInteger(first) && first > batch) batch = first;
  }
  return batch;
}

/**
 * The tensor bytes after the JSON header, cut per input in input order by `binary_data_size`
 * (Triton's binary tensor data extension, which KServe and MLServer follow): the runtime predicts
 * on these values, so the contract and the extraction guard read them too. Bytes that no input
 * claims, or a size running past the body, make the body ambiguous.
 */
function binaryInputsOf(doc: Record<string, unknown>, tail: Buffer): Map<number, Buffer> | string {
  const out = new Map<number, Buffer>();
  const inputs = Array.isArray(doc['inputs']) ? doc['inputs'] : [];
  let offset = 0;
  for (let i = 0; i < inputs.length; i++) {
    const input: unknown = inputs[i];
    const size = isObject(input) && isObject(input['parameters']) ? input['parameters']['binary_data_size'] : undefined;
    if (size === undefined) continue;
    if (!Number.isInteger(size) || (size as number) < 0 || offset + (size as number) > tail.length)
      return `inputs[${i}].parameters.binary_data_size runs past the body`;
    out.set(i, tail.subarray(offset, offset + (size as number)));
    offset += size as number;
  }
  if (offset !== tail.length) return 'the body has tensor bytes no input claims';
  return out;
}

function parse(ctx: DecisionContext): InferenceParse | undefined {
  const route = ctx.route.kind === 'model' ? ctx.route.route : undefined;
  const body = ctx.view.body;
  if (!route || (route.verb !== 'predict' && route.verb !== 'explain') || body === undefined) return undefined;
  // Envoy cut the body at max_request_bytes: it cannot be parsed or counted, so stages see
  // "no body" and apply their policy for that (the doors count these in a metric).
  if (ctx.view.bodyPartial) return undefined;
  if (route.transport === 'grpc') {
    const g = readGrpcInferBody(body);
    if (!g.ok) return { ok: false, denial: deny('invalid_body', g.reason) };
    return {
      ok: true,
      request: {
        protocol: 'v2',
        doc: g.doc,
        rowsKey: undefined,
        batchSize: Math.max(1, batchSizeV2(g.doc)),
        binaryHeaderLength: undefined,
        binaryInputs: g.binaryInputs,
        grpc: g.message,
      },
    };
  }
  let jsonBytes = body;
  let binaryHeaderLength: number | undefined;
  // Binary tensor extension: the JSON header is the first Inference-Header-Content-Length bytes.
  const binaryHeader = route.protocol === 'v2' ? headerValue(ctx.view, 'inference-header-content-length') : undefined;
  if (binaryHeader !== undefined) {
    const n = Number(binaryHeader);
    if (!Number.isInteger(n) || n < 0 || n > body.length) {
      return { ok: false, denial: deny('invalid_body', 'Inference-Header-Content-Length does not fit the body') };
    }
    jsonBytes = body.subarray(0, n);
    binaryHeaderLength = n;
  }
  // Read strictly, once: a duplicate key, a BOM, bad UTF-8 or an unsafe number is refused here,
  // before any stage counts or checks what a model server might read differently.
  const read = readStrictJson(jsonBytes);
  // Python's json writes NaN and Infinity as bare words: named as an input problem, not "not JSON".
  if (!read.ok) return { ok: false, denial: deny(read.nonFinite ? 'invalid_input' : 'invalid_body', read.reason) };
  const doc = read.value;
  if (!isObject(doc)) return { ok: false, denial: deny('invalid_body', 'request body must be a JSON object') };
  if (route.protocol === 'v2') {
    let binaryInputs: Map<number, Buffer> | undefined;
    if (binaryHeaderLength !== undefined) {
      const cut = binaryInputsOf(doc, body.subarray(binaryHeaderLength));
      if (typeof cut === 'string') return { ok: false, denial: deny('invalid_body', cut) };
      binaryInputs = cut;
    }
    return {
      ok: true,
      request: {
        protocol: 'v2',
        doc,
        rowsKey: undefined,
        batchSize: Math.max(1, batchSizeV2(doc)),
        binaryHeaderLength,
        binaryInputs,
      },
    };
  }
  const typeProblem = v1ContentTypeProblem(
    headerValue(ctx.view, 'content-type'),
    (name) => ctx.view.headers[name] !== undefined,
  );
  if (typeProblem) return { ok: false, denial: deny('invalid_body', typeProblem) };
  const v1 = readV1Body(doc);
  if (!v1.ok) return { ok: false, denial: deny('invalid_body', v1.reason) };
  return {
    ok: true,
    request: {
      protocol: 'v1',
      doc: v1.doc,
      rowsKey: v1.rowsKey,
      batchSize: Math.max(1, v1.batchSize),
      binaryHeaderLength,
      binaryInputs: undefined,
    },
  };
}

/**
 * The parsed inference body of this decision, or undefined when there is none to parse
 * (not a predict/explain route, or a door that was not sent the whole body). Parsed at most once;
 * on success `ctx.cost` becomes the number of predictions.
 */
export function inferenceRequestOf(ctx: DecisionContext): InferenceParse | undefined {
  if (ctx.inferenceRead) return ctx.inference;
  const result = parse(ctx);
  ctx.inference = result;
  ctx.inferenceRead = true;
  if (result?.ok) ctx.cost = result.request.batchSize;
  return result;
}
const rowsCache = new WeakMap<InferenceRequest, readonly (readonly number[])[] | undefined>();
const decodedCache = new WeakMap<Buffer, unknown[] | string>();

/**
 * The values of V2 input `index`: its JSON `data`, or its binary tensor decoded (once per request)
 * by its declared datatype; a string says why the bytes cannot be read; undefined when it has neither.
 */
export function inputValuesOf(req: InferenceRequest, index: number): readonly unknown[] | string | undefined {
  const inputs = req.doc['inputs'];
  const input: unknown = Array.isArray(inputs) ? inputs[index] : undefined;
  if (!isObject(input)) return undefined;
  const bytes = req.binaryInputs?.get(index);
  if (bytes === undefined) return Array.isArray(input['data']) ? input['data'] : undefined;
  let decoded = decodedCache.get(bytes);
  if (decoded === undefined) {
    decoded = decodeTensorBytes(String(input['datatype']), bytes);
    decodedCache.set(bytes, decoded);
  }
  return decoded;
}

function numericRow(v: unknown): number[] | undefined {
  const flat = Array.isArray(v) ? (v.some(Array.isArray) ? (v.flat(Infinity) as unknown[]) : v) : [v];
  for (const x of flat) if (typeof x !== 'number') return undefined;
  return flat as number[];
}

function rowsV1(req: InferenceRequest): number[][] | undefined {
  const rows = req.rowsKey ? req.doc[req.rowsKey] : undefined;
  if (!Array.isArray(rows)) return undefined;
  const out: number[][] = [];
  for (const r of rows) {
    const row = numericRow(r);
    if (!row) return undefined;
    out.push(row);
  }
  return out;
}

/**
 * Whether `values` are already rows: lists of numbers, all of one non-zero width (the usual JSON
 * form of a [N, W] tensor). Cutting their flattening into `values.length` rows gives back exactly
 * these lists, so they are used as they are, without a copy.
 */
function numericRowsOfOneWidth(values: readonly unknown[]): boolean {
  const first = values[0];
  if (!Array.isArray(first) || first.length === 0) return false;
  const width = first.length;
  for (const row of values) {
    if (!Array.isArray(row) || row.length !== width) return false;
    for (let j = 0; j < width; j++) if (typeof row[j] !== 'number') return false;
  }
  return true;
}

/** One V2 input's numeric values (JSON or binary) cut on its own batch dimension, or undefined when it has none. */
function inputRows(input: unknown, values: readonly unknown[] | string | undefined): number[][] | undefined {
  if (!isObject(input) || values === undefined || typeof values === 'string') return undefined;
  const shape = input['shape'];
  const batch = Array.isArray(shape) && Number.isInteger(shape[0]) ? (shape[0] as number) : 0;
  if (batch >= 1 && values.length === batch && numericRowsOfOneWidth(values)) return values as number[][];
  const flat = numericRow(values);
  if (!flat || batch < 1 || flat.length === 0 || flat.length % batch !== 0) return undefined;
  const width = flat.length / batch;
  const out: number[][] = [];
  for (let i = 0; i < flat.length; i += width) out.push(flat.slice(i, i + width));
  return out;
}

/**
 * Every row of every numeric V2 input. Runtimes differ on which inputs they read: KServe's
 * `get_predict_input` and MLServer's `NumpyRequestCodec` only the first, MLServer's `PandasCodec`
 * and KServe's `content_type: pd` each input as a column, Triton every input. Reading all of them
 * covers each runtime: row i is input 0's row i followed by input 1's row i, and so on. Inputs whose batch dimensions differ cannot be zipped: their rows are listed
 * one input after the other, so no input escapes the reader. Binary-extension tensors are read
 * decoded; inputs without numeric values (BYTES) carry no numeric features and are left out.
 */
function rowsV2(req: InferenceRequest): number[][] | undefined {
  const inputs = req.doc['inputs'];
  if (!Array.isArray(inputs)) return undefined;
  const perInput: number[][][] = [];
  for (let i = 0; i < inputs.length; i++) {
    const rows = inputRows(inputs[i], inputValuesOf(req, i));
    if (rows) perInput.push(rows);
  }
  if (perInput.length === 0) return undefined;
  if (perInput.length === 1) return perInput[0];
  const n = perInput[0]!.length;
  if (!perInput.every((r) => r.length === n)) return perInput.flat();
  const out: number[][] = [];
  for (let i = 0; i < n; i++) {
    const row: number[] = [];
    for (const r of perInput) for (const x of r[i]!) row.push(x);
    out.push(row);
  }
  return out;
}

/**
 * The request's rows as numeric feature vectors, the same rows the runtime predicts on and the
 * limits count (V1: the rows member KServe reads; V2: every numeric input, see rowsV2), for the
 * extraction guard; undefined when there are no numeric rows (dict rows, strings,
 * binary-extension tensors). Computed at most once per request.
 */
export function inferenceRowsOf(request: InferenceRequest): readonly (readonly number[])[] | undefined {
  if (rowsCache.has(request)) return rowsCache.get(request);
  const rows = request.protocol === 'v1' ? rowsV1(request) : rowsV2(request);
  rowsCache.set(request, rows);
  return rows;
}
