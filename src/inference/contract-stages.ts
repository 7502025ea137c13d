import type { ResponseHandler } from '../decision/decision-context.js';
import { deny } from '../decision/denial.js';
import { headerValue } from '../decision/request-view.js';
import type { Stage } from '../decision/stage.js';
import type { StageFactory } from '../decision/stage-deps.js';
import { inferenceRequestOf } from './inference-request.js';
import { checkInputs } from './input-contract.js';
import { compileContract, effectivePolicy, type ModelContract } from './model-contract.js';
import { responsePolicyHandler } from './response-policy.js';
import { scoreRequestReason, stripBinaryOutputs } from './score-request.js';

interface Compiled {
  readonly contract: ModelContract;
  readonly labels: ResponseHandler;
  readonly topK: ResponseHandler;
}

/** A model whose contract has nothing to enforce: everyone gets the raw answer and inputs are free. */
function isEmpty(c: ModelContract): boolean {
  return (!c.classifier || (c.policy === 'full' && !c.fullClaim)) && !c.input.hasRules && c.input.maxBatch === Infinity;
}

/** Model contracts: input validation, response policy (issue 4). */
export const contractStages: StageFactory = (deps) => {
  const { metrics } = deps;
  const models = new Map<string, Compiled>();
  for (const [name, m] of Object.entries(deps.config.models)) {
    const contract = compileContract(name, m);
    if (isEmpty(contract)) continue;
    models.set(name, { contract, labels: responsePolicyHandler(contract, 'labels', metrics), topK: responsePolicyHandler(contract, 'top-k', metrics) });
  }
  if (models.size === 0) return [];

  const contract: Stage = {
    name: 'contract',
    run(ctx) {
      if (ctx.route.kind !== 'model') return undefined;
      const route = ctx.route.route;
      const m = models.get(route.model);
      if (!m || (route.verb !== 'predict' && route.verb !== 'explain')) return undefined;
      const c = m.contract;
      const policy = effectivePolicy(c, ctx.identity);
      if (route.verb === 'explain' && policy !== 'full') {
        metrics.contractRequests.inc({ outcome: 'scores_not_allowed', policy });
        return deny('scores_not_allowed', `explanations reveal the model's scores, and the response policy of model "${route.model}" is ${policy}`);
      }
      const parsed = inferenceRequestOf(ctx);
      // No body (an ext-authz door configured without body forwarding): nothing to check here.
      if (parsed === undefined) return undefined;
      if (!parsed.ok) {
        metrics.contractRequests.inc({ outcome: parsed.denial.code, policy });
        return parsed.denial;
      }
      const req = parsed.request;
      // A partial body (Envoy max_request_bytes) cannot be checked value by value.
      const invalid = ctx.view.bodyPartial ? undefined : checkInputs(c.input, req);
      if (invalid) {
        metrics.contractRequests.inc({ outcome: 'invalid_input', policy });
        return invalid;
      }
      if (policy !== 'full' && req.protocol === 'v2') {
        if (ctx.view.door !== 'proxy') {
          // The ext-authz doors cannot rewrite the answer, so a request for scores is refused outright.
          const reason = scoreRequestReason(req.doc, policy, c.topK);
          if (reason) {
            metrics.contractRequests.inc({ outcome: 'scores_not_allowed', policy });
            return deny('scores_not_allowed', reason);
          }
        } else if (stripBinaryOutputs(req.doc)) {
          const json = Buffer.from(JSON.stringify(req.doc));
          const binaryLength = headerValue(ctx.view, 'inference-header-content-length');
          if (binaryLength !== undefined && ctx.view.body) {
            ctx.upstreamBody = Buffer.concat([json, ctx.view.body.subarray(Number(binaryLength))]);
            ctx.upstreamHeaders['inference-header-content-length'] = String(json.length);
          } else {
            ctx.upstreamBody = json;
          }
        }
      }
      if (policy !== 'full' && ctx.view.door === 'proxy') ctx.response = policy === 'labels' ? m.labels : m.topK;
      metrics.contractRequests.inc({ outcome: 'allowed', policy });
      return undefined;
    },
  };
  return [contract];
};
