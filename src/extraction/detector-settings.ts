/**
 * Detector thresholds, with defaults taken from the published detectors and from a stated
 * assumption about benign traffic, never fitted to our own attack generators:
 *
 * - PRADA's warm-up (more than 100 distances, a test every 10 queries, 3σ outlier rejection)
 *   and δ = 0.9 come from the authors' reference code (Juuti et al., EuroS&P 2019);
 * - the near-duplicate quantum of 0.25 standard deviations per feature is the tabular
 *   quantisation proposed for Blacklight-style fingerprints; 8 shifted grids;
 * - every windowed signal alarms at the count that a benign stream whose per-query rate of
 *   that signal is the stated `...Rate` exceeds with probability `alpha` per window; alpha =
 *   1e-8 keeps a 10,000-query user with six signals under a 1e-3 chance of a false alarm
 *   under independence (10⁴ × 6 × 1e-8 ≈ 6e-4). The rates are deliberately pessimistic
 *   assumptions about benign traffic: 2% of queries for near-duplicates, sweeps and collinear
 *   steps, 10% for low margins;
 * - the envelope is the three-sigma rule on each feature; its assumed benign rate is twice
 *   what independent Gaussian features would give (1 − (1 − 2·Q(3))^width, 4.2% for 16
 *   features), leaving room for heavier tails. Features with heavy tails should be described
 *   by min/max instead (then the envelope is about 1.7 ranges out);
 * - novelty: a row is far from the population when fewer than 2 rows of a 1,024-row reference
 *   sample of it (at most 4 rows per account) lie within the 99th percentile of the sample's own
 *   2nd-nearest-neighbour distance, so about 1% of benign rows are far by construction; the floor
 *   assumes five times that (5%);
 * - lineage: rows on the lattice of a sign step the account has taken twice; natural rows almost
 *   never are, and the floor assumes the same 2% as the other pair signals;
 * - seeds: rows that are not real-looking within 0.3 σ (root-mean-square per feature: a few
 *   perturbation steps of 0.1 σ) of a real row the account sent itself, among its last 32; the
 *   floor assumes the same 2%.
 */
export interface DetectorSettings {
  readonly prototypes: number;
  readonly maxClasses: number;
  readonly ring: number;
  /** Distances needed before the first test (PRADA: more than 100). */
  readonly minSamples: number;
  readonly testEvery: number;
  /** Alarm when W falls below this (PRADA's reference server: 0.9). */
  readonly delta: number;
  /** Outlier rejection, in (MAD-estimated) standard deviations (PRADA: 3). */
  readonly rejectSigma: number;
  readonly bands: number;
  readonly quantum: number;
  readonly tableSize: number;
  readonly horizon: number;
  readonly window: number;
  readonly alpha: number;
  readonly nearDuplicateRate: number;
  readonly envelope: number;
  /** Assumed benign rate of envelope exits; undefined: twice the Gaussian rate for the row's width. */
  readonly envelopeRate: number | undefined;
  readonly sweepRate: number;
  readonly collinearCosine: number;
  readonly collinearRate: number;
  readonly lowMargin: number;
  readonly marginRate: number;
  /** Repeated step shapes: assumed benign share of rows that repeat an earlier step's shape. */
  readonly stepRate: number;
  /** Repeated step shapes: earlier rows each new one is compared with. */
  readonly stepRecent: number;
  /** Repeated step shapes: 16-bit shape tags remembered (a power of two; about 256 rows' worth at 16 comparisons). */
  readonly stepTable: number;
  /** Distinct rows per account remembered for telling exact re-sends apart (the exact horizon). */
  readonly repeatHorizon: number;
  /** Novelty: rows of the model's benign population kept as its reference (one per account at most). */
  readonly noveltyReference: number;
  /** Novelty: reference rows that must lie within the radius for a row to be near the population. */
  readonly noveltyNeighbours: number;
  /** Novelty: the radius is this quantile of the reference rows' own distance to their nearest others. */
  readonly noveltyQuantile: number;
  /** Novelty: assumed benign share of rows beyond the radius (the floor's rate). */
  readonly noveltyRate: number;
  /** Novelty: rows one account may lend to the reference. */
  readonly noveltyRowsPerAccount: number;
  /** Lineage: assumed benign share of rows descended from an earlier row of the account by a learned step. */
  readonly lineageRate: number;
  /** Lineage: distinct rows per account kept to find a step taken twice and a row's relatives. */
  readonly lineageHistory: number;
  /** Seeds: assumed benign share of rows grown around real rows the account sent (the floor's rate). */
  readonly seedRate: number;
  /** Seeds: real-looking rows per account kept as possible seeds. */
  readonly seedAnchors: number;
  /** Seeds: a row within this root-mean-square distance per feature (benign σ) of a seed was grown from it. */
  readonly seedRadius: number;
}

export const DEFAULT_DETECTOR_SETTINGS: DetectorSettings = {
  prototypes: 32,
  maxClasses: 16,
  ring: 256,
  minSamples: 100,
  testEvery: 10,
  delta: 0.9,
  rejectSigma: 3,
  bands: 8,
  quantum: 0.25,
  tableSize: 1024,
  horizon: 1024,
  window: 128,
  alpha: 1e-8,
  nearDuplicateRate: 0.02,
  envelope: 3,
  envelopeRate: undefined,
  sweepRate: 0.02,
  collinearCosine: 0.999,
  collinearRate: 0.02,
  lowMargin: 0.1,
  marginRate: 0.1,
  stepRate: 0.02,
  stepRecent: 16,
  stepTable: 4096,
  repeatHorizon: 512,
  noveltyReference: 1024,
  noveltyNeighbours: 2,
  noveltyQuantile: 0.99,
  noveltyRate: 0.05,
  noveltyRowsPerAccount: 4,
  lineageRate: 0.02,
  lineageHistory: 128,
  seedRate: 0.02,
  seedAnchors: 32,
  seedRadius: 0.3,
};

/** The detectors' names, in the order of every per-detector array. */
export const DETECTORS = [
  'prada',
  'fingerprint',
  'envelope',
  'sweep',
  'collinear',
  'margin',
  'steps',
  'novelty',
  'lineage',
  'seeds',
] as const;
export type DetectorName = (typeof DETECTORS)[number];

/** Classes whose envelope and margin base rates are kept apart (class ids folded modulo); one more slot holds unknown classes. */
export const RATE_CLASSES = 16;
