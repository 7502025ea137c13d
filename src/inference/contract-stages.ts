import type { DecisionContext } from '../decision/decision-context.js';
import { deny, type Denial } from '../decision/denial.js';
import type { StageFactory } from '../decision/stage-deps.js';
import { contractAnswerClassifier, contractAnswerRewriter } from './contract-response.js';
import { inferenceRequestOf, type InferenceRequest } from './inference-request.js';
import { inputViolation } from './input-contract.js';
import { compileContract, hasFullAccess, type ModelContract } from './model-contract.js';
import { rewrittenForPolicy, scoreRequestReason } from './score-requests.js';

const EXPLAIN_WITHHELD = deny('scores_not_allowed', "explanations carry the model's scores, which this model's response policy withholds");

interface CompiledModel {
  readonly contract: ModelContract;
  readonly rewriter: ReturnType<typeof contractAnswerRewriter>;
  readonly classifier: ReturnType<typeof contractAnswerClassifier>;
  /** Answers let through unreduced because the identity holds fullAccess: an audit trail of who saw scores. */
  readonly fullAnswers: { inc(): void };
}

/** The request bytes after a policy rewrite: new JSON, followed by the binary tensors when there were any. */
function upstreamBytes(req: InferenceRequest, body: Buffer, doc: Record<string, unknown>, ctx: DecisionContext): Buffer {
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
export const contractStages: StageFactory = ({ config, metrics }) => {
  const models = new Map<string, CompiledModel>();
  for (const [name, m] of Object.entries(config.models)) {
    const contract = compileContract(m);
    models.set(name, { contract, rewriter: contractAnswerRewriter(contract, name, metrics), classifier: contractAnswerClassifier(contract), fullAnswers: metrics.contractAnswers.labels({ model: name, outcome: 'full' }) });
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
        const { contract: c } = compiled;
        // An account degraded by the extraction guard gets labels whatever its claims say.
        const full = !ctx.degraded && hasFullAccess(c, ctx.identity);
        const reduces = c.task === 'classification' && !full;
        if (verb === 'explain' && reduces && !c.explainForAll) return EXPLAIN_WITHHELD;

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

        if (ctx.view.door !== 'proxy') {
          const reason = parsed ? scoreRequestReason(parsed.request, c) : undefined;
          if (reason) {
            return deny('scores_not_allowed', `${reason}; the ${c.policy} policy withholds scores and an ext-authz check cannot rewrite the answer: ask for labels, or call through the gateway's proxy`);
          }
          return undefined;
        }
        if (parsed && ctx.view.body) {
          const doc = rewrittenForPolicy(parsed.request, c);
          if (doc) ctx.upstreamBody = upstreamBytes(parsed.request, ctx.view.body, doc, ctx);
        }
        ctx.rewrite = compiled.rewriter;
        return undefined;
      },
    },
  ];
};
