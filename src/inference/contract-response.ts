import type { DecisionContext, HandledAnswer, ResponseHandler, UpstreamAnswer } from '../decision/decision-context.js';
import { deny } from '../decision/denial.js';
import { parseBinaryAnswer } from './binary-tensors.js';
import { inferenceRequestOf } from './inference-request.js';
import type { ModelContract } from './model-contract.js';
import type { GatewayMetrics } from '../observability/metrics.js';
import type { PredictedClass } from './predicted-class.js';
import { reduceV1Answer } from './v1-answer.js';
import { reduceV2Answer } from './v2-answer.js';

const ANSWER_KEY = 'inference.answer';
const JSON_TYPE = 'application/json';

/** The classes the predictor answered for this request, one per row (set once the answer was reduced). */
export function predictedClassesOf(ctx: DecisionContext): readonly PredictedClass[] | undefined {
  return ctx.shared.get(ANSWER_KEY) as readonly PredictedClass[] | undefined;
}

const headerOf = (answer: UpstreamAnswer, name: string): string | undefined => {
  const v = answer.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

// Fail closed: never the raw answer, and never the reason's data in the message.
const badAnswer = (reason: string): HandledAnswer => ({ ok: false, denial: deny('upstream_bad_response', `the predictor's answer cannot be reduced to the response policy: ${reason}`) });

/** Reduces a successful predictor answer to the model's response policy (labels or top-k). One per model, built at start-up. */
export function contractResponseHandler(c: ModelContract, model: string, metrics: GatewayMetrics): ResponseHandler {
  const refused = metrics.contractAnswers.labels({ model, outcome: 'refused' });
  const reducedCount = metrics.contractAnswers.labels({ model, outcome: 'reduced' });
  const handle = (answer: UpstreamAnswer, ctx: DecisionContext): HandledAnswer => {
      const route = ctx.route.kind === 'model' ? ctx.route.route : undefined;
      if (!route) return badAnswer('no model route');
      let doc: unknown;
      const binary = headerOf(answer, 'inference-header-content-length');
      if (binary !== undefined) {
        const parsed = parseBinaryAnswer(answer.body, Number(binary));
        if (typeof parsed === 'string') return badAnswer(parsed);
        doc = parsed;
      } else {
        try {
          doc = JSON.parse(answer.body.toString('utf8'));
        } catch {
          return badAnswer('it is not JSON');
        }
      }
      if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return badAnswer('it is not a JSON object');
      const request = inferenceRequestOf(ctx);
      const id = request?.ok ? request.request.doc['id'] : undefined;
      const reduced =
        route.protocol === 'v1'
          ? reduceV1Answer(doc as Record<string, unknown>, c)
          : reduceV2Answer(doc as Record<string, unknown>, c, route.model, route.version, typeof id === 'string' ? id : undefined);
      if (!reduced.ok) return badAnswer(reduced.reason);
      ctx.shared.set(ANSWER_KEY, reduced.classes);
      return { ok: true, body: Buffer.from(JSON.stringify(reduced.doc)), contentType: JSON_TYPE };
  };
  return {
    handle(answer, ctx) {
      const out = handle(answer, ctx);
      (out.ok ? reducedCount : refused).inc();
      return out;
    },
  };
}
