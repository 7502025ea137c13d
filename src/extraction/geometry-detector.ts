import { binomialAlarmCount } from './binomial-threshold.js';
import { WindowCount } from './window-count.js';
import { OBJECT_OVERHEAD, TYPED_ARRAY_OVERHEAD } from './heap-cost.js';

/**
 * Detector C: volume, coverage and geometry signals, each O(dims) per query with a few hundred
 * bytes of state, each alarming on its rate over the last `window` queries at the count a benign
 * stream with the assumed per-query rate exceeds with probability `alpha`:
 *
 * - envelope: a feature beyond `envelope` standard deviations of the benign data (uniform
 *   random queries over a box, Tramèr et al.'s retraining attack, land there all the time);
 * - sweep: exactly one raw feature changed since the previous query (partial-dependence
 *   probing and Tramèr's path-finding change one feature at a time);
 * - collinear: the step x_t − x_{t−1} parallel to the previous step (a line search or a binary
 *   search towards the decision boundary; GWAD's "delta similarity", Park, McLaughlin, Alouani,
 *   arXiv 2503.02986);
 * - margin: the answer's top-1 minus top-2 probability below `lowMargin` (boundary probing;
 *   only where the answer is seen, i.e. behind the proxy);
 * - coverage (reported, not alarming): distinct coarse cells visited, by linear counting
 *   (Whang, Vander-Zanden, Taylor, ACM TODS 1990), after Kesarwani et al.'s query-coverage
 *   monitor (arXiv 1711.07221).
 */
export interface GeometryDetectorOptions {
  readonly width: number;
  readonly dims: number;
  readonly window: number;
  readonly alpha: number;
  readonly envelope: number;
  readonly envelopeRate: number;
  readonly sweepRate: number;
  readonly collinearCosine: number;
  readonly collinearRate: number;
  readonly lowMargin: number;
  readonly marginRate: number;
}

const COVERAGE_BITS = 1024;
const COVERAGE_DIMS = 8;

export class GeometryState {
  readonly prevScaled: Float32Array;
  readonly prevZ: Float64Array;
  readonly prevStep: Float64Array;
  steps = 0;
  readonly envelope: WindowCount;
  readonly sweep: WindowCount;
  readonly collinear: WindowCount;
  readonly margin: WindowCount;
  readonly cells = new Uint32Array(COVERAGE_BITS / 32);
  zeroBits = COVERAGE_BITS;

  constructor(o: GeometryDetectorOptions) {
    this.prevScaled = new Float32Array(o.width);
    this.prevZ = new Float64Array(o.dims);
    this.prevStep = new Float64Array(o.dims);
    this.envelope = new WindowCount(o.window);
    this.sweep = new WindowCount(o.window);
    this.collinear = new WindowCount(o.window);
    this.margin = new WindowCount(o.window);
  }

  /** Estimated distinct coarse cells visited. */
  get coverage(): number {
    const z = Math.max(this.zeroBits, 0.5);
    return Math.round(-COVERAGE_BITS * Math.log(z / COVERAGE_BITS));
  }

  get bytes(): number {
    return (
      this.prevScaled.byteLength +
      this.prevZ.byteLength * 2 +
      this.cells.byteLength +
      4 * TYPED_ARRAY_OVERHEAD +
      this.envelope.bytes * 4 +
      OBJECT_OVERHEAD
    );
  }
}

/** Scores written by `observe`, one slot per signal. */
export const GEOMETRY_SIGNALS = ['envelope', 'sweep', 'collinear', 'margin'] as const;

export class GeometryDetector {
  readonly envelopeCount: number;
  readonly sweepCount: number;
  readonly collinearCount: number;
  readonly marginCount: number;

  constructor(readonly o: GeometryDetectorOptions) {
    this.envelopeCount = binomialAlarmCount(o.window, o.envelopeRate, o.alpha);
    this.sweepCount = binomialAlarmCount(o.window, o.sweepRate, o.alpha);
    this.collinearCount = binomialAlarmCount(o.window, o.collinearRate, o.alpha);
    this.marginCount = binomialAlarmCount(o.window, o.marginRate, o.alpha);
  }

  createState(): GeometryState {
    return new GeometryState(this.o);
  }

  /**
   * Feeds one (non-duplicate) query: `scaled` is the row on the benign scale, `z` the vector the
   * distances use, `margin` the answer's top-1 − top-2 probability or NaN when unknown. Writes
   * the four signal scores into `out` at `at`.
   */
  observe(
    st: GeometryState,
    scaled: Float64Array,
    z: Float64Array,
    margin: number,
    out: Float64Array,
    at: number,
  ): void {
    const { width, dims, envelope } = this.o;
    let outside = false;
    let changed = 0;
    const first = st.steps === 0;
    for (let j = 0; j < width; j++) {
      const v = scaled[j]!;
      if (v > envelope || v < -envelope) outside = true;
      const f = Math.fround(v);
      if (f !== st.prevScaled[j]) changed++;
      st.prevScaled[j] = f;
    }
    let dot = 0;
    let n1 = 0;
    let n2 = 0;
    let cell = 0x811c9dc5;
    const cellDims = dims < COVERAGE_DIMS ? dims : COVERAGE_DIMS;
    for (let j = 0; j < dims; j++) {
      const step = z[j]! - st.prevZ[j]!;
      const prev = st.prevStep[j]!;
      dot += step * prev;
      n1 += step * step;
      n2 += prev * prev;
      st.prevStep[j] = step;
      st.prevZ[j] = z[j]!;
      if (j < cellDims) {
        const bin = z[j]! < -1 ? 0 : z[j]! < 0 ? 1 : z[j]! < 1 ? 2 : 3;
        cell = Math.imul(cell ^ bin, 16777619);
      }
    }
    st.steps++;
    const bit = (cell >>> 0) % COVERAGE_BITS;
    const word = bit >>> 5;
    const mask = 1 << (bit & 31);
    if ((st.cells[word]! & mask) === 0) {
      st.cells[word]! |= mask;
      st.zeroBits--;
    }
    const sweep = !first && changed === 1;
    // Needs two real steps: the first step after the first query has no predecessor.
    const collinear = st.steps > 2 && n1 > 0 && n2 > 0 && Math.abs(dot) >= this.o.collinearCosine * Math.sqrt(n1 * n2);
    out[at] = st.envelope.push(outside) / this.envelopeCount;
    out[at + 1] = st.sweep.push(sweep) / this.sweepCount;
    out[at + 2] = st.collinear.push(collinear) / this.collinearCount;
    if (margin === margin) out[at + 3] = st.margin.push(margin < this.o.lowMargin) / this.marginCount;
  }
}
