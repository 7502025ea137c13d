import type { DetectorSettings } from './detector-settings.js';
import { STEP_MAX_WIDTH, StepDetector, type StepState } from './step-detector.js';
import type { FeatureNormaliser } from './feature-normaliser.js';
import { FingerprintDetector, type FingerprintState } from './fingerprint-detector.js';
import { GeometryDetector, type GeometryState } from './geometry-detector.js';
import { PrototypeDetector, type PrototypeState } from './prototype-detector.js';
import { upperTail } from './normal-distribution.js';
import {
  DETECTORS,
  ENVELOPE,
  MARGIN,
  PRADA,
  wBin,
  type DetectorName,
  type PopulationCalibration,
} from './population-calibration.js';
import {
  ENVELOPE_FAR_SIGNAL,
  ENVELOPE_SIGNAL,
  MARGIN_SIGNAL,
  RATE_ROWS_PER_ACCOUNT,
  rateSlot,
  UNKNOWN_SLOT,
} from './class-base-rates.js';
import { RepeatSet } from './repeat-set.js';
import { hashRow } from './row-hash.js';
import {
  inlineSlices,
  NOVELTY,
  NOVELTY_MAX_DIMS,
  NoveltyDetector,
  type NoveltyState,
  type SliceScheduler,
} from './novelty-detector.js';
import { OBJECT_OVERHEAD, TYPED_ARRAY_OVERHEAD } from './heap-cost.js';
import { LINEAGE, LINEAGE_MAX_WIDTH, LineageDetector, type LineageState } from './lineage-detector.js';
import { FeatureGrain } from './feature-grain.js';
import { SUPPORT_ROWS_PER_ACCOUNT } from './traffic-support.js';
import { APART_DETECTORS, ApartWindows } from './apart-windows.js';
import { KNOWN_ROWS, KnownRows } from './known-rows.js';
import { SEEDS, SEEDS_MAX_WIDTH, SeedDetector, seedRowKind, type SeedState } from './seed-detector.js';

export { DETECTORS, type DetectorName } from './population-calibration.js';

/** What one user's stream on one model has left behind: fixed-size once every class was seen. */
export class QueryStreamState {
  /** Latest score per detector (≥ 1 is an alarm), in DETECTORS order. */
  readonly scores = new Float64Array(DETECTORS.length);
  /** Per detector, the most extreme statistic bin this account has shown (what it contributes to the calibration). */
  readonly peaks = new Int16Array(DETECTORS.length);
  readonly repeats: RepeatSet;
  queries = 0;
  /** Scored queries: rows that were not exact repeats. */
  distinct = 0;
  exactDuplicates = 0;
  contributing = false;
  /** Rows lent to the model's class base rates (at most RATE_ROWS_PER_ACCOUNT). */
  lent = 0;
  /** Off-manifold state (models of at most NOVELTY_MAX_DIMS dimensions); set by the scorer. */
  novelty: NoveltyState | undefined;
  /** Sign-step lineage state (rows of at most LINEAGE_MAX_WIDTH features); set by the scorer. */
  lineage: LineageState | undefined;
  /** Rows grown around the account's own real rows (rows of at most SEEDS_MAX_WIDTH features); set by the scorer. */
  seeds: SeedState | undefined;
  /** The windowed detectors' hits over the rows that are not real-looking; set by the scorer. */
  apart: ApartWindows | undefined;
  /** This account's tag as a lender of known rows. */
  tag = 0;
  /** Cleared by the account guard once the account is flagged: it then offers no reference row. */
  clean = true;

  constructor(
    readonly prada: PrototypeState | undefined,
    readonly fingerprint: FingerprintState | undefined,
    readonly geometry: GeometryState | undefined,
    readonly steps: StepState | undefined,
    repeatHorizon: number,
  ) {
    this.repeats = new RepeatSet(repeatHorizon, new ArrayBuffer(RepeatSet.bytesFor(repeatHorizon)), 0);
  }

  get bytes(): number {
    return (
      this.scores.byteLength +
      this.peaks.byteLength +
      RepeatSet.bytesFor(this.repeats.horizon) +
      4 * TYPED_ARRAY_OVERHEAD +
      2 * OBJECT_OVERHEAD +
      (this.prada?.bytes ?? 0) +
      (this.fingerprint?.bytes ?? 0) +
      (this.geometry?.bytes ?? 0) +
      (this.steps?.bytes ?? 0) +
      (this.novelty?.bytes ?? 0) +
      (this.lineage?.bytes ?? 0) +
      (this.seeds?.bytes ?? 0) +
      (this.apart?.bytes ?? 0)
    );
  }

  /** The highest score and the detector that gave it. */
  strongest(): { readonly detector: DetectorName; readonly score: number } {
    let best = 0;
    for (let i = 1; i < this.scores.length; i++) if (this.scores[i]! > this.scores[best]!) best = i;
    return { detector: DETECTORS[best]!, score: this.scores[best]! };
  }
}

/**
 * Runs every detector on one query of one user (allocation-free: the scratch vectors belong to
 * the scorer, which is used from one thread). Exact repeats of a recent query are counted and
 * skip the detectors: a retry is neither a probe nor evidence of benign spread. Models without
 * a feature description (non-numeric inputs) get the exact-duplicate and volume counts only.
 */
export class QueryScorer {
  private readonly prada: PrototypeDetector | undefined;
  private readonly fingerprint: FingerprintDetector | undefined;
  readonly geometry: GeometryDetector | undefined;
  private readonly steps: StepDetector | undefined;
  private readonly lineage: LineageDetector | undefined;
  private readonly seedDetector: SeedDetector | undefined;
  /** The model's off-manifold detector and its reference sample (one per model, shared by its accounts). */
  readonly novelty: NoveltyDetector | undefined;
  /** The resolution the model's data is recorded at, for the pair detectors (one per model). */
  readonly grain: FeatureGrain | undefined;
  private readonly scaled: Float64Array;
  private readonly z: Float64Array;
  private seeds = 0x2545f491;
  /** Keys the exact-repeat hash per process, so no client can craft rows that collide with its earlier ones. */
  private readonly repeatKey = (Math.random() * 0x100000000) >>> 0;
  /** The model's population calibration, once the model guard attaches it. */
  calibration: PopulationCalibration | undefined;
  /** Rows the model's accounts in good standing sent (one per model, shared by its accounts). */
  readonly known: KnownRows | undefined;
  /** Per detector, the floor in its unit (the windowed detectors' alarm counts). */
  private floorCounts: Float64Array = new Float64Array(DETECTORS.length);
  private tags = 0x9e3779b9;

  /** `slices` runs the novelty reference's rebuilds: at once by default, between requests in the gateway. */
  constructor(
    readonly normaliser: FeatureNormaliser | undefined,
    readonly settings: DetectorSettings,
    seed: number,
    slices: SliceScheduler = inlineSlices,
  ) {
    const s = settings;
    this.scaled = new Float64Array(normaliser?.width ?? 0);
    // Unprojected rows are their own distance vectors: the detectors read both, none writes them.
    this.z = normaliser?.projected ? new Float64Array(normaliser.dims) : this.scaled;
    if (!normaliser) return;
    const dims = normaliser.dims;
    this.known = new KnownRows(KNOWN_ROWS);
    this.prada = new PrototypeDetector({
      dims,
      prototypes: s.prototypes,
      maxClasses: s.maxClasses,
      ring: s.ring,
      minSamples: s.minSamples,
      testEvery: s.testEvery,
      delta: s.delta,
      rejectSigma: s.rejectSigma,
    });
    this.fingerprint = new FingerprintDetector({
      dims,
      bands: s.bands,
      quantum: s.quantum,
      tableSize: s.tableSize,
      horizon: s.horizon,
      window: s.window,
      benignRate: s.nearDuplicateRate,
      alpha: s.alpha,
      seed,
    });
    this.geometry = new GeometryDetector({
      width: normaliser.width,
      dims,
      window: s.window,
      alpha: s.alpha,
      envelope: s.envelope,
      envelopeRate: s.envelopeRate ?? gaussianEnvelopeRate(s.envelope, normaliser.width),
      sweepRate: s.sweepRate,
      collinearCosine: s.collinearCosine,
      collinearRate: s.collinearRate,
      lowMargin: s.lowMargin,
      marginRate: s.marginRate,
    });
    if (dims <= NOVELTY_MAX_DIMS)
      this.novelty = new NoveltyDetector({
        dims,
        reference: s.noveltyReference,
        minReference: Math.max(16, s.noveltyReference >> 2),
        neighbours: s.noveltyNeighbours,
        quantile: s.noveltyQuantile,
        window: s.window,
        benignRate: s.noveltyRate,
        alpha: s.alpha,
        offerFrom: 16,
        offerSpread: 64,
        offerCap: s.noveltyRowsPerAccount,
        seed,
        slices,
      });
    if (normaliser.width <= LINEAGE_MAX_WIDTH)
      this.lineage = new LineageDetector({
        width: normaliser.width,
        history: s.lineageHistory,
        window: s.window,
        benignRate: s.lineageRate,
        alpha: s.alpha,
        seed,
      });
    if (normaliser.width <= SEEDS_MAX_WIDTH)
      this.seedDetector = new SeedDetector({
        width: normaliser.width,
        anchors: s.seedAnchors,
        radius: s.seedRadius,
        window: s.window,
        benignRate: s.seedRate,
        alpha: s.alpha,
      });
    if (this.lineage || normaliser.width <= STEP_MAX_WIDTH) this.grain = new FeatureGrain(normaliser.width);
    if (normaliser.width <= STEP_MAX_WIDTH)
      this.steps = new StepDetector({
        width: normaliser.width,
        recent: s.stepRecent,
        table: s.stepTable,
        window: s.window,
        benignRate: s.stepRate,
        alpha: s.alpha,
      });
    this.floorCounts = this.floors();
  }

  /**
   * The most bytes one account's state can reach: its fixed state plus a full prototype set for
   * each of `classes` predicted classes (sets are filled as classes are first seen).
   */
  maxStateBytes(classes: number): number {
    const s = this.settings;
    const prototypeSets = this.prada
      ? Math.min(classes, s.maxClasses) * s.prototypes * (this.normaliser?.dims ?? 0) * Float32Array.BYTES_PER_ELEMENT
      : 0;
    const sets = this.prada ? Math.min(classes, s.maxClasses) : 0;
    const probe = new QueryStreamState(
      this.prada?.createState(1),
      this.fingerprint?.createState(),
      this.geometry?.createState(),
      this.steps?.createState(),
      s.repeatHorizon,
    );
    probe.novelty = this.novelty?.createState();
    probe.lineage = this.lineage?.createState();
    probe.seeds = this.seedDetector?.createState();
    this.attachApart(probe);
    return probe.bytes + prototypeSets + sets * TYPED_ARRAY_OVERHEAD;
  }

  createState(): QueryStreamState {
    this.seeds = (Math.imul(this.seeds, 1103515245) + 12345) | 0;
    const st = new QueryStreamState(
      this.prada?.createState(this.seeds),
      this.fingerprint?.createState(),
      this.geometry?.createState(),
      this.steps?.createState(),
      this.settings.repeatHorizon,
    );
    st.novelty = this.novelty?.createState();
    st.lineage = this.lineage?.createState();
    st.seeds = this.seedDetector?.createState();
    this.attachApart(st);
    this.tags = (Math.imul(this.tags, 1664525) + 1013904223) | 0;
    // SHARED (all ones) is the known rows' mark for a row of several lenders: never an account's tag.
    st.tag = this.tags === -1 ? 0 : this.tags;
    return st;
  }

  private attachApart(st: QueryStreamState): void {
    if (!this.known) return;
    st.apart = new ApartWindows(this.settings.window, {
      fingerprint: st.fingerprint?.hits,
      steps: st.steps?.hits,
      novelty: st.novelty?.far,
      lineage: st.lineage?.hits,
    });
  }

  /** Per detector, the floor threshold in its unit: PRADA's δ, the windowed detectors' alarm counts. */
  floors(): Float64Array {
    const f = new Float64Array(DETECTORS.length);
    f[PRADA] = this.settings.delta;
    f[1] = this.fingerprint?.alarmCount ?? 1;
    f[2] = this.geometry?.envelopeCount ?? 1;
    f[3] = this.geometry?.sweepCount ?? 1;
    f[4] = this.geometry?.collinearCount ?? 1;
    f[5] = this.geometry?.marginCount ?? 1;
    f[6] = this.steps?.alarmCount ?? 1;
    f[NOVELTY] = this.novelty?.alarmCount ?? 1;
    f[LINEAGE] = this.lineage?.alarmCount ?? 1;
    f[SEEDS] = this.seedDetector?.alarmCount ?? 1;
    return f;
  }

  /**
   * Scores one row. `classId` is the predicted class (UNKNOWN_CLASS when the answer was not seen,
   * as in the ext-authz doors: PRADA keeps such rows in one group, envelope and margin judge them on
   * raw counts), `margin` the top-1 − top-2 probability or NaN. Returns the highest score.
   */
  observe(st: QueryStreamState, row: ArrayLike<number>, classId: number, margin: number): number {
    st.queries++;
    const hash = hashRow(row, this.repeatKey);
    if (st.repeats.seen(hash)) {
      st.exactDuplicates++;
      return this.max(st);
    }
    const n = this.normaliser;
    if (!n || !n.normalise(row, this.scaled, this.z)) return this.max(st);
    st.distinct++;
    const sc = st.scores;
    const cal = this.calibration;
    const slot = rateSlot(classId);
    sc[0] = this.prada!.observe(st.prada!, this.z, classId < 0 ? 0 : classId);
    sc[1] = this.fingerprint!.observe(st.fingerprint!, this.z);
    // Novelty first: the envelope tells an exit among the model's own traffic (a rare class, an
    // extreme day of a series) from a probe off the data by what the novelty reference says.
    // Exits along the account's own path (a rare stretch of a series replayed in order) count for neither.
    const continued = this.geometry!.continues(st.geometry!, this.scaled);
    if (st.novelty) sc[NOVELTY] = this.novelty!.observe(st.novelty, this.z, continued);
    const far = st.novelty?.lastFar;
    this.geometry!.observe(st.geometry!, this.scaled, this.z, margin, sc, 2, slot, cal?.rates, far, continued);
    const grain = this.grain;
    const onGrain = grain?.onGrain(this.scaled) ?? false;
    const judged = grain?.decided ?? true;
    if (grain) {
      if (st.steps) this.steps!.regrain(st.steps, grain);
      if (st.lineage) this.lineage!.regrain(st.lineage, grain);
    }
    if (st.steps) sc[6] = this.steps!.observe(st.steps, this.scaled, onGrain, judged);
    if (st.lineage) sc[LINEAGE] = this.lineage!.observe(st.lineage, this.scaled, grain!.onGridded(this.scaled), judged);
    const known = this.known!.knownTo(hash, st.tag);
    if (st.seeds) {
      const grained = grain!.griddedFeatures;
      const on = grained > 0 ? grain!.featuresOnGrid(this.scaled) : 0;
      sc[SEEDS] = this.seedDetector!.observe(st.seeds, this.scaled, seedRowKind(grained, on, known), judged);
    }
    const apart = st.apart;
    if (apart) {
      if (!known) apart.push();
      for (let i = 0; i < APART_DETECTORS.length; i++) {
        const d = APART_DETECTORS[i]!;
        const r = apart.count(i) / this.floorCounts[d]!;
        if (r > sc[d]!) sc[d] = r;
      }
    }
    if (cal) {
      this.track(st, cal);
      const f = cal.factors;
      for (let d = 0; d < sc.length; d++) sc[d]! *= f[d]!;
      // Beyond the floor on the raw count (above) and beyond the calibrated threshold on the count
      // adjusted for the classes queried.
      const t = cal.thresholds;
      const g = st.geometry!;
      if (cal.adjusted(ENVELOPE) && t[ENVELOPE] === t[ENVELOPE])
        sc[ENVELOPE] = Math.min(sc[ENVELOPE]!, g.envelopeAdjusted / t[ENVELOPE]!);
      if (cal.adjusted(MARGIN) && t[MARGIN] === t[MARGIN])
        sc[MARGIN] = Math.min(sc[MARGIN]!, g.marginAdjusted / t[MARGIN]!);
      // A calibrated δ was learned from accounts of at least `minQueries` scored rows, so an account
      // is judged by it from then on: a shorter one (a replay of one 120-row series, tested by
      // PRADA from its 101st row) would be held to a population it is never part of.
      // (Published floors, or no calibration yet: PRADA's own warm-up.)
      if (cal.judging && cal.state !== 'floors' && st.distinct < cal.o.minQueries) sc[PRADA] = 0;
    }
    const m = this.max(st);
    if (cal && st.clean && m < 1 && slot !== UNKNOWN_SLOT && st.lent < RATE_ROWS_PER_ACCOUNT) {
      st.lent++;
      const g = st.geometry!;
      cal.lend(ENVELOPE_SIGNAL, slot, g.lastOutside);
      if (g.lastJudged) cal.lend(ENVELOPE_FAR_SIGNAL, slot, g.lastFarOutside);
      if (margin === margin) cal.lend(MARGIN_SIGNAL, slot, g.lastLowMargin);
    }
    // Only an account in no alarm and never flagged may lend a row to the population's reference.
    if (this.grain && st.clean && m < 1 && this.grain.takes(st.distinct)) this.grain.lend(this.scaled);
    if (st.clean && m < 1 && st.distinct <= SUPPORT_ROWS_PER_ACCOUNT) this.geometry!.support.lend(this.scaled);
    if (st.clean && m < 1) this.known!.lend(hash, st.tag);
    if (st.novelty) this.novelty!.offer(st.novelty, this.z, st.distinct, st.clean && m < 1);
    return m;
  }

  /** Moves the account's peaks and, once it has enough queries, its unit in the population. */
  private track(st: QueryStreamState, cal: PopulationCalibration): void {
    const p = st.peaks;
    const g = st.geometry!;
    const on = st.contributing;
    this.peak(st, cal, on, PRADA, wBin(st.prada!.w));
    // The statistic judged is the one calibrated: the larger of the window's count and the count apart.
    const a = st.apart;
    this.peak(st, cal, on, 1, a ? a.larger('fingerprint', st.fingerprint!.hits.count) : st.fingerprint!.hits.count);
    this.peak(st, cal, on, ENVELOPE, Math.round(g.envelopeAdjusted));
    this.peak(st, cal, on, 3, g.sweepHits);
    this.peak(st, cal, on, 4, g.collinearHits);
    this.peak(st, cal, on, MARGIN, Math.round(g.marginAdjusted));
    if (st.steps) this.peak(st, cal, on, 6, a ? a.larger('steps', st.steps.hits.count) : st.steps.hits.count);
    if (st.novelty)
      this.peak(st, cal, on, NOVELTY, a ? a.larger('novelty', st.novelty.far.count) : st.novelty.far.count);
    if (st.lineage)
      this.peak(st, cal, on, LINEAGE, a ? a.larger('lineage', st.lineage.hits.count) : st.lineage.hits.count);
    if (st.seeds) this.peak(st, cal, on, SEEDS, st.seeds.hits.count);
    if (!on && st.distinct >= cal.o.minQueries) {
      st.contributing = true;
      cal.add(p, st.distinct);
    }
  }

  private peak(st: QueryStreamState, cal: PopulationCalibration, on: boolean, d: number, raw: number): void {
    const was = st.peaks[d]!;
    // A flagged account lends the calibration no more than the threshold it crossed, so a group of
    // attackers beyond it cannot drag the model's thresholds up to their own level; a
    // miscalibrated detector still heals, as the accounts piling up at its threshold raise it.
    const bin = st.clean ? raw : Math.min(raw, cal.thresholdBin(d));
    if (bin <= was) return;
    st.peaks[d] = bin;
    if (on) cal.move(d, was, bin);
  }

  /** Counts rows the detectors cannot read (non-numeric inputs): volume and exact repeats only. */
  observeOpaque(st: QueryStreamState, hash: number, rows: number): number {
    st.queries += rows;
    if (st.repeats.seen(hash)) st.exactDuplicates += rows;
    return this.max(st);
  }

  private max(st: QueryStreamState): number {
    let m = 0;
    for (let i = 0; i < st.scores.length; i++) if (st.scores[i]! > m) m = st.scores[i]!;
    return m;
  }
}

/** Twice the share of rows with some |z| > k when the `width` features are independent N(0, 1). */
export function gaussianEnvelopeRate(k: number, width: number): number {
  return Math.min(0.5, 2 * (1 - Math.pow(1 - 2 * upperTail(k), width)));
}
