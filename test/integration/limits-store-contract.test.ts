// One contract, two stores: the memory store and the Redis store must count the same way.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { memoryCounterStore, redisCounterStore, type CounterStore } from '../../src/limits/counter-store.js';
import { GatewayMetrics } from '../../src/observability/metrics.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';

function contract(name: string, setup: () => Promise<{ store: CounterStore; close: () => Promise<void> }>): void {
  describe(`${name} counter store`, () => {
    let store: CounterStore;
    let close: () => Promise<void>;
    let n = 0;
    const id = () => `t${n++}-${Math.random().toString(36).slice(2)}:`;
    before(async () => {
      ({ store, close } = await setup());
    });
    after(() => close());

    it('counts the cost and reports what remains', async () => {
      const c = store.counter(id(), 10, 60);
      const r = await c.consume('alice', 4);
      assert.equal(r.kind, 'ok');
      assert.equal(r.kind === 'ok' && r.remaining, 6);
    });

    it('refuses a cost larger than what remains, with the time until reset', async () => {
      const c = store.counter(id(), 10, 60);
      await c.consume('alice', 8);
      const r = await c.consume('alice', 3);
      assert.equal(r.kind, 'limited');
      assert.ok(r.kind === 'limited' && r.resetMs > 0 && r.resetMs <= 60_000);
    });

    it('gives refunded points back', async () => {
      const c = store.counter(id(), 10, 60);
      await c.consume('alice', 10);
      await c.refund('alice', 5);
      const r = await c.consume('alice', 5);
      assert.equal(r.kind, 'ok');
    });

    it('counts each key on its own', async () => {
      const c = store.counter(id(), 3, 60);
      await c.consume('alice', 3);
      assert.equal((await c.consume('bob', 3)).kind, 'ok');
      assert.equal((await c.consume('alice', 1)).kind, 'limited');
    });

    it('keeps counters of different windows apart', async () => {
      const a = store.counter(id(), 3, 60);
      const b = store.counter(id(), 3, 60);
      await a.consume('alice', 3);
      assert.equal((await b.consume('alice', 3)).kind, 'ok');
    });

    it('starts a new budget when the window has passed', async () => {
      const c = store.counter(id(), 2, 1);
      await c.consume('alice', 2);
      assert.equal((await c.consume('alice', 1)).kind, 'limited');
      await new Promise((r) => setTimeout(r, 1100));
      assert.equal((await c.consume('alice', 2)).kind, 'ok');
    });
  });
}

contract('memory', async () => ({ store: memoryCounterStore(), close: async () => undefined }));

contract('redis', async () => {
  const redis: RedisServer = await startRedis();
  const client = new Redis(redis.url, { enableOfflineQueue: true, maxRetriesPerRequest: 1 });
  await client.ping();
  const store = redisCounterStore({ client, keyPrefix: 'test:', onFailure: 'fail-closed', replicas: 1, metrics: new GatewayMetrics({ defaultMetrics: false }) });
  return {
    store,
    close: async () => {
      client.disconnect();
      await redis.stop();
    },
  };
});
