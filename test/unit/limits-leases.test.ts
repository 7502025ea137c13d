// Which requests wait for a lease acquisition in flight: those of an identity that may get a
// lease (its answer may cover them), never those of an identity whose budget was too small to
// lease (the acquisition brings them nothing; each is charged on its own), and never another
// identity's.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FIRST_SLICE, leaseKey, Leases } from '../../src/limits/leases.js';
import { windowGroup } from '../../src/limits/window-group.js';

const DAY_MS = 86_400_000;
const group = windowGroup('all', [{ name: 'daily', predictions: 20, perSeconds: 86_400 }]);
const leases = () => new Leases({ maxPredictions: 50, minPredictions: 16, seconds: 60, replicas: 1, maxKeys: 100 });
const T0 = 1_800_000_000_000;

/** The identity's acquisition answered: `granted` predictions, `used` counted, its day window `resetMs` away. */
function answered(l: Leases, user: string, granted: number, used: number, resetMs = DAY_MS): void {
  const key = leaseKey(user, group);
  assert.ok(l.begin(key, T0), 'an acquisition begins');
  l.end(key, user, group, granted, T0, [used], [resetMs]);
}

describe('waiting for a lease acquisition', () => {
  it('a request of an identity that may get a lease waits for its acquisition in flight', () => {
    const l = leases();
    const key = leaseKey('alice', group);
    assert.ok(l.begin(key, T0));
    assert.ok(l.inFlight(key, T0) instanceof Promise);
  });

  it('a request of an identity whose budget was too small to lease does not wait for its next acquisition', () => {
    const l = leases();
    answered(l, 'bob', 0, 1);
    const key = leaseKey('bob', group);
    assert.ok(l.begin(key, T0), 'its next request asks again');
    assert.equal(l.inFlight(key, T0 + 1000), undefined, 'the others go to Redis on their own');
  });

  it('identities do not wait on each other: a budget too small to lease marks only its own identity', () => {
    const l = leases();
    answered(l, 'bob', 0, 1);
    for (const user of ['bob', 'carol']) assert.ok(l.begin(leaseKey(user, group), T0));
    assert.equal(l.inFlight(leaseKey('bob', group), T0 + 1000), undefined);
    assert.ok(l.inFlight(leaseKey('carol', group), T0 + 1000) instanceof Promise, 'carol waits for her own only');
    assert.equal(l.inFlight(leaseKey('dave', group), T0 + 1000), undefined, 'nothing in flight for dave');
  });

  it('the mark lasts until the first window ends, then requests wait again', () => {
    const l = leases();
    answered(l, 'bob', 0, 1, 30_000);
    const key = leaseKey('bob', group);
    assert.ok(l.begin(key, T0));
    assert.equal(l.inFlight(key, T0 + 29_999), undefined);
    assert.ok(l.inFlight(key, T0 + 30_000) instanceof Promise, 'a new window may have room for a lease');
  });

  it('a granted lease clears the mark', () => {
    const l = leases();
    answered(l, 'bob', 0, 1);
    answered(l, 'bob', 20, 1);
    const key = leaseKey('bob', group);
    assert.ok(l.begin(key, T0));
    assert.ok(l.inFlight(key, T0 + 1000) instanceof Promise);
  });
});

describe('the size of a slice', () => {
  const big = () => new Leases({ maxPredictions: 1000, minPredictions: 16, seconds: 60, replicas: 1, maxKeys: 100 });
  const roomy = windowGroup('roomy', [{ name: 'daily', predictions: 1_000_000, perSeconds: 86_400 }]);
  /** The identity holds a slice of `granted`, granted at T0 for a slice of `size`. */
  const holding = (l: Leases, user: string, size: number) => {
    const key = leaseKey(user, roomy);
    const begun = l.begin(key, T0);
    assert.ok(begun && begun.ask === size, `the acquisition asks for ${size}`);
    l.end(key, user, roomy, size, T0, [size + 1], [DAY_MS]);
    return key;
  };

  it('a first slice holds 100 predictions, however high lease.maxPredictions is', () => {
    const begun = big().begin(leaseKey('alice', roomy), T0);
    assert.ok(begun);
    assert.equal(begun.ask, FIRST_SLICE);
  });

  it('a first slice never holds more than lease.maxPredictions', () => {
    const begun = leases().begin(leaseKey('alice', roomy), T0);
    assert.ok(begun);
    assert.equal(begun.ask, 50);
  });

  it("a busy identity's top-up fills its slice to about a second of its traffic, at most lease.maxPredictions", () => {
    const l = big();
    const key = holding(l, 'alice', FIRST_SLICE);
    for (let i = 0; i < 60; i++) assert.ok(l.spend(key, 1, T0 + 10));
    // 60 predictions in 20 ms: 3,000 per second, so a slice of 1,000 (the bound) of which 40 are held.
    assert.equal(l.beginTopUp(key, T0 + 20), 1000 - 40);
  });

  it('an identity spending 400 per second gets a slice of 400, topped up once it falls below 200', () => {
    const l = big();
    let key = holding(l, 'alice', FIRST_SLICE);
    for (let i = 0; i < 60; i++) assert.ok(l.spend(key, 1, T0 + 100));
    assert.equal(l.beginTopUp(key, T0 + 150), 400 - 40, '60 in 150 ms');
    l.end(key, 'alice', roomy, 360, T0 + 150, [461], [DAY_MS - 150]);
    let lowAt: number | undefined;
    l.lowWater = (lease) => (lowAt ??= lease.left);
    key = leaseKey('alice', roomy);
    for (let i = 0; i < 201; i++) assert.ok(l.spend(key, 1, T0 + 400));
    assert.equal(lowAt, 199, 'the low-water mark is half of the slice asked for');
  });

  it('a quiet identity keeps slices of 100: it holds no more than before on other replicas’ account', () => {
    const l = big();
    const key = holding(l, 'alice', FIRST_SLICE);
    for (let i = 0; i < 60; i++) assert.ok(l.spend(key, 1, T0 + 5_000));
    assert.equal(l.beginTopUp(key, T0 + 6_000), FIRST_SLICE - 40, '60 in 6 s');
  });
});

describe('how an acquisition ends for the requests waiting on it', () => {
  const waiting = () => {
    const l = leases();
    const key = leaseKey('alice', group);
    assert.ok(l.begin(key, T0));
    return { l, key, outcome: l.inFlight(key, T0)! };
  };

  it('they learn it granted a slice, so those it did not cover wait for the next one', async () => {
    const { l, key, outcome } = waiting();
    l.end(key, 'alice', group, 16, T0, [17], [DAY_MS]);
    assert.equal(await outcome, 'granted');
  });

  it('they learn it brought nothing, so each is charged on its own', async () => {
    const { l, key, outcome } = waiting();
    l.end(key, 'alice', group, 0, T0, [19], [DAY_MS]);
    assert.equal(await outcome, 'nothing');
  });

  it('they learn the wait for Redis timed out, so the failure policy answers them', async () => {
    const { l, key, outcome } = waiting();
    l.release(key, true);
    assert.equal(await outcome, 'timeout');
  });

  it('a request costing more than any slice holds does not wait for an acquisition: it is charged on its own at once', () => {
    const { l, key } = waiting();
    assert.equal(l.inFlight(key, T0, 51), undefined);
    assert.ok(l.inFlight(key, T0, 50) instanceof Promise);
  });
});
