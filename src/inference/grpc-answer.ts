import type { RewrittenAnswer, UpstreamAnswer } from '../decision/decision-context.js';
import { deny } from '../decision/denial.js';
import { decodeTensorBytes } from './binary-tensors.js';
import {
  decodeMessage,
  encodeMessage,
  grpcFrame,
  grpcUnframe,
  type ModelInferResponseMessage,
  type TensorContentsMessage,
  type TensorMessage,
} from './grpc-codec.js';
import { CONTENTS_FIELD, CONTENTS_FIELDS, typedValues } from './grpc-infer-request.js';
import { isObject } from './json-object.js';

// A ModelInferResponse read into the V2 JSON answer the REST reduction (v2-answer.ts) works on,
// and the reduced answer written back as a ModelInferResponse: one reduction, two encodings.

export const GRPC_CONTENT_TYPE = 'application/grpc';

/** The answer's outputs with their values (typed contents or raw_output_contents decoded), or why they cannot be read. */
export function grpcAnswerDoc(body: Buffer): Record<string, unknown> | string {
  const bytes = grpcUnframe(body);
  if (typeof bytes === 'string') return bytes;
  const msg = decodeMessage<ModelInferResponseMessage>('ModelInfer', 'response', bytes);
  if (typeof msg === 'string') return msg;
  const outputs = msg.outputs ?? [];
  const raw = msg.raw_output_contents ?? [];
  if (raw.length > 0 && raw.length !== outputs.length)
    return `raw_output_contents has ${raw.length} entries for ${outputs.length} outputs`;
  const out: Array<Record<string, unknown>> = [];
  for (let i = 0; i < outputs.length; i++) {
    const t: TensorMessage = outputs[i]!;
    const datatype = t.datatype ?? '';
    const shape = (t.shape ?? []).map(Number);
    let data: unknown[] | string | undefined;
    if (raw.length > 0) {
      if (CONTENTS_FIELDS.some((f) => (t.contents?.[f]?.length ?? 0) > 0))
        return `outputs[${i}] has both contents and raw_output_contents`;
      data = decodeTensorBytes(datatype, raw[i]!);
      if (typeof data === 'string') return `outputs[${i}]: ${data}`;
    } else {
      const field = CONTENTS_FIELD[datatype];
      if (field && CONTENTS_FIELDS.some((f) => f !== field && (t.contents?.[f]?.length ?? 0) > 0))
        return `outputs[${i}] carries values outside contents.${field}`;
      data = t.contents ? typedValues(datatype, t.contents) : undefined;
    }
    // tensorOf (v2-answer.ts) checks the element count against the shape.
    out.push({ name: t.name ?? '', datatype, shape, ...(data ? { data } : {}) });
  }
  return { outputs: out };
}

function contentsOf(datatype: string, data: readonly unknown[]): TensorContentsMessage | string {
  const field = CONTENTS_FIELD[datatype];
  if (!field) return `output datatype ${datatype} has no typed contents field`;
  if (field === 'bytes_contents') return { bytes_contents: data.map((v) => Buffer.from(String(v), 'utf8')) };
  if (field === 'int64_contents' || field === 'uint64_contents') return { [field]: data.map((v) => String(v)) };
  return { [field]: data as number[] };
}

/** The reduced V2 answer (v2-answer.ts: labels, top-k, passed outputs) as a framed ModelInferResponse with typed contents. */
export function grpcAnswerBytes(doc: unknown): Buffer | string {
  if (!isObject(doc) || !Array.isArray(doc['outputs'])) return 'the reduced answer has no outputs';
  const outputs: TensorMessage[] = [];
  for (const o of doc['outputs']) {
    if (!isObject(o) || !Array.isArray(o['data']) || !Array.isArray(o['shape']))
      return 'a reduced output is not a tensor';
    const contents = contentsOf(String(o['datatype']), o['data']);
    if (typeof contents === 'string') return contents;
    outputs.push({
      name: String(o['name']),
      datatype: String(o['datatype']),
      shape: (o['shape'] as number[]).map(String),
      contents,
    });
  }
  const message: ModelInferResponseMessage = {
    model_name: typeof doc['model_name'] === 'string' ? doc['model_name'] : '',
    ...(typeof doc['model_version'] === 'string' ? { model_version: doc['model_version'] } : {}),
    ...(typeof doc['id'] === 'string' ? { id: doc['id'] } : {}),
    outputs,
  };
  return grpcFrame(encodeMessage('ModelInfer', 'response', message));
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
