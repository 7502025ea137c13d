import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Histogram, Registry } from 'prom-client';
import { GatewayMetrics } from '../../src/observability/metrics.js';

describe('the latency histogram of the hot path', () => {
  it('exposes exactly what a prom-client histogram with the same buckets exposes for the same observations', async () => {
    const ours = new GatewayMetrics({ defaultMetrics: false });
    const reference = new Registry();
    const name = 'inference_gateway_decision_duration_seconds';
    const theirs = new Histogram({
      name,
      help: 'Time spent deciding (all pipeline stages), by front door.',
      labelNames: ['door'],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [reference],
    });
    const bound = ours.decisionSeconds.labels({ door: 'proxy' });
    for (const [door, v] of [
      ['proxy', 0.0001],
      ['proxy', 0.0003],
      ['proxy', 0.004],
      ['ext-authz-grpc', 12],
      ['proxy', 0],
    ] as const) {
      if (door === 'proxy') bound.observe(v);
      else ours.decisionSeconds.observe({ door }, v);
      theirs.observe({ door }, v);
    }
    assert.equal(await ours.registry.getSingleMetricAsString(name), await reference.getSingleMetricAsString(name));
  });
});
