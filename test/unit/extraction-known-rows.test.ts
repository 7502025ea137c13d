import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { APART_DETECTORS, ApartWindows } from '../../src/extraction/apart-windows.js';
import { DEFAULT_DETECTOR_SETTINGS } from '../../src/extraction/detector-settings.js';
import { FeatureNormaliser } from '../../src/extraction/feature-normaliser.js';
import { KnownRows } from '../../src/extraction/known-rows.js';
import { Xoshiro128 } from '../../src/extraction/prng.js';
import { DETECTORS, QueryScorer } from '../../src/extraction/query-scorer.js';
import { WindowCount } from '../../src/extraction/window-count.js';

describe('known rows', () => {
  it('does not know a row to the account that lent it', () => {
    const k = new KnownRows(64);
    k.lend(0x1234, 7);
    assert.equal(k.knownTo(0x1234, 7), false);
  });

  it('knows a row to every other account once one account lent it', () => {
    const k = new KnownRows(64);
    k.lend(0x1234, 7);
    assert.equal(k.knownTo(0x1234, 8), true);
  });

  it('knows a row lent by two accounts to both of them', () => {
    const k = new KnownRows(64);
    k.lend(0x1234, 7);
    k.lend(0x1234, 8);
    assert.equal(k.knownTo(0x1234, 7), true);
    assert.equal(k.knownTo(0x1234, 8), true);
  });

  it('knows no row that was never lent', () => {
    const k = new KnownRows(64);
    k.lend(0x1234, 7);
    assert.equal(k.knownTo(0x4321, 8), false);
  });

  it('keeps at most its capacity: a full bucket replaces one of its rows', () => {
    const k = new KnownRows(4);
    // Five rows in the one bucket of four slots: one of them is no longer known.
    for (let h = 1; h <= 5; h++) k.lend(h << 8, 1);
    let known = 0;
    for (let h = 1; h <= 5; h++) if (k.knownTo(h << 8, 2)) known++;
    assert.equal(known, 4);
  });

  it('keeps a row two accounts lent while rows of one lender crowd its bucket', () => {
    const k = new KnownRows(4);
    k.lend(1 << 8, 1);
    k.lend(1 << 8, 2);
    // A flood of rows each sent once (benign noisy rows) through the one bucket.
    for (let h = 2; h <= 200; h++) k.lend(h << 8, 3 + h);
    assert.equal(k.knownTo(1 << 8, 9), true);
  });

  it('replaces a row two accounts lent once its whole bucket holds such rows', () => {
    const k = new KnownRows(4);
    for (let h = 1; h <= 5; h++) {
      k.lend(h << 8, 1);
      k.lend(h << 8, 2);
    }
    let known = 0;
    for (let h = 1; h <= 5; h++) if (k.knownTo(h << 8, 9)) known++;
    assert.equal(known, 4);
    assert.equal(k.knownTo(5 << 8, 9), true);
  });

  it('refuses a capacity that is not a power of two', () => {
    assert.throws(() => new KnownRows(1000), RangeError);
  });
});

describe('windows apart', () => {
  it('count only the signals of the rows filed with them', () => {
    const source = new WindowCount(8);
    const apart = new ApartWindows(8, {
      fingerprint: source,
      steps: undefined,
      novelty: undefined,
      lineage: undefined,
    });
    for (let i = 0; i < 8; i++) {
      source.push(i % 2 === 0);
      // Only the odd rows are filed apart: every signal came from an even row.
      if (i % 2 === 1) apart.push();
    }
    assert.equal(source.count, 4);
    assert.equal(apart.count(0), 0);
  });

  it('cover the windowed detectors fingerprint, steps, novelty and lineage', () => {
    assert.deepEqual(
      APART_DETECTORS.map((d) => DETECTORS[d]),
      ['fingerprint', 'steps', 'novelty', 'lineage'],
    );
  });
});

describe('an attack diluted with rows other accounts sent', () => {
  const D = 8;
  const S = DEFAULT_DETECTOR_SETTINGS;
  const normaliser = new FeatureNormaliser({
    scaling: { kind: 'standard', centre: new Array(D).fill(0), scale: new Array(D).fill(1) },
    projectAbove: 64,
    projectTo: 64,
    seed: 7,
  });
  const FP = DETECTORS.indexOf('fingerprint');
  const rng = new Xoshiro128(5);
  const spread = () => Array.from({ length: D }, () => 5 * rng.next() - 2.5);
  /** Real rows: far apart from each other, so none is a near-duplicate of another. */
  const table = Array.from({ length: 2000 }, spread);

  /** Half real rows of the table, half probes of which every sixth is a near-duplicate (0.01 σ off) of the probe before. */
  function* diluted(): Generator<number[]> {
    let prev: number[] = [];
    for (let i = 0, p = 0; ; i++) {
      if (i % 2 === 0) yield table[i >> 1]!;
      else {
        p++;
        prev = p % 6 === 0 ? prev.map((v) => v + 0.01) : spread();
        yield prev;
      }
    }
  }

  /** The first query at which the near-duplicate detector alarms (0: never within `budget`), and its peak window count. */
  function firstAlarm(scorer: QueryScorer, budget: number): { at: number; peak: number } {
    const st = scorer.createState();
    let peak = 0;
    let i = 0;
    for (const row of diluted()) {
      if (++i > budget) break;
      scorer.observe(st, row, 0, Number.NaN);
      peak = Math.max(peak, st.fingerprint!.hits.count);
      if (st.scores[FP]! >= 1) return { at: i, peak };
    }
    return { at: 0, peak };
  }

  it('alarms at its undiluted rate when another account sent the real rows before', () => {
    const scorer = new QueryScorer(normaliser, S, 1);
    const browser = scorer.createState();
    for (const row of table) scorer.observe(browser, row, 0, Number.NaN);
    const { at, peak } = firstAlarm(scorer, 1200);
    assert.ok(at > 0, `alarmed (window peak ${peak})`);
  });

  it('stays below the window floor when no other account sent them (the same stream, nothing known)', () => {
    const { at } = firstAlarm(new QueryScorer(normaliser, S, 1), 1200);
    assert.equal(at, 0);
  });
});
