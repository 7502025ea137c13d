import { binomialAlarmCount } from './binomial-threshold.js';
import type { FeatureGrain, GrainFlagged } from './feature-grain.js';
import { OBJECT_OVERHEAD, TYPED_ARRAY_OVERHEAD } from './heap-cost.js';
import { fmix, mix } from './row-hash.js';
import { WindowCount } from './window-count.js';

/**
 * Detector D: repeated step shapes. Synthetic-query attacks move seed rows by a fixed step per
 * feature with random or gradient signs: x' = x + λ·sign(·) (Papernot et al.'s Jacobian-based
 * augmentation, PRADA's T-RND). Between two of its rows the absolute difference |x − y|, feature
 * by feature, is then a small-integer multiple of the attacker's step vector, so the same shape
 * recurs across many different pairs, whatever unit the attacker stepped in. Natural rows differ
 * by continuous amounts and almost never repeat a whole multi-feature shape exactly; the model's
 * population (time series stepping one feature, measurement grids) sets its base rate.
 *
 * Each scored row is compared with the last `recent` distinct rows; each difference with at
 * least two changed features is hashed (values kept to one part in 2²⁰ of the feature's benign
 * scale, so floating-point noise of x + λ − x does not matter) into a direct-mapped table of
 * `table` 16-bit shape tags (old shapes are overwritten, which only forgets; a false match costs
 * about recent / 2¹⁶ per row, far below any alarm count). A row is a hit when one of its
 * differences has a shape seen before from another pair. Like the other windowed signals it alarms on the rate of hits in
 * the window. Runs on rows of at most `maxWidth` features (wider rows are projected, and sparse
 * steps in them are the fingerprints' business).
 */
export interface StepDetectorOptions {
  readonly width: number;
  readonly recent: number;
  readonly table: number;
  readonly window: number;
  readonly benignRate: number;
  readonly alpha: number;
}

export const STEP_MAX_WIDTH = 16;

/** The shape hash's starting value. */
const SHAPE_SEED = 0x2f1b3c4d;

export class StepState implements GrainFlagged {
  readonly rows: Float64Array;
  /** Per remembered row: 1 when it lay on the data's grain (a possible real row). */
  readonly grained: Uint8Array;
  readonly shapes: Uint16Array;
  readonly hits: WindowCount;
  filled = 0;
  head = 0;
  /** The FeatureGrain generation the `grained` flags were set under. */
  grainGeneration = 0;

  constructor(o: StepDetectorOptions) {
    this.rows = new Float64Array(o.recent * o.width);
    this.grained = new Uint8Array(o.recent);
    this.shapes = new Uint16Array(o.table);
    this.hits = new WindowCount(o.window);
  }

  /** Reads what `observe` will read whatever the row: the remembered rows, one read per 64-byte line (see state-warmup.ts). */
  touch(): number {
    const rows = this.rows;
    let x = this.grained[0]! + this.shapes.length + this.hits.count;
    for (let i = 0, end = this.filled * (rows.length / this.grained.length); i < end; i += 8) x += rows[i]!;
    return x;
  }

  get bytes(): number {
    return (
      this.rows.byteLength +
      this.grained.byteLength +
      this.shapes.byteLength +
      3 * TYPED_ARRAY_OVERHEAD +
      this.hits.bytes +
      OBJECT_OVERHEAD
    );
  }
}

export class StepDetector {
  readonly alarmCount: number;
  private readonly mask: number;
  /** Scratch: the shape hashes of one row's pairs (the detector serves one thread). */
  private readonly found: Uint32Array;
  /** Scratch: the offsets of the remembered rows one row is paired with. */
  private readonly pairs: Int32Array;

  constructor(readonly o: StepDetectorOptions) {
    if ((o.table & (o.table - 1)) !== 0) throw new RangeError('table must be a power of two');
    this.found = new Uint32Array(o.recent);
    this.pairs = new Int32Array(o.recent);
    this.alarmCount = binomialAlarmCount(o.window, o.benignRate, o.alpha);
    this.mask = o.table - 1;
  }

  createState(): StepState {
    return new StepState(this.o);
  }

  /** Judges the remembered rows again under the model's grain when it has changed since they were judged. */
  regrain(st: StepState, grain: FeatureGrain): void {
    grain.reflag(st, st.rows, st.filled, 0);
  }

  /**
   * Feeds one (non-duplicate) row on the benign scale (`scaled`: z-scores); `onGrain`: the row lies
   * on the data's recorded resolution (FeatureGrain), and its pairs with earlier such rows show the
   * data's grain, not a step; `judged` false (the grain not yet known): the row is remembered but
   * counts no hit. Returns the score (≥ 1 is an alarm).
   */
  observe(st: StepState, scaled: Float64Array, onGrain = false, judged = true): number {
    const { width, recent } = this.o;
    const rows = st.rows;
    const grained = st.grained;
    // Every pair's shape hash first, then the table in the same order: the table's lines are
    // fetched side by side instead of one miss after another (an account's table is cold in a
    // gateway serving many users), and the outcome is the same.
    const found = this.found;
    // The remembered rows to pair with, in order (rows on the grain pair as the grain, not a step).
    const pairs = this.pairs;
    let m = 0;
    for (let k = 0; k < st.filled; k++) if (!(onGrain && grained[k] === 1)) pairs[m++] = k * width;
    // Four pairs at a time: each shape hash is one chain of dependent mixes, so one pair at a time
    // waits on the multiplier's latency; independent chains interleaved keep it busy (two gave
    // 8–16% less CPU than one, four less again at 16 features). Each hash is the same as alone,
    // and the hashes stay in pair order.
    let n = 0;
    for (let i = 0; i < m; i += 4) {
      const a = pairs[i]!;
      // Missing last pairs run as copies of the first whose hashes are dropped.
      const left = m - i;
      const b = left > 1 ? pairs[i + 1]! : a;
      const c = left > 2 ? pairs[i + 2]! : a;
      const d = left > 3 ? pairs[i + 3]! : a;
      let ha = SHAPE_SEED;
      let hb = SHAPE_SEED;
      let hc = SHAPE_SEED;
      let hd = SHAPE_SEED;
      let ca = 0;
      let cb = 0;
      let cc = 0;
      let cd = 0;
      for (let j = 0; j < width; j++) {
        const x = scaled[j]!;
        // round(|d|·2²⁰) as trunc(x + ½): the same integer for every difference below 2³² scales
        // (x ≥ 0), and Math.round cost three quarters of this loop on Node 24. NaN counts as changed.
        const ta = Math.abs(x - rows[a + j]!) * 1048576 + 0.5;
        const tb = Math.abs(x - rows[b + j]!) * 1048576 + 0.5;
        const tc = Math.abs(x - rows[c + j]!) * 1048576 + 0.5;
        const td = Math.abs(x - rows[d + j]!) * 1048576 + 0.5;
        if (!(ta < 1)) ca++;
        if (!(tb < 1)) cb++;
        if (!(tc < 1)) cc++;
        if (!(td < 1)) cd++;
        ha = mix(ha, ta | 0);
        hb = mix(hb, tb | 0);
        hc = mix(hc, tc | 0);
        hd = mix(hd, td | 0);
      }
      if (ca >= 2) found[n++] = fmix(ha);
      if (left > 1 && cb >= 2) found[n++] = fmix(hb);
      if (left > 2 && cc >= 2) found[n++] = fmix(hc);
      if (left > 3 && cd >= 2) found[n++] = fmix(hd);
    }
    const shapes = st.shapes;
    let hit = false;
    for (let i = 0; i < n; i++) {
      const f = found[i]!;
      const slot = f & this.mask;
      const tag = (f >>> 16) | 1;
      // The pair's own earlier sighting cannot exist (rows are distinct), so a match is another pair.
      if (shapes[slot] === tag) hit = true;
      shapes[slot] = tag;
    }
    const at = st.head * width;
    for (let j = 0; j < width; j++) rows[at + j] = scaled[j]!;
    grained[st.head] = onGrain ? 1 : 0;
    st.head = st.head + 1 === recent ? 0 : st.head + 1;
    if (st.filled < recent) st.filled++;
    return st.hits.push(hit && judged) / this.alarmCount;
  }
}
