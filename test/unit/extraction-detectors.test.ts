import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_DETECTOR_SETTINGS } from '../../src/extraction/detector-settings.js';
import { FeatureNormaliser } from '../../src/extraction/feature-normaliser.js';
import { Xoshiro128 } from '../../src/extraction/prng.js';
import { DETECTORS, QueryScorer, type DetectorName } from '../../src/extraction/query-scorer.js';
import { binomialAlarmCount } from '../../src/extraction/binomial-threshold.js';
import { medianAbsoluteDeviation } from '../../src/extraction/prototype-detector.js';

const D = 16;
const normaliser = new FeatureNormaliser({
  scaling: { kind: 'standard', centre: new Array(D).fill(0), scale: new Array(D).fill(1) },
  projectAbove: 64,
  projectTo: 64,
  seed: 7,
});

/** Feeds a stream; returns the first query index (1-based) at which `detector` alarmed, or 0. */
function firstAlarm(
  rows: Iterable<readonly number[]>,
  detector: DetectorName,
  classOf: (r: readonly number[]) => number = () => 0,
): number {
  const scorer = new QueryScorer(normaliser, DEFAULT_DETECTOR_SETTINGS, 1);
  const st = scorer.createState();
  const at = DETECTORS.indexOf(detector);
  let i = 0;
  for (const r of rows) {
    i++;
    scorer.observe(st, r, classOf(r), Number.NaN);
    if (st.scores[at]! >= 1) return i;
  }
  return 0;
}

/** Which detectors ever alarmed on a stream. */
function alarms(rows: Iterable<readonly number[]>, classOf: (r: readonly number[]) => number): DetectorName[] {
  const scorer = new QueryScorer(normaliser, DEFAULT_DETECTOR_SETTINGS, 1);
  const st = scorer.createState();
  const seen = new Set<DetectorName>();
  for (const r of rows) {
    scorer.observe(st, r, classOf(r), Number.NaN);
    DETECTORS.forEach((d, i) => st.scores[i]! >= 1 && seen.add(d));
  }
  return [...seen];
}

const halfSpace = (r: readonly number[]) => (r[0]! + r[1]! > 0 ? 1 : 0);

function* iid(n: number, seed: number) {
  const rng = new Xoshiro128(seed);
  for (let i = 0; i < n; i++) yield Array.from({ length: D }, () => rng.normal());
}

function* ar1(n: number, seed: number, rho: number) {
  const rng = new Xoshiro128(seed);
  let x = Array.from({ length: D }, () => rng.normal());
  const k = Math.sqrt(1 - rho * rho);
  for (let i = 0; i < n; i++) {
    x = x.map((v) => rho * v + k * rng.normal());
    yield x;
  }
}

function* sweep(seed: number) {
  const rng = new Xoshiro128(seed);
  const base = Array.from({ length: D }, () => rng.normal());
  for (let j = 0; j < D; j++) {
    for (let g = 0; g < 50; g++) {
      const x = base.slice();
      x[j] = -3 + (6 * g) / 49;
      yield x;
    }
  }
}

function* lineSearch(seed: number) {
  const rng = new Xoshiro128(seed);
  for (;;) {
    let a = Array.from({ length: D }, () => rng.normal());
    let b = Array.from({ length: D }, () => rng.normal());
    for (let s = 0; s < 20; s++) {
      const m = a.map((v, j) => (v + b[j]!) / 2);
      yield m;
      if (halfSpace(m) === halfSpace(a)) a = m;
      else b = m;
    }
  }
}

function* uniformBox(n: number, seed: number) {
  const rng = new Xoshiro128(seed);
  for (let i = 0; i < n; i++) yield Array.from({ length: D }, () => -6 + 12 * rng.next());
}

function* jbda(seed: number) {
  // Seeds from the benign distribution, then small signed steps around the points already sent.
  const rng = new Xoshiro128(seed);
  const points: number[][] = [...iid(50, seed + 1)];
  yield* points;
  for (let round = 0; round < 6; round++) {
    const next = points.map((p) => p.map((v) => v + 0.1 * (rng.next() < 0.5 ? -1 : 1)));
    yield* next;
    points.push(...next);
  }
}

describe('extraction detectors on crafted streams', () => {
  it('catches a one-feature-at-a-time sweep with the sweep signal within 100 queries', () => {
    const at = firstAlarm(sweep(1), 'sweep');
    assert.ok(at > 0 && at <= 100, `first alarm at ${at}`);
  });

  it('catches binary line searches with the collinear-step signal', () => {
    const at = firstAlarm(lineSearch(2), 'collinear');
    assert.ok(at > 0 && at <= 200, `first alarm at ${at}`);
  });

  it('catches near-duplicate probing (binary searches converging) with the fingerprints', () => {
    const at = firstAlarm(lineSearch(3), 'fingerprint');
    assert.ok(at > 0 && at <= 300, `first alarm at ${at}`);
  });

  it('catches uniform queries over a wide box with the envelope signal', () => {
    const at = firstAlarm(uniformBox(2000, 4), 'envelope');
    assert.ok(at > 0 && at <= 100, `first alarm at ${at}`);
  });

  it('catches synthetic steps around seed points with the PRADA test', () => {
    const at = firstAlarm(jbda(5), 'prada', halfSpace);
    assert.ok(at > 0 && at <= 400, `first alarm at ${at}`);
  });

  it('raises no alarm on 10,000 i.i.d. benign queries', () => {
    assert.deepEqual(alarms(iid(10_000, 6), halfSpace), []);
  });

  it('raises no alarm on 10,000 time-correlated benign queries (AR(1), ρ = 0.9)', () => {
    assert.deepEqual(alarms(ar1(10_000, 7, 0.9), halfSpace), []);
  });

  it('counts exact retries apart without letting them reach the detectors', () => {
    const scorer = new QueryScorer(normaliser, DEFAULT_DETECTOR_SETTINGS, 1);
    const st = scorer.createState();
    const row = [...iid(1, 8)][0]!;
    for (let i = 0; i < 500; i++) scorer.observe(st, row, 0, Number.NaN);
    assert.equal(st.queries, 500);
    assert.equal(st.exactDuplicates, 499);
    assert.deepEqual([...st.scores], new Array(DETECTORS.length).fill(0));
  });

  it('keeps the same state size after 100 and after 100,000 queries', () => {
    const scorer = new QueryScorer(normaliser, DEFAULT_DETECTOR_SETTINGS, 1);
    const st = scorer.createState();
    let i = 0;
    let at100 = 0;
    for (const r of iid(100_000, 9)) {
      scorer.observe(st, r, halfSpace(r), Number.NaN);
      if (++i === 100) at100 = st.bytes;
    }
    assert.equal(st.bytes, at100);
  });
});

describe('binomial alarm counts', () => {
  it('picks the smallest count whose benign tail is under alpha', () => {
    // Bin(10, 0.5): P(X ≥ 10) = 1/1024, P(X ≥ 9) = 11/1024.
    assert.equal(binomialAlarmCount(10, 0.5, 0.0009), 11);
    assert.equal(binomialAlarmCount(10, 0.5, 0.001), 10);
    assert.equal(binomialAlarmCount(10, 0.5, 0.0099), 10);
    assert.equal(binomialAlarmCount(10, 0.5, 0.011), 9);
  });
});

describe('median absolute deviation', () => {
  it('is the median distance to the median, for odd and even samples', () => {
    // |x − 3| of 1..5 = 2 1 0 1 2 → 1; of 1,2,4,8 (median 3): 2 1 1 5 → (1 + 2)/2.
    assert.equal(medianAbsoluteDeviation([1, 2, 3, 4, 5], 3), 1);
    assert.equal(medianAbsoluteDeviation([1, 2, 4, 8], 3), 1.5);
  });
});

describe('rows without a feature description', () => {
  it('counts volume and exact repeats only, and never alarms', () => {
    const scorer = new QueryScorer(undefined, DEFAULT_DETECTOR_SETTINGS, 1);
    const st = scorer.createState();
    for (let i = 0; i < 100; i++) scorer.observeOpaque(st, i % 10 === 0 ? 7 : (i << 8) | 9, 3);
    assert.equal(st.queries, 300);
    // The body hashed 7 came ten times: nine repeats of three rows each.
    assert.equal(st.exactDuplicates, 27);
    assert.equal(scorer.observe(st, [1, 2, 3], 0, Number.NaN), 0);
  });
});
