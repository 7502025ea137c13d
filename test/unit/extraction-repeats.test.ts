// Exact re-sends (dashboards, retries, re-sent data sets) are counted apart and never scored:
// the repeat set remembers an account's last `repeatHorizon` distinct rows exactly.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LEVEL_FLAG } from '../../src/extraction/action-ladder.js';
import type { ModelGuard } from '../../src/extraction/model-guard.js';
import { Xoshiro128 } from '../../src/extraction/prng.js';
import { RepeatSet } from '../../src/extraction/repeat-set.js';
import { enforcingGuard } from '../helpers/model-guard.js';

const FEATURES = { centre: [0, 0, 0, 0], scale: [1, 1, 1, 1] };

const guard = (extraction: Record<string, unknown> = {}): ModelGuard =>
  enforcingGuard({ features: FEATURES, calibration: { minAccounts: 0 }, ...extraction });

function rows(n: number, seed: number): number[][] {
  const rng = new Xoshiro128(seed);
  return Array.from({ length: n }, () => FEATURES.centre.map(() => Math.round(rng.normal() * 1000) / 1000));
}

describe('exact repeats', () => {
  it('never flags a dashboard re-sending the same 30 rows every minute for hours', () => {
    const g = guard();
    const acc = g.account('dashboard', 0);
    const panel = rows(30, 1);
    for (let minute = 0; minute < 8 * 60; minute++)
      for (const r of panel) g.guard.observe(acc, r, 0, Number.NaN, minute * 60_000);
    assert.equal(acc.stream.exactDuplicates, 8 * 60 * 30 - 30);
    assert.equal(acc.firstFlaggedAt, 0);
    assert.ok(acc.level < LEVEL_FLAG);
    assert.equal(acc.stream.scores[1], 0, 'no near-duplicate hit');
  });

  it('recognises a re-sent data set of 400 rows, further back than the old 256-slot table reached', () => {
    const g = guard();
    const acc = g.account('analyst', 0);
    const set = rows(400, 2);
    for (let pass = 0; pass < 3; pass++) for (const r of set) g.guard.observe(acc, r, 0, Number.NaN, pass);
    assert.equal(acc.stream.exactDuplicates, 800);
    assert.equal(acc.stream.distinct, 400);
  });

  it('forgets a row once repeatHorizon newer distinct rows came after it, and only then', () => {
    const g = guard({ detectors: { repeatHorizon: 100 } });
    const acc = g.account('u', 0);
    const data = rows(201, 3);
    for (const r of data.slice(0, 101)) g.guard.observe(acc, r, 0, Number.NaN, 0);
    g.guard.observe(acc, data[1]!, 0, Number.NaN, 0); // 100 distinct rows back: still remembered
    assert.equal(acc.stream.exactDuplicates, 1);
    g.guard.observe(acc, data[0]!, 0, Number.NaN, 0); // 101 back: forgotten, a new row again
    assert.equal(acc.stream.exactDuplicates, 1);
  });

  it('counts a row known to repeat the row before it (observeRepeat) exactly as observe counts it', () => {
    const direct = guard();
    const known = guard();
    const a = direct.account('u', 0);
    const b = known.account('u', 0);
    const data = rows(300, 4);
    let t = 0;
    for (const r of data)
      for (let copy = 0; copy < 3; copy++) {
        t += 100;
        direct.guard.observe(a, r, 0, Number.NaN, t);
        if (copy === 0) known.guard.observe(b, r, 0, Number.NaN, t);
        else known.guard.observeRepeat(b, t);
      }
    assert.equal(b.stream.queries, a.stream.queries);
    assert.equal(b.stream.distinct, a.stream.distinct);
    assert.equal(b.stream.exactDuplicates, 600);
    assert.equal(b.stream.exactDuplicates, a.stream.exactDuplicates);
    assert.deepEqual(b.stream.scores, a.stream.scores);
    assert.equal(b.level, a.level);
    assert.equal(b.value, a.value);
  });

  it('answers like a reference set under random inserts and expiries (deletion keeps every probe run reachable)', () => {
    const horizon = 64;
    const set = new RepeatSet(horizon, new ArrayBuffer(RepeatSet.bytesFor(horizon)), 0);
    const fifo: number[] = [];
    const rng = new Xoshiro128(9);
    for (let i = 0; i < 20_000; i++) {
      // A small universe makes repeats and colliding probe runs frequent.
      const h = 1 + Math.floor(rng.next() * 200) * 0x10000;
      const expected = fifo.includes(h);
      assert.equal(set.seen(h), expected, `step ${i}`);
      if (!expected) {
        fifo.push(h);
        if (fifo.length > horizon) fifo.shift();
      }
    }
  });
});
