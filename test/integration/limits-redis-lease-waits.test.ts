// What a busy identity's requests do while Redis is late with a lease: the ones the slice in hand
// cannot cover wait for the acquisition in flight, and those its answer cannot cover either wait
// for the next acquisition (one script for many) instead of each sending a script of its own to a
// Redis that is already behind. Exactness holds throughout: Redis counts what was admitted plus
// what the lease holds. A real redis-server, frozen with SIGSTOP, plays the late Redis.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { DebtLedger } from '../../src/limits/debt-ledger.js';
import { Leases, MAX_WAITS } from '../../src/limits/leases.js';
import { RedisWindows } from '../../src/limits/redis-windows.js';
import { windowGroup, type Charge } from '../../src/limits/window-group.js';
import { GatewayMetrics } from '../../src/observability/metrics.js';
import { RedisHealth } from '../../src/stores/redis-health.js';
import { countedIn } from '../helpers/limits-redis.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';

const group = windowGroup('all', [{ name: 'daily', predictions: 1_000_000, perSeconds: 86_400 }]);

describe('requests waiting for a late lease', () => {
  let redis: RedisServer;
  let client: Redis;
  let reader: Redis;
  let health: RedisHealth;
  before(async () => {
    redis = await startRedis();
    client = new Redis(redis.url, { enableOfflineQueue: true, maxRetriesPerRequest: 1 });
    reader = new Redis(redis.url);
    health = new RedisHealth(client, { intervalMs: 60_000, timeoutMs: 5000 });
    await health.probe();
  });
  after(async () => {
    redis.thaw();
    health.close();
    client.disconnect();
    reader.disconnect();
    await redis.stop();
  });

  const scripts = async () => Number(/cmdstat_evalsha:calls=(\d+)/.exec(await reader.info('commandstats'))?.[1] ?? 0);

  it('share one script per slice instead of sending one each when a late answer cannot cover them all', async () => {
    const prefix = `waits-${Date.now()}:`;
    const leases = new Leases({ maxPredictions: 10, minPredictions: 1, seconds: 60, replicas: 1, maxKeys: 100 });
    const store = new RedisWindows({
      client,
      keyPrefix: prefix,
      timeoutMs: 5000,
      maxInFlight: 100,
      deadlines: health,
      now: Date.now,
      onFailure: 'fail-closed',
      insurance: undefined,
      ledger: new DebtLedger(100),
      leases,
      metrics: new GatewayMetrics({ defaultMetrics: false }),
    });
    let frozen = false;
    try {
      const first = await store.charge('alice', group, 1);
      assert.equal(first.kind, 'allowed');
      assert.equal(store.leased, 10, 'the first request took a slice of 10');
      const before = await scripts();
      redis.freeze();
      frozen = true;
      // All in one turn: 10 from the slice (its top-up leaves at 4 left and Redis keeps it), 30 wait.
      const charges = Array.from({ length: 40 }, () => store.charge('alice', group, 1));
      const waiting = charges.filter((c) => c instanceof Promise).length;
      assert.equal(waiting, 30, 'the slice covered 10, the rest wait for its top-up');
      redis.thaw();
      frozen = false;
      const results: Charge[] = await Promise.all(charges.map(async (c) => c));
      assert.deepEqual(
        results.filter((r) => r.kind !== 'allowed'),
        [],
      );
      const sent = (await scripts()) - before;
      // The top-up brings 6; of the 24 it cannot cover, the first asks for a slice and the rest
      // wait for it (and then for the top-ups that follow, up to MAX_WAITS acquisitions each):
      // fewer scripts than one per request. Before, each of the 24 sent its own (26 in all).
      assert.ok(MAX_WAITS >= 2);
      assert.ok(sent < 24, `${sent} scripts for 30 requests that waited, 24 of them beyond the top-up`);
      assert.equal(
        await countedIn(reader, prefix),
        41 + store.leased,
        'Redis counts what was admitted and what is held',
      );
    } finally {
      if (frozen) redis.thaw();
      await store.close();
    }
  });
});
