// Data recorded at a fixed resolution (whole metres, tenths of a degree) repeats its differences
// by nature; the pair detectors (steps, lineage) must not read that as an attacker's step, and
// must still see the attacker's steps among such rows.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_DETECTOR_SETTINGS } from '../../src/extraction/detector-settings.js';
import { FeatureGrain, GRAIN_ROWS_PER_ACCOUNT } from '../../src/extraction/feature-grain.js';
import { FeatureNormaliser } from '../../src/extraction/feature-normaliser.js';
import { Xoshiro128 } from '../../src/extraction/prng.js';
import { DETECTORS, QueryScorer } from '../../src/extraction/query-scorer.js';
import { StepDetector } from '../../src/extraction/step-detector.js';
import { grainOf, lineageDetector, peakOver, signStepRounds } from '../helpers/pair-detector-fixtures.js';

const WIDTH = 4;
/**
 * Per feature, the recorded resolution (raw units): a reading in tenths of a degree, a weight in
 * steps of 25 g, and the change of each since the previous reading (as a sensor series' features
 * are built).
 */
const RESOLUTION = [0.1, 25, 0.1, 25];

/** 2,000 readings of two slow series, each rounded to its resolution. */
const table: Float64Array[] = (() => {
  const rng = new Xoshiro128(31);
  const round = (v: number, j: number) => Math.round(v / RESOLUTION[j]!) * RESOLUTION[j]!;
  let a = 15;
  let b = 4000;
  return Array.from({ length: 2000 }, () => {
    // Mean-reverting around 15 °C and 4 kg, a few grains either side (readings of a quiet room).
    const na = round(15 + 0.9 * (a - 15) + 0.25 * rng.normal(), 0);
    const nb = round(4000 + 0.9 * (b - 4000) + 50 * rng.normal(), 1);
    const row = Float64Array.of(na, nb, na - a, nb - b);
    a = na;
    b = nb;
    return row;
  });
})();

/** Per feature, the table's standard deviation: the benign σ the normaliser divides by. */
const SCALE = RESOLUTION.map((_, j) => {
  const mean = table.reduce((acc, r) => acc + r[j]!, 0) / table.length;
  return Math.sqrt(table.reduce((acc, r) => acc + (r[j]! - mean) ** 2, 0) / table.length);
});

const z = (x: ArrayLike<number>) => Float64Array.from({ length: WIDTH }, (_, j) => x[j]! / SCALE[j]!);
const realRow = (rng: Xoshiro128) => table[Math.floor(rng.next() * table.length)]!;
const noisy = (rng: Xoshiro128) => Float64Array.from(realRow(rng), (v, j) => v + 0.05 * SCALE[j]! * rng.normal());

/** A grain fed like the scorer feeds it: GRAIN_ROWS_PER_ACCOUNT rows from each of `accounts` accounts. */
function learnedGrain(accounts: number, noisyShare: number, seed = 1): FeatureGrain {
  const rng = new Xoshiro128(seed);
  return grainOf(WIDTH, accounts, () => {
    const isNoisy = rng.next() < noisyShare;
    return () => z(isNoisy ? noisy(rng) : realRow(rng));
  });
}

/** T-RND (PRADA, Juuti et al. 2019): 10 real seeds, then each round every row so far gets a copy moved by ±0.1 σ per feature. */
const tRnd = (rng: Xoshiro128) => signStepRounds(realRow, 10, (j) => 0.1 * SCALE[j]!, rng);

function* diluted(attack: Generator<Float64Array>, rng: Xoshiro128, mix: number): Generator<Float64Array> {
  for (;;) yield rng.next() < mix ? realRow(rng) : attack.next().value!;
}

const s = DEFAULT_DETECTOR_SETTINGS;
const lineage = () => lineageDetector(WIDTH);
const steps = () =>
  new StepDetector({
    width: WIDTH,
    recent: s.stepRecent,
    table: s.stepTable,
    window: s.window,
    benignRate: s.stepRate,
    alpha: s.alpha,
  });

/** A detector with fresh state: feeds one scaled row (with its grain flag), reads the window's hits. */
interface Fed {
  readonly observe: (row: Float64Array, onGrain: boolean) => number;
  readonly hits: () => number;
}
const fedSteps = (): Fed => {
  const d = steps();
  const st = d.createState();
  return { observe: (r, on) => d.observe(st, r, on), hits: () => st.hits.count };
};
const fedLineage = (): Fed => {
  const d = lineage();
  const st = d.createState();
  return { observe: (r, on) => d.observe(st, r, on), hits: () => st.hits.count };
};

/** Peak window hits of a detector over distinct rows, each judged with the grain (or without it when `grain` is undefined). */
function peak(
  observe: (row: Float64Array, onGrain: boolean) => number,
  hits: () => number,
  rows: Iterable<Float64Array>,
  grain: FeatureGrain | undefined,
  budget: number,
): { peak: number; firstAlarm: number } {
  return peakOver(observe, hits, rows, z, (scaled) => grain?.onGrain(scaled) ?? false, budget);
}

describe('feature grain', () => {
  it('learns each feature’s recorded resolution from the rows of a few dozen accounts', () => {
    const g = learnedGrain(40, 0);
    assert.ok(g.active);
    for (let j = 0; j < WIDTH; j++)
      assert.ok(Math.abs(g.inUse[j]! * SCALE[j]! - RESOLUTION[j]!) < 1e-9, `feature ${j}: ${g.inUse[j]! * SCALE[j]!}`);
  });

  it('finds real rows on the grain and rows with measurement noise off it', () => {
    const g = learnedGrain(40, 0);
    const rng = new Xoshiro128(2);
    for (let i = 0; i < 200; i++) {
      assert.ok(g.onGrain(z(realRow(rng))));
      assert.equal(g.onGrain(z(noisy(rng))), false);
    }
  });

  it('keeps the grain when 40% of the accounts lend noisy rows, and when the first row lent is noisy', () => {
    const g = new FeatureGrain(WIDTH);
    const rng = new Xoshiro128(3);
    g.lend(z(noisy(rng)));
    for (let a = 0; a < 60; a++) {
      const isNoisy = a % 5 < 2;
      for (let i = 0; i < GRAIN_ROWS_PER_ACCOUNT; i++) g.lend(z(isNoisy ? noisy(rng) : realRow(rng)));
    }
    assert.ok(g.active);
    assert.ok(Math.abs(g.inUse[0]! * SCALE[0]! - RESOLUTION[0]!) < 1e-9);
  });

  it('has no grain on continuous data, so no row is on it', () => {
    const g = new FeatureGrain(WIDTH);
    const rng = new Xoshiro128(4);
    for (let i = 0; i < 2000; i++) g.lend(z(noisy(rng)));
    assert.equal(g.active, false);
    assert.equal(g.onGrain(z(realRow(rng))), false);
  });

  it('does not take a finer grain from one account’s rows (its own synthetic rows would then lie on it)', () => {
    const g = learnedGrain(40, 0);
    const rng = new Xoshiro128(10);
    // One account lends rows on a grid 64 times finer than the data's.
    for (let i = 0; i < GRAIN_ROWS_PER_ACCOUNT; i++)
      g.lend(
        z(Float64Array.from(realRow(rng), (v, j) => v + (RESOLUTION[j]! / 64) * (1 + Math.floor(rng.next() * 63)))),
      );
    for (let j = 0; j < WIDTH; j++)
      assert.ok(Math.abs(g.inUse[j]! * SCALE[j]! - RESOLUTION[j]!) < 1e-9, `feature ${j}`);
    const synthetic = Float64Array.from(realRow(rng), (v, j) => v + (5 * RESOLUTION[j]!) / 64);
    assert.equal(g.onGrain(z(synthetic)), false);
  });

  it('takes a finer grain once many accounts’ rows need it (the first differences were coarser)', () => {
    const g = new FeatureGrain(WIDTH);
    const rng = new Xoshiro128(11);
    // The first accounts send rows on a grid ten times coarser (whole degrees, 250 g), then the data's own.
    const coarse = (x: Float64Array) =>
      Float64Array.from(x, (v, j) => Math.round(v / (10 * RESOLUTION[j]!)) * 10 * RESOLUTION[j]!);
    for (let i = 0; i < 3 * GRAIN_ROWS_PER_ACCOUNT; i++) g.lend(z(coarse(realRow(rng))));
    for (let i = 0; i < 20 * GRAIN_ROWS_PER_ACCOUNT; i++) g.lend(z(realRow(rng)));
    for (let j = 0; j < WIDTH; j++)
      assert.ok(Math.abs(g.inUse[j]! * SCALE[j]! - RESOLUTION[j]!) < 1e-9, `feature ${j}: ${g.inUse[j]! * SCALE[j]!}`);
  });

  it('settles on the grain within eight accounts, however many grains the first rows lent differ by', () => {
    for (let seed = 1; seed <= 10; seed++) {
      const g = learnedGrain(8, 0, seed);
      assert.ok(g.active, `seed ${seed}`);
      for (let j = 0; j < WIDTH; j++)
        assert.ok(
          Math.abs(g.inUse[j]! * SCALE[j]! - RESOLUTION[j]!) < 1e-9,
          `seed ${seed}, feature ${j}: ${g.inUse[j]! * SCALE[j]!}`,
        );
    }
  });

  it('settles on whole units within eight accounts when values spread over hundreds of them (a first difference of many grains)', () => {
    for (let seed = 1; seed <= 10; seed++) {
      const g = new FeatureGrain(1);
      const rng = new Xoshiro128(seed);
      // Heights of a hill in whole metres, 100–200 m, on a benign σ of 29 m.
      for (let i = 0; i < 8 * GRAIN_ROWS_PER_ACCOUNT; i++) g.lend([(100 + Math.floor(rng.next() * 101)) / 29]);
      assert.ok(g.active, `seed ${seed}`);
      assert.ok(Math.abs(g.inUse[0]! * 29 - 1) < 1e-9, `seed ${seed}: ${g.inUse[0]! * 29}`);
    }
  });

  it('is decided without a grain after four accounts’ rows of continuous data', () => {
    const g = new FeatureGrain(WIDTH);
    const rng = new Xoshiro128(12);
    for (let i = 0; i < 4 * GRAIN_ROWS_PER_ACCOUNT - 1; i++) g.lend(z(noisy(rng)));
    assert.equal(g.decided, false);
    g.lend(z(noisy(rng)));
    assert.ok(g.decided);
    assert.equal(g.active, false);
  });

  it('is not set up before enough rows on it were lent', () => {
    assert.equal(learnedGrain(2, 0).active, false);
  });
});

describe('pair detectors on data recorded at a fixed resolution', () => {
  const grain = learnedGrain(40, 0.4);
  function* browse(seed: number): Generator<Float64Array> {
    const rng = new Xoshiro128(seed);
    for (;;) yield realRow(rng);
  }

  /** Peak hits of a fresh detector over 1,000 exact real rows, with the grain or without it. */
  const browsePeak = (make: () => Fed, seed: number, g: FeatureGrain | undefined) => {
    const d = make();
    return peak(d.observe, d.hits, browse(seed), g, 1000).peak;
  };

  it('steps: repeated shapes among exact real rows are the data’s grain, not a step (they were without the grain)', () => {
    assert.ok(browsePeak(fedSteps, 5, undefined) > 16, `without the grain: ${browsePeak(fedSteps, 5, undefined)} hits`);
    assert.equal(browsePeak(fedSteps, 5, grain), 0);
  });

  it('lineage: exact real rows recorded in whole units teach no step (they did without the grain)', () => {
    assert.ok(
      browsePeak(fedLineage, 6, undefined) > 16,
      `without the grain: ${browsePeak(fedLineage, 6, undefined)} hits`,
    );
    assert.equal(browsePeak(fedLineage, 6, grain), 0);
  });

  it('lineage: still catches T-RND diluted with 50% real rows within 300 queries', () => {
    for (let seed = 1; seed <= 5; seed++) {
      const d = fedLineage();
      const rng = new Xoshiro128(seed);
      const at = peak(d.observe, d.hits, diluted(tRnd(rng), rng, 0.5), grain, 2000).firstAlarm;
      assert.ok(at > 0 && at <= 300, `seed ${seed}: first alarm at ${at}`);
    }
  });

  it('steps: still catches T-RND alone within 300 queries', () => {
    const d = fedSteps();
    const rng = new Xoshiro128(8);
    const at = peak(d.observe, d.hits, tRnd(rng), grain, 2000).firstAlarm;
    assert.ok(at > 0 && at <= 300, `first alarm at ${at}`);
  });
});

describe('query scorer and the grain', () => {
  const newScorer = () =>
    new QueryScorer(
      new FeatureNormaliser({
        scaling: { kind: 'standard', centre: [0, 0, 0, 0], scale: SCALE },
        projectAbove: 64,
        projectTo: 64,
        seed: 7,
      }),
      DEFAULT_DETECTOR_SETTINGS,
      1,
    );
  const steps = DETECTORS.indexOf('steps');
  const lineageAt = DETECTORS.indexOf('lineage');

  it('counts no step or lineage hit for the model’s first account, whose 300 exact rows come before the grain is known', () => {
    const scorer = newScorer();
    const rng = new Xoshiro128(13);
    const first = scorer.createState();
    let peakSteps = 0;
    let peakLineage = 0;
    for (let i = 0; i < 300; i++) {
      scorer.observe(first, realRow(rng), 0, Number.NaN);
      peakSteps = Math.max(peakSteps, first.steps!.hits.count);
      peakLineage = Math.max(peakLineage, first.lineage!.hits.count);
    }
    assert.equal(scorer.grain?.decided, false);
    // Then others arrive; the grain is learned, and the first account's earlier rows are judged under it.
    for (let a = 0; a < 20; a++) {
      const st = scorer.createState();
      for (let i = 0; i < GRAIN_ROWS_PER_ACCOUNT; i++) scorer.observe(st, realRow(rng), 0, Number.NaN);
    }
    assert.ok(scorer.grain?.active);
    for (let i = 0; i < 300; i++) {
      scorer.observe(first, realRow(rng), 0, Number.NaN);
      peakSteps = Math.max(peakSteps, first.steps!.hits.count);
      peakLineage = Math.max(peakLineage, first.lineage!.hits.count);
    }
    assert.equal(peakSteps, 0);
    assert.equal(peakLineage, 0);
  });

  it('learns the grain from accounts in good standing and scores their exact rows without step or lineage hits', () => {
    const scorer = newScorer();
    const rng = new Xoshiro128(9);
    for (let a = 0; a < 20; a++) {
      const st = scorer.createState();
      for (let i = 0; i < GRAIN_ROWS_PER_ACCOUNT; i++) scorer.observe(st, realRow(rng), 0, Number.NaN);
    }
    assert.ok(scorer.grain?.active);
    const st = scorer.createState();
    for (let i = 0; i < 1000; i++) scorer.observe(st, realRow(rng), 0, Number.NaN);
    assert.equal(st.scores[steps], 0);
    assert.equal(st.scores[lineageAt], 0);
  });
});
