import { RATE_CLASSES } from './detector-settings.js';

export { RATE_CLASSES };

/**
 * Per predicted class, how often a model's ordinary rows leave the envelope and how often their
 * answers have a low margin, learned from the model's own population. A user interested in one
 * class only inherits that class's rates: the strongest earthquakes lie at the edge of the data
 * and sit near a decision boundary far more often than the average row, so counting such a user's
 * envelope exits or low margins against the whole population's rate mistakes a narrow interest
 * for probing. The windowed signals are therefore judged against the rate expected for the
 * classes the account actually queried (as class-conditional thresholds in PRADA, Juuti et al.,
 * EuroS&P 2019, keep one growing set per predicted class).
 *
 * Estimation: pooled counts of rows and of rows showing the signal per class, each account lending
 * at most `RATE_ROWS_PER_ACCOUNT` rows over its life and only while it is in no alarm and was never
 * flagged; one account can therefore shift a class's rate by at most its capped share of that
 * class's rows. Each class's rate is shrunk towards the model's pooled rate by `PRIOR_ROWS`
 * pseudo-rows (a Beta prior centred on the pooled rate), so a class with few rows stays near the
 * pooled rate instead of jumping with the first account that queries it. State: fixed arrays, a
 * few hundred bytes per model; shared and persisted like the population calibration.
 */

/** The slot of rows whose class is unknown (the ext-authz doors): always the pooled rate, and never lent. */
export const UNKNOWN_SLOT = RATE_CLASSES;
/** Slots in a window's class composition: the classes and the unknown slot. */
export const RATE_SLOTS = RATE_CLASSES + 1;
/** The class id a caller passes when the answer was not seen. */
export const UNKNOWN_CLASS = -1;
/**
 * The class-conditioned signals, in the order of every per-signal array here: envelope exits as the
 * three-sigma rule sees them, low margins, and envelope exits the model's novelty reference finds
 * far from its own traffic (learned only from rows judged with a reference in force: each rate is
 * learned under exactly the definition of an exit it is used to judge), and rows the novelty
 * reference finds far, exits or not, as the novelty window counts them (a class at the edge of the
 * data has far more of its own rows beyond the reference's radius than the average row: the
 * k-NN radius is one quantile for the whole population, Ramaswamy, Rastogi and Shim, SIGMOD 2000).
 */
export const CLASS_SIGNALS = ['envelope', 'margin', 'envelopeFar', 'novelty'] as const;
export const ENVELOPE_SIGNAL = 0;
export const MARGIN_SIGNAL = 1;
export const ENVELOPE_FAR_SIGNAL = 2;
export const NOVELTY_SIGNAL = 3;
/**
 * Rows lent under a novelty reference (the far exits, the far rows) before their rates judge
 * anyone: until then an account is judged as without class rates (a Beta prior of PRIOR_ROWS per
 * class needs several times that over the classes before a class's own rate shows).
 */
export const FAR_RATE_MIN_ROWS = 1024;
/** The signals learned only from rows judged with a novelty reference: in force once FAR_RATE_MIN_ROWS were lent. */
const LATE_SIGNALS: readonly number[] = [ENVELOPE_FAR_SIGNAL, NOVELTY_SIGNAL];
/** Rows one account may lend to the rates over its life. */
export const RATE_ROWS_PER_ACCOUNT = 256;
/** Pseudo-rows at the pooled rate added to every class. */
const PRIOR_ROWS = 64;

/** The slot of a class id (`UNKNOWN_CLASS` or any negative id: the unknown slot). */
export function rateSlot(classId: number): number {
  return classId < 0 ? UNKNOWN_SLOT : classId % RATE_CLASSES;
}

/** Rates fixed by the operator: per signal, the rate per class slot (the `calibrate` command prints them). */
export interface PinnedClassRates {
  readonly envelope: readonly number[];
  readonly margin: readonly number[];
  /** Absent from blocks printed before exits were told apart from tail rows: those judge every exit by the three-sigma rule. */
  readonly envelopeFar?: readonly number[] | undefined;
  /** Absent from blocks printed before novelty was judged per class: those judge the novelty window's raw count. */
  readonly novelty?: readonly number[] | undefined;
}

export class ClassBaseRates {
  /** Per signal: rows lent per class slot at [2c], rows showing the signal at [2c + 1] (merged view). */
  readonly counts = CLASS_SIGNALS.map(() => new Float64Array(2 * RATE_CLASSES));
  /** Per signal: counts not yet sent to the shared store. */
  readonly pending = CLASS_SIGNALS.map(() => new Float64Array(2 * RATE_CLASSES));
  /** Per signal: the rate in force per slot (the unknown slot holds the pooled rate). */
  readonly rates = CLASS_SIGNALS.map(() => new Float64Array(RATE_SLOTS));
  /** Per signal: the pooled rate over every class. */
  readonly pooled = new Float64Array(CLASS_SIGNALS.length);
  pinned = false;
  /** Per signal, whether its rates are in force: always for envelope and margin; the late signals once pinned, or learned from FAR_RATE_MIN_ROWS rows. */
  readonly ready = CLASS_SIGNALS.map((_, s) => !LATE_SIGNALS.includes(s));

  /** Whether the far-exit rates are in force. */
  get farReady(): boolean {
    return this.ready[ENVELOPE_FAR_SIGNAL]!;
  }

  get bytes(): number {
    return 3 * CLASS_SIGNALS.length * 8 * 2 * RATE_SLOTS + 64;
  }

  /** One lent row of class slot `slot` (never the unknown slot), showing the signal or not. */
  add(signal: number, slot: number, shown: boolean): void {
    const i = 2 * slot;
    const c = this.counts[signal]!;
    const p = this.pending[signal]!;
    c[i]! += 1;
    p[i]! += 1;
    if (shown) {
      c[i + 1]! += 1;
      p[i + 1]! += 1;
    }
  }

  /** Recomputes the rates in force from the counts (a pinned set is kept). */
  refresh(): void {
    if (this.pinned) return;
    for (let s = 0; s < CLASS_SIGNALS.length; s++) {
      const c = this.counts[s]!;
      let rows = 0;
      let shown = 0;
      for (let k = 0; k < RATE_CLASSES; k++) {
        rows += c[2 * k]!;
        shown += c[2 * k + 1]!;
      }
      const pooled = rows > 0 ? shown / rows : 0;
      this.pooled[s] = pooled;
      const r = this.rates[s]!;
      for (let k = 0; k < RATE_CLASSES; k++) r[k] = (c[2 * k + 1]! + PRIOR_ROWS * pooled) / (c[2 * k]! + PRIOR_ROWS);
      r[UNKNOWN_SLOT] = pooled;
      if (LATE_SIGNALS.includes(s)) this.ready[s] = rows >= FAR_RATE_MIN_ROWS;
    }
  }

  /** Replaces the counts by the shared ones plus what this replica has not sent yet. */
  merge(shared: readonly Float64Array[]): void {
    for (let s = 0; s < CLASS_SIGNALS.length; s++) {
      const c = this.counts[s]!;
      const p = this.pending[s]!;
      const from = shared[s]!;
      for (let i = 0; i < c.length; i++) c[i] = from[i]! + p[i]!;
    }
  }

  /** Takes the pending counts for sending. */
  drain(): Float64Array[] {
    const out = this.pending.map((p) => p.slice());
    for (const p of this.pending) p.fill(0);
    return out;
  }

  /** Puts back counts that could not be sent. */
  restore(counts: readonly Float64Array[]): void {
    for (let s = 0; s < CLASS_SIGNALS.length; s++)
      for (let i = 0; i < counts[s]!.length; i++) this.pending[s]![i]! += counts[s]![i]!;
  }

  /** What an operator pins to keep these rates: per signal, the rate per class slot, the pooled rate last. */
  snapshot(): PinnedClassRates {
    const round = (v: number) => Math.round(v * 1e6) / 1e6;
    const ready = (s: number) => (this.ready[s] ? Array.from(this.rates[s]!, round) : undefined);
    const envelopeFar = ready(ENVELOPE_FAR_SIGNAL);
    const novelty = ready(NOVELTY_SIGNAL);
    return {
      envelope: Array.from(this.rates[ENVELOPE_SIGNAL]!, round),
      margin: Array.from(this.rates[MARGIN_SIGNAL]!, round),
      ...(envelopeFar ? { envelopeFar } : {}),
      ...(novelty ? { novelty } : {}),
    };
  }

  pin(p: PinnedClassRates): void {
    [p.envelope, p.margin, p.envelopeFar, p.novelty].forEach((given, s) => {
      this.ready[s] = given !== undefined;
      if (!given) return;
      const r = this.rates[s]!;
      const pooled = given[UNKNOWN_SLOT] ?? 0;
      for (let k = 0; k < RATE_SLOTS; k++) r[k] = given[k] ?? pooled;
      this.pooled[s] = pooled;
    });
    this.pinned = true;
  }
}

/**
 * The count a window would show at the model's pooled rate for the same evidence: the account's
 * excess over the rate expected for its window's classes, in standard deviations of that
 * expectation, put back on the pooled rate's scale. `n` holds the window's rows per slot, `hits`
 * the rows showing the signal. With every row in one class at the pooled rate (or of unknown
 * class) it is `hits` itself, so calibration, floors and pinned thresholds keep their unit (a
 * count in the window). The +1 in each variance keeps a window of a class that almost never shows
 * the signal from turning one row into many deviations. `onto` is the pooled rate whose scale the
 * count is put on: the far exits' deviations are put on the three-sigma exits' scale, so one
 * threshold (learned, or pinned) judges an account whichever definition its window is counted by.
 */
export function adjustedCount(
  n: Uint16Array,
  from: number,
  hits: number,
  rates: Float64Array,
  pooled: number,
  onto = pooled,
): number {
  let rows = 0;
  let expected = 0;
  let variance = 1;
  for (let k = 0; k < RATE_SLOTS; k++) {
    const m = n[from + k]!;
    if (m === 0) continue;
    const p = rates[k]!;
    rows += m;
    expected += m * p;
    variance += m * p * (1 - p);
  }
  const at = rows * onto + (hits - expected) * Math.sqrt((rows * onto * (1 - onto) + 1) / variance);
  return at < 0 ? 0 : at > rows ? rows : at;
}
