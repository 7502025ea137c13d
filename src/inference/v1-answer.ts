import type { ModelContract } from './model-contract.js';
import { classifyRow, type PredictedClass } from './predicted-class.js';
import { labelOut, topKOut } from './reduced-answer.js';

export type Reduction =
  | { readonly ok: true; readonly doc: Record<string, unknown>; readonly classes: readonly PredictedClass[] }
  | { readonly ok: false; readonly reason: string };

/**
 * `{"predictions": [...]}` → `{"predictions": [label, ...]}` (or top-k entries). Only `predictions`
 * leaves: any other member of the answer could carry scores.
 */
export function reduceV1Answer(doc: Record<string, unknown>, c: ModelContract): Reduction {
  const predictions = doc['predictions'];
  if (!Array.isArray(predictions)) return { ok: false, reason: 'the answer has no "predictions" list' };
  const classes: PredictedClass[] = [];
  const out: unknown[] = [];
  for (let i = 0; i < predictions.length; i++) {
    const r = classifyRow(predictions[i], c);
    if ('error' in r) return { ok: false, reason: `predictions[${i}]: ${r.error}` };
    classes.push(r);
    out.push(c.policy === 'top-k' ? topKOut(r, c) : labelOut(r, c));
  }
  return { ok: true, doc: { predictions: out }, classes };
}
