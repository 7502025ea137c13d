import { DEFAULT_DETECTOR_SETTINGS } from '../../src/extraction/detector-settings.js';
import { FeatureGrain, GRAIN_ROWS_PER_ACCOUNT } from '../../src/extraction/feature-grain.js';
import { LineageDetector } from '../../src/extraction/lineage-detector.js';
import type { Xoshiro128 } from '../../src/extraction/prng.js';

/**
 * PRADA's T-RND as random perturbation (Juuti et al., EuroS&P 2019), JbDA's shape without its
 * substitute (Papernot et al., AsiaCCS 2017): `seeds` real rows, then rounds in which every row so
 * far gets a copy moved by ±`step(j)` in every feature j.
 */
export function* signStepRounds(
  real: (rng: Xoshiro128) => Float64Array,
  seeds: number,
  step: (j: number) => number,
  rng: Xoshiro128,
): Generator<Float64Array> {
  const set: Float64Array[] = [];
  for (let i = 0; i < seeds; i++) {
    set.push(real(rng));
    yield set[i]!;
  }
  for (;;) {
    const n = set.length;
    for (let i = 0; i < n; i++) {
      const x = Float64Array.from(set[i]!, (v, j) => v + step(j) * (rng.next() < 0.5 ? -1 : 1));
      set.push(x);
      yield x;
    }
  }
}

/**
 * A grain fed as the scorer feeds it: GRAIN_ROWS_PER_ACCOUNT rows (on the benign scale) from each
 * of `accounts` accounts; `account(a)` is called once per account and gives its source of rows.
 */
export function grainOf(
  width: number,
  accounts: number,
  account: (a: number) => () => ArrayLike<number>,
): FeatureGrain {
  const g = new FeatureGrain(width);
  for (let a = 0; a < accounts; a++) {
    const row = account(a);
    for (let i = 0; i < GRAIN_ROWS_PER_ACCOUNT; i++) g.lend(row());
  }
  return g;
}

/** A lineage detector of `width` features at the default settings. */
export function lineageDetector(width: number, seed = 3): LineageDetector {
  const s = DEFAULT_DETECTOR_SETTINGS;
  return new LineageDetector({
    width,
    history: s.lineageHistory,
    window: s.window,
    benignRate: s.lineageRate,
    alpha: s.alpha,
    seed,
  });
}

/**
 * Feeds the distinct rows of `rows` (exact re-sends never reach the detectors), up to `budget`
 * queries, each scaled by `scale` and flagged by `onGrain`: the peak of `hits` and the query of
 * the first alarm (0: none).
 */
export function peakOver(
  observe: (scaled: Float64Array, onGrain: boolean) => number,
  hits: () => number,
  rows: Iterable<Float64Array>,
  scale: (row: Float64Array) => Float64Array,
  onGrain: (scaled: Float64Array) => boolean,
  budget: number,
): { peak: number; firstAlarm: number } {
  const seen = new Set<string>();
  let best = 0;
  let q = 0;
  let first = 0;
  for (const r of rows) {
    if (++q > budget) break;
    const key = r.join(',');
    if (seen.has(key)) continue;
    seen.add(key);
    const scaled = scale(r);
    if (observe(scaled, onGrain(scaled)) >= 1 && first === 0) first = q;
    best = Math.max(best, hits());
  }
  return { peak: best, firstAlarm: first };
}
