import type { DecisionContext } from '../decision/decision-context.js';
import { deny, type Denial } from '../decision/denial.js';
import { headerValue } from '../decision/request-view.js';
import type { Protocol } from './kserve-route.js';
import { isObject } from './json-object.js';

/** A predict/explain body, parsed once per decision and shared by every stage that reads it. */
export interface InferenceRequest {
  readonly protocol: Protocol;
  /** The JSON document (for V2 with the binary extension: the leading JSON part). */
  readonly doc: Record<string, unknown>;
  /** Predictions requested: V1 `instances`/`inputs` length, V2 the batch dimension `shape[0]`; at least 1. */
  readonly batchSize: number;
  /** With the binary extension: the length of the leading JSON (tensor bytes follow it). */
  readonly binaryHeaderLength: number | undefined;
}

export type InferenceParse = { readonly ok: true; readonly request: InferenceRequest } | { readonly ok: false; readonly denial: Denial };

const NON_FINITE = /[\s,:[]-?(?:NaN|Infinity)\s*[,\]}]/;
const NON_FINITE_DENIAL = deny('invalid_input', 'inputs must be finite numbers: NaN and Infinity are refused');


function batchSizeV1(doc: Record<string, unknown>): number {
  const rows = doc['instances'] ?? doc['inputs'];
  if (Array.isArray(rows)) return rows.length;
  // Columnar V1 inputs: {"inputs": {"feature": [v0, v1, ...], ...}}
  if (isObject(rows)) {
    const first = Object.values(rows)[0];
    if (Array.isArray(first)) return first.length;
  }
  return 1;
}

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

function parse(ctx: DecisionContext): InferenceParse | undefined {
  const route = ctx.route.kind === 'model' ? ctx.route.route : undefined;
  const body = ctx.view.body;
  if (!route || (route.verb !== 'predict' && route.verb !== 'explain') || body === undefined) return undefined;
  // Envoy cut the body at max_request_bytes: it cannot be parsed or counted, so stages see
  // "no body" and apply their policy for that (the doors count these in a metric).
  if (ctx.view.bodyPartial) return undefined;
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
  let doc: unknown;
  const text = jsonBytes.toString('utf8');
  try {
    doc = JSON.parse(text);
  } catch {
    // Python's json writes NaN and Infinity as bare words: name them rather than "not JSON".
    if (NON_FINITE.test(text)) return { ok: false, denial: NON_FINITE_DENIAL };
    return { ok: false, denial: deny('invalid_body', 'request body is not valid JSON') };
  }
  if (!isObject(doc)) return { ok: false, denial: deny('invalid_body', 'request body must be a JSON object') };
  const batchSize = Math.max(1, route.protocol === 'v1' ? batchSizeV1(doc) : batchSizeV2(doc));
  return { ok: true, request: { protocol: route.protocol, doc, batchSize, binaryHeaderLength } };
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

function numericRow(v: unknown): number[] | undefined {
  const flat = Array.isArray(v) ? (v.some(Array.isArray) ? (v.flat(Infinity) as unknown[]) : v) : [v];
  for (const x of flat) if (typeof x !== 'number') return undefined;
  return flat as number[];
}

function rowsV1(doc: Record<string, unknown>): number[][] | undefined {
  const rows = doc['instances'] ?? doc['inputs'];
  if (!Array.isArray(rows)) return undefined;
  const out: number[][] = [];
  for (const r of rows) {
    const row = numericRow(r);
    if (!row) return undefined;
    out.push(row);
  }
  return out;
}

function rowsV2(doc: Record<string, unknown>, batch: number): number[][] | undefined {
  const inputs = doc['inputs'];
  const first = Array.isArray(inputs) && isObject(inputs[0]) ? inputs[0] : undefined;
  const flat = first ? numericRow(first['data']) : undefined;
  if (!flat || batch < 1 || flat.length % batch !== 0) return undefined;
  const width = flat.length / batch;
  const out: number[][] = [];
  for (let i = 0; i < flat.length; i += width) out.push(flat.slice(i, i + width));
  return out;
}

/**
 * The request's rows as numeric feature vectors (V1 instances, or V2's first input split on
 * its batch dimension), for the extraction guard; undefined when the rows are not all numbers
 * (dicts, strings, binary-extension tensors). Computed at most once per request.
 */
export function inferenceRowsOf(request: InferenceRequest): readonly (readonly number[])[] | undefined {
  if (rowsCache.has(request)) return rowsCache.get(request);
  const rows = request.protocol === 'v1' ? rowsV1(request.doc) : rowsV2(request.doc, request.batchSize);
  rowsCache.set(request, rows);
  return rows;
}
