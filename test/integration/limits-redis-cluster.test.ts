// Rate limits on a real Redis Cluster (three masters on loopback, started here): each identity's
// windows are hash-tagged on the identity, so its charge script runs on the node of its slot.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { send, v1Body } from '../helpers/http.js';
import { startJwksIssuer, type JwksIssuer } from '../helpers/jwks-issuer.js';
import { redisAnswers } from '../helpers/limits-redis.js';
import { startRedisCluster, type RedisCluster } from '../helpers/redis-cluster.js';
import { scriptCalls } from '../helpers/shared-evidence.js';

const USERS = 24;

describe('rate limits on a Redis Cluster', () => {
  let cluster: RedisCluster;
  let issuer: JwksIssuer;
  let h: Harness;
  before(async () => {
    cluster = await startRedisCluster();
    issuer = await startJwksIssuer('inference');
    h = await startHarness(() => ({
      auth: { enabled: true, issuers: [{ issuer: issuer.issuer, jwksUri: issuer.jwksUri, audiences: ['inference'] }] },
      limits: {
        default: [{ name: 'hourly', predictions: 2, perSeconds: 3600 }],
        store: { kind: 'redis', cluster: [...cluster.nodes], onFailure: 'fail-closed', lease: { maxPredictions: 0 } },
      },
    }));
  });
  after(async () => {
    await h?.close();
    await issuer?.close();
    await cluster?.stop();
  });

  it('charges the concurrent requests of many identities on the nodes of their slots, none refused for want of Redis', async () => {
    await redisAnswers(h);
    const tokens = await Promise.all(Array.from({ length: USERS }, (_, i) => issuer.token({ sub: `user-${i}` })));
    await Promise.all(cluster.masters.map((m) => m.config('RESETSTAT')));
    const predictAll = () =>
      Promise.all(
        tokens.map(
          async (t) =>
            (
              await send(`${h.url}/v1/models/iris:predict`, {
                body: v1Body(),
                headers: { authorization: `Bearer ${t}` },
              })
            ).status,
        ),
      );
    // Three rounds against a limit of two: the third is refused by Redis' count, not by the failure policy.
    const rounds = [await predictAll(), await predictAll(), await predictAll()];
    assert.deepEqual(
      rounds.map((r) => [...new Set(r)]),
      [[200], [200], [429]],
    );
    const perNode = await Promise.all(cluster.masters.map(scriptCalls));
    assert.ok(perNode.filter((n) => n > 0).length >= 2, `identities on several nodes: ${perNode.join(', ')}`);
    const failures = await h.gateway.metrics.registry.getSingleMetricAsString(
      'inference_gateway_limits_store_failures_total',
    );
    assert.doesNotMatch(failures, /\} [1-9]/, failures);
  });
});
