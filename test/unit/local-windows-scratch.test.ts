// The memory store reuses one set of scratch arrays per number of windows for every charge
// (no typed arrays allocated per request): each outcome must still describe its own charge, when
// charges of users and of groups with different numbers of windows interleave.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LocalWindows } from '../../src/limits/local-windows.js';
import { windowGroup } from '../../src/limits/window-group.js';

const T0 = 1_800_000_000_000;
const one = windowGroup('one', [{ name: 'minute', predictions: 5, perSeconds: 60 }]);
const two = windowGroup('two', [
  { name: 'second', predictions: 3, perSeconds: 1 },
  { name: 'day', predictions: 100, perSeconds: 86_400 },
]);
const store = () => new LocalWindows({ maxKeys: 100, now: () => T0, share: 1 });

describe('memory store scratch arrays', () => {
  it('an allowed charge reports what is left after it, whatever was charged before to another user or group', () => {
    const s = store();
    s.charge('alice', two, 2);
    s.charge('bob', one, 4);
    const r = s.charge('alice', two, 1);
    assert.deepEqual(r, { kind: 'allowed', window: 0, remaining: 0, resetMs: 1000 });
    assert.deepEqual(s.charge('bob', one, 1), { kind: 'allowed', window: 0, remaining: 0, resetMs: 60_000 });
  });

  it('a refused charge names its own window and leaves the usage it found', () => {
    const s = store();
    s.charge('alice', two, 3);
    s.charge('bob', one, 1);
    assert.deepEqual(s.charge('alice', two, 1), { kind: 'limited', window: 0, resetMs: 1000 });
    assert.deepEqual(s.charge('bob', one, 4), { kind: 'allowed', window: 0, remaining: 0, resetMs: 60_000 });
    assert.deepEqual(s.charge('bob', one, 1), { kind: 'limited', window: 0, resetMs: 60_000 });
  });

  it('an outcome kept by the caller is not changed by the next charge', () => {
    const s = store();
    const first = s.charge('alice', one, 1);
    s.charge('alice', one, 3);
    assert.deepEqual(first, { kind: 'allowed', window: 0, remaining: 4, resetMs: 60_000 });
  });
});
