// A tiny linear softmax classifier over the four iris features. Real enough to answer like
// kserve-sklearnserver with PREDICT_PROBA=true (V1) or MLServer predict_proba (V2).

export const DEMO_LABELS = ['setosa', 'versicolor', 'virginica'] as const;
export const DEMO_FEATURES = 4;

const WEIGHTS = [
  [0.42, 0.97, -2.4, -1.1],
  [0.53, -0.32, -0.2, -0.9],
  [-0.95, -0.65, 2.6, 2.0],
];
const BIAS = [0.26, 1.1, -1.36];

export function predictProba(row: readonly number[]): number[] {
  const logits = WEIGHTS.map((w, k) => w.reduce((acc, wi, i) => acc + wi * (row[i] ?? 0), BIAS[k] ?? 0));
  const max = Math.max(...logits);
  const exps = logits.map((z) => Math.exp(z - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}
