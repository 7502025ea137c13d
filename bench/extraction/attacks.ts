import { Xoshiro128 } from '../../src/extraction/prng.js';
import { CLASSES, D, K, type World } from './world.js';

/**
 * The attacks of the evaluation protocol, each an endless stream of query rows (the caller
 * stops at detection or at the budget). Feature units: the benign per-feature scale σ_j.
 */
export type AttackName =
  'uniform' | 'jbda' | 'line-search' | 'sweep' | 'equation-solving' | 'knockoff-shifted' | 'knockoff-same';

export const ATTACKS: readonly AttackName[] = [
  'uniform',
  'jbda',
  'line-search',
  'sweep',
  'equation-solving',
  'knockoff-shifted',
  'knockoff-same',
];

/** Tramèr et al. (USENIX Security 2016), retraining with uniform queries over the box ±20%. */
function* uniform(w: World, rng: Xoshiro128, widen = 0.2): Generator<Float64Array> {
  const { min, max } = w.features;
  for (;;) {
    const x = new Float64Array(D);
    for (let j = 0; j < D; j++) {
      const span = max[j]! - min[j]!;
      x[j] = min[j]! - widen * span + rng.next() * span * (1 + 2 * widen);
    }
    yield x;
  }
}

/** Tramèr's equation solving: random points in the feature box, as many as the unknowns and more. */
function* equationSolving(w: World, rng: Xoshiro128): Generator<Float64Array> {
  yield* uniform(w, rng, 0);
}

/** Multinomial logistic regression, the substitute of Papernot et al.'s JbDA. */
class Substitute {
  readonly w = new Float64Array(CLASSES * (D + 1));
  private readonly p = new Float64Array(CLASSES);

  constructor(
    private readonly centre: number[],
    private readonly scale: number[],
  ) {}

  private forward(x: Float64Array): Float64Array {
    let max = -Infinity;
    for (let c = 0; c < CLASSES; c++) {
      let s = this.w[c * (D + 1) + D]!;
      for (let j = 0; j < D; j++) s += this.w[c * (D + 1) + j]! * ((x[j]! - this.centre[j]!) / this.scale[j]!);
      this.p[c] = s;
      if (s > max) max = s;
    }
    let t = 0;
    for (let c = 0; c < CLASSES; c++) t += this.p[c] = Math.exp(this.p[c]! - max);
    for (let c = 0; c < CLASSES; c++) this.p[c]! /= t;
    return this.p;
  }

  train(xs: Float64Array[], ys: number[], epochs: number, rng: Xoshiro128): void {
    for (let e = 0; e < epochs; e++) {
      for (let n = 0; n < xs.length; n++) {
        const i = Math.floor(rng.next() * xs.length);
        const x = xs[i]!;
        const p = this.forward(x);
        for (let c = 0; c < CLASSES; c++) {
          const g = p[c]! - (ys[i] === c ? 1 : 0);
          for (let j = 0; j < D; j++)
            this.w[c * (D + 1) + j]! -= 0.05 * g * ((x[j]! - this.centre[j]!) / this.scale[j]!);
          this.w[c * (D + 1) + D]! -= 0.05 * g;
        }
      }
    }
  }

  /** sign of ∂ log p_c / ∂x_j. */
  gradientSign(x: Float64Array, c: number, j: number): number {
    const p = this.forward(x);
    let g = this.w[c * (D + 1) + j]!;
    for (let k = 0; k < CLASSES; k++) g -= p[k]! * this.w[k * (D + 1) + j]!;
    return g >= 0 ? 1 : -1;
  }
}

/**
 * Papernot et al., "Practical Black-Box Attacks against Machine Learning" (AsiaCCS 2017):
 * 150 natural seeds, then rounds of Jacobian-based augmentation x' = x + λ·sign(∇ substitute),
 * λ = 0.1 σ, the substitute retrained on the oracle's labels after each round.
 */
function* jbda(w: World, rng: Xoshiro128): Generator<Float64Array> {
  const { centre, scale } = w.features;
  const sub = new Substitute(centre, scale);
  const xs: Float64Array[] = [];
  const ys: number[] = [];
  for (let i = 0; i < 150; i++) {
    const x = w.p.sample(rng);
    xs.push(x);
    ys.push(w.victim.answer(x));
    yield x;
  }
  for (let round = 0; round < 12; round++) {
    sub.train(xs, ys, 5, rng);
    const n = xs.length;
    for (let i = 0; i < n; i++) {
      const x = xs[i]!;
      const next = new Float64Array(D);
      for (let j = 0; j < D; j++) next[j] = x[j]! + 0.1 * scale[j]! * sub.gradientSign(x, ys[i]!, j);
      xs.push(next);
      ys.push(w.victim.answer(next));
      yield next;
    }
  }
}

/**
 * Tramèr's line-search retraining and Lowd–Meek boundary finding: binary searches between
 * differently-labelled natural points until the step is below 10⁻³ σ, then a few random
 * directions around the boundary point found.
 */
function* lineSearch(w: World, rng: Xoshiro128): Generator<Float64Array> {
  const { scale } = w.features;
  for (;;) {
    const a0 = w.p.sample(rng);
    let b0 = w.p.sample(rng);
    const la = w.victim.answer(a0);
    for (let tries = 0; tries < 20 && w.victim.answer(b0) === la; tries++) b0 = w.p.sample(rng);
    let a = a0;
    let b = b0;
    let length = 0;
    for (let j = 0; j < D; j++) length += ((a[j]! - b[j]!) / scale[j]!) ** 2;
    length = Math.sqrt(length);
    while (length > 1e-3) {
      const m = new Float64Array(D);
      for (let j = 0; j < D; j++) m[j] = (a[j]! + b[j]!) / 2;
      yield m;
      if (w.victim.answer(m) === la) a = m;
      else b = m;
      length /= 2;
    }
    for (let r = 0; r < 5; r++) {
      const p = new Float64Array(D);
      for (let j = 0; j < D; j++) p[j] = a[j]! + 0.05 * scale[j]! * rng.normal();
      yield p;
    }
  }
}

/** Partial-dependence probing and Tramèr's path-finding: one feature over a grid of 20–100 points. */
function* sweep(w: World, rng: Xoshiro128): Generator<Float64Array> {
  const { min, max } = w.features;
  for (;;) {
    const base = w.p.sample(rng);
    for (let j = 0; j < D; j++) {
      const grid = 20 + Math.floor(rng.next() * 81);
      for (let g = 0; g < grid; g++) {
        const x = Float64Array.from(base);
        x[j] = min[j]! + ((max[j]! - min[j]!) * g) / (grid - 1);
        yield x;
      }
    }
  }
}

/** Knockoff Nets (Orekondy et al., CVPR 2019): natural queries from another distribution or from P itself. */
function* natural(w: World, rng: Xoshiro128, shifted: boolean): Generator<Float64Array> {
  const m = shifted ? w.pShifted : w.p;
  for (;;) yield m.sample(rng, Math.floor(rng.next() * K));
}

export function attackStream(name: AttackName, w: World, seed: number, noise: number): Generator<Float64Array> {
  const rng = new Xoshiro128(seed);
  const inner =
    name === 'uniform'
      ? uniform(w, rng)
      : name === 'jbda'
        ? jbda(w, rng)
        : name === 'line-search'
          ? lineSearch(w, rng)
          : name === 'sweep'
            ? sweep(w, rng)
            : name === 'equation-solving'
              ? equationSolving(w, rng)
              : natural(w, rng, name === 'knockoff-shifted');
  return noise > 0 ? withNoise(inner, w, new Xoshiro128(seed ^ 0x7f4a7c15), noise) : inner;
}

/** The adaptive attacker's evasion: Gaussian noise of `sigma` feature scales on every query. */
function* withNoise(inner: Generator<Float64Array>, w: World, rng: Xoshiro128, sigma: number): Generator<Float64Array> {
  const { scale } = w.features;
  for (const x of inner) {
    const y = new Float64Array(D);
    for (let j = 0; j < D; j++) y[j] = x[j]! + sigma * scale[j]! * rng.normal();
    yield y;
  }
}
