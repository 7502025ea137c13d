// Data whose features are recorded partly at a resolution (a calendar's whole years, months and
// days) and partly finer than any grain worth keeping (a daily count of thousands of births): no
// grain holds in every feature, yet pairs of real rows still repeat their calendar differences by
// nature. Lineage must not read them as an attacker's steps, and must still see sign steps.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_DETECTOR_SETTINGS } from '../../src/extraction/detector-settings.js';
import { FeatureGrain, GRAIN_ROWS_PER_ACCOUNT } from '../../src/extraction/feature-grain.js';
import { FeatureNormaliser } from '../../src/extraction/feature-normaliser.js';
import { Xoshiro128 } from '../../src/extraction/prng.js';
import { DETECTORS, QueryScorer } from '../../src/extraction/query-scorer.js';
import { grainOf, lineageDetector, peakOver, signStepRounds } from '../helpers/pair-detector-fixtures.js';

const WIDTH = 4;

/** Fifteen years of days: year, month, day of the month, and births that day (fewer at weekends). */
const table: Float64Array[] = (() => {
  const rng = new Xoshiro128(41);
  const rows: Float64Array[] = [];
  for (let t = Date.UTC(2000, 0, 1); t < Date.UTC(2015, 0, 1); t += 86_400_000) {
    const d = new Date(t);
    const weekend = d.getUTCDay() === 0 || d.getUTCDay() === 6;
    const births = Math.round(12_000 - (weekend ? 3_500 : 0) + 600 * rng.normal());
    rows.push(Float64Array.of(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), births));
  }
  return rows;
})();

const MEAN = Array.from({ length: WIDTH }, (_, j) => table.reduce((a, r) => a + r[j]!, 0) / table.length);
const SCALE = MEAN.map((m, j) => Math.sqrt(table.reduce((a, r) => a + (r[j]! - m) ** 2, 0) / table.length));
const z = (x: ArrayLike<number>) => Float64Array.from({ length: WIDTH }, (_, j) => (x[j]! - MEAN[j]!) / SCALE[j]!);
const realRow = (rng: Xoshiro128) => table[Math.floor(rng.next() * table.length)]!;
const noisy = (rng: Xoshiro128) => Float64Array.from(realRow(rng), (v, j) => v + 0.05 * SCALE[j]! * rng.normal());

/** The grain as the scorer learns it: GRAIN_ROWS_PER_ACCOUNT rows from each of 40 accounts, 40% of them noisy. */
function learnedGrain(): FeatureGrain {
  const rng = new Xoshiro128(1);
  return grainOf(WIDTH, 40, (a) => () => z(a % 5 < 2 ? noisy(rng) : realRow(rng)));
}

/** Sign steps of ±0.1 σ in every feature from 20 real seeds. */
const signSteps = (rng: Xoshiro128) => signStepRounds(realRow, 20, (j) => 0.1 * SCALE[j]!, rng);

function* withRealRows(attack: Generator<Float64Array>, rng: Xoshiro128): Generator<Float64Array> {
  for (;;) yield rng.next() < 0.5 ? realRow(rng) : attack.next().value!;
}

/**
 * A fresh lineage detector fed `rows` (distinct ones, up to `budget`), each flagged by `onGrain`:
 * its peak window count and the query of its first alarm (0: none).
 */
function lineageOver(
  rows: Iterable<Float64Array>,
  onGrain: (scaled: Float64Array) => boolean,
  budget: number,
): { peak: number; firstAlarm: number } {
  const d = lineageDetector(WIDTH);
  const st = d.createState();
  return peakOver(
    (scaled, on) => d.observe(st, scaled, on),
    () => st.hits.count,
    rows,
    z,
    onGrain,
    budget,
  );
}

function* browse(seed: number): Generator<Float64Array> {
  const rng = new Xoshiro128(seed);
  for (;;) yield realRow(rng);
}

describe('a grain held by some features only', () => {
  const grain = learnedGrain();

  it('holds no grain in every feature when one is recorded finer than MIN_GRAIN, so no row is on the grain', () => {
    assert.equal(grain.active, false);
    assert.equal(grain.onGrain(z(realRow(new Xoshiro128(2)))), false);
  });

  it('finds real rows on the grain of the features that hold one', () => {
    const rng = new Xoshiro128(3);
    for (let i = 0; i < 200; i++) assert.ok(grain.onGridded(z(realRow(rng))));
  });

  it('finds rows with measurement noise and rows moved by a sign step off it', () => {
    const rng = new Xoshiro128(4);
    for (let i = 0; i < 200; i++) {
      assert.equal(grain.onGridded(z(noisy(rng))), false);
      const stepped = Float64Array.from(realRow(rng), (v, j) => v + 0.1 * SCALE[j]! * (rng.next() < 0.5 ? -1 : 1));
      assert.equal(grain.onGridded(z(stepped)), false);
    }
  });

  it('calls no row on it before the question of a grain is decided', () => {
    const g = new FeatureGrain(WIDTH);
    const rng = new Xoshiro128(5);
    for (let i = 0; i < GRAIN_ROWS_PER_ACCOUNT; i++) g.lend(z(realRow(rng)));
    assert.equal(g.decided, false);
    assert.equal(g.onGridded(z(realRow(rng))), false);
  });

  it('calls no row on it when no feature holds a grain (continuous data)', () => {
    const g = new FeatureGrain(WIDTH);
    const rng = new Xoshiro128(6);
    for (let i = 0; i < 2000; i++) g.lend(z(noisy(rng)));
    assert.ok(g.decided);
    assert.equal(g.onGridded(z(realRow(rng))), false);
  });

  it('lineage: exact real rows teach no step on the features with a grain (some accounts learned one when no row was on the grain)', () => {
    // A step is learned from two pairs of real rows with the same calendar differences and births
    // differences equal to 2⁻¹⁰ σ: rare for one account, then every real row in its coset is a hit.
    const peaks = (onGrain: (r: Float64Array) => boolean) =>
      Array.from({ length: 30 }, (_, seed) => lineageOver(browse(100 + seed), onGrain, 1500).peak);
    const before = Math.max(...peaks((r) => grain.onGrain(r)));
    assert.ok(before > 16, `judged by the grain of every feature: at most ${before} hits`);
    assert.equal(Math.max(...peaks((r) => grain.onGridded(r))), 0);
  });

  it('lineage: still catches sign steps diluted with 50% real rows within 300 queries', () => {
    for (let seed = 1; seed <= 5; seed++) {
      const rng = new Xoshiro128(seed);
      const at = lineageOver(withRealRows(signSteps(rng), rng), (r) => grain.onGridded(r), 2000).firstAlarm;
      assert.ok(at > 0 && at <= 300, `seed ${seed}: first alarm at ${at}`);
    }
  });

  it('query scorer: an account browsing exact real rows of such data shows no lineage', () => {
    const scorer = new QueryScorer(
      new FeatureNormaliser({
        scaling: { kind: 'standard', centre: MEAN, scale: SCALE },
        projectAbove: 64,
        projectTo: 64,
        seed: 7,
      }),
      DEFAULT_DETECTOR_SETTINGS,
      1,
    );
    const rng = new Xoshiro128(8);
    for (let a = 0; a < 40; a++) {
      const st = scorer.createState();
      for (let i = 0; i < GRAIN_ROWS_PER_ACCOUNT; i++)
        scorer.observe(st, a % 5 < 2 ? noisy(rng) : realRow(rng), 0, NaN);
    }
    const st = scorer.createState();
    let peak = 0;
    for (let i = 0; i < 1500; i++) {
      scorer.observe(st, realRow(rng), 0, Number.NaN);
      peak = Math.max(peak, st.lineage!.hits.count);
    }
    assert.equal(peak, 0);
    assert.equal(st.scores[DETECTORS.indexOf('lineage')], 0);
  });
});
