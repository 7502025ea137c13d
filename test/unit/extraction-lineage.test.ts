import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LineageDetector, type LineageState } from '../../src/extraction/lineage-detector.js';
import { Xoshiro128 } from '../../src/extraction/prng.js';
import { DETECTORS } from '../../src/extraction/query-scorer.js';
import { lineageDetector, signStepRounds } from '../helpers/pair-detector-fixtures.js';
import { scorerOfWidth } from '../helpers/width-scorer.js';

/**
 * A small real-like model: 13 features (the width of Boston house prices), rows drawn around six
 * cluster centres with a different spread per feature, 500 of them, as a data set is: every
 * stream below draws its real rows from this one table.
 */
const WIDTH = 13;
const table: Float64Array[] = (() => {
  const rng = new Xoshiro128(20);
  const centres = Array.from({ length: 6 }, () => Array.from({ length: WIDTH }, () => 2 * rng.normal()));
  const spread = Array.from({ length: WIDTH }, () => 0.3 + rng.next());
  return Array.from({ length: 500 }, () => {
    const c = centres[Math.floor(rng.next() * 6)]!;
    return Float64Array.from(c, (m, j) => m + spread[j]! * rng.normal());
  });
})();

const real = (rng: Xoshiro128) => table[Math.floor(rng.next() * table.length)]!;

/** PRADA's T-RND as random perturbation: 10 real seeds, then each round every row so far gets a copy moved by ±`step` per feature. */
const tRnd = (rng: Xoshiro128, step: (j: number) => number) => signStepRounds(real, 10, step, rng);

/** The attack with a share `mix` of its rows replaced by real rows of the table. */
function* diluted(attack: Generator<Float64Array>, rng: Xoshiro128, mix: number): Generator<Float64Array> {
  for (;;) yield rng.next() < mix ? real(rng) : attack.next().value!;
}

const detector = () => lineageDetector(WIDTH);

/** Feeds the distinct rows of a stream (exact re-sends never reach the detectors); returns the first alarm's query number, or 0. */
function firstAlarm(det: LineageDetector, rows: Iterable<Float64Array>, budget: number): number {
  const st = det.createState();
  const seen = new Set<string>();
  let q = 0;
  for (const r of rows) {
    if (++q > budget) return 0;
    const key = r.join(',');
    if (seen.has(key)) continue;
    seen.add(key);
    if (det.observe(st, r) >= 1) return q;
  }
  return 0;
}

/** The most rows with a lineage the window ever held for a stream. */
function peakHits(det: LineageDetector, rows: Iterable<Float64Array>): number {
  const st: LineageState = det.createState();
  let peak = 0;
  for (const r of rows) {
    det.observe(st, r);
    peak = Math.max(peak, st.hits.count);
  }
  return peak;
}

describe('lineage detector', () => {
  it('catches T-RND diluted with 50% real rows on a 13-feature model within 300 queries', () => {
    for (let seed = 1; seed <= 5; seed++) {
      const rng = new Xoshiro128(seed);
      const at = firstAlarm(
        detector(),
        diluted(
          tRnd(rng, () => 0.1),
          rng,
          0.5,
        ),
        2000,
      );
      assert.ok(at > 0 && at <= 300, `seed ${seed}: first alarm at ${at}`);
    }
  });

  it('learns a step of a different size in every feature (an attacker stepping in its own units)', () => {
    const rng = new Xoshiro128(9);
    const at = firstAlarm(
      detector(),
      diluted(
        tRnd(rng, (j) => 0.02 + 0.03 * j),
        rng,
        0.2,
      ),
      2000,
    );
    assert.ok(at > 0 && at <= 300, `first alarm at ${at}`);
  });

  it('sees no lineage in noisy copies of real rows, even when the same row is picked again and again', () => {
    const rng = new Xoshiro128(4);
    function* noisy(): Generator<Float64Array> {
      // 5,000 rows from 500: every real row comes back about ten times, with fresh noise of 0.02–0.1 σ.
      for (let i = 0; i < 5000; i++) {
        const sigma = 0.02 + 0.08 * rng.next();
        yield Float64Array.from(real(rng), (v) => v + sigma * rng.normal());
      }
    }
    assert.equal(peakHits(detector(), noisy()), 0);
  });

  it('sees no lineage in a dashboard re-sending the same 30 rows for hours', () => {
    const rng = new Xoshiro128(5);
    const rows = Array.from({ length: 30 }, () => real(rng));
    function* dashboard(): Generator<Float64Array> {
      for (let poll = 0; poll < 180; poll++) yield* rows;
    }
    assert.equal(peakHits(detector(), dashboard()), 0);
  });

  it('sees no lineage in a time-ordered replay of a smooth series', () => {
    function* series(): Generator<Float64Array> {
      for (let t = 0; t < 3000; t++)
        yield Float64Array.from({ length: WIDTH }, (_, j) => Math.sin((t + 17 * j) / 40) + 0.01 * j * Math.cos(t / 7));
    }
    assert.equal(peakHits(detector(), series()), 0);
  });

  it('keeps the same state size after 100 and after 100,000 rows', () => {
    const det = detector();
    const st = det.createState();
    const rng = new Xoshiro128(6);
    const attack = diluted(
      tRnd(rng, () => 0.1),
      rng,
      0.5,
    );
    const before = st.bytes;
    for (let i = 0; i < 100; i++) det.observe(st, attack.next().value);
    assert.equal(st.bytes, before);
    for (let i = 0; i < 100_000; i++) det.observe(st, attack.next().value);
    assert.equal(st.bytes, before);
    assert.ok(before < 16_384, `state of ${before} bytes at ${WIDTH} features`);
  });

  it('runs only on rows of at most 16 features', () => {
    const scorer = scorerOfWidth;
    assert.ok(scorer(16).createState().lineage);
    assert.equal(scorer(17).createState().lineage, undefined);
    assert.equal(scorer(17).floors()[DETECTORS.indexOf('lineage')], 1);
  });
});
