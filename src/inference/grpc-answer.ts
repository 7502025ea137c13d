import type { RewrittenAnswer, UpstreamAnswer } from '../decision/decision-context.js';
import { deny } from '../decision/denial.js';
import { decodeTensorBytes } from './binary-tensors.js';
import { grpcUnframe } from './grpc-codec.js';
import { CONTENTS_FIELD, strayContents, typedValues } from './grpc-infer-request.js';
import { readModelInferResponse, type ContentsField } from './grpc-infer-wire.js';
import { isObject } from './json-object.js';
import { WireWriter } from './protobuf-wire.js';

// A ModelInferResponse read into the V2 JSON answer the REST reduction (v2-answer.ts) works on,
// and the reduced answer written back as a ModelInferResponse: one reduction, two encodings.
// Both directions work on the wire directly (grpc-infer-wire.ts, protobuf-wire.ts).

export const GRPC_CONTENT_TYPE = 'application/grpc';

/** The answer's outputs with their values (typed contents or raw_output_contents decoded), or why they cannot be read. */
export function grpcAnswerDoc(body: Buffer): Record<string, unknown> | string {
  const bytes = grpcUnframe(body);
  if (typeof bytes === 'string') return bytes;
  const msg = readModelInferResponse(bytes);
  if (typeof msg === 'string') return msg;
  const outputs = msg.outputs;
  const raw = msg.raw_output_contents;
  if (raw.length > 0 && raw.length !== outputs.length)
    return `raw_output_contents has ${raw.length} entries for ${outputs.length} outputs`;
  const out: Array<Record<string, unknown>> = [];
  for (let i = 0; i < outputs.length; i++) {
    const t = outputs[i]!;
    const datatype = t.datatype;
    // Merged by the client's runtime, read as one by another reader: not reduced either way.
    if (t.contentsSeen > 1) return `outputs[${i}] carries its contents ${t.contentsSeen} times`;
    if (t.badDim !== undefined) return `outputs[${i}] (${t.name}) has no valid shape`;
    let data: unknown[] | string | undefined;
    if (raw.length > 0) {
      if (strayContents(t.contents, undefined)) return `outputs[${i}] has both contents and raw_output_contents`;
      data = decodeTensorBytes(datatype, raw[i]!);
      if (typeof data === 'string') return `outputs[${i}]: ${data}`;
    } else {
      const field = CONTENTS_FIELD[datatype];
      if (field && strayContents(t.contents, field)) return `outputs[${i}] carries values outside contents.${field}`;
      data = t.contents ? typedValues(datatype, t.contents) : undefined;
    }
    // tensorOf (v2-answer.ts) checks the element count against the shape.
    out.push({ name: t.name, datatype, shape: t.shape, ...(data ? { data } : {}) });
  }
  return { outputs: out };
}

const CONTENTS_NUMBER: Readonly<Record<ContentsField, number>> = {
  bool_contents: 1,
  int_contents: 2,
  int64_contents: 3,
  uint_contents: 4,
  uint64_contents: 5,
  fp32_contents: 6,
  fp64_contents: 7,
  bytes_contents: 8,
};

// The integer range of each varint contents field: a value outside it has no encoding there.
const INTEGER_RANGE: Partial<Record<ContentsField, readonly [number, number]>> = {
  int_contents: [-(2 ** 31), 2 ** 31 - 1],
  uint_contents: [0, 2 ** 32 - 1],
  int64_contents: [-(2 ** 63), 2 ** 63 - 1],
  uint64_contents: [0, 2 ** 64 - 1],
};

/** One output's `contents` (InferTensorContents) with `data` in the datatype's field, or why `data` does not fit it. */
function writeContents(w: WireWriter, datatype: string, data: readonly unknown[]): string | undefined {
  const field = CONTENTS_FIELD[datatype];
  if (!field) return `output datatype ${datatype} has no typed contents field`;
  const at = w.open(5);
  const n = CONTENTS_NUMBER[field];
  if (field === 'bytes_contents') {
    for (let i = 0; i < data.length; i++) w.string(n, String(data[i]));
  } else if (data.length > 0) {
    const run = w.open(n);
    if (field === 'fp32_contents' || field === 'fp64_contents') {
      for (let i = 0; i < data.length; i++) {
        const v = data[i];
        if (typeof v !== 'number') return `a ${datatype} output value is not a number`;
        if (field === 'fp32_contents') w.float(v);
        else w.double(v);
      }
    } else if (field === 'bool_contents') {
      for (let i = 0; i < data.length; i++) {
        const v = data[i];
        if (typeof v !== 'boolean') return 'a BOOL output value is not a boolean';
        w.varint(v ? 1 : 0);
      }
    } else {
      const [min, max] = INTEGER_RANGE[field]!;
      for (let i = 0; i < data.length; i++) {
        const v = data[i];
        if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
          return `a ${datatype} output value is not an integer of that type`;
        w.varint64(v);
      }
    }
    w.close(run);
  }
  w.close(at);
  return undefined;
}

/** The reduced V2 answer (v2-answer.ts: labels, top-k, passed outputs) as a framed ModelInferResponse with typed contents. */
export function grpcAnswerBytes(doc: unknown): Buffer | string {
  if (!isObject(doc) || !Array.isArray(doc['outputs'])) return 'the reduced answer has no outputs';
  // Room for the usual answer at once (a label is a few bytes; a score eight), so it is not regrown.
  let hint = 64;
  for (const o of doc['outputs']) if (isObject(o) && Array.isArray(o['data'])) hint += 64 + 12 * o['data'].length;
  const w = new WireWriter(hint);
  w.pos = 5; // the gRPC length prefix, written last
  w.string(1, typeof doc['model_name'] === 'string' ? doc['model_name'] : '');
  if (typeof doc['model_version'] === 'string') w.string(2, doc['model_version']);
  if (typeof doc['id'] === 'string') w.string(3, doc['id']);
  for (const o of doc['outputs']) {
    if (!isObject(o) || !Array.isArray(o['data']) || !Array.isArray(o['shape']))
      return 'a reduced output is not a tensor';
    const at = w.open(5);
    const datatype = String(o['datatype']);
    w.string(1, String(o['name']));
    w.string(2, datatype);
    const shape = o['shape'] as unknown[];
    if (shape.length > 0) {
      const dims = w.open(3);
      for (const d of shape) {
        if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) return 'a reduced output has no valid shape';
        w.varint(d);
      }
      w.close(dims);
    }
    const problem = writeContents(w, datatype, o['data'] as unknown[]);
    if (problem) return problem;
    w.close(at);
  }
  const out = w.bytes();
  out[0] = 0;
  out.writeUInt32BE(out.length - 5, 1);
  return out;
}

/**
 * A predictor error on a reduced route: its status message and trailers may echo the scores
 * the policy withholds, so neither leaves; the gateway's own error does, naming the status.
 */
export function grpcUpstreamError(answer: UpstreamAnswer): RewrittenAnswer {
  const status = answer.headers['grpc-status'];
  const said = typeof status === 'string' ? `grpc-status ${status}` : `HTTP ${answer.status}`;
  return {
    ok: false,
    denial: deny(
      'upstream_error',
      `the predictor answered ${said}; its answer is withheld under this model's response policy`,
    ),
  };
}
