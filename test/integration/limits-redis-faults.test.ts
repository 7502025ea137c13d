// A sick Redis, for real: a redis-server frozen with SIGSTOP (its connections stay open, commands
// wait) and one slowed with DEBUG SLEEP. Windows are long, so nothing here depends on window time.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { DebtLedger } from '../../src/limits/debt-ledger.js';
import { RedisWindows } from '../../src/limits/redis-windows.js';
import { windowGroup } from '../../src/limits/window-group.js';
import { GatewayMetrics } from '../../src/observability/metrics.js';
import { RedisHealth } from '../../src/stores/redis-health.js';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { send, v1Batch } from '../helpers/http.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { sleep, until } from '../helpers/wait.js';

interface ReadyBody {
  ready: boolean;
  checks: Record<string, { ready: boolean; degraded?: boolean; detail?: string }>;
}
const readyz = (h: Harness) => send(`${h.adminUrl}/readyz`);
const predict = (h: Harness, rows = 1) => send(`${h.url}/v1/models/iris:predict`, { body: v1Batch(rows) });
const unsettled = async (h: Harness) =>
  Number(
    /^inference_gateway_limits_unsettled_predictions (\S+)$/m.exec(
      await h.gateway.metrics.registry.getSingleMetricAsString('inference_gateway_limits_unsettled_predictions'),
    )?.[1],
  );
const settled = (h: Harness) =>
  until('Redis has counted what the gateway decided', async () => (await unsettled(h)) === 0);
const redisUp = (h: Harness) =>
  until(
    'redis answers the health probe',
    async () => (await readyz(h)).json<ReadyBody>().checks['redis']?.degraded !== true,
  );
const redisDown = (h: Harness) =>
  until('redis reported down', async () => (await readyz(h)).json<ReadyBody>().checks['redis']?.degraded === true);

describe('rate limits with a frozen or slowed Redis', () => {
  let redis: RedisServer;
  let n = 0;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    redis.thaw();
    await redis.stop();
  });
  const harness = (store: Record<string, unknown>, predictions = 10) =>
    startHarness(() => ({
      limits: {
        default: [{ name: 'daily', predictions, perSeconds: 86400 }],
        store: { kind: 'redis', redisUrl: redis.url, keyPrefix: `faults${n++}-${Date.now()}:`, ...store },
      },
    }));

  it('does not charge requests that were refused with 503 while Redis was frozen, once Redis runs their commands', async () => {
    const h = await harness({ onFailure: 'fail-closed', commandTimeoutMs: 250 }, 3);
    try {
      await redisUp(h);
      redis.freeze();
      try {
        for (let i = 0; i < 2; i++) assert.equal((await predict(h)).status, 503);
      } finally {
        redis.thaw();
      }
      await redisUp(h);
      // On a loaded machine a request may time out again (503): it is charged nothing either, and
      // what a late script charged for it is refunded before the next request is sent.
      const statuses = [];
      while (statuses.length < 40 && statuses.at(-1) !== 429) {
        statuses.push((await predict(h)).status);
        await settled(h);
      }
      assert.deepEqual(
        statuses.filter((s) => s !== 503),
        [200, 200, 200, 429],
        `the whole budget of 3 is left: the two stale commands charged nothing (${statuses.join(' ')}; ${await h.gateway.metrics.registry.getSingleMetricAsString('inference_gateway_limits_store_failures_total')})`,
      );
      assert.match(
        await h.gateway.metrics.registry.getSingleMetricAsString('inference_gateway_limits_store_failures_total'),
        /reason="timeout"\} 2/,
      );
    } finally {
      await h.close();
    }
  });

  it('starts the insurance limiter from what Redis last counted for the user when a command times out, not from zero', async () => {
    const h = await harness({ onFailure: 'insurance', commandTimeoutMs: 100 });
    try {
      await redisUp(h);
      assert.equal((await predict(h, 8)).status, 200);
      redis.freeze();
      try {
        assert.equal((await predict(h, 3)).status, 429, '8 of 10 are spent: a cost of 3 does not fit');
        assert.equal((await predict(h, 2)).status, 200);
        assert.equal((await predict(h, 1)).status, 429);
      } finally {
        redis.thaw();
      }
    } finally {
      await h.close();
    }
  });

  it('writes what the insurance limiter admitted back to Redis once it answers again', async () => {
    const h = await harness({ onFailure: 'insurance', commandTimeoutMs: 100 });
    try {
      await redisUp(h);
      assert.equal((await predict(h, 4)).status, 200);
      redis.freeze();
      try {
        assert.equal((await predict(h, 3)).status, 200, 'insurance: 3 of the 6 left');
      } finally {
        redis.thaw();
      }
      await redisUp(h);
      await settled(h);
      assert.equal((await predict(h, 4)).status, 429, 'Redis counts 4 + 3: 4 more do not fit');
      assert.equal((await predict(h, 3)).status, 200);
      assert.equal((await predict(h, 1)).status, 429);
    } finally {
      await h.close();
    }
  });

  it('stays ready while Redis is frozen under insurance, reporting it in the body and the metric', async () => {
    const h = await harness({ onFailure: 'insurance', commandTimeoutMs: 100 });
    try {
      await redisUp(h);
      redis.freeze();
      try {
        await redisDown(h);
        const r = await readyz(h);
        assert.equal(r.status, 200);
        assert.deepEqual(
          { ready: r.json<ReadyBody>().ready, redis: r.json<ReadyBody>().checks['redis']?.ready },
          { ready: true, redis: true },
        );
        assert.match(
          await h.gateway.metrics.registry.getSingleMetricAsString('inference_gateway_dependency_up'),
          /dependency="redis"\} 0/,
        );
      } finally {
        redis.thaw();
      }
      await redisUp(h);
      assert.match(
        await h.gateway.metrics.registry.getSingleMetricAsString('inference_gateway_dependency_up'),
        /dependency="redis"\} 1/,
      );
    } finally {
      await h.close();
    }
  });

  it('fails readiness under fail-closed only once Redis has been down for notReadyAfterSeconds, and is ready again when it answers', async () => {
    const h = await harness({ onFailure: 'fail-closed', commandTimeoutMs: 100, notReadyAfterSeconds: 1 });
    try {
      await redisUp(h);
      redis.freeze();
      try {
        await redisDown(h);
        const downAt = Date.now();
        assert.equal((await readyz(h)).status, 200, 'a blip does not take the replica out');
        await until('readiness fails', async () => (await readyz(h)).status === 503, 4000);
        assert.ok(Date.now() - downAt >= 500, `readiness failed ${Date.now() - downAt} ms after the outage was seen`);
      } finally {
        redis.thaw();
      }
      await until('ready again', async () => (await readyz(h)).status === 200);
    } finally {
      await h.close();
    }
  });

  it('reports not ready while draining, although Redis answers', async () => {
    const h = await harness({ onFailure: 'insurance' });
    try {
      await redisUp(h);
      h.gateway.readiness.startDraining();
      const r = await readyz(h);
      assert.equal(r.status, 503);
      assert.deepEqual(r.json<ReadyBody>().checks['draining'], { ready: false, detail: 'shutting down' });
      assert.equal(r.json<ReadyBody>().checks['redis']?.ready, true);
    } finally {
      await h.close();
    }
  });

  it('does not flap under a Redis slowed by intermittent stalls, whatever the policy', async () => {
    const gateways = await Promise.all([
      harness({ onFailure: 'insurance', commandTimeoutMs: 100 }),
      harness({ onFailure: 'fail-closed', commandTimeoutMs: 100, notReadyAfterSeconds: 10 }),
    ]);
    const staller = new Redis(redis.url);
    try {
      await Promise.all(gateways.map(redisUp));
      const statuses = new Set<number>();
      const end = Date.now() + 3000;
      let stalls = 0;
      while (Date.now() < end) {
        // Each stall outlasts a probe's timeout, so some probes fail; between stalls Redis answers.
        await staller.call('DEBUG', 'SLEEP', '0.3');
        stalls++;
        for (const h of gateways) statuses.add((await readyz(h)).status);
        await sleep(50);
      }
      assert.ok(stalls >= 5, `only ${stalls} stalls`);
      assert.deepEqual([...statuses], [200]);
    } finally {
      staller.disconnect();
      await Promise.all(gateways.map((h) => h.close()));
    }
  });
});

describe('the Redis window store', () => {
  let redis: RedisServer;
  let client: Redis;
  let health: RedisHealth;
  const metrics = new GatewayMetrics({ defaultMetrics: false });
  const store = (timeoutMs: number, maxInFlight = 100) =>
    new RedisWindows({
      client,
      keyPrefix: `store${Date.now()}:`,
      timeoutMs,
      maxInFlight,
      deadlines: health,
      now: Date.now,
      onFailure: 'fail-closed',
      insurance: undefined,
      ledger: new DebtLedger(100),
      metrics,
    });
  const group = windowGroup('g', [{ name: 'daily', predictions: 10, perSeconds: 86400 }]);
  before(async () => {
    redis = await startRedis();
    client = new Redis(redis.url, { enableOfflineQueue: false, enableAutoPipelining: true, lazyConnect: true });
    await client.connect();
    health = new RedisHealth(client, { intervalMs: 60_000, timeoutMs: 1000 });
    await health.probe();
  });
  after(async () => {
    redis.thaw();
    health.close();
    client.disconnect();
    await redis.stop();
  });

  it('reads an answer that arrived while the process was busy past the timeout instead of declaring a timeout', async () => {
    const s = store(200);
    const pending = s.charge('alice', group, 1);
    await new Promise((r) => setImmediate(r)); // the command is written (ioredis sends pipelined commands on the next tick)
    // Then the event loop is blocked for three times the timeout: the answer arrives meanwhile, and the timer is overdue.
    // (200 ms leave a loaded machine's Redis time to run the script before its deadline.)
    const until = Date.now() + 600;
    while (Date.now() < until);
    assert.deepEqual(await pending, { kind: 'allowed', window: 0, remaining: 9, resetMs: 86_400_000 });
  });

  it('answers at once without sending once maxInFlight commands wait on a frozen Redis', async () => {
    const s = store(500, 2);
    redis.freeze();
    try {
      const waiting = [Promise.resolve(s.charge('bob', group, 1)), Promise.resolve(s.charge('bob', group, 1))];
      const started = Date.now();
      assert.deepEqual(await s.charge('bob', group, 1), { kind: 'unavailable', reason: 'overloaded' });
      assert.ok(Date.now() - started < 100);
      assert.deepEqual(await Promise.all(waiting), [
        { kind: 'unavailable', reason: 'timeout' },
        { kind: 'unavailable', reason: 'timeout' },
      ]);
    } finally {
      redis.thaw();
    }
  });
});
