import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { send, v1Body } from '../helpers/http.js';

describe('admin listener', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  it('answers /healthz with 200', async () => {
    const r = await send(`${h.adminUrl}/healthz`);
    assert.equal(r.status, 200);
  });

  it('is ready when the predictor answers its readiness path', async () => {
    const r = await send(`${h.adminUrl}/readyz`);
    assert.equal(r.status, 200);
    assert.equal(r.json()['ready'], true);
  });

  it('counts requests by route class and outcome in /metrics, with no user labels', async () => {
    await send(`${h.url}/v1/models/iris:predict`, { body: v1Body() });
    await send(`${h.url}/nowhere`);
    const text = (await send(`${h.adminUrl}/metrics`)).text;
    assert.match(text, /inference_gateway_requests_total\{door="proxy",route_class="predict",outcome="allowed"\} 1/);
    assert.match(
      text,
      /inference_gateway_requests_total\{door="proxy",route_class="unknown",outcome="route_not_allowed"\} 1/,
    );
    assert.match(text, /inference_gateway_decision_duration_seconds_bucket/);
    assert.match(text, /inference_gateway_upstream_duration_seconds_bucket/);
  });

  it('does not serve the admin endpoints on the serving port', async () => {
    const r = await send(`${h.url}/metrics`);
    assert.equal(r.status, 403);
  });
});

describe('readiness follows the predictor', () => {
  it('is not ready when the predictor is down', async () => {
    const h = await startHarness();
    try {
      await h.predictor.close();
      const r = await send(`${h.adminUrl}/readyz`);
      assert.equal(r.status, 503);
      assert.equal(r.json<{ checks: Record<string, { ready: boolean }> }>().checks['predictor']?.ready, false);
    } finally {
      await h.gateway.close();
    }
  });
});
