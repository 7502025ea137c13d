import { belowFloor, roundScore, type PredictedClass } from './predicted-class.js';
import type { ModelContract } from './model-contract.js';

/** What leaves the gateway for one row under the labels policy. */
export function labelOut(p: PredictedClass, c: ModelContract): string | number {
  return belowFloor(p, c) ? c.abstain : p.label;
}

/** What leaves for one row under top-k: the best classes with rounded scores, or the label alone when there are no scores. */
export function topKOut(p: PredictedClass, c: ModelContract): Array<{ label: string | number; score?: number }> {
  if (belowFloor(p, c)) return [{ label: c.abstain }];
  if (!p.ranked) return [{ label: p.label }];
  return p.ranked.slice(0, c.classesOut).map((r) => ({ label: r.label, score: roundScore(r.score, c.decimals) }));
}
