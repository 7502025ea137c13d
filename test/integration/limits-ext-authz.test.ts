// The same limits in the HTTP ext-authz door: cost from the body when Envoy includes it; with
// extAuthz.allowIncompleteBodies (off by default: such checks are refused) a check without a whole body costs 1, counted in a metric.
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { send, v1Batch } from '../helpers/http.js';

const batch = (n: number) => JSON.stringify(v1Batch(n));

describe('rate limits in the HTTP ext-authz door', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness(() => ({
      limits: { default: [{ name: 'hourly', predictions: 5, perSeconds: 3600 }] },
      extAuthz: { allowIncompleteBodies: true, http: { enabled: true, host: '127.0.0.1', port: 0 } },
    }));
  });
  afterEach(() => h.close());

  const check = (body?: string, headers: Record<string, string> = {}) =>
    send(`${h.extAuthzHttpUrl}/v1/models/iris:predict`, {
      method: 'POST',
      ...(body === undefined ? { headers: { 'content-length': '0', ...headers } } : { body, headers }),
    });

  it('counts a check without a body as one prediction and says so in a metric', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await check()).status);
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429]);
    const m = await h.gateway.metrics.registry.getSingleMetricAsString('inference_gateway_limits_cost_unknown_total');
    assert.match(m, /door="ext-authz-http"\} 6/);
  });

  it('counts the batch of a body Envoy includes in the check', async () => {
    const first = await check(batch(3));
    assert.equal(first.status, 200);
    assert.equal(first.headers['ratelimit'], '"hourly";r=2;t=3600');
    const second = await check(batch(3));
    assert.equal(second.status, 429);
    assert.equal(second.json()['code'], 'rate_limited');
    assert.ok(Number(second.headers['retry-after']) > 0);
  });

  it('counts a partial body as one prediction: a cut batch cannot be counted', async () => {
    const r = await check(batch(4), { 'x-envoy-auth-partial-body': 'true' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['ratelimit'], '"hourly";r=4;t=3600');
  });
});
