import type { PredictedClass } from '../protocol/inference-data.js';
import type { ModelContract } from './model-contract.js';

export type { PredictedClass };

export type RowResult = PredictedClass | { readonly error: string };

// Triton's classification extension: "<value>:<index>[:<label>]".
const TRITON = /^(-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?):(\d+)(?::(.*))?$/s;

const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function nameOf(index: number, c: ModelContract): string | number | { error: string } {
  if (!Number.isInteger(index) || index < 0) return { error: `class index ${index} is not a non-negative integer` };
  if (!c.labels) return index;
  const name = c.labels[index];
  return name ?? { error: `class index ${index} is outside the ${c.labels.length} configured labels` };
}

// Any decimal digit: "0.97", "setosa:0.81", "81%", "p=9e-1" can all carry a score.
const DIGIT = /[0-9]/;

function knownLabel(label: string, c: ModelContract): string | { error: string } {
  if (c.labelSet)
    return c.labelSet.has(label) ? label : { error: 'a class name in the answer is not one of the configured labels' };
  // Without configured labels the gateway cannot tell a class name from a score written into
  // one, so a name carrying a number fails closed (class indices still leave as numbers).
  if (DIGIT.test(label))
    return {
      error: 'a class name in the answer carries a number, which may be a score; configure labels to accept it',
    };
  return label;
}

/**
 * `binary` marks the [1 - p, p] pair built from a single probability, which may cover only the
 * first two of the configured labels. A predictor's own score row must have one score per label:
 * a shorter row means the labels do not describe this model, and naming a class from them would
 * answer a confident wrong label.
 */
function fromScores(scores: readonly number[], c: ModelContract, names?: readonly string[], binary = false): RowResult {
  return scoresAt(scores, 0, scores.length, c, names, binary);
}

/** The scores `data[start]` to `data[start + width - 1]` read as one score row (a row of a flat [N, C] tensor needs no copy). */
function scoresAt(
  data: readonly number[],
  start: number,
  width: number,
  c: ModelContract,
  names?: readonly string[],
  binary = false,
): RowResult {
  if (width === 0) return { error: 'an empty score row' };
  if (!names && c.labels && (binary ? width > c.labels.length : width !== c.labels.length)) {
    return { error: `a row of ${width} scores for ${c.labels.length} configured labels` };
  }
  // Labels need only the best class: no per-row allocation beyond the result on the hot path.
  let best = 0;
  for (let i = 0; i < width; i++) {
    const score = data[start + i]!;
    if (!isFiniteNumber(score)) return { error: 'a score is not a finite number' };
    if (score > data[start + best]!) best = i;
  }
  const label = names ? knownLabel(names[best]!, c) : nameOf(best, c);
  if (typeof label === 'object') return label;
  const confidence = data[start + best]!;
  if (c.policy !== 'top-k') return { label, confidence, ranked: undefined };
  const ranked: Array<{ label: string | number; score: number }> = [];
  for (let i = 0; i < width; i++) {
    const l = names ? knownLabel(names[i]!, c) : nameOf(i, c);
    if (typeof l === 'object') return l;
    ranked.push({ label: l, score: data[start + i]! });
  }
  ranked.sort((x, y) => y.score - x.score);
  return { label, confidence, ranked };
}

/**
 * Row `row` of a flat [N, width] tensor whose every element is a finite number, width at least 2:
 * the class classifyRow gives for that row as a list of scores, read in place.
 */
export function classifyScoreRowAt(data: readonly number[], row: number, width: number, c: ModelContract): RowResult {
  return scoresAt(data, row * width, width, c);
}

/** A single number per row: a class id when integral, else the probability of class 1. */
function fromScalar(v: number, c: ModelContract): RowResult {
  if (!Number.isFinite(v)) return { error: 'a prediction is not a finite number' };
  if (Number.isInteger(v)) {
    const label = nameOf(v, c);
    return typeof label === 'object' ? label : { label, confidence: undefined, ranked: undefined };
  }
  if (v < 0 || v > 1) return { error: 'a single prediction is neither a class id nor a probability' };
  const ranked = fromScores([1 - v, v], c, undefined, true);
  if ('error' in ranked) return ranked;
  // The threshold, not the larger probability, picks the class (e.g. 0.9 for a cautious fraud model).
  const cls = v >= c.threshold ? 1 : 0;
  const label = nameOf(cls, c);
  if (typeof label === 'object') return label;
  return { label, confidence: cls === 1 ? v : 1 - v, ranked: ranked.ranked };
}

function fromString(v: string, c: ModelContract): RowResult {
  const m = TRITON.exec(v);
  if (m) {
    const label = m[3] !== undefined && m[3] !== '' ? knownLabel(m[3], c) : nameOf(Number(m[2]), c);
    return typeof label === 'object' ? label : { label, confidence: undefined, ranked: undefined };
  }
  const label = knownLabel(v, c);
  return typeof label === 'object' ? label : { label, confidence: undefined, ranked: undefined };
}

const LABEL_KEYS = ['label', 'class', 'predicted_class', 'prediction'];
const SCORE_KEYS = ['probabilities', 'scores', 'probs'];

/** Dict-shaped rows: {"setosa": 0.9, ...}, {"label": ..., "probabilities": [...]}, {"classes": [...], "scores": [...]}. */
function fromObject(v: Record<string, unknown>, c: ModelContract): RowResult {
  for (const k of SCORE_KEYS) {
    const scores = v[k];
    if (Array.isArray(scores) && scores.every(isFiniteNumber)) {
      const classes = v['classes'];
      const names =
        Array.isArray(classes) && classes.length === scores.length && classes.every((x) => typeof x === 'string')
          ? classes
          : undefined;
      return fromScores(scores, c, names);
    }
  }
  for (const k of LABEL_KEYS) {
    const label = v[k];
    if (typeof label === 'string') return fromString(label, c);
    if (typeof label === 'number' && Number.isInteger(label)) return fromScalar(label, c);
  }
  const entries = Object.entries(v);
  if (entries.length > 0 && entries.every(([, x]) => isFiniteNumber(x))) {
    return fromScores(
      entries.map(([, x]) => x as number),
      c,
      entries.map(([k]) => k),
    );
  }
  return { error: 'a dict-shaped prediction has neither scores nor a label' };
}

/** Understands one prediction row of any shape the runtimes answer (sklearn, xgboost and lightgbm servers, MLServer, and Triton's classification extension, https://github.com/triton-inference-server/server/blob/main/docs/protocol/extension_classification.md), or says why not. */
export function classifyRow(row: unknown, c: ModelContract): RowResult {
  if (typeof row === 'number') return fromScalar(row, c);
  if (typeof row === 'boolean') return fromScalar(row ? 1 : 0, c);
  if (typeof row === 'string') return fromString(row, c);
  if (Array.isArray(row)) {
    if (row.length === 1) return classifyRow(row[0], c);
    if (row.every(isFiniteNumber)) return fromScores(row, c);
    if (row.length > 0 && row.every((x) => typeof x === 'string')) return fromString(row[0] as string, c);
    return { error: 'a prediction row is neither scores nor a class' };
  }
  if (typeof row === 'object' && row !== null) return fromObject(row as Record<string, unknown>, c);
  return { error: 'a prediction is null' };
}

/** Whether a row is withheld under the confidence floor (rows without scores never are). */
export function belowFloor(p: PredictedClass, c: ModelContract): boolean {
  return c.floor !== undefined && p.confidence !== undefined && p.confidence < c.floor;
}

export function roundScore(score: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(score * f) / f;
}
