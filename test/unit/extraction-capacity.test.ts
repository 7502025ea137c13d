// The extraction guard's memory is bounded in bytes, not only in accounts: an operator sizes a
// pod from `maxStateBytes`, whatever the width of the model's rows.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildConfig } from '../../src/config/load-config.js';
import { ModelGuard } from '../../src/extraction/model-guard.js';

const IRIS = { centre: [5.8, 3.1, 3.8, 1.2], scale: [0.8, 0.4, 1.8, 0.8] };

function guardWith(
  extraction: Record<string, unknown>,
  labels: string[] | null = ['setosa', 'versicolor', 'virginica'],
): ModelGuard {
  const config = buildConfig({
    auth: { enabled: false },
    models: { iris: { ...(labels ? { labels } : {}), extraction: { mode: 'shadow', features: IRIS, ...extraction } } },
  });
  return new ModelGuard('iris', 'shadow', config.models['iris']!);
}

/** The largest an account's state gets: every class seen, every prototype slot filled. */
function filledAccountBytes(g: ModelGuard, classes: number): number {
  const acc = g.account('probe', 0);
  for (let i = 0; i < 2000; i++)
    g.guard.observe(
      acc,
      [4 + (i % 37) / 10, 2 + (i % 23) / 10, 1 + (i % 59) / 10, (i % 25) / 10],
      i % classes,
      Number.NaN,
      i,
    );
  return acc.bytes;
}

describe('extraction state memory', () => {
  it('keeps fewer accounts than maxAccounts when maxStateBytes cannot hold them at their largest', () => {
    const g = guardWith({ maxAccounts: 100_000, maxStateBytes: 1024 * 1024 });
    assert.ok(g.capacity < 100_000);
    assert.ok(
      g.capacity * filledAccountBytes(g, 3) <= 1024 * 1024,
      `${g.capacity} accounts of ${filledAccountBytes(g, 3)} bytes`,
    );
  });

  it('keeps maxAccounts when the byte budget holds them', () => {
    assert.equal(guardWith({ maxAccounts: 50, maxStateBytes: 64 * 1024 * 1024 }).capacity, 50);
  });

  it('forgets the least recently seen account first once the budget is full', () => {
    const g = guardWith({ maxStateBytes: 1024 * 1024 });
    for (let u = 0; u < g.capacity; u++) g.account(`user-${u}`, u);
    g.account('user-0', g.capacity); // seen again: now the most recent
    g.account('newcomer', g.capacity + 1);
    assert.equal(g.accounts.size, g.capacity);
    assert.ok(g.accounts.has('user-0'));
    assert.ok(!g.accounts.has('user-1'));
  });

  it('budgets for a prototype set per configured class, so more classes mean fewer accounts', () => {
    const three = guardWith({ maxStateBytes: 8 * 1024 * 1024 });
    const twelve = guardWith(
      { maxStateBytes: 8 * 1024 * 1024 },
      Array.from({ length: 12 }, (_, i) => `c${i}`),
    );
    assert.ok(twelve.capacity < three.capacity, `${twelve.capacity} vs ${three.capacity}`);
    assert.ok(twelve.capacity * filledAccountBytes(twelve, 12) <= 8 * 1024 * 1024);
  });

  it('budgets an unlabelled model for every class slot it configures, beyond the default 16', () => {
    const g = guardWith({ maxStateBytes: 8 * 1024 * 1024, detectors: { maxClasses: 64 } }, null);
    assert.ok(
      g.capacity * filledAccountBytes(g, 64) <= 8 * 1024 * 1024,
      `${g.capacity} accounts of ${filledAccountBytes(g, 64)} bytes`,
    );
  });
});
