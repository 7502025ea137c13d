// Which requests wait for a lease acquisition in flight: those of an identity that may get a
// lease (its answer may cover them), never those of an identity whose budget was too small to
// lease (the acquisition brings them nothing; each is charged on its own), and never another
// identity's.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { leaseKey, Leases } from '../../src/limits/leases.js';
import { windowGroup } from '../../src/limits/window-group.js';

const DAY_MS = 86_400_000;
const group = windowGroup('all', [{ name: 'daily', predictions: 20, perSeconds: 86_400 }]);
const leases = () => new Leases({ maxPredictions: 50, minPredictions: 16, seconds: 60, replicas: 1, maxKeys: 100 });
const T0 = 1_800_000_000_000;

/** The identity's acquisition answered: `granted` predictions, `used` counted, its day window `resetMs` away. */
function answered(l: Leases, user: string, granted: number, used: number, resetMs = DAY_MS): void {
  const key = leaseKey(user, group);
  assert.ok(l.begin(key), 'an acquisition begins');
  l.end(key, user, group, granted, T0, [used], [resetMs]);
}

describe('waiting for a lease acquisition', () => {
  it('a request of an identity that may get a lease waits for its acquisition in flight', () => {
    const l = leases();
    const key = leaseKey('alice', group);
    assert.ok(l.begin(key));
    assert.ok(l.inFlight(key, T0) instanceof Promise);
  });

  it('a request of an identity whose budget was too small to lease does not wait for its next acquisition', () => {
    const l = leases();
    answered(l, 'bob', 0, 1);
    const key = leaseKey('bob', group);
    assert.ok(l.begin(key), 'its next request asks again');
    assert.equal(l.inFlight(key, T0 + 1000), undefined, 'the others go to Redis on their own');
  });

  it('identities do not wait on each other: a budget too small to lease marks only its own identity', () => {
    const l = leases();
    answered(l, 'bob', 0, 1);
    for (const user of ['bob', 'carol']) assert.ok(l.begin(leaseKey(user, group)));
    assert.equal(l.inFlight(leaseKey('bob', group), T0 + 1000), undefined);
    assert.ok(l.inFlight(leaseKey('carol', group), T0 + 1000) instanceof Promise, 'carol waits for her own only');
    assert.equal(l.inFlight(leaseKey('dave', group), T0 + 1000), undefined, 'nothing in flight for dave');
  });

  it('the mark lasts until the first window ends, then requests wait again', () => {
    const l = leases();
    answered(l, 'bob', 0, 1, 30_000);
    const key = leaseKey('bob', group);
    assert.ok(l.begin(key));
    assert.equal(l.inFlight(key, T0 + 29_999), undefined);
    assert.ok(l.inFlight(key, T0 + 30_000) instanceof Promise, 'a new window may have room for a lease');
  });

  it('a granted lease clears the mark', () => {
    const l = leases();
    answered(l, 'bob', 0, 1);
    answered(l, 'bob', 20, 1);
    const key = leaseKey('bob', group);
    assert.ok(l.begin(key));
    assert.ok(l.inFlight(key, T0 + 1000) instanceof Promise);
  });
});
