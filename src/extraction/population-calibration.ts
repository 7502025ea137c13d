import { ClassBaseRates, type PinnedClassRates } from './class-base-rates.js';
import { DETECTORS, type DetectorName } from './detector-settings.js';
import { NOVELTY } from './novelty-detector.js';
import { fitTail } from './tail-fit.js';

export { DETECTORS, type DetectorName };
export const PRADA = 0;
export const ENVELOPE = DETECTORS.indexOf('envelope');
export const MARGIN = DETECTORS.indexOf('margin');
/** Lent rows between two refreshes of the class base rates. */
const RATE_REFRESH_ROWS = 256;

/** PRADA's W is binned on 1 − W in steps of this (the last bin holds everything beyond). */
export const W_STEP = 0.002;
export const W_BINS = 251;

/** The bin of a Shapiro–Wilk W: higher bins are less normal. */
export function wBin(w: number): number {
  const b = Math.floor((1 - w) / W_STEP);
  return b < 0 ? 0 : b >= W_BINS ? W_BINS - 1 : b;
}

export interface CalibrationOptions {
  /** Contributing accounts needed before the calibration is in force. */
  readonly minAccounts: number;
  /** Scored (non-repeat) queries an account needs before it contributes. */
  readonly minQueries: number;
  /** Share of benign accounts allowed to cross a calibrated threshold over their life. */
  readonly falseAlarmRate: number;
  /** Widening of the extrapolated tail beyond what a normal tail would need (heavier tails). */
  readonly tailAllowance: number;
  /** The most sensitive δ PRADA may be given (its authors' per-data-set values: 0.9–0.96). */
  readonly deltaCeiling: number;
  /** Windowed detectors count over this many queries: their statistic is 0..window. */
  readonly window: number;
  readonly pinned?: PinnedCalibration | undefined;
}

/** A calibration fixed by the operator (the `calibrate` command prints one). */
export interface PinnedCalibration {
  readonly accounts: number;
  readonly queries: number;
  /** PRADA: δ (alarm when W is below); windowed detectors: the alarm count in the window. */
  /** A detector missing from an older pinned block keeps its floor. */
  readonly thresholds: Readonly<Partial<Record<DetectorName, number>>>;
  /**
   * Per predicted class, the base rates envelope and margin are judged against (their thresholds
   * are then counts adjusted for the account's classes). A block without them judges both on raw
   * counts, as it was printed.
   */
  readonly classRates?: PinnedClassRates | undefined;
}

/**
 * `floors`: `minAccounts` is 0, so the published thresholds are enforced without calibration.
 * `provisional`: a quarter of `minAccounts` contribute; thresholds are computed and accounts are
 * flagged against them, but nothing is enforced (shadow until calibrated is no enforcement, not
 * no detection).
 */
export type CalibrationState = 'uncalibrated' | 'provisional' | 'calibrated' | 'pinned' | 'floors';

/** Share of `minAccounts` from which a provisional calibration flags (never enforces). */
export const PROVISIONAL_SHARE = 0.25;

/**
 * One model's benign base rates, learned from the population of its own accounts, after
 * PRADA's authors (who set δ per data set from benign traffic) and Chen, Carlini and Wagner
 * (thresholds from a benign quantile at a target false-positive rate).
 *
 * Every account, once it has `minQueries` scored queries, contributes exactly one value per
 * detector: the most extreme statistic it has shown so far (the peak count of its window, the
 * lowest PRADA W), kept in a fixed histogram per detector. An account whose statistic grows
 * moves its one unit from bin to bin, so no account weighs more than another, and the state is
 * a few kilobytes per model whatever the traffic.
 *
 * Thresholds are robust order statistics of that population, extrapolated into the tail: the
 * statistics are each account's extreme over its stream, whose distribution has (at most) an
 * exponential tail (Gumbel's domain: maxima of light-tailed counts), where every further decade
 * of probability adds about the same amount. From the 90th and 99th percentiles q₉₀ and q₉₉ (each
 * moved by at most one rank when one account changes its value), the alarm point is
 * q₉₉ + k·(q₉₉ − q₉₀) with k = log₁₀(0.01 / (falseAlarmRate / detectors)) × tailAllowance (the
 * account's false-alarm budget split over the detectors), and never below q₉₉
 * plus one bin. A population where 5% of users are dashboards or time-series replays has those
 * users at or below q₉₉, so they stay below the alarm point. One rank at q₉₉ is, on a model with a
 * few hundred accounts, the gap between two of its top handful, so an account climbing among them
 * raises that point by a whole gap: the alarm point is therefore never above the exponential tail
 * fitted by peaks over threshold over the top decile (tail-fit.ts), which the climbing account
 * moves by one winsorised excess among dozens (window counts only: PRADA's W has heavier tails).
 * An account alarms only when it is beyond both this and the published detector's own threshold
 * (the floor): calibration can only quiet a detector on a model, except PRADA's δ, which the
 * population may raise up to `deltaCeiling`.
 */
export class PopulationCalibration {
  /** Per detector: accounts per bin (merged view: shared base plus this replica's pending moves). */
  readonly hist: Float64Array[];
  /** Per detector: moves not yet sent to the shared store. */
  readonly pending: Float64Array[];
  /** Queries of the contributing accounts when they started contributing. */
  queries = 0;
  pendingQueries = 0;
  /** Per detector, the threshold in force in its own unit (δ for PRADA, a count otherwise); NaN: the floor. */
  readonly thresholds = new Float64Array(DETECTORS.length).fill(Number.NaN);
  /** Per detector, what multiplies the detector's floor-relative score (1 while uncalibrated). */
  readonly factors = new Float64Array(DETECTORS.length).fill(1);
  state: CalibrationState = 'uncalibrated';
  /** When the calibration came into force (epoch ms), or 0. */
  since = 0;
  /** Per class, the rates envelope exits and low margins are expected at (learned beside the histograms). */
  readonly classRates = new ClassBaseRates();
  private moves = 0;
  private lent = 0;
  private readonly k: number;
  /** ln(0.1 / per-detector false-alarm budget): how many exponential scales lie between q₉₀ and the alarm point. */
  private readonly reach: number;

  constructor(
    readonly o: CalibrationOptions,
    /** Per detector, the published detector's threshold in its unit (δ for PRADA, a count otherwise). */
    readonly floors: Float64Array,
  ) {
    const bins = DETECTORS.map((_, d) => (d === PRADA ? W_BINS : o.window + 1));
    this.hist = bins.map((n) => new Float64Array(n));
    this.pending = bins.map((n) => new Float64Array(n));
    // The account's false-alarm budget is split over the detectors (Bonferroni): any one may alarm.
    this.k = Math.max(0, Math.log10((0.01 * DETECTORS.length) / o.falseAlarmRate)) * o.tailAllowance;
    this.reach = Math.max(0, Math.log((0.1 * DETECTORS.length) / o.falseAlarmRate));
    if (o.pinned) this.pin(o.pinned, 0);
    else if (o.minAccounts === 0) this.state = 'floors';
  }

  get bytes(): number {
    let b = 256 + this.classRates.bytes;
    for (const h of this.hist) b += 2 * h.byteLength;
    return b;
  }

  /** Contributing accounts (every account contributes to every detector). */
  get accounts(): number {
    let n = 0;
    for (const v of this.hist[1]!) n += v;
    return n;
  }

  get inForce(): boolean {
    return this.state !== 'uncalibrated' && this.state !== 'provisional';
  }

  /** Whether alarms count as evidence (flags); enforcement needs `inForce` as well. */
  get judging(): boolean {
    return this.state !== 'uncalibrated';
  }

  /** Contributing accounts from which thresholds are computed and accounts flagged in shadow. */
  get provisionalAccounts(): number {
    return Math.max(1, Math.ceil(this.o.minAccounts * PROVISIONAL_SHARE));
  }

  /** An account starts contributing with its peak bins. */
  add(peaks: Int16Array, queries: number): void {
    for (let d = 0; d < peaks.length; d++) {
      const b = peaks[d]!;
      this.hist[d]![b]! += 1;
      this.pending[d]![b]! += 1;
    }
    this.queries += queries;
    this.pendingQueries += queries;
    this.moves++;
  }

  /** A contributing account's statistic for detector `d` moved from bin `from` to bin `to`. */
  move(d: number, from: number, to: number): void {
    const h = this.hist[d]!;
    const p = this.pending[d]!;
    h[from]! -= 1;
    h[to]! += 1;
    p[from]! -= 1;
    p[to]! += 1;
    this.moves++;
  }

  /**
   * The class base rates the windowed signals are judged against, or undefined where raw counts
   * are judged: with the published floors alone, and under a pinned block printed without them.
   */
  get rates(): ClassBaseRates | undefined {
    if (this.state === 'floors' || (this.state === 'pinned' && !this.classRates.pinned)) return undefined;
    return this.classRates;
  }

  /** One row lent to the class base rates by an account in good standing. */
  lend(signal: number, slot: number, shown: boolean): void {
    this.classRates.add(signal, slot, shown);
    this.lent++;
  }

  /** Recomputes the thresholds when enough has changed; cheap to call per request. */
  maybeRefresh(now: number): boolean {
    if (this.lent >= RATE_REFRESH_ROWS) {
      this.lent = 0;
      this.classRates.refresh();
    }
    if (this.state === 'pinned' || this.state === 'floors' || this.moves < 32) return false;
    this.moves = 0;
    return this.refresh(now);
  }

  /** Recomputes the thresholds from the histograms; true when the state changed. */
  refresh(now: number): boolean {
    if (this.state === 'pinned' || this.state === 'floors') return false;
    this.classRates.refresh();
    const n = this.accounts;
    if (n < this.provisionalAccounts) {
      const was = this.state;
      this.state = 'uncalibrated';
      this.since = 0;
      this.thresholds.fill(Number.NaN);
      this.factors.fill(1);
      return was !== 'uncalibrated';
    }
    // A young population has not shown its tail yet (peaks grow with stream length): a
    // provisional calibration extrapolates twice as far.
    const widen = n >= this.o.minAccounts ? 1 : 2;
    const k = widen * this.k;
    for (let d = 0; d < DETECTORS.length; d++) {
      const h = this.hist[d]!;
      const q90 = quantileBin(h, n, 0.9);
      const q = quantileBin(h, n, 0.99);
      // A window count also wanders by its own sampling noise (binomial spread at the q99 rate),
      // which an account's peak keeps growing into as its stream gets longer.
      const noise = (c: number) => (d === PRADA ? 0 : Math.sqrt(c * Math.max(0, 1 - c / this.o.window)));
      const direct = q + k * Math.max(q - q90, noise(q));
      // q₉₉ rests on the top 1% of accounts, a handful on a young model, where the spacing between
      // accounts is widest: an account that climbs among them moves q₉₉ by one of those gaps and
      // raises the alarm point it is judged by. The tail fitted over the top decile moves by one
      // winsorised excess among dozens, so the alarm point is never above that fit. Only for the
      // window counts, maxima of bounded sums, whose tail is at most exponential: PRADA's lowest W
      // is not, as users of one class give distances far from normal (on movies the top three
      // benign accounts were at 1 − W bins 214, 158 and 94 over a decile at 41–53).
      const tail = d === PRADA ? undefined : fitTail(h, q90, this.reach);
      // The count's sampling noise bounds the scale as above (there per decade, here per e-fold).
      const fitted = tail
        ? q90 + widen * this.o.tailAllowance * this.reach * Math.max(tail.scale, noise(q90) / Math.LN10)
        : direct;
      const at = Math.max(Math.min(direct, fitted), q + 1);
      this.thresholds[d] = d === PRADA ? 1 - at * W_STEP : Math.ceil(at);
    }
    this.applyThresholds();
    const was = this.state;
    this.state = n >= this.o.minAccounts ? 'calibrated' : 'provisional';
    if (this.state === 'calibrated' && was !== 'calibrated') this.since = now;
    if (this.state === 'provisional') this.since = 0;
    return was !== this.state;
  }

  /** Replaces the histograms by the shared ones (plus what this replica has not sent yet). */
  merge(shared: readonly Float64Array[], queries: number): void {
    for (let d = 0; d < DETECTORS.length; d++) {
      const h = this.hist[d]!;
      const s = shared[d]!;
      const p = this.pending[d]!;
      for (let b = 0; b < h.length; b++) h[b] = s[b]! + p[b]!;
    }
    this.queries = queries + this.pendingQueries;
    this.moves = 32;
  }

  /** Takes the pending moves for sending (they are then part of the shared base). */
  drain(): { readonly moves: Float64Array[]; readonly queries: number } {
    const moves = this.pending.map((p) => p.slice());
    for (const p of this.pending) p.fill(0);
    const queries = this.pendingQueries;
    this.pendingQueries = 0;
    return { moves, queries };
  }

  /** Puts back moves that could not be sent. */
  restore(moves: readonly Float64Array[], queries: number): void {
    for (let d = 0; d < DETECTORS.length; d++)
      for (let b = 0; b < moves[d]!.length; b++) this.pending[d]![b]! += moves[d]![b]!;
    this.pendingQueries += queries;
  }

  pin(p: PinnedCalibration, now: number): void {
    DETECTORS.forEach((name, d) => (this.thresholds[d] = p.thresholds[name] ?? Number.NaN));
    if (p.classRates) this.classRates.pin(p.classRates);
    this.state = 'pinned';
    this.applyThresholds();
    this.since = now;
  }

  /** What an operator would pin to keep the calibration in force now. */
  snapshot(): PinnedCalibration {
    return {
      accounts: this.accounts,
      queries: this.queries,
      thresholds: Object.fromEntries(DETECTORS.map((name, d) => [name, this.thresholds[d]!])),
      classRates: this.classRates.snapshot(),
    };
  }

  /** Per detector, the threshold an account must pass (calibrated and floor together). */
  effective(d: number): number {
    const t = this.thresholds[d]!;
    const f = this.floors[d]!;
    if (t !== t) return f;
    return d === PRADA ? Math.min(t, this.o.deltaCeiling) : Math.max(t, f);
  }

  /** The histogram bin of the threshold in force for detector `d` (what a flagged account may contribute at most). */
  thresholdBin(d: number): number {
    const e = this.effective(d);
    return d === PRADA ? wBin(e) : Math.min(this.o.window, Math.ceil(e));
  }

  /** Whether detector `d` is judged on its class-adjusted count (envelope, margin and novelty, with class rates in use). */
  adjusted(d: number): boolean {
    return (d === ENVELOPE || d === MARGIN || d === NOVELTY) && this.rates !== undefined;
  }

  private applyThresholds(): void {
    for (let d = 0; d < DETECTORS.length; d++) {
      const f = this.floors[d]!;
      const e = this.effective(d);
      // Scores are relative to the floor: count / floorCount, or (1 − W) / (1 − δ_floor). Envelope
      // and margin keep their raw count against the floor; the scorer judges their class-adjusted
      // count against the calibrated threshold beside it.
      this.factors[d] = d === PRADA ? (e >= 1 ? 0 : (1 - f) / (1 - e)) : this.adjusted(d) ? 1 : f / e;
    }
  }
}

/** The bin holding the p-quantile (rank ⌈p·n⌉) of a histogram of n accounts. */
export function quantileBin(h: Float64Array, n: number, p: number): number {
  const rank = Math.max(1, Math.ceil(p * n - 1e-9));
  let c = 0;
  for (let b = 0; b < h.length; b++) {
    c += h[b]!;
    if (c >= rank) return b;
  }
  return h.length - 1;
}
