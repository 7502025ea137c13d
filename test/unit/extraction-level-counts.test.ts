// The model view's accounts by level are counts kept as levels change and accounts come and go,
// not a pass over the accounts: after any churn they must equal a recount of the account table.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LEVELS } from '../../src/extraction/action-ladder.js';
import type { ModelGuard } from '../../src/extraction/model-guard.js';
import { modelView } from '../../src/extraction/model-view.js';
import { Xoshiro128 } from '../../src/extraction/prng.js';
import { enforcingGuard } from '../helpers/model-guard.js';

const guard = (maxAccounts: number): ModelGuard =>
  enforcingGuard({
    features: { centre: [0, 0, 0, 0], scale: [1, 1, 1, 1] },
    maxAccounts,
    actions: { flagAt: 2, degradeAt: 4, throttleAt: 8, blockAt: 16, hysteresis: 0.5, halfLifeSeconds: 60 },
  });

/** Accounts by level, counted by walking the account table. */
function recount(g: ModelGuard): Record<string, number> {
  const levels: Record<string, number> = Object.fromEntries(LEVELS.map((l) => [l, 0]));
  for (const acc of g.accounts.values()) levels[LEVELS[acc.level]!]!++;
  return levels;
}

describe('the model view’s accounts by level', () => {
  it('equal a recount of the account table after a churn of level changes, decay, evictions, returns and clears', () => {
    const g = guard(40);
    const prng = new Xoshiro128(7);
    const random = () => prng.next();
    const users = Array.from({ length: 120 }, (_, i) => `user-${i}`);
    let now = 1_800_000_000_000;
    let changes = 0;
    for (let step = 0; step < 5000; step++) {
      now += Math.floor(random() * 2000);
      const user = users[Math.floor(random() * users.length)]!;
      const roll = random();
      if (roll < 0.05) {
        g.clear(user);
        continue;
      }
      // Evidence arrives as the shared-evidence path sets it (a replica's sum), then the level is read.
      const acc = g.account(user, now);
      const before = acc.level;
      if (roll < 0.7) acc.value = random() * 24;
      acc.at = now;
      if (g.guard.levelAt(acc, now) !== before) changes++;
      if (step % 500 === 0) assert.deepEqual(modelView(g).levels, recount(g), `step ${step}`);
    }
    assert.ok(changes > 500, `the churn moved levels (${changes} changes)`);
    assert.ok(g.accounts.size === 40, 'the table stayed full, so accounts were evicted');
    const levels = modelView(g).levels;
    assert.deepEqual(levels, recount(g));
    assert.ok(levels.block > 0 && levels.none > 0, 'accounts at both ends of the ladder');
  });
});
