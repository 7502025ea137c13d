// One prediction row as the predictor gave it, reduced to what the response policy reveals.
// Shared by the V1 and V2 rewriters so both protocols apply the same rules.
import type { ModelContract } from './model-contract.js';

/** Class index for a row under the confidence floor. */
export const ABSTAIN = -1;

/** What a predictor row can be: class scores, a single binary score, a class already, or ranked classes (Triton). */
export type ClassRow =
  | { readonly kind: 'scores'; readonly scores: readonly number[] }
  | { readonly kind: 'binary'; readonly p: number }
  | { readonly kind: 'class'; readonly cls: number }
  | { readonly kind: 'ranked'; readonly entries: readonly Ranked[] };

export interface Ranked {
  readonly cls: number;
  readonly score: number | undefined;
}

/** Thrown only inside the rewriters and caught by the response handler: the answer is not safe to reduce. */
export class UnsafeAnswer extends Error {}

export function unsafe(reason: string): never {
  throw new UnsafeAnswer(reason);
}

export function classIndex(c: ModelContract, cls: number): number {
  if (!Number.isInteger(cls) || cls < 0) unsafe('a class index is not a non-negative integer');
  if (c.labels.length > 0 && cls >= c.labels.length) unsafe(`class index ${cls} has no configured label`);
  return cls;
}

export function classOfLabel(c: ModelContract, label: string): number {
  const k = c.labelIndex.get(label);
  if (k === undefined) unsafe('a class name is not among the configured labels');
  return k;
}

/** A number as a row: integers are classes, values in [0, 1] binary scores (xgboost binary:logistic). */
export function rowOfNumber(c: ModelContract, v: unknown): ClassRow {
  if (typeof v !== 'number' || !Number.isFinite(v)) unsafe('a prediction is not a finite number');
  if (Number.isInteger(v)) return { kind: 'class', cls: classIndex(c, v) };
  if (v < 0 || v > 1) unsafe('a single score is outside [0, 1]');
  return { kind: 'binary', p: v };
}

export function rowOfScores(c: ModelContract, scores: readonly unknown[]): ClassRow {
  if (scores.length === 0) unsafe('an empty score row');
  for (const s of scores) if (typeof s !== 'number' || !Number.isFinite(s)) unsafe('a score is not a finite number');
  if (scores.length === 1) return rowOfNumber(c, scores[0]);
  if (c.labels.length > 0 && scores.length !== c.labels.length) unsafe(`a row has ${scores.length} scores for ${c.labels.length} configured labels`);
  return { kind: 'scores', scores: scores as number[] };
}

function ranked(c: ModelContract, row: ClassRow): Ranked[] {
  switch (row.kind) {
    case 'class':
      return [{ cls: row.cls, score: undefined }];
    case 'binary':
      return row.p >= c.binaryThreshold
        ? [{ cls: classIndex(c, 1), score: row.p }, { cls: 0, score: 1 - row.p }]
        : [{ cls: 0, score: 1 - row.p }, { cls: classIndex(c, 1), score: row.p }];
    case 'ranked':
      return [...row.entries].sort((a, b) => (b.score ?? 0) - (a.score ?? 0));
    case 'scores': {
      const idx = row.scores.map((_, k) => k);
      idx.sort((a, b) => row.scores[b]! - row.scores[a]! || a - b);
      return idx.map((k) => ({ cls: k, score: row.scores[k]! }));
    }
  }
}

/** The predicted class (or ABSTAIN) without allocating for the common score-row case. */
export function topClass(c: ModelContract, row: ClassRow): number {
  let cls: number;
  let score: number | undefined;
  switch (row.kind) {
    case 'class':
      return row.cls;
    case 'binary':
      cls = row.p >= c.binaryThreshold ? classIndex(c, 1) : 0;
      score = Math.max(row.p, 1 - row.p);
      break;
    case 'scores': {
      let best = 0;
      for (let k = 1; k < row.scores.length; k++) if (row.scores[k]! > row.scores[best]!) best = k;
      cls = best;
      score = row.scores[best];
      break;
    }
    case 'ranked': {
      const top = ranked(c, row)[0];
      if (!top) unsafe('an empty ranked row');
      cls = top.cls;
      score = top.score;
      break;
    }
  }
  if (c.confidenceFloor !== undefined && score !== undefined && score < c.confidenceFloor) return ABSTAIN;
  return cls;
}

/** The best classes with rounded scores (top-k policy); a row under the floor abstains. */
export function topEntries(c: ModelContract, row: ClassRow): Ranked[] {
  const all = ranked(c, row);
  const top = all[0];
  if (!top) unsafe('an empty ranked row');
  if (c.confidenceFloor !== undefined && top.score !== undefined && top.score < c.confidenceFloor) return [{ cls: ABSTAIN, score: undefined }];
  return all.slice(0, c.topK).map((e) => ({ cls: e.cls, score: e.score === undefined ? undefined : Math.round(e.score * c.scale) / c.scale }));
}

/** The name a caller sees for a class: its label, its index without labels, or the abstain label. */
export function labelOf(c: ModelContract, cls: number): string | number {
  if (cls === ABSTAIN) return c.abstainLabel;
  return c.labels.length > 0 ? c.labels[cls]! : cls;
}
