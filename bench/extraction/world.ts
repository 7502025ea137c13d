import { Xoshiro128 } from '../../src/extraction/prng.js';

/**
 * The synthetic world of the evaluation protocol: benign data are a Gaussian mixture of K
 * components in d dimensions (means ~ N(0, 3²I), random SPD covariances L·Lᵀ), the classes are
 * the component ids folded into C labels, and the victim model answers the exact Bayes
 * posterior (softmax probabilities), so margins and labels are the best any model could give.
 */
export const D = 16;
export const K = 6;
export const CLASSES = 4;

export class Mixture {
  readonly means: Float64Array[];
  /** Lower-triangular Cholesky factors, row-major d×d. */
  readonly chol: Float64Array[];
  readonly logDet: Float64Array;

  constructor(rng: Xoshiro128) {
    this.means = [];
    this.chol = [];
    this.logDet = new Float64Array(K);
    for (let k = 0; k < K; k++) {
      this.means.push(Float64Array.from({ length: D }, () => 3 * rng.normal()));
      const l = new Float64Array(D * D);
      let ld = 0;
      for (let i = 0; i < D; i++) {
        for (let j = 0; j < i; j++) l[i * D + j] = 0.3 * rng.normal();
        const diag = 0.5 + rng.next();
        l[i * D + i] = diag;
        ld += Math.log(diag);
      }
      this.chol.push(l);
      this.logDet[k] = ld;
    }
  }

  /** A draw from component k written into `out`; `eps` the standard-normal latent (drawn when absent). */
  sampleInto(out: Float64Array, k: number, rng: Xoshiro128, eps?: Float64Array): Float64Array {
    const l = this.chol[k]!;
    const mu = this.means[k]!;
    const e = eps ?? Float64Array.from({ length: D }, () => rng.normal());
    for (let i = 0; i < D; i++) {
      let v = mu[i]!;
      for (let j = 0; j <= i; j++) v += l[i * D + j]! * e[j]!;
      out[i] = v;
    }
    return out;
  }

  sample(rng: Xoshiro128, k = Math.floor(rng.next() * K)): Float64Array {
    return this.sampleInto(new Float64Array(D), k, rng);
  }
}

/** The victim: the mixture's exact class posterior. */
export class Victim {
  private readonly y = new Float64Array(D);
  private readonly logp = new Float64Array(K);
  readonly probs = new Float64Array(CLASSES);

  constructor(readonly mix: Mixture) {}

  /** Fills `probs`; returns the predicted class. */
  answer(x: ArrayLike<number>): number {
    const m = this.mix;
    let max = -Infinity;
    for (let k = 0; k < K; k++) {
      const l = m.chol[k]!;
      const mu = m.means[k]!;
      let q = 0;
      // Forward substitution L·y = x − μ: the Mahalanobis distance without inverting Σ.
      for (let i = 0; i < D; i++) {
        let v = x[i]! - mu[i]!;
        for (let j = 0; j < i; j++) v -= l[i * D + j]! * this.y[j]!;
        v /= l[i * D + i]!;
        this.y[i] = v;
        q += v * v;
      }
      const lp = -0.5 * q - m.logDet[k]!;
      this.logp[k] = lp;
      if (lp > max) max = lp;
    }
    this.probs.fill(0);
    let total = 0;
    for (let k = 0; k < K; k++) {
      const p = Math.exp(this.logp[k]! - max);
      this.probs[k % CLASSES]! += p;
      total += p;
    }
    let best = 0;
    for (let c = 0; c < CLASSES; c++) {
      this.probs[c]! /= total;
      if (this.probs[c]! > this.probs[best]!) best = c;
    }
    return best;
  }

  /** Top-1 minus top-2 probability of the last answer. */
  margin(): number {
    let a = 0;
    let b = 0;
    for (let c = 0; c < CLASSES; c++) {
      const p = this.probs[c]!;
      if (p > a) {
        b = a;
        a = p;
      } else if (p > b) b = p;
    }
    return a - b;
  }
}

/** What the operator configures: the benign per-feature centre and scale, and the range. */
export interface FeatureDescription {
  readonly centre: number[];
  readonly scale: number[];
  readonly min: number[];
  readonly max: number[];
}

export function describeFeatures(mix: Mixture, rng: Xoshiro128, n = 20_000): FeatureDescription {
  const sum = new Float64Array(D);
  const sumSq = new Float64Array(D);
  const min = new Array<number>(D).fill(Infinity);
  const max = new Array<number>(D).fill(-Infinity);
  const x = new Float64Array(D);
  for (let i = 0; i < n; i++) {
    mix.sampleInto(x, Math.floor(rng.next() * K), rng);
    for (let j = 0; j < D; j++) {
      sum[j]! += x[j]!;
      sumSq[j]! += x[j]! * x[j]!;
      if (x[j]! < min[j]!) min[j] = x[j]!;
      if (x[j]! > max[j]!) max[j] = x[j]!;
    }
  }
  const centre = Array.from(sum, (s) => s / n);
  const scale = Array.from(sumSq, (s, j) => Math.sqrt(s / n - centre[j]! * centre[j]!));
  return { centre, scale, min, max };
}

/** The world of one seed: P, a different natural distribution P′, the victim, the description. */
export interface World {
  readonly seed: number;
  readonly p: Mixture;
  readonly pShifted: Mixture;
  readonly victim: Victim;
  readonly features: FeatureDescription;
}

export function buildWorld(seed: number): World {
  const rng = new Xoshiro128(seed);
  const p = new Mixture(rng);
  const pShifted = new Mixture(new Xoshiro128(seed ^ 0x51ed2705));
  return { seed, p, pShifted, victim: new Victim(p), features: describeFeatures(p, rng) };
}
