import { binomialAlarmCount } from './binomial-threshold.js';
import { adjustedCount, NOVELTY_SIGNAL, type ClassBaseRates } from './class-base-rates.js';
import { OBJECT_OVERHEAD, TYPED_ARRAY_OVERHEAD } from './heap-cost.js';
import { Xoshiro128 } from './prng.js';
import { WindowCount } from './window-count.js';

/** The novelty detector's index in DETECTORS. */
export const NOVELTY = 7;

/** Reference rows a far row is compared with at most (nearest along the projection first): bounds a far row's cost. */
export const NOVELTY_SCAN = 96;
/** Slots of the near-certificate grid's count table (a power of two). */
const CERT_TABLE = 1 << 13;

/** Models wider than this (after projection) get no novelty detector: its cost grows with the width. */
export const NOVELTY_MAX_DIMS = 32;

export interface NoveltyOptions {
  readonly dims: number;
  /** Rows kept in the model's reference sample of its benign population. */
  readonly reference: number;
  /** Rows the reference needs before rows are judged. */
  readonly minReference: number;
  /** A row is near the population when at least this many reference rows are within the radius. */
  readonly neighbours: number;
  /** The radius: this quantile of the reference rows' own distance to their `neighbours`-th nearest other row. */
  readonly quantile: number;
  readonly window: number;
  /** Assumed benign share of rows beyond the radius (the floor's rate). */
  readonly benignRate: number;
  readonly alpha: number;
  /** An account offers one of its scored rows number `from` … `from + spread − 1` (picked per account), then one per further `spread` rows. */
  readonly offerFrom: number;
  readonly offerSpread: number;
  /** Rows one account may lend to the reference over its life. */
  readonly offerCap: number;
  readonly seed: number;
  /** Runs a rebuild's slices: `inlineSlices` (at once, in the offering call) or `deferredSlices` (between requests). */
  readonly slices: SliceScheduler;
}

/** Runs `slice` until it returns false (no slice left). */
export type SliceScheduler = (slice: () => boolean) => void;

/** Every slice at once, inside the call that started the work. */
export const inlineSlices: SliceScheduler = (slice) => {
  while (slice());
};

/**
 * One slice per turn of the event loop (`setImmediate` runs after the I/O callbacks of a turn:
 * https://nodejs.org/en/learn/asynchronous-work/event-loop-timers-and-nexttick), so requests
 * arriving meanwhile are served between slices instead of waiting for the whole rebuild.
 */
export const deferredSlices: SliceScheduler = (slice) => {
  const next = (): void => {
    if (slice()) setImmediate(next);
  };
  setImmediate(next);
};

/** Multiply-adds of a rebuild between two yields: well under a millisecond of one core. */
const SLICE_WORK = 1 << 16;

/** One account's novelty state: its window of far rows and the row it will offer to the reference. */
export class NoveltyState {
  readonly far: WindowCount;
  /** Rows this account has offered (or skipped while flagged). */
  offers = 0;
  /** Whether the last row observed was far from the population; undefined while no reference was in force. */
  lastFar: boolean | undefined = undefined;
  /** The far count as judged (the larger of the window's and the rows apart's): adjusted for the window's classes once their rates are in force, else raw. */
  judged = 0;

  constructor(
    window: number,
    /** The scored-row number whose row this account offers next. */
    public offerAt: number,
  ) {
    this.far = new WindowCount(window);
  }

  get bytes(): number {
    return this.far.bytes + OBJECT_OVERHEAD;
  }
}

/**
 * Off-manifold (novelty) detection from the model's own traffic: the share of an account's rows
 * that lie far from every row of the model's benign population, where "far" means fewer than
 * `neighbours` rows of a bounded reference sample within a radius the sample sets itself (the
 * `quantile` of its own rows' leave-one-out distance to their `neighbours`-th nearest, a k-NN
 * novelty score as in Ramaswamy, Rastogi and Shim, SIGMOD 2000, thresholded at the population's
 * own quantile). A per-feature signal (the envelope) cannot see a row whose every feature is in
 * range but whose combination is not (a season's sine and cosine off the unit circle, a
 * last-month value that does not follow the year); distances to real rows can, curves included,
 * where a Mahalanobis distance on the population covariance is blind to curvature.
 *
 * The reference is a reservoir sample (Vitter's algorithm R) of at most `offerCap` rows per
 * account, offered at scored-row numbers drawn per account and only while the account is in no
 * alarm and has never been flagged. With `neighbours` ≥ 2 a lone poisoned row cannot make its
 * spot near; one account can make at most `offerCap` / `neighbours` balls of the radius near,
 * against the volume a uniform or synthetic attack spreads over (a Sybil group, proportionally more).
 *
 * A row costs, first, one hashed lookup in a grid whose cells have the radius as diagonal (two
 * reference rows in the row's cell, on one of two grids shifted by half a cell, certify "near" without a distance), then a scan of the
 * reference sorted along its first principal direction, only over the slab of width 2·radius
 * around the row's projection, nearest first, with partial distances abandoned once past the
 * radius, stopped at the `neighbours`-th hit or after NOVELTY_SCAN rows (then the row is far: a
 * far row's cost is bounded, and a benign row whose neighbours hide that deep is rare).
 */
export class NoveltyDetector {
  readonly alarmCount: number;
  /** Reference rows, sorted by projection once `rebuild` has run (row-major, `dims` wide). */
  private rows: Float64Array;
  /** Rows in arrival order, where reservoir replacement writes. */
  private readonly pool: Float64Array;
  private keys: Float64Array;
  private axis: Float64Array;
  private readonly scratch: Float64Array;
  private readonly rng: Xoshiro128;
  /** Rows in the reference. */
  size = 0;
  /** Rows ever offered (the reservoir's n). */
  offered = 0;
  /** The radius in force (squared), or Infinity until the reference is ready. */
  private radius2 = Number.POSITIVE_INFINITY;
  private sortedSize = 0;
  private changes = 0;
  private seeds: number;
  /**
   * Reference rows per hashed cell of a grid whose cells have diagonal = the radius: two rows in
   * a row's cell are within the radius of it, a certificate of "near" without any distance.
   */
  private cert: Uint16Array = new Uint16Array(2 * CERT_TABLE);
  /**
   * What a rebuild writes (the next reference, swapped with the one in force at its end) and
   * reads (its copy of the pool, the projections): allocated once, so a rebuild leaves no garbage.
   */
  private spare: { rows: Float64Array; keys: Float64Array; axis: Float64Array; cert: Uint16Array };
  private readonly snapshot: Float64Array;
  private readonly proj: Float64Array;
  private certInverse = 0;
  /** The rebuild under way (its remaining slices), if any. */
  private build: Generator<void, void, void> | undefined;

  constructor(readonly o: NoveltyOptions) {
    this.alarmCount = binomialAlarmCount(o.window, o.benignRate, o.alpha);
    this.pool = new Float64Array(o.reference * o.dims);
    this.rows = new Float64Array(o.reference * o.dims);
    this.keys = new Float64Array(o.reference);
    this.axis = new Float64Array(o.dims);
    this.scratch = new Float64Array(o.reference);
    this.spare = {
      rows: new Float64Array(o.reference * o.dims),
      keys: new Float64Array(o.reference),
      axis: new Float64Array(o.dims),
      cert: new Uint16Array(2 * CERT_TABLE),
    };
    this.snapshot = new Float64Array(o.reference * o.dims);
    this.proj = new Float64Array(o.reference);
    this.rng = new Xoshiro128(o.seed ^ 0x5bd1e995);
    this.seeds = o.seed;
  }

  /** The radius in force (a distance in the normalised unit), NaN until the reference is ready. */
  get radius(): number {
    return this.ready ? Math.sqrt(this.radius2) : Number.NaN;
  }

  get ready(): boolean {
    return this.sortedSize >= this.o.minReference;
  }

  /**
   * The model's bytes: the pool, the reference in force and the spare one a rebuild writes (rows,
   * keys, certificate counts), the rebuild's copy of the pool, its projections, their order and
   * the leave-one-out scratch.
   */
  get bytes(): number {
    return (
      4 * this.pool.byteLength +
      5 * this.scratch.byteLength +
      2 * this.cert.byteLength +
      12 * TYPED_ARRAY_OVERHEAD +
      OBJECT_OVERHEAD
    );
  }

  createState(): NoveltyState {
    this.seeds = (Math.imul(this.seeds, 1103515245) + 12345) | 0;
    return new NoveltyState(this.o.window, this.o.offerFrom + ((this.seeds >>> 8) % this.o.offerSpread));
  }

  /**
   * Feeds one scored row `z` (the `scored`-th of the account); returns the floor-relative score.
   * A far row that `continued` the account's own path beyond the envelope (a series replayed in
   * order through its rare stretch: the geometry detector's `continues`) is not counted in the
   * window, though `lastFar` still says it is far (the envelope tells its exits apart by it).
   */
  observe(st: NoveltyState, z: Float64Array, continued = false): number {
    if (!this.ready) {
      st.lastFar = undefined;
      return st.far.push(false) / this.alarmCount;
    }
    const far = this.isFar(z);
    st.lastFar = far;
    return st.far.push(far && !continued) / this.alarmCount;
  }

  /**
   * Sets the account's far count as judged (`st.judged`): the larger of the window's count and
   * the count over its rows apart (`apart`, see ApartWindows), each against the far-row rates of
   * the classes of the window's rows (`classes`, rows per class slot; the rows apart are taken to
   * be of the same classes, as their windows keep none) when every row of the window was judged
   * with a reference (`wholeWindow`) and those rates are in force, else raw. A user of one class
   * at the edge of the data (the strongest earthquakes, the rarest births) is so held to that
   * class's share of far rows rather than the population's.
   */
  judge(
    st: NoveltyState,
    apart: number | undefined,
    classes: Uint16Array,
    wholeWindow: boolean,
    rates: ClassBaseRates | undefined,
  ): number {
    const hits = apart === undefined || apart < st.far.count ? st.far.count : apart;
    st.judged =
      rates && wholeWindow && rates.ready[NOVELTY_SIGNAL]
        ? adjustedCount(classes, 0, hits, rates.rates[NOVELTY_SIGNAL]!, rates.pooled[NOVELTY_SIGNAL]!)
        : hits;
    return st.judged;
  }

  /**
   * Offers the account's current row to the reference when it is the account's pick and the
   * account has never been flagged (`clean`). Call after `observe`, with the same row.
   */
  offer(st: NoveltyState, z: Float64Array, scored: number, clean: boolean): void {
    if (scored < st.offerAt || st.offers >= this.o.offerCap) return;
    st.offers++;
    st.offerAt += this.o.offerSpread;
    if (!clean) return;
    const { reference, dims } = this.o;
    this.offered++;
    let slot: number;
    if (this.size < reference) slot = this.size++;
    else {
      slot = Math.floor(this.rng.next() * this.offered);
      if (slot >= reference) return;
    }
    this.pool.set(z.subarray(0, dims), slot * dims);
    this.changes++;
    // Rebuilt once the reference can judge (`minReference` rows), then while growing at every
    // eighth of the reference, then after an eighth is replaced. A smaller reference judges no
    // row, so it is not built.
    if (this.build || this.size < this.o.minReference) return;
    if (this.changes >= Math.max(8, reference >> 3) || !this.ready) this.startRebuild();
  }

  /**
   * Rebuilds the reference now, to the end (a build already under way is dropped: this one reads
   * the pool as it is).
   */
  rebuild(): void {
    this.build = undefined;
    this.changes = 0;
    const steps = this.rebuildSteps();
    while (!steps.next().done);
  }

  /** True while a rebuild started by `offer` has slices left to run (the previous reference serves meanwhile). */
  get rebuilding(): boolean {
    return this.build !== undefined;
  }

  /** Starts a rebuild whose slices the scheduler runs; the reference in force keeps serving until it ends. */
  private startRebuild(): void {
    this.changes = 0;
    const steps = this.rebuildSteps();
    this.build = steps;
    this.o.slices((): boolean => {
      // A synchronous `rebuild()` since then has replaced this build: nothing left to do.
      if (this.build !== steps) return false;
      if (!steps.next().done) return true;
      this.build = undefined;
      return false;
    });
  }

  /**
   * Sorts a snapshot of the pool along its first principal direction and sets the radius from its
   * own rows, yielding after about SLICE_WORK multiply-adds; the new reference replaces the one in
   * force only at the end, so rows judged meanwhile see one whole reference, never half of each.
   */
  private *rebuildSteps(): Generator<void, void, void> {
    const { dims, neighbours, quantile } = this.o;
    const n = this.size;
    if (n <= neighbours) return;
    // Offers go on writing the pool while the slices run: the build reads its own copy.
    const pool = this.snapshot;
    pool.set(this.pool.subarray(0, n * dims));
    const { rows, keys, axis: v, cert } = this.spare;
    const mean = new Float64Array(dims);
    for (let i = 0; i < n; i++) for (let j = 0; j < dims; j++) mean[j]! += pool[i * dims + j]! / n;
    // First principal direction by power iteration on the covariance (never formed: X'(Xv)), on
    // the rows centred once (in the spare reference, free until the sorted rows are written).
    const centred = rows;
    for (let i = 0; i < n * dims; i += dims) for (let j = 0; j < dims; j++) centred[i + j] = pool[i + j]! - mean[j]!;
    for (let j = 0; j < dims; j++) v[j] = 1 / Math.sqrt(dims) + 1e-3 * j;
    const w = new Float64Array(dims);
    const perIteration = 2 * n * dims;
    let work = 0;
    for (let it = 0; it < 30; it++) {
      w.fill(0);
      for (let i = 0; i < n * dims; i += dims) {
        let p = 0;
        for (let j = 0; j < dims; j++) p += centred[i + j]! * v[j]!;
        for (let j = 0; j < dims; j++) w[j]! += p * centred[i + j]!;
      }
      let norm = 0;
      for (let j = 0; j < dims; j++) norm += w[j]! * w[j]!;
      if (norm === 0) break;
      norm = Math.sqrt(norm);
      for (let j = 0; j < dims; j++) v[j] = w[j]! / norm;
      if ((work += perIteration) >= SLICE_WORK) {
        work = 0;
        yield;
      }
    }
    const order = Array.from({ length: n }, (_, i) => i);
    const proj = this.proj;
    for (let i = 0; i < n; i++) {
      let p = 0;
      for (let j = 0; j < dims; j++) p += pool[i * dims + j]! * v[j]!;
      proj[i] = p;
    }
    order.sort((a, b) => proj[a]! - proj[b]!);
    for (let dst = 0; dst < n; dst++) {
      const src = order[dst]!;
      for (let j = 0; j < dims; j++) rows[dst * dims + j] = pool[src * dims + j]!;
      keys[dst] = proj[src]!;
    }
    yield;
    // The radius is the `quantile` of the rows' leave-one-out distances to their `neighbours`-th
    // nearest other row, that is the `need`-th largest of them: the score of the `need`-th
    // strongest outlier. As in Bay and Schwabacher's pruning rule for the top outliers by k-NN
    // distance (KDD 2003), a row's search stops as soon as `neighbours` rows lie within the
    // smallest of the `need` largest distances so far (a min-heap): such a row cannot be among
    // them, and only the few that may be are searched to the end. The result is the exact
    // quantile. Rows are taken from both ends of the projection inwards, so the outliers, whose
    // distances are the largest, come first and raise the cutoff early.
    const need = n - Math.min(n - 1, Math.ceil(quantile * n) - 1);
    const top = this.scratch;
    let held = 0;
    const best = new Float64Array(neighbours);
    work = 0;
    for (let t = 0; t < n; t++) {
      const i = (t & 1) === 0 ? t >> 1 : n - 1 - (t >> 1);
      const floor = held < need ? Number.NEGATIVE_INFINITY : top[0]!;
      best.fill(Number.POSITIVE_INFINITY);
      let down = i - 1;
      let up = i + 1;
      // Searched outwards along the sorted projection until the projection gap alone exceeds the
      // `neighbours`-th distance found, or that distance is at most the floor.
      while (best[neighbours - 1]! > floor) {
        const gd = down >= 0 ? keys[i]! - keys[down]! : Number.POSITIVE_INFINITY;
        const gu = up < n ? keys[up]! - keys[i]! : Number.POSITIVE_INFINITY;
        const m = gd <= gu ? down : up;
        const gap = gd <= gu ? gd : gu;
        if (gap * gap > best[neighbours - 1]!) break;
        if (gd <= gu) down--;
        else up++;
        const bound = best[neighbours - 1]!;
        let d = 0;
        let j = 0;
        // Abandoned once past the bound: the sum only grows, and a row beyond it changes nothing.
        for (; j < dims; j++) {
          const e = rows[i * dims + j]! - rows[m * dims + j]!;
          d += e * e;
          if (d >= bound) break;
        }
        work += j + 1;
        if (d < bound) {
          let k = neighbours - 1;
          while (k > 0 && best[k - 1]! > d) {
            best[k] = best[k - 1]!;
            k--;
          }
          best[k] = d;
        }
      }
      const kth = best[neighbours - 1]!;
      if (kth > floor) {
        if (held < need) heapPush(top, held++, kth);
        else heapReplaceMin(top, need, kth);
      }
      if (work >= SLICE_WORK) {
        work = 0;
        yield;
      }
    }
    const radius2 = top[0]!;
    const certInverse = Math.sqrt(dims / radius2);
    cert.fill(0);
    for (let i = 0; i < n; i++)
      for (let grid = 0; grid < 2; grid++) {
        const c = certSlot(rows, i * dims, grid, dims, certInverse);
        if (cert[c]! < 0xffff) cert[c]!++;
      }
    // The new reference takes over in one step.
    this.spare = { rows: this.rows, keys: this.keys, axis: this.axis, cert: this.cert };
    this.rows = rows;
    this.keys = keys;
    this.axis = v;
    this.cert = cert;
    this.radius2 = radius2;
    this.certInverse = certInverse;
    this.sortedSize = n;
  }

  /**
   * Fewer than `neighbours` reference rows within the radius of `z` (among the NOVELTY_SCAN
   * nearest along the projection). A hashed cell may collide with another's count, so the
   * certificate can call a far row near, never a near row far.
   */
  isFar(z: Float64Array): boolean {
    const { dims, neighbours } = this.o;
    const inv = this.certInverse;
    if (
      this.cert[certSlot(z, 0, 0, dims, inv)]! >= neighbours ||
      this.cert[certSlot(z, 0, 1, dims, inv)]! >= neighbours
    )
      return false;
    const rows = this.rows;
    const keys = this.keys;
    const n = this.sortedSize;
    const r2 = this.radius2;
    const r = Math.sqrt(r2);
    let p = 0;
    for (let j = 0; j < dims; j++) p += z[j]! * this.axis[j]!;
    // Scan outwards from the row's own projection (the first reference row at or past it), over
    // the slab [p − r, p + r] of the sorted keys: its nearest rows are found first.
    let up = 0;
    let hi = n;
    while (up < hi) {
      const mid = (up + hi) >>> 1;
      if (keys[mid]! < p) up = mid + 1;
      else hi = mid;
    }
    let down = up - 1;
    const from = p - r;
    const to = p + r;
    let hits = 0;
    let budget = NOVELTY_SCAN;
    // Below the slab once keys[down] < p − r (the keys ascend): no second binary search for its edge.
    let lo = 0;
    while ((down >= lo || (up < n && keys[up]! <= to)) && budget-- > 0) {
      if (down >= lo && keys[down]! < from) {
        lo = down + 1;
        budget++;
        continue;
      }
      let i: number;
      if (down < lo) i = up++;
      else if (up >= n || keys[up]! > to) i = down--;
      else if (p - keys[down]! <= keys[up]! - p) i = down--;
      else i = up++;
      const base = i * dims;
      let d = 0;
      let j = 0;
      for (; j < dims; j++) {
        const e = z[j]! - rows[base + j]!;
        d += e * e;
        if (d > r2) break;
      }
      if (j === dims && ++hits >= neighbours) return false;
    }
    return true;
  }
}

/** Adds `x` to the min-heap of `size` values at the front of `heap`. */
function heapPush(heap: Float64Array, size: number, x: number): void {
  let i = size;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (heap[parent]! <= x) break;
    heap[i] = heap[parent]!;
    i = parent;
  }
  heap[i] = x;
}

/** Replaces the least of the min-heap of `size` values at the front of `heap` with `x`. */
function heapReplaceMin(heap: Float64Array, size: number, x: number): void {
  let i = 0;
  for (;;) {
    let c = 2 * i + 1;
    if (c >= size) break;
    if (c + 1 < size && heap[c + 1]! < heap[c]!) c++;
    if (heap[c]! >= x) break;
    heap[i] = heap[c]!;
    i = c;
  }
  heap[i] = x;
}

/** The slot of the row at `z[at…]` on certificate grid `grid` (the second is shifted by half a cell). */
function certSlot(z: ArrayLike<number>, at: number, grid: number, dims: number, inv: number): number {
  const shift = grid * 0.5;
  let h = 0x811c9dc5;
  for (let j = 0; j < dims; j++) {
    h = Math.imul(h ^ (Math.floor(z[at + j]! * inv + shift) | 0), 16777619);
    h ^= h >>> 13;
  }
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  return grid * CERT_TABLE + ((h ^ (h >>> 13)) & (CERT_TABLE - 1));
}
