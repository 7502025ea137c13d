import type { DecisionContext } from '../decision/decision-context.js';
import { deny, type Denial } from '../decision/denial.js';
import type { StageFactory } from '../decision/stage-deps.js';
import { contractAnswerClassifier, contractAnswerRewriter } from './contract-response.js';
import { grpcRequestBytes } from './grpc-infer-request.js';
import { inferenceRequestOf, type InferenceRequest } from './inference-request.js';
import { inputViolation } from './input-contract.js';
import { compileContract, hasFullAccess, type ModelContract } from './model-contract.js';
import { rewrittenForPolicy, scoreRequestReason } from './score-requests.js';

// Envoy attaches at most max_request_bytes and marks a cut body with x-envoy-auth-partial-body
// (Envoy ext_authz filter docs, `with_request_body`); without the whole body nothing can be
// counted or checked, so padding a batch past the limit must not be a way around both.
const NO_BODY = deny(
  'body_incomplete',
  'the check carries no request body: the batch cannot be counted or checked (include the request body in the check)',
);
const PARTIAL_BODY = deny(
  'body_incomplete',
  'the check carries a truncated request body (x-envoy-auth-partial-body: true): the batch cannot be counted or checked',
);

const EXPLAIN_WITHHELD = deny(
  'scores_not_allowed',
  "explanations carry the model's scores, which this model's response policy withholds",
);

interface CompiledModel {
  readonly contract: ModelContract;
  readonly rewriter: ReturnType<typeof contractAnswerRewriter>;
  readonly classifier: ReturnType<typeof contractAnswerClassifier>;
  /** Answers let through unreduced because the identity holds fullAccess: an audit trail of who saw scores. */
  readonly fullAnswers: { inc(): void };
  /** Under `top-k`, the labels-only variant an account degraded by the extraction guard gets. */
  readonly degraded:
    { readonly contract: ModelContract; readonly rewriter: ReturnType<typeof contractAnswerRewriter> } | undefined;
}

/** The request bytes after a policy rewrite: new JSON, followed by the binary tensors when there were any. */
function upstreamBytes(
  req: InferenceRequest,
  body: Buffer,
  doc: Record<string, unknown>,
  ctx: DecisionContext,
): Buffer {
  if (req.grpc) return grpcRequestBytes(req.grpc, doc);
  const json = Buffer.from(JSON.stringify(doc));
  if (req.binaryHeaderLength === undefined) return json;
  ctx.upstreamHeaders['inference-header-content-length'] = String(json.length);
  return Buffer.concat([json, body.subarray(req.binaryHeaderLength)]);
}

/**
 * Model contracts: inputs validated against the model's contract in every door; answers
 * reduced to labels (or top-k) by the proxy; requests for scores refused by the ext-authz doors,
 * which cannot rewrite answers.
 */
export const contractStages: StageFactory = ({ config, metrics, log }) => {
  const acceptIncomplete = config.extAuthz.allowIncompleteBodies;
  const models = new Map<string, CompiledModel>();
  for (const [name, m] of Object.entries(config.models)) {
    const contract = compileContract(m);
    const labelsOnly: ModelContract | undefined =
      contract.policy === 'top-k' ? { ...contract, policy: 'labels', classesOut: 1 } : undefined;
    models.set(name, {
      contract,
      rewriter: contractAnswerRewriter(contract, name, metrics, log),
      classifier: contractAnswerClassifier(contract),
      fullAnswers: metrics.contractAnswers.labels({ model: name, outcome: 'full' }),
      degraded: labelsOnly
        ? { contract: labelsOnly, rewriter: contractAnswerRewriter(labelsOnly, name, metrics, log) }
        : undefined,
    });
  }
  return [
    {
      name: 'contract',
      run(ctx): Denial | undefined {
        if (ctx.route.kind !== 'model') return undefined;
        const { model, verb } = ctx.route.route;
        if (verb !== 'predict' && verb !== 'explain') return undefined;
        const compiled = models.get(model);
        if (!compiled) return undefined;
        // A degraded account gets labels where the policy would have given it top-k scores.
        const policy = ctx.degraded && compiled.degraded ? compiled.degraded : compiled;
        const c = policy.contract;
        // An account degraded by the extraction guard gets labels whatever its claims say.
        const full = !ctx.degraded && hasFullAccess(c, ctx.identity);
        const reduces = c.task === 'classification' && !full;
        if (verb === 'explain' && reduces && !c.explainForAll) return EXPLAIN_WITHHELD;
        if (!acceptIncomplete && (ctx.view.body === undefined || ctx.view.bodyPartial))
          return ctx.view.body === undefined ? NO_BODY : PARTIAL_BODY;

        const parsed = inferenceRequestOf(ctx);
        if (parsed && !parsed.ok) return parsed.denial;
        if (parsed) {
          const broken = inputViolation(parsed.request, c.input);
          if (broken) return deny('invalid_input', broken);
        }
        // Explanations, once allowed, and full or regression answers pass unchanged.
        if (!reduces || verb === 'explain') {
          if (full && c.task === 'classification') {
            compiled.fullAnswers.inc();
            ctx.answerClassifier = compiled.classifier;
          }
          return undefined;
        }

        if (!ctx.view.forwardsAnswer) {
          const reason = parsed ? scoreRequestReason(parsed.request, c) : undefined;
          if (reason) {
            return deny(
              'scores_not_allowed',
              `${reason}; the ${c.policy} policy withholds scores and an ext-authz check cannot rewrite the answer: ask for labels, or call through the gateway's proxy`,
            );
          }
          return undefined;
        }
        if (parsed && ctx.view.body) {
          const doc = rewrittenForPolicy(parsed.request, c);
          if (doc) ctx.upstreamBody = upstreamBytes(parsed.request, ctx.view.body, doc, ctx);
        }
        ctx.rewrite = policy.rewriter;
        return undefined;
      },
    },
  ];
};
