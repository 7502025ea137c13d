// The breaker tells a miscalibrated detector (many accounts just beyond its threshold) from a
// handful of clearly anomalous accounts (attackers, or Sybils that want to silence it).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LEVEL_DEGRADE } from '../../src/extraction/action-ladder.js';
import type { ModelGuard } from '../../src/extraction/model-guard.js';
import { BREAKER_ALL, BREAKER_CLOSED, BREAKER_MARGINAL } from '../../src/extraction/escalation-breaker.js';
import { DETECTORS } from '../../src/extraction/population-calibration.js';
import { Xoshiro128 } from '../../src/extraction/prng.js';
import { D, feed, modelGuard, type Query } from '../helpers/extraction-population.js';

const MARGIN = DETECTORS.indexOf('margin');

/** A benign user: rows around the centre, classes by the first feature, `lowShare` of its answers with a margin under 0.1. */
function* benign(seed: number, n: number, lowShare = 0.05): Generator<Query> {
  const rng = new Xoshiro128(seed);
  for (let i = 0; i < n; i++) {
    const row = Array.from({ length: D }, () => Math.round(rng.normal() * 100) / 100);
    const margin = rng.next() < lowShare ? rng.next() * 0.1 : 0.1 + 0.9 * rng.next();
    yield { row, cls: row[0]! < -0.4 ? 0 : row[0]! < 0.4 ? 1 : 2, margin };
  }
}

/** Uniform queries over a box twice as wide as the data: far beyond the envelope and novelty thresholds. */
function* uniform(seed: number, n: number): Generator<Query> {
  const rng = new Xoshiro128(seed);
  for (let i = 0; i < n; i++) {
    const row = Array.from({ length: D }, () => -6 + 12 * rng.next());
    yield { row, cls: row[0]! < -0.4 ? 0 : row[0]! < 0.4 ? 1 : 2, margin: 0.1 + 0.9 * rng.next() };
  }
}

/** Accounts the gate now acts on at degrade or above. */
function enforcedDegraded(g: ModelGuard, now: number): number {
  let n = 0;
  for (const acc of g.accounts.values()) {
    g.guard.levelAt(acc, now);
    if (g.guard.enforcedLevel(acc) >= LEVEL_DEGRADE) n++;
  }
  return n;
}

/** A pinned calibration whose margin threshold was computed for answers with fewer low margins than this model gives. */
const WRONG_MARGIN = {
  calibration: {
    pinned: {
      accounts: 1000,
      queries: 300_000,
      thresholds: { prada: 0.9, fingerprint: 16, envelope: 17, sweep: 16, collinear: 16, margin: 20, steps: 16 },
    },
  },
};

describe('extraction breaker against Sybils', () => {
  it('stays closed for ten clearly anomalous accounts among a benign population, and escalates them', () => {
    const g = modelGuard();
    for (let u = 0; u < 300; u++) feed(g, `u${u}`, benign(u + 1, 300));
    g.calibration.refresh(1);
    assert.equal(g.effectiveMode, 'enforce');
    const sybils = Array.from({ length: 10 }, (_, k) => feed(g, `sybil${k}`, uniform(100 + k, 300), 1e6));
    assert.deepEqual([...g.breaker.open], new Array(DETECTORS.length).fill(BREAKER_CLOSED), 'no breaker opened');
    for (const acc of sybils) {
      g.guard.levelAt(acc, 2e6);
      assert.ok(g.guard.enforcedLevel(acc) >= LEVEL_DEGRADE, `${acc.user} is enforced at degrade or above`);
    }
  });

  it('opens for a detector that takes many benign accounts just beyond its threshold, and holds them at flag', () => {
    // A third of this model's ordinary answers have a low margin: the pinned threshold is wrong for it.
    const g = modelGuard(WRONG_MARGIN);
    for (let u = 0; u < 300; u++) feed(g, `u${u}`, benign(u + 1, 300, 0.33));
    assert.equal(g.breaker.open[MARGIN], BREAKER_MARGINAL);
    assert.match(g.breaker.reasons[MARGIN] ?? '', /within 2 × its threshold/);
    assert.ok(enforcedDegraded(g, 1e9) <= 10, 'no more than the trip point are degraded');
  });

  it('keeps escalating an account far beyond the threshold while it holds the marginal ones', () => {
    const g = modelGuard(WRONG_MARGIN);
    for (let u = 0; u < 300; u++) feed(g, `u${u}`, benign(u + 1, 300, 0.33));
    assert.equal(g.breaker.open[MARGIN], BREAKER_MARGINAL);
    // Boundary probing: every answer within 0.02 of a tie.
    const rng = new Xoshiro128(9);
    const probe = [...benign(77, 300)].map((q) => ({ ...q, margin: 0.02 * rng.next() }));
    const acc = feed(g, 'prober', probe, 1e7);
    g.guard.levelAt(acc, 1e7 + 3e5);
    assert.equal(acc.escalatedFar, true);
    assert.ok(g.guard.enforcedLevel(acc) >= LEVEL_DEGRADE, 'the prober is degraded');
  });

  it('holds every account once a detector takes many accounts far beyond its threshold', () => {
    // Every answer of this model has a low margin: all its users score far beyond the pinned threshold.
    const g = modelGuard(WRONG_MARGIN);
    for (let u = 0; u < 300; u++) feed(g, `u${u}`, benign(u + 1, 300, 1));
    assert.equal(g.breaker.open[MARGIN], BREAKER_ALL);
    assert.ok(enforcedDegraded(g, 1e9) <= 50, 'no more than five times the trip point are degraded');
  });
});
