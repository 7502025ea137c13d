import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_DETECTOR_SETTINGS } from '../../src/extraction/detector-settings.js';
import { FeatureGrain } from '../../src/extraction/feature-grain.js';
import { Xoshiro128 } from '../../src/extraction/prng.js';
import { peakOver } from '../helpers/pair-detector-fixtures.js';
import { scorerOfWidth } from '../helpers/width-scorer.js';
import { DETECTORS } from '../../src/extraction/query-scorer.js';
import { ANCHOR, NEITHER, PERTURBED, SEEDS, SeedDetector, seedRowKind } from '../../src/extraction/seed-detector.js';

/**
 * A small real-like model: 6 features on the unit scale, rows drawn around four cluster centres
 * with a different spread per feature, 300 of them, as a data set is. Real rows come from this
 * table; the detector is told which rows are real-looking, as the scorer tells it (the grain,
 * or another account's rows).
 */
const WIDTH = 6;
const table: Float64Array[] = (() => {
  const rng = new Xoshiro128(31);
  const centres = Array.from({ length: 4 }, () => Array.from({ length: WIDTH }, () => 1.5 * rng.normal()));
  const spread = Array.from({ length: WIDTH }, () => 0.4 + 0.6 * rng.next());
  return Array.from({ length: 300 }, () => {
    const c = centres[Math.floor(rng.next() * 4)]!;
    return Float64Array.from(c, (m, j) => m + spread[j]! * rng.normal());
  });
})();
const isReal = new Set(table);

const real = (rng: Xoshiro128) => table[Math.floor(rng.next() * table.length)]!;

/**
 * PRADA's T-RND read as Gaussian perturbation: 10 real seeds, then rounds in which every row so
 * far gets a copy moved by N(0, 0.1²) per feature (rounds that double the set: the row numbered
 * 10 + i is the copy of row i).
 */
function* tRndGauss(rng: Xoshiro128): Generator<Float64Array> {
  const set = Array.from({ length: 10 }, () => real(rng));
  yield* set;
  for (let i = 0; ; i++) {
    const x = Float64Array.from(set[i]!, (v) => v + 0.1 * rng.normal());
    set.push(x);
    yield x;
  }
}

function* diluted(attack: Generator<Float64Array>, rng: Xoshiro128, mix: number): Generator<Float64Array> {
  for (;;) yield rng.next() < mix ? real(rng) : attack.next().value!;
}

/** Noisy copies (σ 0.02–0.1) of a pool of real rows, picked again and again, never sent exactly. */
function* noisy(rng: Xoshiro128, pool: number, sigma: number): Generator<Float64Array> {
  const rows = Array.from({ length: pool }, () => real(rng));
  for (;;) yield Float64Array.from(rows[Math.floor(rng.next() * pool)]!, (v) => v + sigma * rng.normal());
}

const detector = () =>
  new SeedDetector({
    width: WIDTH,
    anchors: DEFAULT_DETECTOR_SETTINGS.seedAnchors,
    radius: DEFAULT_DETECTOR_SETTINGS.seedRadius,
    window: DEFAULT_DETECTOR_SETTINGS.window,
    benignRate: DEFAULT_DETECTOR_SETTINGS.seedRate,
    alpha: DEFAULT_DETECTOR_SETTINGS.alpha,
  });

/** Feeds the distinct rows of a stream; returns the first alarm's query number (0: none) and the window's peak. */
function run(rows: Iterable<Float64Array>, budget: number): { readonly first: number; readonly peak: number } {
  const det = detector();
  const st = det.createState();
  const { peak, firstAlarm } = peakOver(
    (r, real) => det.observe(st, r, real ? ANCHOR : PERTURBED),
    () => st.hits.count,
    rows,
    (r) => r,
    (r) => isReal.has(r),
    budget,
  );
  return { first: firstAlarm, peak };
}

describe('seeds detector', () => {
  it('catches T-RND with Gaussian perturbation within 100 queries', () => {
    for (let seed = 1; seed <= 5; seed++) {
      const { first } = run(tRndGauss(new Xoshiro128(seed)), 2000);
      assert.ok(first > 0 && first <= 100, `seed ${seed}: first alarm at ${first}`);
    }
  });

  it('catches T-RND with Gaussian perturbation diluted with 50% real rows within 300 queries', () => {
    for (let seed = 1; seed <= 5; seed++) {
      const rng = new Xoshiro128(100 + seed);
      const { first } = run(diluted(tRndGauss(rng), rng, 0.5), 2000);
      assert.ok(first > 0 && first <= 300, `seed ${seed}: first alarm at ${first}`);
    }
  });

  it('sees nothing in noisy copies of real rows, even when the same few rows are picked again and again', () => {
    for (const sigma of [0.02, 0.05, 0.1]) {
      const { peak } = run(noisy(new Xoshiro128(7), 10, sigma), 3000);
      assert.equal(peak, 0, `σ ${sigma}`);
    }
  });

  it('sees nothing in an in-order replay of real rows', () => {
    // The table sorted along its first feature: each row is close to the one before.
    const series = [...table].sort((a, b) => a[0]! - b[0]!);
    assert.equal(run(series, 3000).peak, 0);
  });

  it('keeps a seed that explains rows while many more real rows pass through', () => {
    const rng = new Xoshiro128(9);
    const seedRow = table[0]!;
    function* stream(): Generator<Float64Array> {
      yield seedRow;
      for (;;) {
        for (let k = 0; k < 3; k++) yield real(rng);
        yield Float64Array.from(seedRow, (v) => v + 0.1 * rng.normal());
      }
    }
    // 3 real rows per probe: the 32 anchors turn over every ~43 rows, the seed is kept.
    const { peak } = run(stream(), 2000);
    assert.ok(peak >= 30, `peak ${peak}`);
  });

  it('counts nothing before the data’s grain is known', () => {
    const det = detector();
    const st = det.createState();
    let q = 0;
    for (const r of tRndGauss(new Xoshiro128(3))) {
      if (++q > 500) break;
      det.observe(st, r, isReal.has(r) ? ANCHOR : PERTURBED, false);
    }
    assert.equal(st.hits.count, 0);
  });

  it('is registered as a detector and runs only on rows of at most 16 features', () => {
    assert.equal(DETECTORS[SEEDS], 'seeds');
    const scorer = scorerOfWidth;
    assert.ok(scorer(16).createState().seeds);
    assert.equal(scorer(17).createState().seeds, undefined);
    assert.equal(scorer(17).floors()[SEEDS], 1);
    assert.equal(scorer(16).floors()[SEEDS], detector().alarmCount);
  });

  it('keeps the same state size after 100 and after 100,000 rows', () => {
    const det = detector();
    const st = det.createState();
    const before = st.bytes;
    const rng = new Xoshiro128(11);
    for (let i = 0; i < 100_000; i++) {
      const r = rng.next() < 0.5 ? real(rng) : Float64Array.from(real(rng), (v) => v + 0.1 * rng.normal());
      det.observe(st, r, isReal.has(r) ? ANCHOR : PERTURBED);
    }
    assert.equal(st.bytes, before);
  });

  it('takes a row on the grain of the whole-unit features as a seed where one feature has no grain (a date beside a count), and a row off all of them as perturbed', () => {
    // Year, month and day in whole units, and a count whose unit is far below the grain's
    // resolution in σ (σ of 100,000: one unit is 10⁻⁵ σ), as beside a date a count of people is.
    const rng = new Xoshiro128(12);
    const row = () =>
      Float64Array.of(
        2000 + Math.floor(15 * rng.next()),
        1 + Math.floor(12 * rng.next()),
        1 + Math.floor(31 * rng.next()),
        Math.floor(400_000 * rng.next()),
      );
    const scale = [4, 3.5, 9, 100_000];
    const z = (x: Float64Array) => Float64Array.from(x, (v, j) => v / scale[j]!);
    const grain = new FeatureGrain(4);
    for (let i = 0; i < 400; i++) grain.lend(z(row()));
    assert.equal(grain.active, false, 'the count has no grain, so no row is on the whole grain');
    assert.equal(grain.griddedFeatures, 3);
    const real = z(row());
    assert.equal(grain.featuresOnGrid(real), 3);
    assert.equal(seedRowKind(3, grain.featuresOnGrid(real), false), ANCHOR);
    const perturbed = Float64Array.from(real, (v) => v + 0.1 * rng.normal());
    assert.equal(grain.featuresOnGrid(perturbed), 0);
    assert.equal(seedRowKind(3, grain.featuresOnGrid(perturbed), false), PERTURBED);
  });

  it('never takes a row off every grain as a seed, even when the known rows say another account sent it', () => {
    // A hash collision among the known rows, or a second account lending the attacker's probes.
    assert.equal(seedRowKind(4, 0, true), PERTURBED);
  });

  it('neither files nor judges a row off only some grains (a real row an incomplete grain misjudges) unless another account sent it', () => {
    assert.equal(seedRowKind(4, 3, false), NEITHER);
    assert.equal(seedRowKind(4, 3, true), ANCHOR);
  });

  it('judges by the known rows alone on continuous data (no feature has a grain)', () => {
    assert.equal(seedRowKind(0, 0, true), ANCHOR);
    assert.equal(seedRowKind(0, 0, false), PERTURBED);
  });

  it('flags T-RND with Gaussian perturbation through the scorer on data recorded to a grain, and not noisy copies', () => {
    // The table recorded to tenths, as instruments record; the model's first accounts browse it.
    const tenths = table.map((r) => Float64Array.from(r, (v) => Math.round(v * 10) / 10));
    const scorer = scorerOfWidth(WIDTH);
    const rng = new Xoshiro128(21);
    for (let a = 0; a < 8; a++) {
      const st = scorer.createState();
      for (let i = 0; i < 20; i++) scorer.observe(st, tenths[Math.floor(rng.next() * tenths.length)]!, 0, Number.NaN);
    }
    assert.equal(scorer.grain!.decided, true);
    const peak = (rows: Iterable<Float64Array>, budget: number) => {
      const st = scorer.createState();
      let q = 0;
      let best = 0;
      for (const r of rows) {
        if (++q > budget) break;
        scorer.observe(st, r, 0, Number.NaN);
        best = Math.max(best, st.scores[SEEDS]!);
      }
      return best;
    };
    function* attack(): Generator<Float64Array> {
      const set = Array.from({ length: 10 }, () => tenths[Math.floor(rng.next() * tenths.length)]!);
      yield* set;
      for (let i = 0; ; i++) {
        const x = Float64Array.from(set[i]!, (v) => v + 0.1 * rng.normal());
        set.push(x);
        yield x;
      }
    }
    function* noisyTenths(): Generator<Float64Array> {
      const pool = Array.from({ length: 10 }, () => tenths[Math.floor(rng.next() * tenths.length)]!);
      for (;;) yield Float64Array.from(pool[Math.floor(rng.next() * 10)]!, (v) => v + 0.05 * rng.normal());
    }
    assert.ok(peak(attack(), 100) >= 1, 'the attack reaches the alarm within 100 queries');
    assert.equal(peak(noisyTenths(), 2000), 0);
  });
});
