import { Xoshiro128 } from '../../../src/extraction/prng.js';
import { SoftmaxRegression, standardiserOf } from './models.js';
import type { RealWorld } from './victims.js';

/**
 * Extraction attacks on a real-data victim, each an endless stream of query rows (the caller
 * stops at detection or at the budget). The attacker knows a few real rows (seeds) and each
 * feature's range; steps are in units of the training split's per-feature scale σ_j. What the
 * attacker learns from each answer is `victim.label` (a class, or a regression's value bucket).
 */
export const REAL_ATTACKS = [
  'uniform',
  't-rnd',
  't-rnd-gauss',
  'jbda',
  'boundary-walk',
  'line-search',
  'sweep',
  'natural',
] as const;
export type RealAttack = (typeof REAL_ATTACKS)[number];

/** Attacks expected to be caught; `natural` (in-distribution queries) is only reported. */
export const SYNTHETIC_ATTACKS: readonly RealAttack[] = REAL_ATTACKS.filter((a) => a !== 'natural');

type Row = Float64Array;

function realRow(w: RealWorld, rng: Xoshiro128): Row {
  return w.data.rows[Math.floor(rng.next() * w.data.rows.length)]!;
}

/** Tramèr et al. (USENIX Security 2016), retraining with uniform queries over the range ±20%. */
function* uniform(w: RealWorld, rng: Xoshiro128): Generator<Row> {
  const { min, max } = w.features;
  for (;;) yield Float64Array.from(min, (lo, j) => lo - 0.2 * (max[j]! - lo) + rng.next() * 1.4 * (max[j]! - lo));
}

/**
 * PRADA's T-RND family (Juuti et al., EuroS&P 2019), as random perturbation: 10 real seed rows,
 * then rounds in which every row so far gets a copy moved by ε = 0.1 σ along a random sign vector
 * (the set doubles each round, like Jacobian augmentation without the gradient).
 */
function* tRnd(w: RealWorld, rng: Xoshiro128): Generator<Row> {
  const s = w.features.scale;
  yield* perturbationRounds(w, rng, (j) => 0.1 * s[j]! * (rng.next() < 0.5 ? -1 : 1));
}

/**
 * The same rounds with Gaussian perturbation: every feature moved by N(0, (0.1 σ)²). An attack
 * that was not in the detector's development (added after it, as an attacker who reads "perturbed
 * at random" differently would write it): no two rows share a step shape, so only the rows'
 * geometry can give it away.
 */
function* tRndGauss(w: RealWorld, rng: Xoshiro128): Generator<Row> {
  const s = w.features.scale;
  yield* perturbationRounds(w, rng, (j) => 0.1 * s[j]! * rng.normal());
}

/** Ten real seed rows, then rounds in which every row so far gets a copy moved by `step(j)` per feature. */
function* perturbationRounds(w: RealWorld, rng: Xoshiro128, step: (j: number) => number): Generator<Row> {
  const set: Row[] = [];
  for (let i = 0; i < 10; i++) {
    const x = realRow(w, rng);
    set.push(x);
    yield x;
  }
  for (;;) {
    const n = set.length;
    for (let i = 0; i < n; i++) {
      const x = Float64Array.from(set[i]!, (v, j) => v + step(j));
      set.push(x);
      yield x;
    }
  }
}

/**
 * Papernot et al., "Practical Black-Box Attacks against Machine Learning" (AsiaCCS 2017): 50 real
 * seeds, then rounds of Jacobian-based augmentation x' = x + λ·sign(∇ log p_label) with λ = 0.1 σ
 * on a softmax-regression substitute retrained on the victim's labels after each round.
 */
function* jbda(w: RealWorld, rng: Xoshiro128): Generator<Row> {
  const s = w.features.scale;
  const xs: Row[] = [];
  const ys: number[] = [];
  for (let i = 0; i < 50; i++) {
    const x = realRow(w, rng);
    xs.push(x);
    ys.push(w.victim.label(x));
    yield x;
  }
  const sign = new Float64Array(s.length);
  for (;;) {
    const sub = new SoftmaxRegression(standardiserOf(xs), w.victim.labels).train(xs, ys, 100);
    const n = xs.length;
    for (let i = 0; i < n; i++) {
      sub.gradientSign(xs[i]!, ys[i]!, sign);
      const x = Float64Array.from(xs[i]!, (v, j) => v + 0.1 * s[j]! * sign[j]!);
      xs.push(x);
      ys.push(w.victim.label(x));
      yield x;
    }
  }
}

/** A pair of real rows the victim labels differently. */
function differentPair(w: RealWorld, rng: Xoshiro128): [Row, Row] {
  const a = realRow(w, rng);
  const la = w.victim.label(a);
  let b = realRow(w, rng);
  for (let tries = 0; tries < 50 && w.victim.label(b) === la; tries++) b = realRow(w, rng);
  return [a, b];
}

const mid = (a: Row, b: Row): Row => Float64Array.from(a, (v, j) => (v + b[j]!) / 2);

/**
 * Tramèr's line-search retraining and Lowd–Meek boundary finding: binary searches between
 * differently-labelled real rows until the step is below 10⁻³ σ, then five random points within
 * 0.05 σ of the boundary point found.
 */
function* lineSearch(w: RealWorld, rng: Xoshiro128): Generator<Row> {
  const s = w.features.scale;
  for (;;) {
    let [a, b] = differentPair(w, rng);
    const la = w.victim.label(a);
    let length = Math.sqrt(a.reduce((acc, v, j) => acc + ((v - b[j]!) / s[j]!) ** 2, 0));
    while (length > 1e-3) {
      const m = mid(a, b);
      yield m;
      if (w.victim.label(m) === la) a = m;
      else b = m;
      length /= 2;
    }
    for (let r = 0; r < 5; r++) yield Float64Array.from(a, (v, j) => v + 0.05 * s[j]! * rng.normal());
  }
}

/**
 * A boundary walk (Brendel et al.'s decision-based attack, HopSkipJump's walk along the boundary):
 * two points on either side of the decision boundary are moved together by a random step of
 * 0.2 σ, then bisected five times so the pair stays on the boundary; a pair that no longer
 * straddles it restarts from real rows.
 */
function* boundaryWalk(w: RealWorld, rng: Xoshiro128): Generator<Row> {
  const s = w.features.scale;
  let [a, c] = differentPair(w, rng);
  for (let i = 0; i < 8; i++) {
    const m = mid(a, c);
    yield m;
    if (w.victim.label(m) === w.victim.label(a)) a = m;
    else c = m;
  }
  for (;;) {
    const u = Float64Array.from(s, (sj) => 0.2 * sj * rng.normal());
    const a2 = Float64Array.from(a, (v, j) => v + u[j]!);
    const c2 = Float64Array.from(c, (v, j) => v + u[j]!);
    yield a2;
    yield c2;
    const la = w.victim.label(a2);
    if (la !== w.victim.label(c2)) [a, c] = [a2, c2];
    else if (la !== w.victim.label(c)) a = a2;
    else if (w.victim.label(a) !== w.victim.label(c2)) c = c2;
    else {
      [a, c] = differentPair(w, rng);
      continue;
    }
    const lab = w.victim.label(a);
    for (let i = 0; i < 5; i++) {
      const m = mid(a, c);
      yield m;
      if (w.victim.label(m) === lab) a = m;
      else c = m;
    }
  }
}

/** Partial-dependence probing and Tramèr's path-finding: one feature over a grid of 20–100 points. */
function* sweep(w: RealWorld, rng: Xoshiro128): Generator<Row> {
  const { min, max } = w.features;
  for (;;) {
    const base = realRow(w, rng);
    for (let j = 0; j < base.length; j++) {
      const grid = 20 + Math.floor(rng.next() * 81);
      for (let g = 0; g < grid; g++) {
        const x = Float64Array.from(base);
        x[j] = min[j]! + ((max[j]! - min[j]!) * g) / (grid - 1);
        yield x;
      }
    }
  }
}

/**
 * In-distribution natural queries (Knockoff Nets, Orekondy et al., CVPR 2019, with public data of
 * the victim's own distribution): draws from a Gaussian kernel density estimate of the data
 * (bandwidth 0.25 σ). Reported, not expected to be caught.
 */
function* natural(w: RealWorld, rng: Xoshiro128): Generator<Row> {
  const s = w.features.scale;
  for (;;) yield Float64Array.from(realRow(w, rng), (v, j) => v + 0.25 * s[j]! * rng.normal());
}

/**
 * The attack's stream, with a share `mix` of its queries replaced by exact real rows (an attacker
 * hiding among natural queries; they also teach its surrogate).
 */
export function* realAttackStream(name: RealAttack, w: RealWorld, seed: number, mix: number): Generator<Row> {
  const rng = new Xoshiro128(seed);
  const inner =
    name === 'uniform'
      ? uniform(w, rng)
      : name === 't-rnd'
        ? tRnd(w, rng)
        : name === 't-rnd-gauss'
          ? tRndGauss(w, rng)
          : name === 'jbda'
            ? jbda(w, rng)
            : name === 'boundary-walk'
              ? boundaryWalk(w, rng)
              : name === 'line-search'
                ? lineSearch(w, rng)
                : name === 'sweep'
                  ? sweep(w, rng)
                  : natural(w, rng);
  yield* withRealRows(inner, w, seed, mix);
}

/** `inner`'s rows with a share `mix` replaced by exact real rows, drawn from their own seeded stream. */
export function* withRealRows(inner: Iterator<Row>, w: RealWorld, seed: number, mix: number): Generator<Row> {
  const mixRng = new Xoshiro128(seed ^ 0x1b873593);
  for (;;) {
    if (mix > 0 && mixRng.next() < mix) yield realRow(w, mixRng);
    else yield inner.next().value as Row;
  }
}

/**
 * How much of the model the attacker holds: a softmax-regression surrogate trained on its
 * queries and the labels it got, scored by agreement with the victim on the held-out rows.
 */
export function surrogateAgreement(w: RealWorld, xs: readonly Row[]): number {
  if (xs.length < 2) return Number.NaN;
  const ys = xs.map((x) => w.victim.label(x));
  const sub = new SoftmaxRegression(standardiserOf(xs), w.victim.labels).train(xs, ys, 200);
  let agree = 0;
  for (const i of w.test) {
    const x = w.data.rows[i]!;
    if (sub.predict(x) === w.victim.label(x)) agree++;
  }
  return agree / w.test.length;
}
