import { Xoshiro128 } from './prng.js';

/** How raw feature values are brought to a common scale before distances are taken. */
export type FeatureScaling =
  | { readonly kind: 'standard'; readonly centre: readonly number[]; readonly scale: readonly number[] }
  | { readonly kind: 'minmax'; readonly min: readonly number[]; readonly max: readonly number[] };

export interface NormaliserOptions {
  readonly scaling: FeatureScaling;
  /** Rows wider than this are projected to `projectTo` dimensions. */
  readonly projectAbove: number;
  readonly projectTo: number;
  readonly seed: number;
}

/**
 * Per-model feature normalisation: per-feature centre/scale (z-scores) or min/max (to [0, 1]
 * scaled to unit spread), then, for wide tensors, a fixed seeded Gaussian random projection
 * (Johnson–Lindenstrauss: pairwise distances kept within 1 ± ε with k = O(log n / ε²)), so
 * every replica computes the same vectors. All coefficients are fixed at start-up; a row is
 * written into caller-owned typed arrays without allocating.
 */
export class FeatureNormaliser {
  /** Raw row width this model's rows must have. */
  readonly width: number;
  /** Dimensions of the vectors the distance detectors see. */
  readonly dims: number;
  private readonly offset: Float64Array;
  private readonly factor: Float64Array;
  private readonly projection: Float64Array | undefined;

  constructor(opts: NormaliserOptions) {
    const s = opts.scaling;
    const width = s.kind === 'standard' ? s.centre.length : s.min.length;
    this.width = width;
    this.offset = new Float64Array(width);
    this.factor = new Float64Array(width);
    for (let j = 0; j < width; j++) {
      if (s.kind === 'standard') {
        this.offset[j] = s.centre[j]!;
        this.factor[j] = 1 / s.scale[j]!;
      } else {
        // A uniform variable on [min, max] has standard deviation (max − min)/√12: dividing by
        // that puts min/max features on the same unit spread as z-scores, so one set of
        // distance thresholds serves both.
        this.offset[j] = (s.min[j]! + s.max[j]!) / 2;
        this.factor[j] = Math.sqrt(12) / (s.max[j]! - s.min[j]!);
      }
    }
    if (width > opts.projectAbove) {
      const k = opts.projectTo;
      const rng = new Xoshiro128(opts.seed);
      const m = new Float64Array(k * width);
      // Entries N(0, 1/width): a projected coordinate of a unit-spread row keeps unit spread, so
      // per-dimension quanta (the fingerprints) mean the same with and without projection;
      // distances shrink by the common factor √(k/width), which the distance tests ignore.
      const norm = 1 / Math.sqrt(width);
      for (let i = 0; i < m.length; i++) m[i] = rng.normal() * norm;
      this.projection = m;
      this.dims = k;
    } else {
      this.dims = width;
    }
  }

  /** True when the rows are projected (a raw feature then moves every projected dimension). */
  get projected(): boolean {
    return this.projection !== undefined;
  }

  /**
   * Scales `row` into `scaled` (length `width`) and, when projecting, projects it into `out`
   * (length `dims`); without projection `out` receives the scaled row (`out` may then be
   * `scaled` itself, and nothing is copied). False when the row does not have the model's width.
   */
  normalise(row: ArrayLike<number>, scaled: Float64Array, out: Float64Array): boolean {
    const width = this.width;
    if (row.length !== width) return false;
    for (let j = 0; j < width; j++) scaled[j] = (row[j]! - this.offset[j]!) * this.factor[j]!;
    const p = this.projection;
    if (!p) {
      if (out !== scaled) for (let j = 0; j < width; j++) out[j] = scaled[j]!;
      return true;
    }
    for (let i = 0, base = 0; i < this.dims; i++, base += width) {
      let acc = 0;
      for (let j = 0; j < width; j++) acc += p[base + j]! * scaled[j]!;
      out[i] = acc;
    }
    return true;
  }
}
