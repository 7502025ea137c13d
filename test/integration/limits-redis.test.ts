// Several replicas, one limit: gateways sharing a real redis-server, and what happens when it dies.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { send, v1Body } from '../helpers/http.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { until } from '../helpers/wait.js';

const predict = (h: Harness, headers: Record<string, string> = {}) =>
  send(`${h.url}/v1/models/iris:predict`, { body: v1Body(), headers });

interface ReadyBody {
  ready: boolean;
  checks: Record<string, { ready: boolean; degraded?: boolean; detail?: string }>;
}
const readyz = (h: Harness) => send(`${h.adminUrl}/readyz`);

/** Until the gateway's Redis health probe succeeds (charges before that go to the failure policy). */
async function redisAnswers(h: Harness): Promise<void> {
  await until(
    'redis answers the health probe',
    async () => (await readyz(h)).json<ReadyBody>().checks['redis']?.degraded !== true,
  );
}

function limitsVia(redis: RedisServer, extra: Record<string, unknown> = {}) {
  return () => ({
    limits: {
      default: [{ name: 'hourly', predictions: 6, perSeconds: 3600 }],
      store: { kind: 'redis', redisUrl: redis.url, keyPrefix: `t${Math.random().toString(36).slice(2)}:`, ...extra },
    },
  });
}

describe('rate limits shared through Redis', () => {
  let redis: RedisServer;
  before(async () => {
    redis = await startRedis();
  });
  after(() => redis.stop());

  it('is enforced by two gateways together as one limit', async () => {
    const prefix = `shared${Date.now()}:`;
    const cfg = () => ({
      limits: {
        default: [{ name: 'hourly', predictions: 5, perSeconds: 3600 }],
        store: { kind: 'redis', redisUrl: redis.url, keyPrefix: prefix },
      },
    });
    const a = await startHarness(cfg);
    const b = await startHarness(cfg);
    try {
      await redisAnswers(a);
      await redisAnswers(b);
      for (let i = 0; i < 3; i++) assert.equal((await predict(a)).status, 200);
      for (let i = 0; i < 2; i++) assert.equal((await predict(b)).status, 200);
      assert.equal((await predict(b)).status, 429);
      assert.equal((await predict(a)).status, 429);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('keeps answering while Redis is down, limits with an insurance share that starts from what Redis last counted, and stays ready', async () => {
    // Two replicas configured: while Redis is down each one allows half of what is left of the budget.
    const h = await startHarness(limitsVia(redis, { replicas: 2 }));
    try {
      await redisAnswers(h);
      for (let i = 0; i < 2; i++) assert.equal((await predict(h)).status, 200);
      await redis.stop();
      const started = Date.now();
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await predict(h)).status);
      assert.ok(Date.now() - started < 2000, `4 requests took ${Date.now() - started} ms with Redis down`);
      assert.deepEqual(statuses, [200, 200, 429, 429], 'the insurance limiter allows (6 - 2 used) / 2 replicas = 2');
      const metrics = await h.gateway.metrics.registry.getSingleMetricAsString(
        'inference_gateway_limits_store_fallbacks_total',
      );
      assert.match(metrics, /policy="insurance"\} [1-9]/);
      await until(
        'redis reported down',
        async () => (await readyz(h)).json<ReadyBody>().checks['redis']?.degraded === true,
      );
      const rz = await readyz(h);
      assert.equal(rz.status, 200, 'under insurance a down Redis is reported, not a reason to leave the Service');
      assert.match(String(rz.json<ReadyBody>().checks['redis']?.detail), /onFailure: insurance/);
      assert.match(
        await h.gateway.metrics.registry.getSingleMetricAsString('inference_gateway_dependency_up'),
        /dependency="redis"\} 0/,
      );

      await redis.start();
      await redisAnswers(h);
      // Back on the shared counter: the restarted Redis (no persistence) starts empty, then receives the
      // 2 predictions the insurance limiter admitted, so 4 of the 6 are left.
      const after: number[] = [];
      for (let i = 0; i < 5; i++) after.push((await predict(h)).status);
      assert.deepEqual(after, [200, 200, 200, 200, 429]);
    } finally {
      await h.close();
      await redis.start().catch(() => undefined);
    }
  });

  it('answers 503 limits_unavailable when Redis is down and the policy fails closed', async () => {
    const h = await startHarness(limitsVia(redis, { onFailure: 'fail-closed' }));
    try {
      await redisAnswers(h);
      await redis.stop();
      const r = await predict(h);
      assert.equal(r.status, 503);
      assert.equal(r.json()['code'], 'limits_unavailable');
      assert.equal(h.predictor.calls, 0);
    } finally {
      await h.close();
      await redis.start();
    }
  });

  it('lets requests through, counted, when Redis is down and the policy fails open', async () => {
    const h = await startHarness(limitsVia(redis, { onFailure: 'fail-open' }));
    try {
      await redisAnswers(h);
      await redis.stop();
      for (let i = 0; i < 8; i++) assert.equal((await predict(h)).status, 200);
      const metrics = await h.gateway.metrics.registry.getSingleMetricAsString(
        'inference_gateway_limits_store_fallbacks_total',
      );
      assert.match(metrics, /policy="fail-open"\} 8/);
    } finally {
      await h.close();
      await redis.start();
    }
  });
});
