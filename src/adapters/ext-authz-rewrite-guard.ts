import type { DecisionContext } from '../decision/decision-context.js';
import { deny, type Denial } from '../decision/denial.js';

const NEEDS_REWRITE = deny(
  'scores_not_allowed',
  "this request's answer would have to be rewritten (labels-only policy), which an ext-authz check cannot do; ask for labels, or send it through the gateway's proxy",
);

/**
 * Envoy's ext_authz cannot touch the predictor's answer. An allowed decision
 * that still carries an answer rewriter would let scores through unrewritten, so the ext-authz
 * doors refuse it: fail closed, whatever stage set the rewriter. Observers need no answer and are simply not called there.
 */
export function unrewritableAnswer(ctx: DecisionContext): Denial | undefined {
  return ctx.rewrite === undefined ? undefined : NEEDS_REWRITE;
}
