import { normalQuantile, upperTail } from './normal-distribution.js';

/**
 * The Shapiro–Wilk W test of normality, following Royston's algorithm AS R94 (Applied
 * Statistics 44(4), 1995, pp. 547–551): the coefficients from normal scores with Royston's
 * polynomial corrections for the two extreme pairs, W as the squared correlation between the
 * ordered sample and the coefficients, and the p-value from Royston's normalising
 * transformations (4 ≤ n ≤ 11 and n ≥ 12). Censoring is not supported (PRADA does not need it).
 *
 * Coefficients depend only on n: they are computed once per n and kept, so a detector that
 * tests a bounded ring of values pays O(n) per test after the sort.
 */

const C1 = [0, 0.221157, -0.147981, -2.07119, 4.434685, -2.706056] as const;
const C2 = [0, 0.042981, -0.293762, -1.752461, 5.682633, -3.582633] as const;
const C3 = [0.544, -0.39978, 0.025054, -6.714e-4] as const;
const C4 = [1.3822, -0.77857, 0.062767, -0.0020322] as const;
const C5 = [-1.5861, -0.31082, -0.083751, 0.0038915] as const;
const C6 = [-0.4803, -0.082676, 0.0030302] as const;
const G = [-2.273, 0.459] as const;

/** Horner evaluation of c[0] + c[1]·x + c[2]·x² + ... (AS R94's `poly`). */
function poly(c: readonly number[], x: number): number {
  let r = 0;
  for (let i = c.length - 1; i >= 0; i--) r = r * x + c[i]!;
  return r;
}

export const SHAPIRO_WILK_MAX_N = 5000;

const cache = new Map<number, Float64Array>();

/**
 * The antisymmetric coefficient vector of length n (a[0] = -a[n-1] ...), normalised so that
 * the sum of squares is 1.
 */
export function shapiroWilkCoefficients(n: number): Float64Array {
  let out = cache.get(n);
  if (out) return out;
  if (n < 3 || n > SHAPIRO_WILK_MAX_N)
    throw new RangeError(`Shapiro–Wilk needs 3 ≤ n ≤ ${SHAPIRO_WILK_MAX_N}, got ${n}`);
  const half = Math.floor(n / 2);
  const a = new Float64Array(half + 1); // 1-based, as in the published algorithm
  if (n === 3) {
    a[1] = Math.SQRT1_2;
  } else {
    const an25 = n + 0.25;
    let summ2 = 0;
    for (let i = 1; i <= half; i++) {
      a[i] = normalQuantile((i - 0.375) / an25);
      summ2 += a[i]! * a[i]!;
    }
    summ2 *= 2;
    const ssumm2 = Math.sqrt(summ2);
    const rsn = 1 / Math.sqrt(n);
    const a1 = poly(C1, rsn) - a[1]! / ssumm2;
    let first: number;
    let fac: number;
    if (n > 5) {
      first = 3;
      const a2 = -a[2]! / ssumm2 + poly(C2, rsn);
      fac = Math.sqrt((summ2 - 2 * a[1]! * a[1]! - 2 * a[2]! * a[2]!) / (1 - 2 * a1 * a1 - 2 * a2 * a2));
      a[2] = a2;
    } else {
      first = 2;
      fac = Math.sqrt((summ2 - 2 * a[1]! * a[1]!) / (1 - 2 * a1 * a1));
    }
    a[1] = a1;
    for (let i = first; i <= half; i++) a[i] = -a[i]! / fac;
  }
  // a[i] (1-based) weighs the i-th largest minus the i-th smallest observation.
  out = new Float64Array(n);
  for (let i = 1; i <= half; i++) {
    out[i - 1] = -a[i]!;
    out[n - i] = a[i]!;
  }
  cache.set(n, out);
  return out;
}

export interface ShapiroWilkResult {
  /** W in (0, 1]; small values mean far from normal. */
  readonly w: number;
  readonly pValue: number;
}

/**
 * W and its p-value for `sorted[0..n)`, which must be sorted ascending. Returns undefined
 * when the sample has (numerically) zero range: W is undefined there.
 */
export function shapiroWilkSorted(sorted: ArrayLike<number>, n: number = sorted.length): ShapiroWilkResult | undefined {
  const w = shapiroWilkW(sorted, 0, n);
  return w === w ? { w, pValue: pValueOf(w, n) } : undefined;
}

/**
 * W alone for the sorted range `sorted[from..to)`, NaN when the range of values is (numerically)
 * zero: what a detector that only compares W with a threshold needs, without the p-value's
 * logarithms and without a view or result object per test.
 */
export function shapiroWilkW(sorted: ArrayLike<number>, from: number, to: number): number {
  const n = to - from;
  const coef = shapiroWilkCoefficients(n);
  const range = sorted[to - 1]! - sorted[from]!;
  if (!(range > 1e-19)) return Number.NaN;
  // Scaling by the range keeps the sums of squares well conditioned (as AS R94 does).
  let mean = 0;
  for (let i = from; i < to; i++) mean += sorted[i]! / range;
  mean /= n;
  let sax = 0;
  let ssx = 0;
  for (let i = 0; i < n; i++) {
    const x = sorted[from + i]! / range - mean;
    sax += coef[i]! * x;
    ssx += x * x;
  }
  // The coefficients have zero mean and unit sum of squares: W is their squared correlation.
  return Math.min(1, (sax * sax) / ssx);
}

/** Sorts a copy and runs the test (convenience for tests and tools; detectors sort in place). */
export function shapiroWilk(sample: ArrayLike<number>): ShapiroWilkResult | undefined {
  const sorted = Float64Array.from(sample).sort();
  return shapiroWilkSorted(sorted);
}

function pValueOf(w: number, n: number): number {
  if (n === 3) {
    // Exact for n = 3 (Shapiro and Wilk 1965).
    const p = (6 / Math.PI) * (Math.asin(Math.sqrt(w)) - Math.PI / 3);
    return Math.max(0, p);
  }
  const w1 = 1 - w;
  if (w1 <= 0) return 1;
  let y = Math.log(w1);
  let m: number;
  let s: number;
  if (n <= 11) {
    const gamma = poly(G, n);
    if (y >= gamma) return 1e-99;
    y = -Math.log(gamma - y);
    m = poly(C3, n);
    s = Math.exp(poly(C4, n));
  } else {
    const ln = Math.log(n);
    m = poly(C5, ln);
    s = Math.exp(poly(C6, ln));
  }
  return upperTail((y - m) / s);
}
