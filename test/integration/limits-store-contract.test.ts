// One contract, two stores: the memory store and the Redis store count the same way. Time is a
// clock the test moves, never a sleep.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { DebtLedger } from '../../src/limits/debt-ledger.js';
import { Leases, type LeaseOptions } from '../../src/limits/leases.js';
import { LocalWindows } from '../../src/limits/local-windows.js';
import { RedisWindows } from '../../src/limits/redis-windows.js';
import { windowGroup, type CounterStore, type WindowGroup } from '../../src/limits/window-group.js';
import { GatewayMetrics } from '../../src/observability/metrics.js';
import { RedisHealth } from '../../src/stores/redis-health.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';

interface Rig {
  store: CounterStore;
  clock: { ms: number };
  close(): Promise<void>;
}

let groups = 0;
const group = (...windows: Array<[predictions: number, perSeconds: number]>): WindowGroup =>
  windowGroup(
    `g${groups++}-${process.pid}`,
    windows.map(([predictions, perSeconds], i) => ({ name: `w${i}`, predictions, perSeconds })),
  );

function contract(name: string, setup: () => Promise<Rig>): void {
  describe(`${name} counter store`, () => {
    let rig: Rig;
    const charge = (user: string, g: WindowGroup, cost: number) => Promise.resolve(rig.store.charge(user, g, cost));
    before(async () => {
      rig = await setup();
    });
    after(() => rig.close());

    it('counts the cost and reports what remains', async () => {
      const r = await charge('alice', group([10, 60]), 4);
      assert.deepEqual(r, { kind: 'allowed', window: 0, remaining: 6, resetMs: 60_000 });
    });

    it('refuses a cost larger than what remains, with the time until reset', async () => {
      const g = group([10, 60]);
      await charge('alice', g, 8);
      rig.clock.ms += 15_000;
      assert.deepEqual(await charge('alice', g, 3), { kind: 'limited', window: 0, resetMs: 45_000 });
    });

    it('charges nothing for a refused request', async () => {
      const g = group([10, 60]);
      await charge('alice', g, 8);
      assert.equal((await charge('alice', g, 3)).kind, 'limited');
      assert.deepEqual(await charge('alice', g, 2), { kind: 'allowed', window: 0, remaining: 0, resetMs: 60_000 });
    });

    it('charges every window or none: a request one window refuses costs nothing in the others', async () => {
      const g = group([5, 1], [11, 3600]);
      assert.equal((await charge('alice', g, 5)).kind, 'allowed');
      const refused = await charge('alice', g, 1);
      assert.deepEqual(refused, { kind: 'limited', window: 0, resetMs: 1000 });
      rig.clock.ms += 1000;
      const r = await charge('alice', g, 1);
      assert.equal(r.kind, 'allowed');
      assert.equal(r.kind === 'allowed' && r.window, 0, 'the burst window has the least left');
      rig.clock.ms += 1000;
      assert.equal(
        (await charge('alice', g, 5)).kind,
        'allowed',
        'the hourly window of 11 holds 5 + 1 + 5: the refused request was not charged',
      );
      assert.deepEqual(await charge('alice', g, 1), { kind: 'limited', window: 1, resetMs: 3_598_000 });
    });

    it('names the window that resets last when several refuse', async () => {
      const g = group([3, 10], [3, 3600]);
      await charge('alice', g, 3);
      assert.deepEqual(await charge('alice', g, 1), { kind: 'limited', window: 1, resetMs: 3_600_000 });
    });

    it('describes an allowed request by the window with the least left', async () => {
      const g = group([100, 60], [10, 3600]);
      assert.deepEqual(await charge('alice', g, 4), { kind: 'allowed', window: 1, remaining: 6, resetMs: 3_600_000 });
    });

    it('counts each user on its own', async () => {
      const g = group([3, 60]);
      await charge('alice', g, 3);
      assert.equal((await charge('bob', g, 3)).kind, 'allowed');
      assert.equal((await charge('alice', g, 1)).kind, 'limited');
    });

    it('never lets two users share counters, whatever characters their names hold', async () => {
      const g = group([3, 60]);
      await charge('id:x|a{b}', g, 3);
      for (const other of ['id:x|a%7Bb%7D', 'id:x|a', 'id:x|a{b', 'id:x|{b}'])
        assert.equal((await charge(other, g, 3)).kind, 'allowed', other);
    });

    it('keeps the counters of different window groups apart', async () => {
      const a = group([3, 60]);
      const b = group([3, 60]);
      await charge('alice', a, 3);
      assert.equal((await charge('alice', b, 3)).kind, 'allowed');
    });

    it('starts a new budget when the window has passed', async () => {
      const g = group([2, 1]);
      await charge('alice', g, 2);
      rig.clock.ms += 999;
      assert.equal((await charge('alice', g, 1)).kind, 'limited');
      rig.clock.ms += 1;
      assert.deepEqual(await charge('alice', g, 2), { kind: 'allowed', window: 0, remaining: 0, resetMs: 1000 });
    });

    it('refuses a request that costs more than a whole window', async () => {
      assert.deepEqual(await charge('alice', group([5, 60]), 6), { kind: 'limited', window: 0, resetMs: 60_000 });
    });
  });
}

contract('memory', async () => {
  const clock = { ms: Date.now() };
  return {
    store: new LocalWindows({ maxKeys: 1000, now: () => clock.ms, share: 1 }),
    clock,
    close: async () => undefined,
  };
});

const redisRig = (leases?: Omit<LeaseOptions, 'maxKeys'>) => async (): Promise<Rig> => {
  const redis: RedisServer = await startRedis();
  const client = new Redis(redis.url, { enableOfflineQueue: true, maxRetriesPerRequest: 1 });
  await client.ping();
  const clock = { ms: Date.now() };
  // The real clock comparison: the store sends nothing before a probe has answered.
  const health = new RedisHealth(client, { intervalMs: 60_000, timeoutMs: 1000 });
  await health.probe();
  const store = new RedisWindows({
    client,
    keyPrefix: 'test:',
    timeoutMs: 2000,
    maxInFlight: 100,
    deadlines: health,
    now: () => clock.ms,
    onFailure: 'fail-closed',
    insurance: undefined,
    ledger: new DebtLedger(1000),
    leases: leases ? new Leases({ ...leases, maxKeys: 1000 }) : undefined,
    metrics: new GatewayMetrics({ defaultMetrics: false }),
  });
  return {
    store,
    clock,
    close: async () => {
      await store.close();
      health.close();
      client.disconnect();
      await redis.stop();
    },
  };
};

contract('redis', redisRig());
// One replica leasing every slice it can (the smallest lease 1): admitted from its lease or from Redis, it counts the same.
contract('redis, leasing,', redisRig({ maxPredictions: 100, minPredictions: 1, seconds: 60, replicas: 1 }));
