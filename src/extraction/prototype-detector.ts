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
/**
 * Rounds of outlier rejection before the test at most: a bound on its cost (each round is one pass
 * over the ring); the samples met converge within three or four.
 */
const REJECT_ROUNDS = 8;

export class PrototypeState {
  /** Per class, lazily: prototypes × dims values. */
  readonly sets: (Float32Array | undefined)[];
  /** Per class, CLASS_FIELDS values side by side (one array: one fetch when the account is cold). */
  readonly classes: Float64Array;
  /**
   * The last `ring` distances in arrival order in [0, ring); in [ring, ring + sorted) the values
   * the ring held at the last merge, sorted ascending; after 2·ring, the values evicted from the
   * ring since then (`evicted` of them). The distances that arrived since the merge are the
   * `pending` ring slots before `ringPos`. A merge (before each test, or once `batch` distances
   * wait) makes the sorted copy the ring sorted again in one pass, so a test never sorts and a
   * query only writes its distance. Single precision: a relative error of 6·10⁻⁸ moves W far less
   * than one query does, and a cold account's fetch moves half the bytes.
   */
  readonly distances: Float32Array;
  readonly ring: number;
  /** Distances that may wait for a merge: a test's worth, at most the ring. */
  readonly batch: number;
  ringPos = 0;
  ringFilled = 0;
  sorted = 0;
  pending = 0;
  evicted = 0;
  sinceTest = 0;
  /** Last W computed (1 before the first test). */
  w = 1;
  rng: number;

  constructor(o: PrototypeDetectorOptions, seed: number) {
    this.sets = new Array<Float32Array | undefined>(o.maxClasses).fill(undefined);
    this.classes = new Float64Array(CLASS_FIELDS * o.maxClasses);
    this.batch = Math.min(o.testEvery, o.ring);
    this.distances = new Float32Array(2 * o.ring + this.batch);
    this.ring = o.ring;
    this.rng = seed | 1;
  }

  /**
   * Reads what `observe` will read for a row of `classId`: the class's statistics, the lines of
   * its prototypes and the ring's slot (see state-warmup.ts).
   */
  touch(classId: number, dims: number): number {
    const k = this.sets.length;
    let c = classId % k;
    if (c < 0) c += k;
    const at = c * CLASS_FIELDS;
    const stats = this.classes;
    let x = stats[at + COUNT]! + this.distances[this.ringPos]!;
    const set = this.sets[c];
    if (!set) return x;
    // One read per 64-byte line (16 float32 values).
    for (let i = 0, end = stats[at + COUNT]! * dims; i < end; i += 16) x += set[i]!;
    return x;
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
  /** Scratch of a merge: the sorted copy rebuilt, then the arrivals sorted (the detector serves one thread). */
  private readonly merged: Float32Array;
  /** The range of the sorted distances a test keeps ([lo, hi)), written by `clipOutliers`. */
  private readonly kept = new Int32Array(2);

  constructor(readonly o: PrototypeDetectorOptions) {
    this.merged = new Float32Array(o.ring + Math.min(o.testEvery, o.ring));
  }

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
    const dmin = Math.sqrt(nearest(z, set, n, dims));
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
      mergeSorted(st, this.merged);
      st.w = this.test(st);
    } else if (st.pending === st.batch) mergeSorted(st, this.merged);
    return this.score(st);
  }

  private score(st: PrototypeState): number {
    return (1 - st.w) / (1 - this.o.delta);
  }

  /** W of the ring's distances once outliers are rejected (`clipOutliers`). */
  private test(st: PrototypeState): number {
    const all = st.distances;
    const kept = this.kept;
    // The sorted distances are all[ring, ring + sorted).
    if (!clipOutliers(all, st.ring, st.ring + st.sorted, this.o.rejectSigma, kept)) return 0;
    if (kept[1]! - kept[0]! < this.o.minSamples) return st.w;
    const w = shapiroWilkW(all, kept[0]!, kept[1]!);
    // No spread left (or infinite distances, from rows far outside any float32 prototype): not
    // normal at all. A NaN here would have silenced the account's score.
    return w === w ? w : 0;
  }
}

/**
 * Rejects outliers from the sorted values in [from, to): those more than `k` scaled MADs from the
 * median, the rejection repeated on the values kept until it rejects nothing more (at most
 * REJECT_ROUNDS rounds). Writes the range kept to `kept` ([lo, hi)); returns false when more than
 * half the values are identical (a fixed-step probe: no benign spread at all, W is 0).
 *
 * One round alone cuts through a second cluster rather than removing it: a user who comes back
 * to the same few rows with measurement noise (interest in one class, a small pool of items) has
 * most distances at the noise's scale and the rest at the data's; the median and MAD sit in the
 * first cluster, and the limit falls inside the second, keeping its lower half. That truncated
 * sample is skewed as neither a benign nor an attack sample is (W ≈ 0.5 where the whole ring gives
 * 0.7), and it decided the account. Repeating the rejection until none is rejected is iterative
 * clipping as applied to a sample with a contaminating population (astropy.stats.sigma_clip,
 * median centre and MAD scale, iterated to convergence:
 * https://docs.astropy.org/en/stable/api/astropy.stats.sigma_clip.html): each round's median and
 * MAD come from a sample with less of the second cluster, so the cut moves below it. A sample
 * whose first round rejects nothing (normal data; the seeds and steps of a JbDA attack, whose two
 * clusters lie within one limit) is kept whole, as before.
 */
export function clipOutliers(
  sorted: ArrayLike<number>,
  from: number,
  to: number,
  k: number,
  kept: Int32Array,
): boolean {
  let lo = from;
  let hi = to;
  for (let round = 0; round < REJECT_ROUNDS && hi - lo > 0; round++) {
    const m = hi - lo;
    const median = m % 2 ? sorted[lo + ((m - 1) >> 1)]! : (sorted[lo + m / 2 - 1]! + sorted[lo + m / 2]!) / 2;
    const mad = medianAbsoluteDeviation(sorted, median, lo, hi);
    if (mad <= 1e-12 * Math.max(1, median)) return false;
    // 1.4826 · MAD estimates σ for normal data.
    const limit = k * 1.4826 * mad;
    let a = lo;
    while (a < hi && median - sorted[a]! > limit) a++;
    let b = hi;
    while (b > a && sorted[b - 1]! - median > limit) b--;
    if (a === lo && b === hi) break;
    lo = a;
    hi = b;
  }
  kept[0] = lo;
  kept[1] = hi;
  return true;
}

/**
 * Adds a distance to the ring, evicting the oldest once full; the evicted value is kept aside for
 * the next merge. The caller merges before the ring has `batch` distances waiting.
 */
export function remember(st: PrototypeState, distance: number): void {
  const a = st.distances;
  const s = st.ring;
  const pos = st.ringPos;
  if (st.ringFilled < s) st.ringFilled++;
  else a[2 * s + st.evicted++] = a[pos]!;
  a[pos] = distance;
  st.pending++;
  st.ringPos = pos + 1 === s ? 0 : pos + 1;
}

/**
 * Makes the sorted copy the ring sorted again: the waiting arrivals and the evicted values (at
 * most `batch` each) are sorted by insertion, then one pass over the sorted copy drops the evicted
 * values and merges the arrivals in. O(ring + batch²) per merge, one merge per test: a few
 * operations per query where a binary search and a shift per query took a few hundred, and the
 * same sorted multiset, so the same W.
 */
export function mergeSorted(st: PrototypeState, scratch: Float32Array): void {
  const a = st.distances;
  const s = st.ring;
  const p = st.pending;
  if (p === 0) return;
  // The arrivals, from the ring slots before ringPos, sorted into scratch[s, s + p).
  for (let i = 0, slot = st.ringPos - p < 0 ? st.ringPos - p + s : st.ringPos - p; i < p; i++) {
    const v = a[slot]!;
    let k = s + i;
    while (k > s && scratch[k - 1]! > v) {
      scratch[k] = scratch[k - 1]!;
      k--;
    }
    scratch[k] = v;
    slot = slot + 1 === s ? 0 : slot + 1;
  }
  // The evicted values, sorted in place after 2·ring.
  const e0 = 2 * s;
  const e1 = e0 + st.evicted;
  for (let i = e0 + 1; i < e1; i++) {
    const v = a[i]!;
    let k = i;
    while (k > e0 && a[k - 1]! > v) {
      a[k] = a[k - 1]!;
      k--;
    }
    a[k] = v;
  }
  // One pass: sorted copy minus evicted (both ascending: equal values meet in order), merged with the arrivals.
  let out = 0;
  let e = e0;
  let n = s;
  const nEnd = s + p;
  for (let i = s, end = s + st.sorted; i < end; i++) {
    const v = a[i]!;
    if (e < e1 && a[e] === v) {
      e++;
      continue;
    }
    while (n < nEnd && scratch[n]! < v) scratch[out++] = scratch[n++]!;
    scratch[out++] = v;
  }
  while (n < nEnd) scratch[out++] = scratch[n++]!;
  // Copied by hand: a subarray view per merge would be garbage every few queries.
  for (let i = 0; i < out; i++) a[s + i] = scratch[i]!;
  st.sorted = out;
  st.pending = 0;
  st.evicted = 0;
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

/**
 * The squared distance from `z` to the nearest of the first `n` prototypes in `set` (`dims` values
 * each), each distance summed term by term in feature order (the same sum as a plain loop).
 *
 * Two prototypes at a time: each sum is a chain of dependent additions, so one prototype at a time
 * waits on the adder's latency; two independent chains interleaved keep it busy (instruction-level
 * parallelism; Hennessy and Patterson, "Computer Architecture: A Quantitative Approach", ch. 3).
 * A partial sum already at the best cannot win (the terms are non-negative), so a pair stops once
 * both of its sums have reached the best of the earlier pairs, looking every four terms. A sum
 * carried on past the best by its partner stays at or above it, and a sum below the best at the
 * end is complete: the minimum is the one a plain loop finds (NaN sums never win, as before).
 */
export function nearest(z: Float64Array, set: Float32Array, n: number, dims: number): number {
  let best = Infinity;
  const quads = dims & ~3;
  for (let p = 0; p < n; p += 2) {
    const a = p * dims;
    // An odd last prototype runs beside a copy of itself (the same sum twice).
    const b = p + 1 < n ? a + dims : a;
    let da = 0;
    let db = 0;
    let j = 0;
    for (; j < quads && (da < best || db < best); j += 4) {
      const a0 = z[j]! - set[a + j]!;
      const b0 = z[j]! - set[b + j]!;
      const a1 = z[j + 1]! - set[a + j + 1]!;
      const b1 = z[j + 1]! - set[b + j + 1]!;
      const a2 = z[j + 2]! - set[a + j + 2]!;
      const b2 = z[j + 2]! - set[b + j + 2]!;
      const a3 = z[j + 3]! - set[a + j + 3]!;
      const b3 = z[j + 3]! - set[b + j + 3]!;
      da += a0 * a0;
      db += b0 * b0;
      da += a1 * a1;
      db += b1 * b1;
      da += a2 * a2;
      db += b2 * b2;
      da += a3 * a3;
      db += b3 * b3;
    }
    for (; j < dims && (da < best || db < best); j++) {
      const ta = z[j]! - set[a + j]!;
      const tb = z[j]! - set[b + j]!;
      da += ta * ta;
      db += tb * tb;
    }
    if (da < best) best = da;
    if (db < best) best = db;
  }
  return best;
}
