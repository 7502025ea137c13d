// What the operator console renders: why an account was flagged (first alarm, its threshold,
// the level changes, a timeline), and per model the calibration, the levels and the breaker.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { viewOf, type ModelGuard } from '../../src/extraction/model-guard.js';
import { modelView } from '../../src/extraction/model-view.js';
import { enforcingGuard } from '../helpers/model-guard.js';

const FEATURES = { centre: [0, 0, 0, 0], scale: [1, 1, 1, 1] };

const guard = (extraction: Record<string, unknown> = {}): ModelGuard =>
  enforcingGuard({
    features: FEATURES,
    calibration: { minAccounts: 0 },
    actions: { degradeAt: 5, throttleAt: 0, blockAt: 10 },
    timelineBucketSeconds: 60,
    ...extraction,
  });

/** One feature swept at a time, one query a second, scored as the extraction stage scores it. */
function sweep(g: ModelGuard, user: string, n: number, t0: number, base = 0.3): number {
  const acc = g.account(user, t0);
  let t = t0;
  for (let i = 0; i < n; i++) {
    t = t0 + i * 1000;
    g.guard.observe(acc, [-3 + (6 * (i % 50)) / 49, 0.1, 0.2, base], 0, Number.NaN, t);
    g.recordTimeline(acc, t, 1);
  }
  return t;
}

describe('extraction views', () => {
  it('gives an account its first flag, the alarm behind it with the threshold in force, its level changes and a timeline', () => {
    const g = guard();
    const t0 = 1_800_000_000_000;
    const end = sweep(g, 'mallory', 200, t0);
    const v = viewOf(g, g.accounts.get('mallory')!, end);
    assert.ok(v.firstFlaggedAt !== null && v.firstFlaggedAt > t0 && v.firstFlaggedAt < end);
    assert.equal(v.firstAlarm?.detector, 'sweep');
    assert.ok(v.firstAlarm.score >= 1);
    assert.equal(v.firstAlarm.threshold, g.calibration.effective(3));
    assert.deepEqual(
      v.levelChanges.map((c) => [c.from, c.to, c.detector]),
      [
        ['none', 'flag', 'sweep'],
        ['flag', 'degrade', 'sweep'],
        ['degrade', 'block', 'sweep'],
      ],
    );
    // 200 queries a second apart from a minute boundary: four one-minute buckets, oldest first, the last one blocked.
    assert.deepEqual(
      v.timeline.map((b) => b.queries),
      [60, 60, 60, 20],
    );
    assert.equal(v.timeline[0]!.at, t0);
    assert.equal(v.timeline.at(-1)!.level, 'block');
    assert.ok(v.timeline.at(-1)!.maxScore >= 1);
    assert.ok(v.timeline.every((b, i) => i === 0 || b.at - v.timeline[i - 1]!.at === 60_000));
  });

  it('keeps only the last 20 level changes and the last 60 timeline buckets', () => {
    const g = guard({
      actions: { flagAt: 1, degradeAt: 0, throttleAt: 0, blockAt: 0, halfLifeSeconds: 1, hysteresis: 0.5 },
    });
    let t = 1_800_000_000_000;
    for (let round = 0; round < 40; round++) {
      t = sweep(g, 'flapper', 60, t, round / 10) + 120_000; // flagged, then two idle minutes decay it away
      g.guard.levelAt(g.accounts.get('flapper')!, t);
    }
    const v = viewOf(g, g.accounts.get('flapper')!, t);
    assert.equal(v.levelChanges.length, 20);
    assert.equal(v.timeline.length, 60);
    assert.ok(v.levelChanges.every((c, i) => i === 0 || c.at >= v.levelChanges[i - 1]!.at));
  });

  it('gives a model its mode, the calibration in force, the accounts at each level and the breaker', () => {
    // Every escalation counts as marginal here (farBeyond 100): one sweeper is enough to trip it.
    const g = guard({
      calibration: { minAccounts: 5, minQueries: 10 },
      breaker: { share: 0.01, minAccounts: 1, farBeyond: 100 },
    });
    const before = modelView(g);
    assert.equal(before.effectiveMode, 'shadow-uncalibrated');
    assert.deepEqual(before.breaker, { tripped: false, detector: null, holds: null, reason: null, since: null });
    assert.equal(before.calibration.state, 'uncalibrated');
    assert.deepEqual(Object.keys(before.calibration.thresholds), [
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
    ]);
    for (let u = 0; u < 5; u++) {
      const acc = g.account(`u${u}`, 0);
      for (let i = 0; i < 20; i++)
        g.guard.observe(
          acc,
          [((i * 7 + u) % 13) / 5 - 1, ((i * 3 + u) % 11) / 5 - 1, (i % 5) / 3, u / 7],
          0,
          Number.NaN,
          i,
        );
    }
    g.calibration.refresh(1);
    const v = modelView(g);
    assert.equal(v.effectiveMode, 'enforce');
    assert.equal(v.calibration.accounts, 5);
    assert.equal(v.calibration.pinned, false);
    assert.equal(v.levels.none, 5);
    sweep(g, 'mallory', 300, 100);
    const after = modelView(g);
    assert.equal(after.breaker.tripped, true, 'one account of six escalated by one detector trips a 1% breaker');
    assert.match(after.breaker.reason ?? '', /1 of 6 active accounts/);
    assert.equal(after.breaker.holds, 'marginal');
    assert.equal(
      after.levels.none + after.levels.flag + after.levels.degrade + after.levels.throttle + after.levels.block,
      6,
    );
  });
});
