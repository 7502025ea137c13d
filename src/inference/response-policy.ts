// The ResponseHandler of the labels and top-k policies: reads the predictor's answer (JSON,
// compressed, or the V2 binary extension), reduces it, and fails closed (502
// upstream_bad_response) on anything it cannot read; raw scores never pass under these policies.
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import type { DecisionContext, HandledAnswer, ResponseHandler, UpstreamAnswer } from '../decision/decision-context.js';
import { deny } from '../decision/denial.js';
import type { GatewayMetrics } from '../observability/metrics.js';
import { rewriteV1, type Rewritten } from './answer-v1.js';
import { rewriteV2 } from './answer-v2.js';
import { UnsafeAnswer, unsafe } from './class-rows.js';
import { setPredictedClasses } from './inference-answer.js';
import { inferenceRequestOf } from './inference-request.js';
import type { ModelContract } from './model-contract.js';
import { decodeBinaryTensor, elementCount } from './tensor-data.js';

/** Cap on a decompressed answer, so a compressed bomb cannot exhaust memory. */
const MAX_DECODED_BYTES = 64 * 1024 * 1024;
const JSON_TYPE = 'application/json';

function header(h: UpstreamAnswer['headers'], name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

function decode(answer: UpstreamAnswer): Buffer {
  const enc = header(answer.headers, 'content-encoding')?.trim().toLowerCase();
  if (enc === undefined || enc === '' || enc === 'identity') return answer.body;
  const opts = { maxOutputLength: MAX_DECODED_BYTES };
  try {
    if (enc === 'gzip' || enc === 'x-gzip') return gunzipSync(answer.body, opts);
    if (enc === 'deflate') return inflateSync(answer.body, opts);
    if (enc === 'br') return brotliDecompressSync(answer.body, opts);
  } catch {
    unsafe(`the ${enc} answer does not decompress within ${MAX_DECODED_BYTES} bytes`);
  }
  return unsafe(`the answer has an unsupported content-encoding ${enc.slice(0, 32)}`);
}

/** Binary tensor extension: JSON head, then each output's bytes in output order. */
function parseBinary(body: Buffer, headLength: string): unknown {
  const n = Number(headLength);
  if (!Number.isInteger(n) || n < 0 || n > body.length) unsafe('Inference-Header-Content-Length does not fit the answer');
  const doc = JSON.parse(body.toString('utf8', 0, n)) as unknown;
  const outputs = (doc as { outputs?: unknown })?.outputs;
  if (!Array.isArray(outputs)) unsafe('the binary answer has no "outputs" list');
  let at = n;
  for (const o of outputs as Record<string, unknown>[]) {
    const size = (o?.['parameters'] as Record<string, unknown> | undefined)?.['binary_data_size'];
    if (size === undefined) continue;
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 0 || at + size > body.length) unsafe('a binary_data_size does not fit the answer');
    const count = elementCount(o['shape']);
    const values = count === undefined ? undefined : decodeBinaryTensor(String(o['datatype']), body.subarray(at, at + size), count);
    if (!values) unsafe('a binary output does not match its datatype and shape');
    o['data'] = values;
    at += size;
  }
  if (at !== body.length) unsafe('the binary answer has trailing bytes');
  return doc;
}

export function responsePolicyHandler(c: ModelContract, policy: 'labels' | 'top-k', metrics: GatewayMetrics): ResponseHandler {
  return {
    handle(answer: UpstreamAnswer, ctx: DecisionContext): HandledAnswer {
      try {
        const body = decode(answer);
        const binary = header(answer.headers, 'inference-header-content-length');
        const doc = binary !== undefined ? parseBinary(body, binary) : (JSON.parse(body.toString('utf8')) as unknown);
        let out: Rewritten;
        if (ctx.route.kind === 'model' && ctx.route.route.protocol === 'v2') {
          const req = inferenceRequestOf(ctx);
          const id = req?.ok ? req.request.doc['id'] : undefined;
          out = rewriteV2(doc, c, policy, typeof id === 'string' ? id : undefined);
        } else {
          out = rewriteV1(doc, c, policy);
        }
        setPredictedClasses(ctx, out.classes);
        metrics.contractAnswers.inc({ policy, outcome: 'rewritten' });
        return { ok: true, body: Buffer.from(JSON.stringify(out.doc)), contentType: JSON_TYPE };
      } catch (err) {
        metrics.contractAnswers.inc({ policy, outcome: 'refused' });
        const reason = err instanceof UnsafeAnswer ? err.message : err instanceof SyntaxError ? 'the answer is not valid JSON' : 'the answer could not be read';
        return { ok: false, denial: deny('upstream_bad_response', `the predictor answer cannot be reduced to ${policy === 'labels' ? 'labels' : 'top-k classes'}: ${reason}`) };
      }
    },
  };
}
