import { binomialAlarmCount } from './binomial-threshold.js';
import type { FeatureGrain, GrainFlagged } from './feature-grain.js';
import { OBJECT_OVERHEAD, TYPED_ARRAY_OVERHEAD } from './heap-cost.js';
import { Xoshiro128 } from './prng.js';
import { fmix, mix } from './row-hash.js';
import { WindowCount } from './window-count.js';

/** The lineage detector's index in DETECTORS. */
export const LINEAGE = 8;

/** Rows wider than this get no lineage detector (sparse steps in wide rows are the fingerprints' business). */
export const LINEAGE_MAX_WIDTH = 16;

/** Hash tables over the account's history, each giving one candidate ancestor per row. */
const TABLES = 2;
/** Random projections whose quantised values make one table's cell. */
const PROJECTIONS = 2;
/** Cell width along each projection, in the features' benign standard deviations. */
const CELL_WIDTH = 0.5;
/** Steps remembered per account; a new one replaces the one that has explained the fewest rows. */
const STEPS = 4;
/** A relative differs from the row by at most this many steps in every feature (a cloud grown by a few rounds). */
const MAX_MULTIPLE = 8;
/** Pair shapes are compared in units of 2⁻¹⁰ σ: far above float32 storage error (~10⁻⁶ σ), far below any step. */
const QUANTUM = 1024;
/** A step moves every feature by at least this (σ), so a pair of noisy copies of one row is no step. */
const MIN_STEP = 1 / 128;
/**
 * A step moves every feature by at most this (σ): steps of sign-gradient attacks are small by
 * design (the seed's neighbourhood), while a pair of natural rows that differs in a binary or
 * categorical feature moves it by about 2 σ, so such pairs never teach a step.
 */
const MAX_STEP = 0.5;
/** A coset coordinate is kept to 1/COSET_BINS of twice the step. */
const COSET_BINS = 64;

/**
 * Table sizes per account, all from the history's length (powers of two, direct-mapped): a cell
 * per history row in each hash table, two pair shapes per row (a row is paired with at most one
 * candidate per table), and a coset entry per row under each of the STEPS steps.
 */
function tableSizes(history: number): { readonly cells: number; readonly shapes: number; readonly cosets: number } {
  const rows = 1 << Math.ceil(Math.log2(history));
  return { cells: rows, shapes: 2 * rows, cosets: 4 * rows };
}

export interface LineageOptions {
  /** Features per row (at most LINEAGE_MAX_WIDTH). */
  readonly width: number;
  /** Distinct rows of the account kept to find a step taken twice (the parent must be among them). */
  readonly history: number;
  readonly window: number;
  /** Assumed benign share of rows with a lineage (the floor's rate). */
  readonly benignRate: number;
  readonly alpha: number;
  readonly seed: number;
}

/** One account's lineage state: its recent rows, where they fall, the steps it has shown. */
export class LineageState implements GrainFlagged {
  /** The last `history` distinct rows (float32, in benign σ units), a ring. */
  readonly rows: Float32Array;
  /** Per history row: 1 when it lay on the data's grain (a possible real row, see FeatureGrain). */
  readonly grained: Uint8Array;
  /** Per table and cell, the number (+1, mod 2¹⁶) of the latest row that fell there; 0: empty. */
  readonly cells: Uint16Array;
  /** Hashes of pair shapes seen (direct-mapped; 0: empty). */
  readonly shapes: Int32Array;
  /** Learned steps (per-feature magnitudes, σ), STEPS of them. */
  readonly steps: Float32Array;
  /** Per step slot: rows it has explained (saturating), and its generation (keys of a replaced step never match). */
  readonly uses = new Uint16Array(STEPS);
  readonly generations = new Uint16Array(STEPS);
  /** Per coset slot: a 16-bit tag of the coset and the number (mod 2¹⁶) of the latest row in it; 0: empty. */
  readonly cosets: Uint32Array;
  learned = 0;
  /** The FeatureGrain generation the `grained` flags were set under. */
  grainGeneration = 0;
  readonly hits: WindowCount;
  /** Distinct rows seen. */
  n = 0;

  constructor(o: LineageOptions) {
    const size = tableSizes(o.history);
    this.rows = new Float32Array(o.history * o.width);
    this.grained = new Uint8Array(o.history);
    this.cells = new Uint16Array(TABLES * size.cells);
    this.shapes = new Int32Array(size.shapes);
    this.cosets = new Uint32Array(size.cosets);
    this.steps = new Float32Array(STEPS * o.width);
    this.hits = new WindowCount(o.window);
  }

  get bytes(): number {
    return (
      this.rows.byteLength +
      this.grained.byteLength +
      this.cells.byteLength +
      this.shapes.byteLength +
      this.steps.byteLength +
      this.uses.byteLength +
      this.generations.byteLength +
      this.cosets.byteLength +
      8 * TYPED_ARRAY_OVERHEAD +
      this.hits.bytes +
      OBJECT_OVERHEAD
    );
  }
}

/**
 * Detector "lineage": rows descended from the account's own earlier rows by sign steps.
 * Jacobian-based augmentation (Papernot et al., AsiaCCS 2017: x' = x + λ·sign(∇)) and PRADA's
 * T-RND (Juuti et al., EuroS&P 2019) grow their query set from seeds by steps that move every
 * feature by ±λ (a sign vector, FGSM's step: Goodfellow et al., ICLR 2015). A row and its parent
 * then differ by exactly the step's magnitudes, the same shape for every parent–child pair, and
 * all rows grown from one seed lie on the lattice seed + λ∘k (k an integer vector whose entries
 * share one parity). Natural rows, noisy copies of one row included, differ by continuous
 * amounts: a pair of them never repeats a whole shape in which every feature moved.
 *
 * Learning the step: the parent can be far back (a round of augmentation queries every row so
 * far before the next), and real rows interleaved push it further, so each row is looked up in
 * `TABLES` locality-sensitive hash tables over the account's last `history` rows (E2LSH:
 * quantised random projections, Datar, Immorlica, Indyk and Mirrokni, SoCG 2004), each giving
 * the latest earlier row in the row's cell. A pair whose every feature moved by MIN_STEP to
 * MAX_STEP is hashed by its shape; a shape met again from another pair is a step the account
 * took twice, learned as the account's step.
 *
 * Recognising descendants: under a learned step λ, a row's coset (each feature modulo 2λ, kept
 * to 1/COSET_BINS) is the same for every row of one seed's cloud at even depth, and shifted by λ
 * at odd depth. A row is a hit when its coset or its shifted coset was an earlier row's, or when
 * its pair repeats a shape: O(width) per learned step, however far back the relative is and
 * however many real rows are interleaved. The hit rate over the window is judged like the other
 * windowed signals, and the model's population calibration sets its benign base rate (data on a
 * grid, or a replayed series, can repeat a small shape).
 */
export class LineageDetector {
  readonly alarmCount: number;
  /** Unit projection directions, TABLES × PROJECTIONS rows of `width`, and their random offsets. */
  private readonly directions: Float64Array;
  private readonly offsets: Float64Array;
  /** Scratch: one pair's difference (the detector serves one thread). */
  private readonly diff: Float64Array;
  private readonly back: Float64Array;
  private readonly slots = new Int32Array(TABLES);
  /** Whether the row being observed lies on the data's grain. */
  private onGrain = false;
  /** Cells per hash table. */
  private readonly cells: number;

  constructor(readonly o: LineageOptions) {
    if (o.width > LINEAGE_MAX_WIDTH) throw new RangeError(`lineage: at most ${LINEAGE_MAX_WIDTH} features`);
    if (o.history < 2 || o.history > 0x8000) throw new RangeError('lineage: history must be 2..32768');
    this.alarmCount = binomialAlarmCount(o.window, o.benignRate, o.alpha);
    this.cells = tableSizes(o.history).cells;
    const rng = new Xoshiro128(o.seed ^ 0x3c6ef372);
    const w = o.width;
    this.directions = new Float64Array(TABLES * PROJECTIONS * w);
    this.offsets = new Float64Array(TABLES * PROJECTIONS);
    for (let p = 0; p < TABLES * PROJECTIONS; p++) {
      let norm = 0;
      for (let j = 0; j < w; j++) {
        const g = rng.normal();
        this.directions[p * w + j] = g;
        norm += g * g;
      }
      norm = Math.sqrt(norm) || 1;
      for (let j = 0; j < w; j++) this.directions[p * w + j]! /= norm;
      this.offsets[p] = rng.next();
    }
    this.diff = new Float64Array(w);
    this.back = new Float64Array(w);
  }

  createState(): LineageState {
    return new LineageState(this.o);
  }

  /**
   * Judges the history's rows again under the model's grain when it has changed since they were
   * judged (single-precision rows: a slack of 10⁻³ grain), on the features that hold one
   * (FeatureGrain.onGridded: a step moves every feature, so it leaves the grain of any feature
   * that has one). Steps learned from pairs of real rows before then stay, but such pairs no
   * longer count as relatives.
   */
  regrain(st: LineageState, grain: FeatureGrain): void {
    grain.reflag(st, st.rows, Math.min(st.n, this.o.history), 1e-3, true);
  }

  /**
   * Feeds one distinct row on the benign scale (z-scores); `onGrain`: the row lies on the data's
   * recorded resolution in every feature that has one (FeatureGrain.onGridded). Two such rows are no parent and child: on data recorded
   * in whole units their differences repeat by the data's nature. `judged` false (the grain not
   * yet known): the row is filed and may teach a step, but counts no hit. Returns the score (≥ 1 is
   * an alarm).
   */
  observe(st: LineageState, scaled: Float64Array, onGrain = false, judged = true): number {
    this.onGrain = onGrain;
    let hit = this.descends(st, scaled);
    if (this.learn(st, scaled)) hit = true;
    return st.hits.push(hit && judged) / this.alarmCount;
  }

  /** Whether the row shares a coset with an earlier row under a learned step; files its own cosets. */
  private descends(st: LineageState, scaled: Float64Array): boolean {
    const known = Math.min(st.learned, STEPS);
    let hit = false;
    for (let s = 0; s < known; s++)
      if (this.cosetsOf(st, s, scaled, st.n, false)) {
        hit = true;
        if (st.uses[s]! < 0xffff) st.uses[s]!++;
      }
    return hit;
  }

  /**
   * Finds the row's latest neighbours in the history's hash tables and hashes each pair's shape;
   * a shape met before from another pair is learned as a step (and the row is a hit). Then files
   * the row in the history.
   */
  private learn(st: LineageState, scaled: Float64Array): boolean {
    const { width, history } = this.o;
    const rows = st.rows;
    const n = st.n;
    let hit = false;
    for (let t = 0; t < TABLES; t++) {
      let h = 0x1b873593 ^ t;
      for (let q = 0; q < PROJECTIONS; q++) {
        const p = t * PROJECTIONS + q;
        const base = p * width;
        let v = 0;
        for (let j = 0; j < width; j++) v += scaled[j]! * this.directions[base + j]!;
        h = mix(h, Math.floor(v / CELL_WIDTH + this.offsets[p]!) | 0);
      }
      const slot = t * this.cells + (fmix(h) & (this.cells - 1));
      this.slots[t] = slot;
      const mark = st.cells[slot]!;
      if (mark === 0 || hit) continue;
      const back = (n - (mark - 1)) & 0xffff;
      if (back < 1 || back > history || back > n) continue;
      // Both tables may name the same row: it is judged once.
      if (t > 0 && st.cells[this.slots[0]!] === mark) continue;
      // Only a pair in which every feature moved by a step's size can show a step: most pairs
      // are rejected at their first feature.
      const earlier = (n - back) % history;
      if (this.onGrain && st.grained[earlier] === 1) continue;
      const at = earlier * width;
      let j = 0;
      for (; j < width; j++) {
        const d = Math.abs(scaled[j]! - rows[at + j]!);
        if (!(d >= MIN_STEP && d <= MAX_STEP)) break;
        this.diff[j] = d;
      }
      if (j === width) hit = this.repeatsShape(st, scaled);
    }
    for (let t = 0; t < TABLES; t++) st.cells[this.slots[t]!] = ((n & 0xffff) + 1) & 0xffff || 1;
    const at = (n % history) * width;
    for (let j = 0; j < width; j++) rows[at + j] = scaled[j]!;
    st.grained[n % history] = this.onGrain ? 1 : 0;
    st.n = n + 1;
    return hit;
  }

  /** Hashes the pair's shape (every feature moved by a step's size); a shape met before from another pair is learned. */
  private repeatsShape(st: LineageState, scaled: Float64Array): boolean {
    const width = this.o.width;
    const d = this.diff;
    let h = 0x2f1b3c4d;
    for (let j = 0; j < width; j++) h = mix(h, (d[j]! * QUANTUM + 0.5) | 0);
    h = fmix(h) | 1;
    const slot = h & (st.shapes.length - 1);
    if (st.shapes[slot] !== h) {
      st.shapes[slot] = h;
      return false;
    }
    // A pair on the lattice of a step already learned (a grandparent, an uncle) is no new step.
    const known = Math.min(st.learned, STEPS);
    for (let s = 0; s < known; s++) if (this.onLattice(st, s)) return true;
    let to = known < STEPS ? known : 0;
    if (known === STEPS) for (let s = 1; s < STEPS; s++) if (st.uses[s]! < st.uses[to]!) to = s;
    for (let j = 0; j < width; j++) st.steps[to * width + j] = d[j]!;
    st.uses[to] = 1;
    st.generations[to]!++;
    st.learned++;
    // The rows already seen are filed under the new step too: a seed and the rows grown from it
    // before the step was learned are the relatives of what comes next.
    const { history } = this.o;
    const back = this.back;
    for (let r = Math.max(0, st.n - history); r < st.n; r++) {
      const at = (r % history) * width;
      for (let j = 0; j < width; j++) back[j] = st.rows[at + j]!;
      this.cosetsOf(st, to, back, r, true);
    }
    this.cosetsOf(st, to, scaled, st.n, true);
    return true;
  }

  /** The pair's difference is an integer multiple of step `s` in every feature, all of one parity. */
  private onLattice(st: LineageState, s: number): boolean {
    const width = this.o.width;
    let parity = -1;
    for (let j = 0; j < width; j++) {
      const c = st.steps[s * width + j]!;
      const k = Math.round(this.diff[j]! / c);
      if (Math.abs(this.diff[j]! - k * c) > c / COSET_BINS) return false;
      if (parity < 0) parity = k & 1;
      else if ((k & 1) !== parity) return false;
    }
    return true;
  }

  /**
   * Whether the latest earlier row in the row's coset, or in its coset shifted by the step, under
   * step `s` is a near relative (still in the history, within MAX_MULTIPLE steps in every
   * feature); files the row as the latest of its own coset.
   */
  private cosetsOf(st: LineageState, s: number, row: ArrayLike<number>, number: number, fileOnly: boolean): boolean {
    const width = this.o.width;
    const base = s * width;
    let even = mix(0x5bd1e995, st.generations[s]! * STEPS + s);
    let odd = even;
    for (let j = 0; j < width; j++) {
      const c = st.steps[base + j]!;
      const v = row[j]!;
      even = mix(even, coset(v, c));
      if (!fileOnly) odd = mix(odd, coset(v + c, c));
    }
    even = fmix(even);
    const mask = st.cosets.length - 1;
    const e = even & mask;
    const hit =
      !fileOnly &&
      (this.relative(st, s, row, e, even, number) || this.relative(st, s, row, fmix(odd) & mask, fmix(odd), number));
    st.cosets[e] = ((((even >>> 16) | 1) << 16) | (number & 0xffff)) >>> 0;
    return hit;
  }

  /** The row filed in coset slot `slot` under `key`'s tag is in the history and within MAX_MULTIPLE steps of `row`. */
  private relative(
    st: LineageState,
    s: number,
    row: ArrayLike<number>,
    slot: number,
    key: number,
    number: number,
  ): boolean {
    const entry = st.cosets[slot]!;
    if (entry >>> 16 !== ((key >>> 16) | 1)) return false;
    const back = (number - entry) & 0xffff;
    const { width, history } = this.o;
    if (back < 1 || back > history || back > number) return false;
    const earlier = (number - back) % history;
    if (this.onGrain && st.grained[earlier] === 1) return false;
    const at = earlier * width;
    for (let j = 0; j < width; j++)
      if (Math.abs(row[j]! - st.rows[at + j]!) > MAX_MULTIPLE * st.steps[s * width + j]!) return false;
    return true;
  }
}

/** The bin of `v` modulo 2c, in 1/COSET_BINS of the period. */
function coset(v: number, c: number): number {
  const period = 2 * c;
  const r = v - period * Math.floor(v / period);
  return Math.floor((r / period) * COSET_BINS);
}
