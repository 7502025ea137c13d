import type { DecisionContext } from '../decision/decision-context.js';

const KEY = 'inference.answer.classes';

/**
 * Predicted class per row of the answer the gateway let through (index into the model's
 * labels; -1 for a row that abstained under the confidence floor). Set by the response
 * policy after rewriting; undefined when the answer was not read (full policy, ext-authz doors).
 */
export function predictedClassesOf(ctx: DecisionContext): readonly number[] | undefined {
  return ctx.shared.get(KEY) as readonly number[] | undefined;
}

export function setPredictedClasses(ctx: DecisionContext, classes: readonly number[]): void {
  ctx.shared.set(KEY, classes);
}
