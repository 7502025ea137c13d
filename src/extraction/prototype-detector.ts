import type { DetectorSettings } from './detector-settings.js';
import { shapiroWilkW } from './shapiro-wilk.js';
import { OBJECT_OVERHEAD, TYPED_ARRAY_OVERHEAD } from './heap-cost.js';

/**
 * Detector A, after PRADA (Juuti, Szyller, Marchal, Asokan, "PRADA: Protecting against DNN
 * Model Stealing Attacks", IEEE EuroS&P 2019, arXiv 1805.02628): for each predicted class a set
 * of prototype queries grows only with "novel" queries (distance to the nearest prototype above
 * the class threshold T_c = max(T_c, mean − std of the insertion distances)); the distances to
 * the nearest prototype of benign natural queries look normally distributed, those of synthetic
 * queries crafted around a few seeds do not, which the Shapiro–Wilk W measures.
 *
 * Bounded where PRADA is not: at most `prototypes` per class (a full set replaces a random slot),
 * at most `maxClasses` classes (class ids are folded modulo), the last `ring` distances only,
 * and the insertion distances kept as running sums. Cost per query: O(prototypes · dims), one
 * insertion into the sorted ring, and O(ring) every `testEvery` queries for the test.
 *
 * Outliers are rejected around the median by 3 scaled median absolute deviations (Hampel's
 * identifier; Leys et al., "Detecting outliers: Do not use standard deviation around the mean,
 * use absolute deviation around the median", J. Exp. Soc. Psychology 49, 2013) rather than
 * PRADA's 3σ around the mean: the mean and σ are dragged by the very outliers to reject, and
 * benign users who move between sessions or drift (time-correlated streams) produce exactly
 * such clusters of far distances, which PRADA's rule kept and turned into false alarms.
 */
export type PrototypeDetectorOptions = Pick<
  DetectorSettings,
  'prototypes' | 'maxClasses' | 'ring' | 'minSamples' | 'testEvery' | 'delta' | 'rejectSigma'
> & {
  readonly dims: number;
};

/** Per class, in `PrototypeState.classes`: prototypes held, T_c, and the insertion distances' count, sum and sum of squares. */
const COUNT = 0;
const THRESHOLD = 1;
const INSERT_N = 2;
const INSERT_SUM = 3;
const INSERT_SUM_SQ = 4;
const CLASS_FIELDS = 5;

export class PrototypeState {
  /** Per class, lazily: prototypes × dims values. */
  readonly sets: (Float32Array | undefined)[];
  /** Per class, CLASS_FIELDS values side by side (one array: one fetch when the account is cold). */
  readonly classes: Float64Array;
  /**
   * The last `ring` distances in arrival order in [0, ring), and the same values sorted ascending
   * in [ring, 2·ring): kept sorted as they arrive (one shift per query), so a test never sorts.
   * Single precision: a relative error of 6·10⁻⁸ moves W far less than one query does, and the
   * shift and the cold account's fetch move half the bytes.
   */
  readonly distances: Float32Array;
  readonly ring: number;
  ringPos = 0;
  ringFilled = 0;
  sinceTest = 0;
  /** Last W computed (1 before the first test). */
  w = 1;
  rng: number;

  constructor(o: PrototypeDetectorOptions, seed: number) {
    this.sets = new Array<Float32Array | undefined>(o.maxClasses).fill(undefined);
    this.classes = new Float64Array(CLASS_FIELDS * o.maxClasses);
    this.distances = new Float32Array(2 * o.ring);
    this.ring = o.ring;
    this.rng = seed | 1;
  }

  get bytes(): number {
    let b =
      this.classes.byteLength +
      this.distances.byteLength +
      2 * TYPED_ARRAY_OVERHEAD +
      OBJECT_OVERHEAD +
      24 +
      8 * this.sets.length;
    for (const s of this.sets) if (s) b += s.byteLength + TYPED_ARRAY_OVERHEAD;
    return b;
  }
}

export class PrototypeDetector {
  constructor(readonly o: PrototypeDetectorOptions) {}

  createState(seed: number): PrototypeState {
    return new PrototypeState(this.o, seed);
  }

  /** Feeds one query; returns the detector's score (≥ 1 is an alarm: W below delta). */
  observe(st: PrototypeState, z: Float64Array, classId: number): number {
    const o = this.o;
    const dims = o.dims;
    let c = classId % o.maxClasses;
    if (c < 0) c += o.maxClasses;
    let set = st.sets[c];
    if (!set) {
      set = new Float32Array(o.prototypes * dims);
      st.sets[c] = set;
    }
    const stats = st.classes;
    const at = c * CLASS_FIELDS;
    const n = stats[at + COUNT]!;
    if (n === 0) {
      for (let j = 0; j < dims; j++) set[j] = z[j]!;
      stats[at + COUNT] = 1;
      stats[at + INSERT_N] = 1;
      return this.score(st);
    }
    let best = Infinity;
    const quads = dims & ~3;
    for (let p = 0, base = 0; p < n; p++, base += dims) {
      let d = 0;
      let j = 0;
      // A partial sum already at the best cannot win (the terms are non-negative): stop early,
      // looking every four terms (added one by one, in order: the same sum as a plain loop).
      for (; j < quads && d < best; j += 4) {
        const t0 = z[j]! - set[base + j]!;
        const t1 = z[j + 1]! - set[base + j + 1]!;
        const t2 = z[j + 2]! - set[base + j + 2]!;
        const t3 = z[j + 3]! - set[base + j + 3]!;
        d += t0 * t0;
        d += t1 * t1;
        d += t2 * t2;
        d += t3 * t3;
      }
      for (; j < dims && d < best; j++) {
        const t = z[j]! - set[base + j]!;
        d += t * t;
      }
      if (d < best) best = d;
    }
    const dmin = Math.sqrt(best);
    remember(st, dmin);
    if (dmin > stats[at + THRESHOLD]!) {
      let slot: number;
      if (n < o.prototypes) {
        slot = n;
        stats[at + COUNT] = n + 1;
      } else {
        // xorshift32: a per-account choice of the slot to replace, no shared state.
        st.rng ^= st.rng << 13;
        st.rng ^= st.rng >>> 17;
        st.rng ^= st.rng << 5;
        slot = (st.rng >>> 0) % o.prototypes;
      }
      const base = slot * dims;
      for (let j = 0; j < dims; j++) set[base + j] = z[j]!;
      // PRADA counts the first prototype's distance as 0 in D_Gc.
      // Stored modulo 2³², as the Uint32 counter it replaces kept it.
      const k = stats[at + INSERT_N]! + 1;
      stats[at + INSERT_N] = k >>> 0;
      stats[at + INSERT_SUM]! += dmin;
      stats[at + INSERT_SUM_SQ]! += dmin * dmin;
      const mean = stats[at + INSERT_SUM]! / k;
      const variance = Math.max(0, stats[at + INSERT_SUM_SQ]! / k - mean * mean);
      const t = mean - Math.sqrt(variance);
      if (t > stats[at + THRESHOLD]!) stats[at + THRESHOLD] = t;
    }
    if (++st.sinceTest >= o.testEvery && st.ringFilled >= o.minSamples) {
      st.sinceTest = 0;
      st.w = this.test(st);
    }
    return this.score(st);
  }

  private score(st: PrototypeState): number {
    return (1 - st.w) / (1 - this.o.delta);
  }

  /** W of the ring's distances once outliers are rejected around the median. */
  private test(st: PrototypeState): number {
    const all = st.distances;
    // The sorted distances are all[s, e).
    const s = st.ring;
    const m = st.ringFilled;
    const e = s + m;
    const median = m % 2 ? all[s + ((m - 1) >> 1)]! : (all[s + m / 2 - 1]! + all[s + m / 2]!) / 2;
    const mad = medianAbsoluteDeviation(all, median, s, e);
    // More than half the distances identical (a fixed-step probe): no benign spread at all.
    if (mad <= 1e-12 * Math.max(1, median)) return 0;
    // 1.4826 · MAD estimates σ for normal data.
    const limit = this.o.rejectSigma * 1.4826 * mad;
    let lo = s;
    while (lo < e && median - all[lo]! > limit) lo++;
    let hi = e;
    while (hi > lo && all[hi - 1]! - median > limit) hi--;
    if (hi - lo < this.o.minSamples) return st.w;
    const w = shapiroWilkW(all, lo, hi);
    // No spread left (or infinite distances, from rows far outside any float32 prototype): not
    // normal at all. A NaN here would have silenced the account's score.
    return w === w ? w : 0;
  }
}

/**
 * Adds a distance to the ring (evicting the oldest once full) and to the sorted copy: the evicted
 * value's place is found by binary search, then the values between it and the new value's place
 * shift by one. O(log ring + shift) per query, against a sort of the ring at every test.
 */
export function remember(st: PrototypeState, distance: number): void {
  // Compared as stored: the sorted copy must order the rounded values.
  const v = Math.fround(distance);
  const a = st.distances;
  const s = st.ring;
  const pos = st.ringPos;
  if (st.ringFilled < s) {
    // Not full yet: insert into the sorted [s, s + filled).
    let k = s + st.ringFilled;
    while (k > s && a[k - 1]! > v) {
      a[k] = a[k - 1]!;
      k--;
    }
    a[k] = v;
    st.ringFilled++;
  } else {
    const old = a[pos]!;
    // The first sorted slot holding `old` (it is there: every ring value is).
    let lo = s;
    let hi = s + s;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (a[mid]! < old) lo = mid + 1;
      else hi = mid;
    }
    let k = lo;
    if (v > old) {
      while (k + 1 < s + s && a[k + 1]! < v) {
        a[k] = a[k + 1]!;
        k++;
      }
    } else {
      while (k > s && a[k - 1]! > v) {
        a[k] = a[k - 1]!;
        k--;
      }
    }
    a[k] = v;
  }
  a[pos] = v;
  st.ringPos = pos + 1 === s ? 0 : pos + 1;
}

/**
 * The median of |x − median| of a sorted sample, merging outwards from the median (no second
 * sort). The walk carries indices only and the deviations are taken once at the end: a double
 * carried around the loop was boxed on every step by V8 (4 kB of garbage per test).
 */
export function medianAbsoluteDeviation(
  sorted: ArrayLike<number>,
  median: number,
  from = 0,
  to = sorted.length,
): number {
  const m = to - from;
  if (m <= 0) return 0;
  let j = from;
  while (j < to && sorted[j]! <= median) j++;
  let i = j - 1;
  const upper = m >> 1; // 0-based rank of the upper median of the deviations
  // Index of the deviation taken at rank r (last) and r − 1 (previous).
  let last = -1;
  let previous = -1;
  for (let r = 0; r <= upper; r++) {
    previous = last;
    // Past either end the deviation is infinite: the other side is taken.
    if (j >= to || (i >= from && median - sorted[i]! <= sorted[j]! - median)) last = i--;
    else last = j++;
  }
  const d = Math.abs(sorted[last]! - median);
  return m % 2 ? d : (Math.abs(sorted[previous]! - median) + d) / 2;
}
