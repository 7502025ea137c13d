import type { AnswerClassifier, AnswerRewriter, DecisionContext, RewrittenAnswer, UpstreamAnswer } from '../decision/decision-context.js';
import { deny } from '../decision/denial.js';
import { parseBinaryAnswer } from './binary-tensors.js';
import { inferenceRequestOf } from './inference-request.js';
import type { ModelContract } from './model-contract.js';
import type { GatewayMetrics } from '../observability/metrics.js';
import type { PredictedClass } from './predicted-class.js';
import { reduceV1Answer } from './v1-answer.js';
import { reduceV2Answer } from './v2-answer.js';

const JSON_TYPE = 'application/json';

/** The classes the predictor answered for this request, one per row (set once the answer was reduced). */
export function predictedClassesOf(ctx: DecisionContext): readonly PredictedClass[] | undefined {
  return ctx.answerClasses;
}

const headerOf = (answer: UpstreamAnswer, name: string): string | undefined => {
  const v = answer.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

// Fail closed: never the raw answer, and never the reason's data in the message.
const badAnswer = (reason: string): RewrittenAnswer => ({ ok: false, denial: deny('upstream_bad_response', `the predictor's answer cannot be reduced to the response policy: ${reason}`) });

type Reduction = { readonly ok: true; readonly doc: unknown; readonly classes: readonly PredictedClass[] } | { readonly ok: false; readonly reason: string };

function reduceAnswer(answer: UpstreamAnswer, ctx: DecisionContext, c: ModelContract): Reduction {
  const route = ctx.route.kind === 'model' ? ctx.route.route : undefined;
  if (!route) return { ok: false, reason: 'no model route' };
  let doc: unknown;
  const binary = headerOf(answer, 'inference-header-content-length');
  if (binary !== undefined) {
    const parsed = parseBinaryAnswer(answer.body, Number(binary));
    if (typeof parsed === 'string') return { ok: false, reason: parsed };
    doc = parsed;
  } else {
    try {
      doc = JSON.parse(answer.body.toString('utf8'));
    } catch {
      return { ok: false, reason: 'it is not JSON' };
    }
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return { ok: false, reason: 'it is not a JSON object' };
  const request = inferenceRequestOf(ctx);
  const id = request?.ok ? request.request.doc['id'] : undefined;
  const reduced =
    route.protocol === 'v1'
      ? reduceV1Answer(doc as Record<string, unknown>, c)
      : reduceV2Answer(doc as Record<string, unknown>, c, route.model, route.version, typeof id === 'string' ? id : undefined);
  return reduced.ok ? { ok: true, doc: reduced.doc, classes: reduced.classes } : { ok: false, reason: reduced.reason };
}

/** Reduces a predictor answer to the model's response policy (labels or top-k). One per model, built at start-up. */
export function contractAnswerRewriter(c: ModelContract, model: string, metrics: GatewayMetrics): AnswerRewriter {
  const refused = metrics.contractAnswers.labels({ model, outcome: 'refused' });
  const reducedCount = metrics.contractAnswers.labels({ model, outcome: 'reduced' });
  return {
    rewrite(answer, ctx) {
      // Not an answer to reduce: passed as it came (status and body), as before this seam.
      if (answer.status < 200 || answer.status >= 300) return { ok: true, body: answer.body };
      const reduced = reduceAnswer(answer, ctx, c);
      if (!reduced.ok) {
        refused.inc();
        return badAnswer(reduced.reason);
      }
      reducedCount.inc();
      ctx.answerClasses = reduced.classes;
      return { ok: true, body: Buffer.from(JSON.stringify(reduced.doc)), contentType: JSON_TYPE };
    },
  };
}

/** Reads the predicted classes from an answer left unreduced (full access), for observers. */
export function contractAnswerClassifier(c: ModelContract): AnswerClassifier {
  return (answer, ctx) => {
    if (answer.status < 200 || answer.status >= 300) return undefined;
    const reduced = reduceAnswer(answer, ctx, c);
    return reduced.ok ? reduced.classes : undefined;
  };
}
