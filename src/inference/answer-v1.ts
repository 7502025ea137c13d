// KServe V1 answers `{"predictions": [...]}` reduced to labels or top-k (PROTOCOLS.md §4.3).
import { classOfLabel, labelOf, rowOfNumber, rowOfScores, topClass, topEntries, unsafe, type ClassRow } from './class-rows.js';
import type { ModelContract, ResponsePolicy } from './model-contract.js';

function rowOf(c: ModelContract, p: unknown): ClassRow {
  if (typeof p === 'number') return rowOfNumber(c, p);
  if (Array.isArray(p)) return rowOfScores(c, p);
  if (typeof p === 'string') return { kind: 'class', cls: classOfLabel(c, p) };
  if (typeof p === 'object' && p !== null) {
    // Dict-shaped predictions: {"<label>": score, ...}, mapped through the configured labels.
    if (c.labels.length === 0) unsafe('dict-shaped predictions need configured labels');
    const scores = new Array<number>(c.labels.length).fill(Number.NaN);
    for (const [k, v] of Object.entries(p)) scores[classOfLabel(c, k)] = v as number;
    return rowOfScores(c, scores);
  }
  return unsafe('a prediction is neither a number, a list, a label nor a dict');
}

export interface Rewritten {
  readonly doc: unknown;
  /** Predicted class per row (ABSTAIN for abstentions), for the extraction guard. */
  readonly classes: number[];
}

/** Only `predictions` survives: any other key a predictor adds could carry scores. */
export function rewriteV1(doc: unknown, c: ModelContract, policy: Exclude<ResponsePolicy, 'full'>): Rewritten {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) unsafe('the answer is not a JSON object');
  const preds = (doc as Record<string, unknown>)['predictions'];
  if (!Array.isArray(preds)) unsafe('the answer has no "predictions" list');
  const classes: number[] = new Array<number>(preds.length);
  const out: unknown[] = new Array<unknown>(preds.length);
  for (let i = 0; i < preds.length; i++) {
    const row = rowOf(c, preds[i]);
    if (policy === 'labels') {
      const cls = topClass(c, row);
      classes[i] = cls;
      out[i] = labelOf(c, cls);
    } else {
      const entries = topEntries(c, row);
      classes[i] = entries[0]!.cls;
      out[i] = entries.map((e) => (e.score === undefined ? { label: labelOf(c, e.cls) } : { label: labelOf(c, e.cls), score: e.score }));
    }
  }
  return { doc: { predictions: out }, classes };
}
