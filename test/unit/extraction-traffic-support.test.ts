// The values a model's traffic reaches, per feature: the 17th most extreme value lent on each
// side, so that no one account (16 rows lent at most) moves an edge alone.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SUPPORT_ROWS_PER_ACCOUNT, SUPPORT_TAIL, TrafficSupport } from '../../src/extraction/traffic-support.js';

/** A one-feature support lent the values `vs`. */
function lent(vs: readonly number[]): TrafficSupport {
  const s = new TrafficSupport(1);
  for (const v of vs) s.lend([v]);
  return s;
}

const ordinary = (n: number): number[] => Array.from({ length: n }, (_, i) => -2 + (4 * i) / (n - 1));

describe('the traffic support of a feature', () => {
  it('holds nothing until as many rows as its tail were lent', () => {
    const s = lent(ordinary(SUPPORT_TAIL - 1));
    assert.equal(s.ready, false);
    assert.equal(s.holds(0, 0), false);
  });

  it('holds the values between the tail-th smallest and largest value lent', () => {
    const vs = ordinary(100);
    const s = lent(vs);
    assert.equal(s.holds(0, vs[SUPPORT_TAIL - 1]!), true);
    assert.equal(s.holds(0, vs[100 - SUPPORT_TAIL]!), true);
    assert.equal(s.holds(0, vs[SUPPORT_TAIL - 2]!), false);
    assert.equal(s.holds(0, vs[100 - SUPPORT_TAIL + 1]!), false);
  });

  it('holds a value within the slack asked for beyond an edge (a noisy row at the edge of the data), not further', () => {
    const vs = ordinary(100);
    const s = lent(vs);
    const edge = vs[100 - SUPPORT_TAIL]!;
    assert.equal(s.holds(0, edge + 0.4, 0.5), true);
    assert.equal(s.holds(0, edge + 0.6, 0.5), false);
  });

  it('is not widened by one account lending all its rows far out', () => {
    const s = lent([...ordinary(100), ...new Array<number>(SUPPORT_ROWS_PER_ACCOUNT).fill(1000)]);
    assert.equal(s.holds(0, 500), false);
    assert.equal(s.holds(0, 2), true);
  });

  it('is widened when a second account lends values as far out', () => {
    const s = lent([...ordinary(100), ...new Array<number>(2 * SUPPORT_ROWS_PER_ACCOUNT).fill(1000)]);
    assert.equal(s.holds(0, 500), true);
  });

  it('keeps each feature’s edges apart', () => {
    const s = new TrafficSupport(2);
    for (const v of ordinary(40)) s.lend([v, 10 * v]);
    assert.equal(s.holds(0, 3), false);
    assert.equal(s.holds(1, 3), true);
  });
});
