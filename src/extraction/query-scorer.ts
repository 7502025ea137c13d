import type { DetectorSettings } from './detector-settings.js';
import type { FeatureNormaliser } from './feature-normaliser.js';
import { FingerprintDetector, type FingerprintState } from './fingerprint-detector.js';
import { GeometryDetector, type GeometryState } from './geometry-detector.js';
import { PrototypeDetector, type PrototypeState } from './prototype-detector.js';
import { upperTail } from './normal-distribution.js';
import { hashRow } from './row-hash.js';

/** The detectors' names, in the order of `QueryStreamState.scores`. */
export const DETECTORS = ['prada', 'fingerprint', 'envelope', 'sweep', 'collinear', 'margin'] as const;
export type DetectorName = (typeof DETECTORS)[number];

const EXACT_SLOTS = 256;

/** What one user's stream on one model has left behind: fixed-size once every class was seen. */
export class QueryStreamState {
  /** Latest score per detector (≥ 1 is an alarm), in DETECTORS order. */
  readonly scores = new Float64Array(DETECTORS.length);
  readonly exactSigs = new Uint32Array(EXACT_SLOTS);
  queries = 0;
  exactDuplicates = 0;

  constructor(
    readonly prada: PrototypeState | undefined,
    readonly fingerprint: FingerprintState | undefined,
    readonly geometry: GeometryState | undefined,
  ) {}

  get bytes(): number {
    return this.scores.byteLength + this.exactSigs.byteLength + 48 + (this.prada?.bytes ?? 0) + (this.fingerprint?.bytes ?? 0) + (this.geometry?.bytes ?? 0);
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
  private readonly geometry: GeometryDetector | undefined;
  private readonly scaled: Float64Array;
  private readonly z: Float64Array;
  private seeds = 0x2545f491;

  constructor(
    readonly normaliser: FeatureNormaliser | undefined,
    readonly settings: DetectorSettings,
    seed: number,
  ) {
    const s = settings;
    this.scaled = new Float64Array(normaliser?.width ?? 0);
    this.z = new Float64Array(normaliser?.dims ?? 0);
    if (!normaliser) return;
    const dims = normaliser.dims;
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
  }

  /**
   * The most bytes one account's state can reach: its fixed state plus a full prototype set for
   * each of `classes` predicted classes (sets are filled as classes are first seen).
   */
  maxStateBytes(classes: number): number {
    const s = this.settings;
    const prototypeSets = this.prada ? Math.min(classes, s.maxClasses) * s.prototypes * (this.normaliser?.dims ?? 0) * Float32Array.BYTES_PER_ELEMENT : 0;
    return new QueryStreamState(this.prada?.createState(1), this.fingerprint?.createState(), this.geometry?.createState()).bytes + prototypeSets;
  }

  createState(): QueryStreamState {
    this.seeds = (Math.imul(this.seeds, 1103515245) + 12345) | 0;
    return new QueryStreamState(this.prada?.createState(this.seeds), this.fingerprint?.createState(), this.geometry?.createState());
  }

  /**
   * Scores one row. `classId` is the predicted class (0 when unknown: one group, as in the
   * ext-authz doors), `margin` the top-1 − top-2 probability or NaN. Returns the highest score.
   */
  observe(st: QueryStreamState, row: ArrayLike<number>, classId: number, margin: number): number {
    st.queries++;
    const h = hashRow(row);
    const slot = h & (EXACT_SLOTS - 1);
    const exact = st.exactSigs[slot] === h;
    st.exactSigs[slot] = h;
    if (exact) {
      st.exactDuplicates++;
      return this.max(st);
    }
    const n = this.normaliser;
    if (!n || !n.normalise(row, this.scaled, this.z)) return this.max(st);
    st.scores[0] = this.prada!.observe(st.prada!, this.z, classId);
    st.scores[1] = this.fingerprint!.observe(st.fingerprint!, this.z);
    this.geometry!.observe(st.geometry!, this.scaled, this.z, margin, st.scores, 2);
    return this.max(st);
  }

  /** Counts rows the detectors cannot read (non-numeric inputs): volume and exact repeats only. */
  observeOpaque(st: QueryStreamState, hash: number, rows: number): number {
    st.queries += rows;
    const slot = hash & (EXACT_SLOTS - 1);
    if (st.exactSigs[slot] === hash) st.exactDuplicates += rows;
    st.exactSigs[slot] = hash;
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
