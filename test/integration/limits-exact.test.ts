// Two gateways, one real redis-server, one user: the shared budget is admitted exactly, even with the
// cores busy (the delays that make client-side command timeouts fire although Redis executed the command).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { burnCpu } from '../helpers/cpu-burner.js';
import { fireConcurrently, redisAnswers } from '../helpers/limits-redis.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';

const REQUESTS = 3000;

describe('shared limits are exact', () => {
  let redis: RedisServer;
  before(async () => {
    redis = await startRedis();
  });
  after(() => redis.stop());

  for (const cost of [1, 7]) {
    it(`admits exactly the budget of 1000 predictions at cost ${cost} from ${REQUESTS} concurrent requests of one user through two gateways, with the cores loaded`, async (t) => {
      const prefix = `exact${cost}-${Date.now()}:`;
      const cfg = () => ({
        limits: {
          default: [{ name: 'daily', predictions: 1000, perSeconds: 86400 }],
          store: { kind: 'redis', redisUrl: redis.url, keyPrefix: prefix, replicas: 2 },
        },
      });
      const a: Harness = await startHarness(cfg);
      const b: Harness = await startHarness(cfg);
      await Promise.all([a, b].map((h) => redisAnswers(h)));
      const burner = burnCpu(2, 60_000);
      try {
        const statuses = await fireConcurrently([a.url, b.url], REQUESTS, cost, 128);
        const admitted = statuses.get(200) ?? 0;
        const failures = await Promise.all(
          [a, b].map((h) =>
            h.gateway.metrics.registry.getSingleMetricAsString('inference_gateway_limits_store_failures_total'),
          ),
        );
        const expected = Math.floor(1000 / cost);
        for (const f of failures)
          for (const line of f.split('\n').filter((l) => !l.startsWith('#'))) t.diagnostic(line);
        assert.equal(
          admitted,
          expected,
          `admitted ${admitted} requests (${admitted * cost} predictions); statuses ${JSON.stringify([...statuses])}; ${failures.join(' ')}`,
        );
        assert.equal(
          a.predictor.calls + b.predictor.calls,
          expected,
          'the predictors saw exactly the admitted requests',
        );
      } finally {
        await burner.stop();
        await a.close();
        await b.close();
      }
    });
  }
});
