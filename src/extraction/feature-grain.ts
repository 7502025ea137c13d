import { OBJECT_OVERHEAD, TYPED_ARRAY_OVERHEAD } from './heap-cost.js';

/** A grain finer than this (in the feature's benign σ) is no grain: such data behaves as continuous for the pair detectors. */
export const MIN_GRAIN = 1 / 1024;
/** Values one account may lend to the model's grain (its first distinct rows). */
export const GRAIN_ROWS_PER_ACCOUNT = 16;
/** Lent values on the grain needed before it is used. */
const MIN_ON = 32;
/**
 * Rows lent before the question is settled without a grain (continuous data): until then, or until
 * the grain is in use, pairs of rows cannot be told from the data's resolution and the pair
 * detectors count no hits. While it is open, one account may lend this many (the model's first
 * account decides it alone: its first 64 distinct rows).
 */
const DECIDE_ROWS = 4 * GRAIN_ROWS_PER_ACCOUNT;
/** The grain is used while at least this share of lent values lie on it (benign noisy rows lie off it). */
const MIN_SHARE = 0.25;
/**
 * A finer grain (a divisor of the one held) is taken once this many lent values needed it, and
 * at least REFINE_SHARE of those on the grain: more than one account's rows, so no account can
 * refine the grain to one its own synthetic rows would then lie on.
 */
const REFINE_MIN = 2 * GRAIN_ROWS_PER_ACCOUNT;
const REFINE_SHARE = 0.05;
/** How close to a multiple of the grain a difference must be, in grains (float64 rounding is ~10⁻¹² of a grain here). */
const TOLERANCE = 1e-6;

/**
 * The resolution each feature of a model's data is recorded at (whole metres, tenths of a
 * millimetre, 25 g), learned from the rows of accounts in good standing. Readings of a sensor, a
 * survey's integer answers or prices in cents lie on a lattice, so two pairs of natural rows
 * often differ by exactly the same amounts: the pair detectors' premise that "natural rows
 * differ by continuous amounts" (step shapes and lineage) fails, and the model's calibration
 * then quiets them. A row whose every feature lies on its feature's grain is a possible real row;
 * a pair of two such rows is explained by the data's own resolution and shows no step. Steps of
 * a fixed size λ·sign(·) (Papernot et al., AsiaCCS 2017; PRADA's T-RND) leave the grain, so
 * their pairs still count.
 *
 * Per feature: a reference value, the grain so far (the approximate greatest common divisor of
 * the lent values' differences from it, by Euclid's algorithm with a tolerance), and counts of
 * lent values on and off it. A value whose difference would take the grain below MIN_GRAIN is off
 * the grain (noisy rows, attack rows) and changes nothing but the count; a finer grain that
 * values need is taken only once many of them did (REFINE_MIN). A grain with too few values on
 * it, or a reference that most values disagree with, is dropped and learned again. One account
 * lends at most GRAIN_ROWS_PER_ACCOUNT rows once the grain is decided, so moving it takes many
 * accounts; the model's first accounts decide it (a fresh model's grain is only as good as they are).
 * An attacker who steps exactly on the data's grain is not seen by the pair detectors this way
 * (its steps look like the data's resolution); the geometry and PRADA signals remain.
 */
/** A pair detector's per-account memory of which remembered rows lay on the grain, and under which generation of it. */
export interface GrainFlagged {
  readonly grained: Uint8Array;
  grainGeneration: number;
}

export class FeatureGrain {
  /** Per feature (benign σ units): reference value, grain (0: none yet), values on and off it. */
  private readonly ref: Float64Array;
  private readonly grain: Float64Array;
  private readonly on: Float64Array;
  private readonly off: Float64Array;
  /** Per feature, a finer grain some lent values need (0: none) and how many did. */
  private readonly finer: Float64Array;
  private readonly support: Float64Array;
  /** Per feature, the grain in use (0 with `active`: the feature has held one value so far). */
  readonly inUse: Float64Array;
  /** Per feature, 1 while a grain is held (inUse, 0 included): the feature's values are recorded at a resolution. */
  private readonly held: Uint8Array;
  /** Features holding a grain. */
  private gridded = 0;
  /** Whether every feature has a grain in use (otherwise no row is on the grain). */
  active = false;
  /** Changes whenever the grain in use does: rows judged under an older one are judged again. */
  generation = 0;
  /** Rows lent so far. */
  lent = 0;

  constructor(readonly width: number) {
    this.ref = new Float64Array(width).fill(Number.NaN);
    this.grain = new Float64Array(width);
    this.on = new Float64Array(width);
    this.off = new Float64Array(width);
    this.finer = new Float64Array(width);
    this.support = new Float64Array(width);
    this.inUse = new Float64Array(width);
    this.held = new Uint8Array(width);
  }

  get bytes(): number {
    return 7 * (this.width * 8 + TYPED_ARRAY_OVERHEAD) + this.width + TYPED_ARRAY_OVERHEAD + OBJECT_OVERHEAD;
  }

  /** One row (benign σ units) of an account in good standing. */
  lend(scaled: ArrayLike<number>): void {
    this.lent++;
    let all = true;
    let changed = false;
    for (let j = 0; j < this.width; j++) {
      this.learn(j, scaled[j]!);
      const ok = this.on[j]! >= MIN_ON && this.on[j]! >= MIN_SHARE * (this.on[j]! + this.off[j]!);
      const use = ok ? this.grain[j]! : 0;
      if (use !== this.inUse[j] || (ok ? 1 : 0) !== this.held[j]) changed = true;
      this.inUse[j] = use;
      this.gridded += (ok ? 1 : 0) - this.held[j]!;
      this.held[j] = ok ? 1 : 0;
      if (!ok) all = false;
    }
    if (all !== this.active) changed = true;
    this.active = all;
    if (changed) this.generation = (this.generation + 1) | 0;
  }

  private learn(j: number, v: number): void {
    const ref = this.ref[j]!;
    if (!(ref === ref)) {
      this.ref[j] = v;
      this.on[j]!++;
      return;
    }
    const d = Math.abs(v - ref);
    const g = this.grain[j]!;
    // A repeat of the reference lies on every grain.
    if (d === 0 || (g > 0 && onMultiple(d, g))) this.on[j]!++;
    else if (g === 0) {
      // The first difference is the grain until values need a finer one.
      if (d >= MIN_GRAIN) {
        this.grain[j] = d;
        this.on[j]!++;
      } else this.off[j]!++;
    } else {
      // Off the grain: on a finer one (counted apart until enough values need it) or on none.
      const c = gcd(g, d);
      const f = this.finer[j]!;
      const next = c === 0 ? 0 : f === 0 ? c : gcd(f, c);
      if (next >= MIN_GRAIN) {
        this.finer[j] = next;
        const k = ++this.support[j]!;
        if (k >= REFINE_MIN && k >= REFINE_SHARE * this.on[j]!) {
          this.grain[j] = next;
          this.on[j]! += k;
          this.finer[j] = 0;
          this.support[j] = 0;
        }
      } else this.off[j]!++;
    }
    // A reference off the grain (a noisy row lent first) agrees with almost nothing: start again from this value.
    if (this.off[j]! >= 32 && 4 * this.on[j]! < this.off[j]!) {
      this.ref[j] = v;
      this.grain[j] = 0;
      this.on[j] = 1;
      this.off[j] = 0;
      this.finer[j] = 0;
      this.support[j] = 0;
    }
  }

  /** Whether the pair detectors may judge: the grain is in use, or enough rows were lent to know there is none. */
  get decided(): boolean {
    return this.active || this.lent >= DECIDE_ROWS;
  }

  /** Whether an account in good standing lends its row numbered `distinct` (from 1). */
  takes(distinct: number): boolean {
    return distinct <= (this.decided ? GRAIN_ROWS_PER_ACCOUNT : DECIDE_ROWS);
  }

  /**
   * Flags again, when the grain in use changed since `st` was flagged, each of the `count` rows
   * stored side by side in `rows` (`width` values each): 1 on the grain. `slack` as in onGrainAt.
   * The pair detectors' remembered rows: an account that started before the grain was known would
   * otherwise keep pairing its earliest real rows as if they were steps.
   */
  reflag(st: GrainFlagged, rows: ArrayLike<number>, count: number, slack: number, griddedOnly = false): void {
    if (st.grainGeneration === this.generation) return;
    st.grainGeneration = this.generation;
    for (let r = 0; r < count; r++)
      st.grained[r] = (
        griddedOnly ? this.onGriddedAt(rows, r * this.width, slack) : this.onGrainAt(rows, r * this.width, slack)
      )
        ? 1
        : 0;
  }

  /** Whether every feature of the row (benign σ units) lies on its grain: a row the data's resolution allows. */
  onGrain(scaled: ArrayLike<number>): boolean {
    return this.onGrainAt(scaled, 0, 0);
  }

  /**
   * Whether every feature recorded at a grain lies on it, once the grain is decided and some
   * feature holds one; features without one (recorded finer than MIN_GRAIN: a daily count of
   * thousands, whose σ is thousands of units) are left out. Data of whole years, months and days
   * beside a count of births has no grain in every feature, so `onGrain` calls no row real and
   * every pair of real rows a possible step; this rule still tells them. Only for a detector whose
   * steps move every feature (lineage): one that judges sparse steps would miss steps taken in the
   * continuous features alone.
   */
  onGridded(scaled: ArrayLike<number>): boolean {
    return this.onGriddedAt(scaled, 0, 0);
  }

  /** The same for the row stored at `values[at, at + width)`; `slack` as in onGrainAt. */
  onGriddedAt(values: ArrayLike<number>, at: number, slack: number): boolean {
    if (this.gridded === 0 || !this.decided) return false;
    for (let j = 0; j < this.width; j++)
      if (this.held[j] === 1 && !this.onFeatureGrain(j, values[at + j]!, slack)) return false;
    return true;
  }

  /** Features recorded at a grain, those `onGridded` judges (0 until the grain is decided). */
  get griddedFeatures(): number {
    return this.decided ? this.gridded : 0;
  }

  /**
   * Of the features recorded at a grain, how many the row (benign σ units) lies on (`onGridded`:
   * all of them). A real row lies on every one; a row perturbed by continuous noise leaves every
   * one; a real row that an incomplete grain misjudges leaves one or two.
   */
  featuresOnGrid(scaled: ArrayLike<number>): number {
    if (this.griddedFeatures === 0) return 0;
    let n = 0;
    for (let j = 0; j < this.width; j++) if (this.held[j] === 1 && this.onFeatureGrain(j, scaled[j]!, 0)) n++;
    return n;
  }

  /** Whether value `v` of feature `j` lies on the feature's grain (its reference itself lies on every grain). */
  private onFeatureGrain(j: number, v: number, slack: number): boolean {
    const d = Math.abs(v - this.ref[j]!);
    const g = this.inUse[j]!;
    return d === 0 || (g > 0 && onMultiple(d, g, slack));
  }

  /**
   * The same for the row stored at `values[at, at + width)`; `slack` (in grains) allows for a row
   * kept in single precision (rounding of ~10⁻⁷ σ: at most 10⁻³ of a grain of MIN_GRAIN or more
   * for rows within 16 σ).
   */
  onGrainAt(values: ArrayLike<number>, at: number, slack: number): boolean {
    if (!this.active) return false;
    for (let j = 0; j < this.width; j++) {
      const d = Math.abs(values[at + j]! - this.ref[j]!);
      const g = this.inUse[j]!;
      if (d !== 0 && !(g > 0 && onMultiple(d, g, slack))) return false;
    }
    return true;
  }
}

/** `d` is within TOLERANCE grains (relative to the multiple) plus `slack` grains of a multiple of `g`. */
function onMultiple(d: number, g: number, slack = 0): boolean {
  const u = d / g;
  // round(u) as trunc(u + ½) for 0 ≤ u < 2³⁰ (Math.round costs several times more on Node 24);
  // a difference of 2³⁰ grains or more is on no grain worth keeping.
  if (!(u < 0x40000000)) return false;
  return Math.abs(u - ((u + 0.5) | 0)) <= TOLERANCE * Math.max(1, u) + slack;
}

/**
 * Euclid's algorithm on non-negative reals, stopped once the remainder is a multiple within
 * tolerance; 0 once the divisor falls below MIN_GRAIN (the two values share no grain worth one).
 */
function gcd(a: number, b: number): number {
  if (a < b) [a, b] = [b, a];
  while (b >= MIN_GRAIN) {
    if (onMultiple(a, b)) return b;
    const r = Math.abs(a - b * Math.round(a / b));
    a = b;
    b = r;
  }
  return 0;
}
