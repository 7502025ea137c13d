import { shapiroWilkSorted } from './shapiro-wilk.js';

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
 * and the insertion distances kept as running sums. Cost per query: O(prototypes · dims) plus
 * one sort of `ring` values every `testEvery` queries.
 *
 * Time-correlated benign streams (sensor series, a user editing one record) give PRADA false
 * alarms: each query sits next to the one before it. The distance that enters the test
 * therefore ignores prototypes inserted within the last `theilerWindow` queries, the Theiler
 * window used for the same reason in nearest-neighbour statistics of time series (J. Theiler,
 * "Spurious dimension from correlation algorithms applied to limited time-series data",
 * Phys. Rev. A 34, 1986). The growth rule keeps PRADA's distance to every prototype.
 */
export interface PrototypeDetectorOptions {
  readonly dims: number;
  readonly prototypes: number;
  readonly maxClasses: number;
  readonly ring: number;
  /** Distances needed before the first test (PRADA: more than 100). */
  readonly minSamples: number;
  readonly testEvery: number;
  /** Alarm when W falls below this (PRADA's reference server: 0.9). */
  readonly delta: number;
  /** Outlier rejection before the test, in standard deviations (PRADA: 3). */
  readonly rejectSigma: number;
  /** Prototypes younger than this many queries are left out of the tested distance. */
  readonly theilerWindow: number;
}

export class PrototypeState {
  /** Per class, lazily: prototypes × dims values. */
  readonly sets: (Float32Array | undefined)[];
  readonly counts: Uint16Array;
  /** Per class, lazily: the query number at which each prototype was inserted. */
  readonly born: (Uint32Array | undefined)[];
  seq = 0;
  readonly threshold: Float64Array;
  readonly insertSum: Float64Array;
  readonly insertSumSq: Float64Array;
  readonly insertN: Uint32Array;
  readonly ring: Float64Array;
  ringPos = 0;
  ringFilled = 0;
  sinceTest = 0;
  /** Last W computed (1 before the first test). */
  w = 1;
  rng: number;

  constructor(o: PrototypeDetectorOptions, seed: number) {
    this.sets = new Array<Float32Array | undefined>(o.maxClasses).fill(undefined);
    this.counts = new Uint16Array(o.maxClasses);
    this.born = new Array<Uint32Array | undefined>(o.maxClasses).fill(undefined);
    this.threshold = new Float64Array(o.maxClasses);
    this.insertSum = new Float64Array(o.maxClasses);
    this.insertSumSq = new Float64Array(o.maxClasses);
    this.insertN = new Uint32Array(o.maxClasses);
    this.ring = new Float64Array(o.ring);
    this.rng = seed | 1;
  }

  get bytes(): number {
    let b = this.counts.byteLength + this.threshold.byteLength * 3 + this.insertN.byteLength + this.ring.byteLength + 64;
    for (const s of this.sets) if (s) b += s.byteLength;
    for (const s of this.born) if (s) b += s.byteLength;
    return b;
  }
}

export class PrototypeDetector {
  private readonly sorted: Float64Array;

  constructor(readonly o: PrototypeDetectorOptions) {
    this.sorted = new Float64Array(o.ring);
  }

  createState(seed: number): PrototypeState {
    return new PrototypeState(this.o, seed);
  }

  /** Feeds one query; returns the detector's score (≥ 1 is an alarm: W below delta). */
  observe(st: PrototypeState, z: Float64Array, classId: number): number {
    const o = this.o;
    const dims = o.dims;
    const c = ((classId % o.maxClasses) + o.maxClasses) % o.maxClasses;
    const seq = ++st.seq;
    let set = st.sets[c];
    let born = st.born[c];
    if (!set || !born) {
      set = new Float32Array(o.prototypes * dims);
      born = new Uint32Array(o.prototypes);
      st.sets[c] = set;
      st.born[c] = born;
    }
    const n = st.counts[c]!;
    if (n === 0) {
      for (let j = 0; j < dims; j++) set[j] = z[j]!;
      born[0] = seq;
      st.counts[c] = 1;
      st.insertN[c] = 1;
      return this.score(st);
    }
    let best = Infinity;
    let bestOld = Infinity;
    const oldBefore = seq - o.theilerWindow;
    for (let p = 0, base = 0; p < n; p++, base += dims) {
      let d = 0;
      for (let j = 0; j < dims; j++) {
        const t = z[j]! - set[base + j]!;
        d += t * t;
      }
      if (d < best) best = d;
      if (d < bestOld && born[p]! <= oldBefore) bestOld = d;
    }
    const dmin = Math.sqrt(best);
    if (bestOld !== Infinity) {
      st.ring[st.ringPos] = Math.sqrt(bestOld);
      st.ringPos = st.ringPos + 1 === st.ring.length ? 0 : st.ringPos + 1;
      if (st.ringFilled < st.ring.length) st.ringFilled++;
    }
    if (dmin > st.threshold[c]!) {
      let slot: number;
      if (n < o.prototypes) {
        slot = n;
        st.counts[c] = n + 1;
      } else {
        st.rng ^= st.rng << 13;
        st.rng ^= st.rng >>> 17;
        st.rng ^= st.rng << 5;
        slot = (st.rng >>> 0) % o.prototypes;
      }
      const base = slot * dims;
      for (let j = 0; j < dims; j++) set[base + j] = z[j]!;
      born[slot] = seq;
      // PRADA counts the first prototype's distance as 0 in D_Gc.
      const k = ++st.insertN[c]!;
      st.insertSum[c]! += dmin;
      st.insertSumSq[c]! += dmin * dmin;
      const mean = st.insertSum[c]! / k;
      const variance = Math.max(0, st.insertSumSq[c]! / k - mean * mean);
      const t = mean - Math.sqrt(variance);
      if (t > st.threshold[c]!) st.threshold[c] = t;
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

  /** W of the ring after rejecting values beyond rejectSigma standard deviations (PRADA). */
  private test(st: PrototypeState): number {
    const m = st.ringFilled;
    const ring = st.ring;
    let sum = 0;
    let sumSq = 0;
    for (let i = 0; i < m; i++) {
      sum += ring[i]!;
      sumSq += ring[i]! * ring[i]!;
    }
    const mean = sum / m;
    const sd = Math.sqrt(Math.max(0, sumSq / m - mean * mean));
    // Every distance the same (a fixed-step sweep): as far from a benign spread as it gets.
    if (sd <= 1e-12 * Math.max(1, mean)) return 0;
    const limit = this.o.rejectSigma * sd;
    const sorted = this.sorted;
    let k = 0;
    for (let i = 0; i < m; i++) if (Math.abs(ring[i]! - mean) < limit) sorted[k++] = ring[i]!;
    if (k < this.o.minSamples) return st.w;
    const view = sorted.subarray(0, k);
    view.sort();
    return shapiroWilkSorted(view, k)?.w ?? 0;
  }
}
