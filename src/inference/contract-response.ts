import type {
  AnswerClassifier,
  AnswerRewriter,
  DecisionContext,
  RewrittenAnswer,
  UpstreamAnswer,
} from '../decision/decision-context.js';
import { deny } from '../decision/denial.js';
import { parseBinaryAnswer } from './binary-tensors.js';
import { inferenceRequestOf } from './inference-request.js';
import type { ModelContract } from './model-contract.js';
import type { GatewayMetrics } from '../observability/metrics.js';
import type { Logger } from '../observability/logger.js';
import { allowedHeaders, headerAllowlist, upstreamErrorAnswer } from './answer-envelope.js';
import type { PredictedClass } from './predicted-class.js';
import { reduceV1Answer } from './v1-answer.js';
import { reduceV2Answer } from './v2-answer.js';
import { GRPC_CONTENT_TYPE, grpcAnswerBytes, grpcAnswerDoc, grpcUpstreamError } from './grpc-answer.js';

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
const badAnswer = (reason: string): RewrittenAnswer => ({
  ok: false,
  denial: deny('upstream_bad_response', `the predictor's answer cannot be reduced to the response policy: ${reason}`),
});

type Reduction =
  | { readonly ok: true; readonly doc: unknown; readonly classes: readonly PredictedClass[] }
  | { readonly ok: false; readonly reason: string };

function reduceAnswer(answer: UpstreamAnswer, ctx: DecisionContext, c: ModelContract): Reduction {
  const route = ctx.route.kind === 'model' ? ctx.route.route : undefined;
  if (!route) return { ok: false, reason: 'no model route' };
  let doc: unknown;
  const grpc = route.transport === 'grpc' ? grpcAnswerDoc(answer.body) : undefined;
  if (typeof grpc === 'string') return { ok: false, reason: grpc };
  const binary = grpc ? undefined : headerOf(answer, 'inference-header-content-length');
  if (grpc) {
    doc = grpc;
  } else if (binary !== undefined) {
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
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    return { ok: false, reason: 'it is not a JSON object' };
  const request = inferenceRequestOf(ctx);
  const id = request?.ok ? request.request.doc['id'] : undefined;
  const reduced =
    route.protocol === 'v1'
      ? reduceV1Answer(doc as Record<string, unknown>, c)
      : reduceV2Answer(
          doc as Record<string, unknown>,
          c,
          route.model,
          route.version,
          typeof id === 'string' ? id : undefined,
        );
  return reduced.ok ? { ok: true, doc: reduced.doc, classes: reduced.classes } : { ok: false, reason: reduced.reason };
}

/**
 * Reduces a predictor answer to the model's response policy (labels or top-k), for every status:
 * a 2xx answer is reduced, any other becomes the gateway's own error (answer-envelope.ts); either
 * way only the model's `response.passHeaders` leave among the predictor's headers. One per model,
 * built at start-up.
 */
export function contractAnswerRewriter(
  c: ModelContract,
  model: string,
  metrics: GatewayMetrics,
  log: Logger,
): AnswerRewriter {
  const refused = metrics.contractAnswers.labels({ model, outcome: 'refused' });
  const reducedCount = metrics.contractAnswers.labels({ model, outcome: 'reduced' });
  const allow = headerAllowlist(c.passHeaders);
  return {
    rewrite(answer, ctx) {
      const grpc = ctx.route.kind === 'model' && ctx.route.route.transport === 'grpc';
      if (answer.status < 200 || answer.status >= 300) {
        // Kept for the operator only: an error body may echo the scores the policy withholds.
        log.debug(
          {
            requestId: ctx.view.requestId,
            status: answer.status,
            upstreamBody: answer.body.toString('utf8', 0, Math.min(answer.body.length, 4096)),
          },
          'predictor error answer withheld',
        );
        return grpc ? grpcUpstreamError(answer) : upstreamErrorAnswer(answer, allow);
      }
      const reduced = reduceAnswer(answer, ctx, c);
      if (!reduced.ok) {
        refused.inc();
        return badAnswer(reduced.reason);
      }
      const grpcBody = grpc ? grpcAnswerBytes(reduced.doc) : undefined;
      if (typeof grpcBody === 'string') {
        refused.inc();
        return badAnswer(grpcBody);
      }
      reducedCount.inc();
      ctx.answerClasses = reduced.classes;
      if (grpcBody)
        return { ok: true, headers: allowedHeaders(answer, allow), body: grpcBody, contentType: GRPC_CONTENT_TYPE };
      return {
        ok: true,
        headers: allowedHeaders(answer, allow),
        body: JSON.stringify(reduced.doc),
        contentType: JSON_TYPE,
      };
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
