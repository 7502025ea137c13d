// The memory store (and the insurance limiter, the same class) is bounded: an LRU over users.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { LocalWindows } from '../../src/limits/local-windows.js';
import { windowGroup } from '../../src/limits/window-group.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heapAfterGc = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

const group = windowGroup('g', [
  { name: 'burst', predictions: 20, perSeconds: 1 },
  { name: 'daily', predictions: 1000, perSeconds: 86400 },
]);

describe('memory counter store', () => {
  it('keeps at most memoryMaxKeys users, so 200,000 users hold no more heap than the bound', () => {
    const clock = { ms: Date.now() };
    const store = new LocalWindows({ maxKeys: 10_000, now: () => clock.ms, share: 1 });
    for (let i = 0; i < 10_000; i++) store.charge(`id:iss|user-${i}`, group, 1);
    const atBound = heapAfterGc();
    for (let i = 10_000; i < 200_000; i++) store.charge(`id:iss|user-${i}`, group, 1);
    const grown = heapAfterGc() - atBound;
    assert.equal(store.size, 10_000);
    // Unbounded, 190,000 more users (two windows each) would add tens of megabytes.
    assert.ok(grown < 4 * 1024 * 1024, `heap grew by ${(grown / 1024 / 1024).toFixed(1)} MiB past the bound`);
  });

  it('gives away this, as documented: a user pushed out of the LRU starts its windows again from zero', () => {
    const clock = { ms: Date.now() };
    const store = new LocalWindows({ maxKeys: 2, now: () => clock.ms, share: 1 });
    assert.equal(store.charge('alice', group, 20).kind, 'allowed');
    assert.equal(store.charge('alice', group, 1).kind, 'limited');
    store.charge('bob', group, 1);
    store.charge('carol', group, 1);
    assert.equal(store.charge('alice', group, 20).kind, 'allowed');
  });

  it('keeps a user who keeps charging, while others come and go', () => {
    const clock = { ms: Date.now() };
    const store = new LocalWindows({ maxKeys: 2, now: () => clock.ms, share: 1 });
    store.charge('alice', group, 20);
    for (let i = 0; i < 10; i++) {
      store.charge(`passer-${i}`, group, 1);
      assert.equal(store.charge('alice', group, 1).kind, 'limited', 'alice is the most recently used, never evicted');
    }
  });
});
