import { binomialAlarmCount } from './binomial-threshold.js';
import {
  adjustedCount,
  ENVELOPE_FAR_SIGNAL,
  ENVELOPE_SIGNAL,
  MARGIN_SIGNAL,
  RATE_SLOTS,
  type ClassBaseRates,
} from './class-base-rates.js';
import { OBJECT_OVERHEAD, TYPED_ARRAY_OVERHEAD } from './heap-cost.js';
import { TrafficSupport } from './traffic-support.js';

/**
 * Detector C: volume, coverage and geometry signals, each O(dims) per query with a few hundred
 * bytes of state, each alarming on its rate over the last `window` queries at the count a benign
 * stream with the assumed per-query rate exceeds with probability `alpha`:
 *
 * - envelope: a feature beyond `envelope` standard deviations of the benign data (uniform
 *   random queries over a box, Tramèr et al.'s retraining attack, land there all the time).
 *   Where the model has a novelty reference of its own traffic, an exit is also counted apart
 *   when that reference finds the row far from the population (a probe off the data, not a real
 *   tail row: the strongest earthquakes, a series' rare hot spell). An account is judged by the far
 *   count, against far rates, once every row of its window was judged with a reference in force
 *   and the model's far rates are in force; until then by the three-sigma count against the
 *   three-sigma rates. Each rate is learned only from rows counted by its own definition, so what
 *   judges an account and what it was learned from never disagree (reference ready or not, rates
 *   pinned or learned);
 * - sweep: exactly one raw feature changed since the previous query (partial-dependence
 *   probing and Tramèr's path-finding change one feature at a time);
 * - collinear: the step x_t − x_{t−1} parallel to the previous step (a line search or a binary
 *   search towards the decision boundary; GWAD's "delta similarity", Park, McLaughlin, Alouani,
 *   arXiv 2503.02986);
 * - margin: the answer's top-1 minus top-2 probability below `lowMargin` (boundary probing;
 *   only where the answer is seen, i.e. behind the proxy);
 * - envelope and margin are also counted against the rates expected for the classes of the
 *   window's rows (`ClassBaseRates`): the adjusted counts are what the calibration learns and
 *   judges, so a user of one class at the edge of the data is held to that class's rates;
 * - coverage (reported, not alarming): distinct coarse cells visited, by linear counting
 *   (Whang, Vander-Zanden, Taylor, ACM TODS 1990), after Kesarwani et al.'s query-coverage
 *   monitor (arXiv 1711.07221).
 *
 * An exit that continues the account's own path (`continues`) is counted by neither the envelope
 * nor the novelty window: a real series replayed in time order through its rarest stretch (a heat
 * wave hour by hour, a crash day by day) leaves the envelope row after row, but its slow
 * coordinates (a level, a price, a temperature) move little from one reading to the next, as
 * consecutive observations of a physical or economic series do (serial correlation: Box, Jenkins,
 * Reinsel, Time Series Analysis, ch. 2). Off-data probes the envelope is for (uniform boxes, JbDA
 * and T-RND rows of random seeds) jump in every feature between consecutive rows; a sweep moves one
 * feature only and is never a continuation; steps, lines and walks are judged by their own signals.
 * The features that do jump between two readings of a real series (a day's range, an hour's
 * change) jump to values the model's traffic also reaches (`TrafficSupport`), even through the
 * rare stretch: a path whose other half is drawn uniformly over the data's box (the slice walk of
 * bench/extraction/adaptive-probe.ts) lands beyond them and does not continue.
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
/**
 * A step continues the account's path when at least half of the row's features moved by at most
 * this many benign standard deviations since its previous row (the near-duplicate quantum's
 * order: a reading's slow coordinates between two consecutive observations).
 */
export const CONTINUE_STEP = 0.5;
const COVERAGE_DIMS = 8;

export class GeometryState {
  /**
   * The previous query: its scaled row (float32-rounded, as the sweep compares it) in [0, width),
   * its vector z in [width, width + dims), and the step that led to it after that. One array, so
   * a cold account costs one fetch of its header rather than three.
   */
  readonly prev: Float64Array;
  steps = 0;
  /**
   * The windows of the four signals: [0, window) holds, per query, envelope | sweep << 1 |
   * collinear << 2 | class slot << 3 (they advance together), [window, 2·window) the margin
   * signal | class slot << 1, which advances only on queries whose answer was seen.
   */
  readonly windows: Uint8Array;
  /** Rows per class slot in each window: the envelope window's at [0, RATE_SLOTS), the margin window's after. */
  readonly classes = new Uint16Array(2 * RATE_SLOTS);
  /** The envelope and margin counts adjusted for the window's classes (the raw counts without class rates). */
  envelopeAdjusted = 0;
  marginAdjusted = 0;
  /**
   * Whether the latest row left the envelope as counted (an exit that does not continue the
   * account's path), and whether its answer (if seen) had a low margin.
   */
  lastOutside = false;
  /** Whether the latest row was judged with a novelty reference in force, and if so whether it was a far exit. */
  lastJudged = false;
  lastFarOutside = false;
  /** Whether the envelope score and adjusted count are the far count's (else the three-sigma count's). */
  countedFar = false;
  /**
   * Per row of the envelope window (aligned with `windows`): 1 a far exit, 2 judged without a
   * novelty reference (neither far nor near is known).
   */
  readonly judged: Uint8Array;
  lastLowMargin = false;
  /** Answers seen (the margin window's rows so far). */
  marginSeen = 0;
  private readonly window: number;
  private pos = 0;
  private marginPos = 0;
  /** Queries carrying each signal in its window. */
  envelopeHits = 0;
  /** Far exits in the window, and rows of the window judged without a reference. */
  farHits = 0;
  unjudged = 0;
  sweepHits = 0;
  collinearHits = 0;
  marginHits = 0;
  readonly cells = new Uint32Array(COVERAGE_BITS / 32);
  zeroBits = COVERAGE_BITS;

  constructor(o: GeometryDetectorOptions) {
    this.prev = new Float64Array(o.width + 2 * o.dims);
    this.window = o.window;
    this.windows = new Uint8Array(2 * o.window);
    this.judged = new Uint8Array(o.window);
  }

  /**
   * Records one query's envelope, sweep and collinear signals, class slot and far judgement (1 a far
   * exit, 2 no reference; each window drops its oldest).
   */
  push(envelope: boolean, sweep: boolean, collinear: boolean, slot: number, far: number): void {
    const w = this.windows;
    const old = w[this.pos]!;
    const oldFar = this.judged[this.pos]!;
    this.farHits += (far & 1) - (oldFar & 1);
    this.unjudged += (far >> 1) - (oldFar >> 1);
    this.judged[this.pos] = far;
    const v = (envelope ? 1 : 0) | (sweep ? 2 : 0) | (collinear ? 4 : 0) | (slot << 3);
    this.envelopeHits += (v & 1) - (old & 1);
    this.sweepHits += ((v >> 1) & 1) - ((old >> 1) & 1);
    this.collinearHits += ((v >> 2) & 1) - ((old >> 2) & 1);
    // A slot of a position never written is counted out before the window is full: skip it.
    if (this.steps > this.window) this.classes[old >> 3]!--;
    this.classes[slot]!++;
    w[this.pos] = v;
    this.pos = this.pos + 1 === this.window ? 0 : this.pos + 1;
  }

  /** Records whether an answer seen had a low margin, and its class slot. */
  pushMargin(low: boolean, slot: number): void {
    const at = this.window + this.marginPos;
    const old = this.windows[at]!;
    const v = (low ? 1 : 0) | (slot << 1);
    this.marginHits += (v & 1) - (old & 1);
    if (this.marginSeen >= this.window) this.classes[RATE_SLOTS + (old >> 1)]!--;
    this.classes[RATE_SLOTS + slot]!++;
    this.marginSeen++;
    this.windows[at] = v;
    this.marginPos = this.marginPos + 1 === this.window ? 0 : this.marginPos + 1;
  }

  /** Estimated distinct coarse cells visited. */
  get coverage(): number {
    const z = Math.max(this.zeroBits, 0.5);
    return Math.round(-COVERAGE_BITS * Math.log(z / COVERAGE_BITS));
  }

  get bytes(): number {
    return (
      this.prev.byteLength +
      this.windows.byteLength +
      this.judged.byteLength +
      this.cells.byteLength +
      this.classes.byteLength +
      5 * TYPED_ARRAY_OVERHEAD +
      OBJECT_OVERHEAD +
      96
    );
  }
}

/** Scores written by `observe`, one slot per signal. */
export const GEOMETRY_SIGNALS = ['envelope', 'sweep', 'collinear', 'margin'] as const;

export class GeometryDetector {
  /** Where the model's traffic lies, per feature: what a continuation's jumping features must stay within. */
  readonly support: TrafficSupport;
  readonly envelopeCount: number;
  readonly sweepCount: number;
  readonly collinearCount: number;
  readonly marginCount: number;

  constructor(readonly o: GeometryDetectorOptions) {
    this.envelopeCount = binomialAlarmCount(o.window, o.envelopeRate, o.alpha);
    this.sweepCount = binomialAlarmCount(o.window, o.sweepRate, o.alpha);
    this.collinearCount = binomialAlarmCount(o.window, o.collinearRate, o.alpha);
    this.marginCount = binomialAlarmCount(o.window, o.marginRate, o.alpha);
    this.support = new TrafficSupport(o.width);
  }

  createState(): GeometryState {
    return new GeometryState(this.o);
  }

  /**
   * Whether the row `scaled` is an exit that continues the account's path: it leaves the envelope,
   * the account has a previous row, more than one feature changed since it (one alone is a sweep's
   * step), at least half of the features moved by at most CONTINUE_STEP, and every feature that
   * moved further lies within CONTINUE_STEP of the model's traffic support (none while it is
   * unknown). Only exits are
   * excused: a row inside the envelope that the novelty reference finds far is an unusual
   * combination of ordinary values, which a series' rare stretch does not explain. Reads the
   * previous row only: call before `observe`.
   */
  continues(st: GeometryState, scaled: Float64Array): boolean {
    if (st.steps === 0) return false;
    const { width, envelope } = this.o;
    // Most rows stay inside the envelope, and only an exit can continue: such a row is answered
    // by this scan alone, without reading the previous row or the traffic support.
    let outside = false;
    for (let j = 0; j < width; j++) {
      const v = scaled[j]!;
      if (v > envelope || v < -envelope) outside = true;
    }
    if (!outside) return false;
    const prev = st.prev;
    let changed = 0;
    let still = 0;
    for (let j = 0; j < width; j++) {
      const v = scaled[j]!;
      const p = prev[j]!;
      if (Math.fround(v) !== p) changed++;
      const d = v - p;
      if (d <= CONTINUE_STEP && d >= -CONTINUE_STEP) still++;
      // A reading's step beyond the edge is within reach of the traffic (noisy rows at its edge).
      else if (!this.support.holds(j, v, CONTINUE_STEP)) return false;
    }
    return changed > 1 && 2 * still >= width;
  }

  /**
   * Feeds one (non-duplicate) query: `scaled` is the row on the benign scale, `z` the vector the
   * distances use, `margin` the answer's top-1 − top-2 probability or NaN when unknown, `slot`
   * the rate slot of its predicted class, `rates` the model's class base rates when it has them,
   * `far` what the model's novelty reference says of the row (undefined: no reference in force),
   * `continued` whether the row is an exit that continues the account's path (`continues`: it
   * is not counted). Writes the four signal scores (counts against the floors) into `out` at `at`.
   */
  observe(
    st: GeometryState,
    scaled: Float64Array,
    z: Float64Array,
    margin: number,
    out: Float64Array,
    at: number,
    slot: number,
    rates: ClassBaseRates | undefined,
    far: boolean | undefined,
    continued = false,
  ): void {
    const { width, dims, envelope } = this.o;
    const prev = st.prev;
    let outside = false;
    let changed = 0;
    const first = st.steps === 0;
    for (let j = 0; j < width; j++) {
      const v = scaled[j]!;
      if (v > envelope || v < -envelope) outside = true;
      const f = Math.fround(v);
      if (f !== prev[j]) changed++;
      prev[j] = f;
    }
    let dot = 0;
    let n1 = 0;
    let n2 = 0;
    let cell = 0x811c9dc5;
    const cellDims = dims < COVERAGE_DIMS ? dims : COVERAGE_DIMS;
    for (let j = 0, zAt = width, stepAt = width + dims; j < dims; j++, zAt++, stepAt++) {
      const step = z[j]! - prev[zAt]!;
      const before = prev[stepAt]!;
      dot += step * before;
      n1 += step * step;
      n2 += before * before;
      prev[stepAt] = step;
      prev[zAt] = z[j]!;
      if (j < cellDims) {
        const bin = z[j]! < -1 ? 0 : z[j]! < 0 ? 1 : z[j]! < 1 ? 2 : 3;
        cell = Math.imul(cell ^ bin, 16777619);
      }
    }
    st.steps++;
    if (continued) outside = false;
    st.lastOutside = outside;
    st.lastJudged = far !== undefined;
    st.lastFarOutside = outside && far === true;
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
    st.push(outside, sweep, collinear, slot, st.lastJudged ? (st.lastFarOutside ? 1 : 0) : 2);
    out[at + 1] = st.sweepHits / this.sweepCount;
    out[at + 2] = st.collinearHits / this.collinearCount;
    this.envelope(st, out, at, rates);
    st.lastLowMargin = false;
    if (margin === margin) {
      st.lastLowMargin = margin < this.o.lowMargin;
      st.pushMargin(st.lastLowMargin, slot);
      out[at + 3] = st.marginHits / this.marginCount;
      st.marginAdjusted = rates
        ? adjustedCount(
            st.classes,
            RATE_SLOTS,
            st.marginHits,
            rates.rates[MARGIN_SIGNAL]!,
            rates.pooled[MARGIN_SIGNAL]!,
          )
        : st.marginHits;
    }
  }

  /**
   * The envelope's score and class-adjusted count, by the far count once the whole window was
   * judged with a reference and the far rates are in force, else by the three-sigma count. Without
   * class rates (the published floors, a pinned block printed without them) it is the three-sigma
   * count, as the published detector counts.
   */
  private envelope(st: GeometryState, out: Float64Array, at: number, rates: ClassBaseRates | undefined): void {
    const far = rates !== undefined && rates.farReady && st.unjudged === 0;
    st.countedFar = far;
    const hits = far ? st.farHits : st.envelopeHits;
    out[at] = hits / this.envelopeCount;
    if (!rates) {
      st.envelopeAdjusted = hits;
      return;
    }
    const pooled = rates.pooled[ENVELOPE_SIGNAL]!;
    st.envelopeAdjusted = far
      ? adjustedCount(
          st.classes,
          0,
          hits,
          rates.rates[ENVELOPE_FAR_SIGNAL]!,
          rates.pooled[ENVELOPE_FAR_SIGNAL]!,
          pooled,
        )
      : adjustedCount(st.classes, 0, hits, rates.rates[ENVELOPE_SIGNAL]!, pooled);
  }
}
