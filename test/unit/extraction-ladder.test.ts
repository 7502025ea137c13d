import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ActionLadder,
  LEVEL_BLOCK,
  LEVEL_DEGRADE,
  LEVEL_FLAG,
  LEVEL_NONE,
  LEVEL_THROTTLE,
  type Evidence,
} from '../../src/extraction/action-ladder.js';

const HOUR = 3_600_000;
const ladder = new ActionLadder({
  flagAt: 1,
  degradeAt: 20,
  throttleAt: 100,
  blockAt: 400,
  hysteresis: 0.5,
  halfLifeMs: HOUR,
});
const fresh = (): Evidence => ({ value: 0, at: 0, level: LEVEL_NONE });

describe('action ladder', () => {
  it('climbs one rung at each threshold of evidence', () => {
    const e = fresh();
    const levels = [1, 19, 80, 300].map((n) => ladder.add(e, n, 0));
    assert.deepEqual(levels, [LEVEL_FLAG, LEVEL_DEGRADE, LEVEL_THROTTLE, LEVEL_BLOCK]);
  });

  it('halves the evidence every half-life', () => {
    const e = fresh();
    ladder.add(e, 400, 0);
    assert.ok(Math.abs(ladder.decayed(e, 2 * HOUR) - 100) < 1e-9);
  });

  it('leaves a rung only below half its threshold (hysteresis)', () => {
    const e = fresh();
    ladder.add(e, 400, 0);
    // 0.9 half-lives: 400 → 214, under the block threshold but above 200: still blocked.
    assert.equal(ladder.refresh(e, 0.9 * HOUR), LEVEL_BLOCK);
    // 1.1 half-lives: 187 < 200: throttled.
    assert.equal(ladder.refresh(e, 1.1 * HOUR), LEVEL_THROTTLE);
  });

  it('walks back to none once the account stops looking suspicious', () => {
    const e = fresh();
    ladder.add(e, 500, 0);
    assert.equal(ladder.refresh(e, 20 * HOUR), LEVEL_NONE);
  });

  it('skips a disabled rung on the way up and on the way down', () => {
    const noDegrade = new ActionLadder({
      flagAt: 1,
      degradeAt: 0,
      throttleAt: 100,
      blockAt: 0,
      hysteresis: 0.5,
      halfLifeMs: HOUR,
    });
    const e = fresh();
    assert.equal(noDegrade.add(e, 50, 0), LEVEL_FLAG);
    assert.equal(noDegrade.add(e, 60, 0), LEVEL_THROTTLE);
    assert.equal(noDegrade.add(e, 1000, 0), LEVEL_THROTTLE);
    assert.equal(noDegrade.refresh(e, 5 * HOUR), LEVEL_FLAG);
  });
});
