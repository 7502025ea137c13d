// Two gateways, one real redis-server, one user: the shared budget is admitted exactly, even with the
// cores busy (the delays that make client-side command timeouts fire although Redis executed the command).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'undici';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { burnCpu } from '../helpers/cpu-burner.js';
import { send, v1Batch } from '../helpers/http.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';

const REQUESTS = 3000;

async function fire(urls: readonly string[], n: number, rows: number): Promise<Map<number, number>> {
  const agent = new Agent({ connections: 128, pipelining: 1, headersTimeout: 60_000, bodyTimeout: 60_000 });
  const body = JSON.stringify(v1Batch(rows));
  const statuses = new Map<number, number>();
  try {
    await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const res = await request(`${urls[i % urls.length]}/v1/models/iris:predict`, {
          method: 'POST',
          dispatcher: agent,
          headers: { 'content-type': 'application/json' },
          body,
        });
        await res.body.dump();
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      }),
    );
  } finally {
    await agent.close();
  }
  return statuses;
}

/** Until the gateway's Redis health probe has succeeded: before that, charges fall back to the insurance limiter. */
async function redisAnswers(h: Harness): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const r = await send(`${h.adminUrl}/readyz`);
    if (r.json<{ checks: Record<string, { degraded?: boolean }> }>().checks['redis']?.degraded !== true) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('the gateway never saw Redis answer');
}

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
        const statuses = await fire([a.url, b.url], REQUESTS, cost);
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
