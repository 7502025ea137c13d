import { Xoshiro128 } from '../../../src/extraction/prng.js';

/**
 * Small models trained in plain TypeScript, deterministic by seed: the victims of the real-data
 * evaluation and the attackers' surrogates. Inputs are standardised with the training split's
 * centre and scale (the same numbers the operator gives the detector as `features`).
 */
export interface Standardiser {
  readonly centre: Float64Array;
  readonly scale: Float64Array;
}

export function standardiserOf(rows: readonly Float64Array[]): Standardiser {
  const d = rows[0]!.length;
  const centre = new Float64Array(d);
  const scale = new Float64Array(d);
  for (const r of rows) for (let j = 0; j < d; j++) centre[j]! += r[j]! / rows.length;
  for (const r of rows) for (let j = 0; j < d; j++) scale[j]! += (r[j]! - centre[j]!) ** 2 / rows.length;
  // A constant feature keeps unit scale rather than dividing by zero.
  for (let j = 0; j < d; j++) scale[j] = Math.sqrt(scale[j]!) || 1;
  return { centre, scale };
}

function standardise(s: Standardiser, x: ArrayLike<number>, out: Float64Array): Float64Array {
  for (let j = 0; j < out.length; j++) out[j] = (x[j]! - s.centre[j]!) / s.scale[j]!;
  return out;
}

function softmaxInPlace(z: Float64Array): void {
  let max = -Infinity;
  for (const v of z) if (v > max) max = v;
  let t = 0;
  for (let c = 0; c < z.length; c++) t += z[c] = Math.exp(z[c]! - max);
  for (let c = 0; c < z.length; c++) z[c]! /= t;
}

/** A classifier's answer: the probabilities are in `probs` after `predict`. */
export interface Classifier {
  readonly classes: number;
  readonly probs: Float64Array;
  /** Fills `probs`; returns the predicted class. */
  predict(x: ArrayLike<number>): number;
}

/** Top-1 minus top-2 probability. */
export function marginOf(p: Float64Array): number {
  let a = 0;
  let b = 0;
  for (const v of p) {
    if (v > a) {
      b = a;
      a = v;
    } else if (v > b) b = v;
  }
  return a - b;
}

/** Multinomial logistic (softmax) regression, full-batch gradient descent with L2. */
export class SoftmaxRegression implements Classifier {
  readonly probs: Float64Array;
  readonly w: Float64Array;
  private readonly z: Float64Array;
  private readonly d: number;

  constructor(
    readonly std: Standardiser,
    readonly classes: number,
  ) {
    this.d = std.centre.length;
    this.w = new Float64Array(classes * (this.d + 1));
    this.probs = new Float64Array(classes);
    this.z = new Float64Array(this.d);
  }

  private logits(z: Float64Array, out: Float64Array): void {
    const d = this.d;
    for (let c = 0; c < this.classes; c++) {
      let s = this.w[c * (d + 1) + d]!;
      for (let j = 0; j < d; j++) s += this.w[c * (d + 1) + j]! * z[j]!;
      out[c] = s;
    }
  }

  predict(x: ArrayLike<number>): number {
    this.logits(standardise(this.std, x, this.z), this.probs);
    softmaxInPlace(this.probs);
    let best = 0;
    for (let c = 1; c < this.classes; c++) if (this.probs[c]! > this.probs[best]!) best = c;
    return best;
  }

  train(xs: readonly ArrayLike<number>[], ys: readonly number[], epochs: number, rate = 0.5, l2 = 1e-3): this {
    const d = this.d;
    const n = xs.length;
    const zs = xs.map((x) => standardise(this.std, x, new Float64Array(d)));
    const grad = new Float64Array(this.w.length);
    const p = new Float64Array(this.classes);
    for (let e = 0; e < epochs; e++) {
      grad.fill(0);
      for (let i = 0; i < n; i++) {
        const z = zs[i]!;
        this.logits(z, p);
        softmaxInPlace(p);
        for (let c = 0; c < this.classes; c++) {
          const g = (p[c]! - (ys[i] === c ? 1 : 0)) / n;
          for (let j = 0; j < d; j++) grad[c * (d + 1) + j]! += g * z[j]!;
          grad[c * (d + 1) + d]! += g;
        }
      }
      for (let k = 0; k < this.w.length; k++)
        this.w[k]! -= rate * (grad[k]! + ((k + 1) % (d + 1) === 0 ? 0 : l2 * this.w[k]!));
    }
    return this;
  }

  /** sign of ∂ log p_c / ∂x_j (Papernot et al.'s Jacobian augmentation), in standardised units. */
  gradientSign(x: ArrayLike<number>, c: number, out: Float64Array): Float64Array {
    this.predict(x);
    const d = this.d;
    for (let j = 0; j < d; j++) {
      let g = this.w[c * (d + 1) + j]!;
      for (let k = 0; k < this.classes; k++) g -= this.probs[k]! * this.w[k * (d + 1) + j]!;
      out[j] = g >= 0 ? 1 : -1;
    }
    return out;
  }
}

/**
 * One hidden layer of tanh units and a softmax output, trained with Adam on full batches. With
 * `temperature` > 1 the output is softened, as a calibrated model on a hard task answers.
 */
export class Mlp implements Classifier {
  readonly probs: Float64Array;
  private readonly w1: Float64Array;
  private readonly b1: Float64Array;
  private readonly w2: Float64Array;
  private readonly b2: Float64Array;
  private readonly h: Float64Array;
  private readonly z: Float64Array;
  private readonly d: number;
  temperature = 1;

  constructor(
    readonly std: Standardiser,
    readonly classes: number,
    readonly hidden: number,
    seed: number,
  ) {
    const d = (this.d = std.centre.length);
    const rng = new Xoshiro128(seed);
    this.w1 = Float64Array.from({ length: hidden * d }, () => rng.normal() / Math.sqrt(d));
    this.b1 = new Float64Array(hidden);
    this.w2 = Float64Array.from({ length: classes * hidden }, () => rng.normal() / Math.sqrt(hidden));
    this.b2 = new Float64Array(classes);
    this.h = new Float64Array(hidden);
    this.z = new Float64Array(d);
    this.probs = new Float64Array(classes);
  }

  private forward(z: Float64Array, h: Float64Array, out: Float64Array, temperature: number): void {
    const d = this.d;
    for (let u = 0; u < this.hidden; u++) {
      let s = this.b1[u]!;
      for (let j = 0; j < d; j++) s += this.w1[u * d + j]! * z[j]!;
      h[u] = Math.tanh(s);
    }
    for (let c = 0; c < this.classes; c++) {
      let s = this.b2[c]!;
      for (let u = 0; u < this.hidden; u++) s += this.w2[c * this.hidden + u]! * h[u]!;
      out[c] = s / temperature;
    }
    softmaxInPlace(out);
  }

  predict(x: ArrayLike<number>): number {
    this.forward(standardise(this.std, x, this.z), this.h, this.probs, this.temperature);
    let best = 0;
    for (let c = 1; c < this.classes; c++) if (this.probs[c]! > this.probs[best]!) best = c;
    return best;
  }

  train(xs: readonly ArrayLike<number>[], ys: readonly number[], epochs: number, rate = 0.01, l2 = 1e-3): this {
    const d = this.d;
    const H = this.hidden;
    const C = this.classes;
    const n = xs.length;
    const zs = xs.map((x) => standardise(this.std, x, new Float64Array(d)));
    const params = [this.w1, this.b1, this.w2, this.b2];
    const grads = params.map((p) => new Float64Array(p.length));
    const m1 = params.map((p) => new Float64Array(p.length));
    const m2 = params.map((p) => new Float64Array(p.length));
    const h = new Float64Array(H);
    const p = new Float64Array(C);
    const dh = new Float64Array(H);
    for (let e = 1; e <= epochs; e++) {
      for (const g of grads) g.fill(0);
      const [gw1, gb1, gw2, gb2] = grads as [Float64Array, Float64Array, Float64Array, Float64Array];
      for (let i = 0; i < n; i++) {
        const z = zs[i]!;
        this.forward(z, h, p, 1);
        dh.fill(0);
        for (let c = 0; c < C; c++) {
          const g = (p[c]! - (ys[i] === c ? 1 : 0)) / n;
          gb2[c]! += g;
          for (let u = 0; u < H; u++) {
            gw2[c * H + u]! += g * h[u]!;
            dh[u]! += g * this.w2[c * H + u]!;
          }
        }
        for (let u = 0; u < H; u++) {
          const g = dh[u]! * (1 - h[u]! * h[u]!);
          gb1[u]! += g;
          for (let j = 0; j < d; j++) gw1[u * d + j]! += g * z[j]!;
        }
      }
      for (let k = 0; k < params.length; k++) {
        const w = params[k]!;
        const g = grads[k]!;
        const decay = k === 0 || k === 2 ? l2 : 0;
        for (let q = 0; q < w.length; q++) {
          const gq = g[q]! + decay * w[q]!;
          m1[k]![q] = 0.9 * m1[k]![q]! + 0.1 * gq;
          m2[k]![q] = 0.999 * m2[k]![q]! + 0.001 * gq * gq;
          w[q]! -= (rate * (m1[k]![q]! / (1 - 0.9 ** e))) / (Math.sqrt(m2[k]![q]! / (1 - 0.999 ** e)) + 1e-8);
        }
      }
    }
    return this;
  }
}

/** Ridge regression, solved exactly on standardised features. */
export class RidgeRegression {
  readonly w: Float64Array;
  private readonly z: Float64Array;

  constructor(readonly std: Standardiser) {
    this.w = new Float64Array(std.centre.length + 1);
    this.z = new Float64Array(std.centre.length);
  }

  predict(x: ArrayLike<number>): number {
    const z = standardise(this.std, x, this.z);
    let s = this.w[z.length]!;
    for (let j = 0; j < z.length; j++) s += this.w[j]! * z[j]!;
    return s;
  }

  train(xs: readonly ArrayLike<number>[], ys: readonly number[], l2 = 1e-2): this {
    const d = this.std.centre.length;
    const k = d + 1;
    const a = new Float64Array(k * k);
    const b = new Float64Array(k);
    const z = new Float64Array(k);
    for (let i = 0; i < xs.length; i++) {
      standardise(this.std, xs[i]!, this.z);
      z.set(this.z);
      z[d] = 1;
      for (let r = 0; r < k; r++) {
        b[r]! += z[r]! * ys[i]!;
        for (let c = 0; c < k; c++) a[r * k + c]! += z[r]! * z[c]!;
      }
    }
    for (let r = 0; r < d; r++) a[r * k + r]! += l2 * xs.length;
    this.w.set(solve(a, b, k));
    return this;
  }
}

/** Gaussian elimination with partial pivoting; `a` is k×k row-major (overwritten). */
function solve(a: Float64Array, b: Float64Array, k: number): Float64Array {
  const x = Float64Array.from(b);
  for (let col = 0; col < k; col++) {
    let piv = col;
    for (let r = col + 1; r < k; r++) if (Math.abs(a[r * k + col]!) > Math.abs(a[piv * k + col]!)) piv = r;
    if (piv !== col) {
      for (let c = 0; c < k; c++) [a[col * k + c], a[piv * k + c]] = [a[piv * k + c]!, a[col * k + c]!];
      [x[col], x[piv]] = [x[piv]!, x[col]!];
    }
    const p = a[col * k + col]! || 1e-12;
    for (let r = col + 1; r < k; r++) {
      const f = a[r * k + col]! / p;
      if (f === 0) continue;
      for (let c = col; c < k; c++) a[r * k + c]! -= f * a[col * k + c]!;
      x[r]! -= f * x[col]!;
    }
  }
  for (let r = k - 1; r >= 0; r--) {
    let s = x[r]!;
    for (let c = r + 1; c < k; c++) s -= a[r * k + c]! * x[c]!;
    x[r] = s / (a[r * k + r]! || 1e-12);
  }
  return x;
}
