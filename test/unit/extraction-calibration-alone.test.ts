// An account is judged by the population of the other accounts: its own statistic, once it
// contributes, must not raise the threshold it is held to.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DETECTORS,
  PopulationCalibration,
  type CalibrationOptions,
} from '../../src/extraction/population-calibration.js';
import { Xoshiro128 } from '../../src/extraction/prng.js';
import { DEFAULT_DETECTOR_SETTINGS } from '../../src/extraction/detector-settings.js';
import { FeatureNormaliser } from '../../src/extraction/feature-normaliser.js';
import { QueryScorer } from '../../src/extraction/query-scorer.js';

const NOVELTY = DETECTORS.indexOf('novelty');
const OPTIONS: CalibrationOptions = {
  minAccounts: 200,
  minQueries: 128,
  falseAlarmRate: 0.001,
  tailAllowance: 1.5,
  deltaCeiling: 0.96,
  window: 128,
};
const floors = () => Float64Array.from(DETECTORS, (n) => (n === 'prada' ? 0.9 : 16));

interface Account {
  contributing: boolean;
  readonly peaks: Int16Array;
}

/** An account that has contributed `novelty` as its novelty count (0 for the other detectors). */
function account(novelty: number): Account {
  const peaks = new Int16Array(DETECTORS.length);
  peaks[NOVELTY] = novelty;
  return { contributing: true, peaks };
}

/**
 * 342 benign accounts whose novelty counts have a sparse tail, as on a four-feature model where a
 * few accounts browse one rare class (58, 45, 39, 32, 29, …): one rank of it is several counts.
 */
function benignPopulation(): Account[] {
  const rng = new Xoshiro128(9);
  const tail = [58, 45, 39, 32, 29, 28, 27, 25, 25, 24];
  return Array.from({ length: 342 }, (_, i) => account(i < tail.length ? tail[i]! : Math.floor(rng.next() * 22)));
}

function calibrated(accounts: readonly Account[]): PopulationCalibration {
  const c = new PopulationCalibration(OPTIONS, floors());
  for (const a of accounts) c.add(a.peaks, 500);
  c.refresh(1);
  assert.equal(c.state, 'calibrated');
  return c;
}

describe('population calibration, each account judged without itself', () => {
  it('holds an account beyond the 99th percentile to the threshold of the others, which its own count raised for them (us-births regression)', () => {
    const benign = benignPopulation();
    const before = calibrated(benign).effective(NOVELTY);
    // A diluted attacker whose count is above the benign threshold: contributing, it became one of
    // the few accounts the tail rests on and lifted the threshold above its own count.
    const attacker = account(before + 5);
    const c = calibrated([...benign, attacker]);
    assert.ok(c.effective(NOVELTY) > attacker.peaks[NOVELTY]!, `with it: ${c.effective(NOVELTY)}`);
    assert.equal(c.effectiveFor(NOVELTY, attacker), before);
    assert.ok(c.alone(NOVELTY, attacker));
  });

  it('gives each benign account of the tail the threshold of the population without it', () => {
    const benign = benignPopulation();
    const c = calibrated(benign);
    let judgedAlone = 0;
    benign.forEach((a, i) => {
      if (!c.alone(NOVELTY, a)) return;
      judgedAlone++;
      const others = calibrated(benign.filter((_, k) => k !== i));
      assert.equal(c.effectiveFor(NOVELTY, a), others.effective(NOVELTY), `account of ${a.peaks[NOVELTY]}`);
    });
    assert.ok(judgedAlone >= 3, `${judgedAlone} accounts beyond the 99th percentile`);
  });

  it('judges an account at or below the 99th percentile, and one that does not contribute, by the whole population', () => {
    const c = calibrated(benignPopulation());
    assert.equal(c.effectiveFor(NOVELTY, account(3)), c.effective(NOVELTY));
    const young = account(200);
    young.contributing = false;
    assert.equal(c.effectiveFor(NOVELTY, young), c.effective(NOVELTY));
  });

  it('judges every account by a pinned calibration as it was pinned', () => {
    const c = new PopulationCalibration(
      { ...OPTIONS, pinned: { accounts: 300, queries: 1e5, thresholds: { novelty: 40 } } },
      floors(),
    );
    assert.equal(c.effectiveFor(NOVELTY, account(120)), 40);
  });
});

describe('query scorer, each account judged without itself', () => {
  const FINGERPRINT = DETECTORS.indexOf('fingerprint');
  const scorer = () =>
    new QueryScorer(
      new FeatureNormaliser({
        scaling: { kind: 'standard', centre: [0, 0, 0, 0], scale: [1, 1, 1, 1] },
        projectAbove: 64,
        projectTo: 64,
        seed: 7,
      }),
      DEFAULT_DETECTOR_SETTINGS,
      1,
    );

  it('alarms on an account whose near-duplicate count lies between the threshold without it and the one its count raised', () => {
    const s = scorer();
    const cal = new PopulationCalibration(OPTIONS, s.floors());
    s.calibration = cal;
    // 342 benign accounts whose near-duplicate counts have a sparse tail (40, 35, 30, then 18 and below).
    const rng = new Xoshiro128(4);
    const tail = [40, 35, 30];
    for (let i = 0; i < 342; i++) {
      const peaks = new Int16Array(DETECTORS.length);
      peaks[FINGERPRINT] = i < tail.length ? tail[i]! : Math.floor(rng.next() * 19);
      cal.add(peaks, 500);
    }
    cal.refresh(1);
    const without = cal.effective(FINGERPRINT);
    // Half its rows are copies of the row before, 0.01 σ off: near-duplicates.
    const st = s.createState();
    let last: number[] = [];
    const next = (i: number) =>
      (last = i % 2 === 1 ? last.map((v) => v + 0.01) : [0, 0, 0, 0].map(() => 4 * rng.next() - 2));
    for (let i = 0; i < 300; i++) s.observe(st, next(i), 0, Number.NaN);
    cal.refresh(2);
    const count = st.fingerprint!.hits.count;
    assert.ok(st.contributing);
    assert.ok(
      without < count && count < cal.effective(FINGERPRINT),
      `${without} < ${count} < ${cal.effective(FINGERPRINT)}`,
    );
    s.observe(st, next(300), 0, Number.NaN);
    assert.ok(st.scores[FINGERPRINT]! >= 1, `score ${st.scores[FINGERPRINT]}`);
  });
});
