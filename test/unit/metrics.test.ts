import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Counter, Histogram, Registry } from 'prom-client';
import { GatewayMetrics } from '../../src/observability/metrics.js';

// The per-request metrics are the gateway's own light implementations; what a scraper reads must
// be exactly what prom-client would have written for the same updates.
const helpOf = async (m: GatewayMetrics, name: string) =>
  ((await m.registry.getSingleMetric(name)?.get()) as { help: string }).help;

describe('metrics updated on every request', () => {
  it('the extraction score histogram exposes what a prom-client histogram with the same buckets exposes, edges and +Inf included', async () => {
    const ours = new GatewayMetrics({ defaultMetrics: false });
    const name = 'inference_gateway_extraction_score';
    const reference = new Registry();
    const theirs = new Histogram({
      name,
      help: await helpOf(ours, name),
      labelNames: ['model', 'detector'],
      buckets: [0.1, 0.25, 0.5, 0.75, 0.9, 1, 1.5, 2, 4],
      registers: [reference],
    });
    const bound = ours.extractionScores.labels({ model: 'iris', detector: 'prada' });
    for (const v of [0, 0.1, 0.1000001, 1, 1.2, 4, 4.5, 1e9]) {
      bound.observe(v);
      theirs.observe({ model: 'iris', detector: 'prada' }, v);
    }
    ours.extractionScores.observe({ model: 'iris', detector: 'sweep' }, 0.3);
    theirs.observe({ model: 'iris', detector: 'sweep' }, 0.3);
    assert.equal(await ours.registry.getSingleMetricAsString(name), await reference.getSingleMetricAsString(name));
  });

  it('a histogram drops a value that is not finite instead of throwing or spoiling its sum', async () => {
    const ours = new GatewayMetrics({ defaultMetrics: false });
    const bound = ours.extractionScores.labels({ model: 'iris', detector: 'prada' });
    bound.observe(0.5);
    assert.doesNotThrow(() => bound.observe(Number.NaN));
    bound.observe(Number.POSITIVE_INFINITY);
    const text = await ours.registry.getSingleMetricAsString('inference_gateway_extraction_score');
    assert.match(text, /_sum\{model="iris",detector="prada"\} 0.5$/m);
    assert.match(text, /_count\{model="iris",detector="prada"\} 1$/m);
  });

  it('a labelled counter exposes what prom-client exposes, whether updated through a bound child or by its labels', async () => {
    const ours = new GatewayMetrics({ defaultMetrics: false });
    const name = 'inference_gateway_auth_verifications_total';
    const reference = new Registry();
    const theirs = new Counter({
      name,
      help: await helpOf(ours, name),
      labelNames: ['outcome', 'cache'],
      registers: [reference],
    });
    const hit = ours.authVerifications.labels({ outcome: 'allowed', cache: 'hit' });
    hit.inc();
    hit.inc(2);
    theirs.inc({ outcome: 'allowed', cache: 'hit' }, 3);
    ours.authVerifications.inc({ outcome: 'token_invalid', cache: 'miss' });
    ours.authVerifications.inc({ outcome: 'token_invalid', cache: 'miss' }, 4);
    theirs.inc({ outcome: 'token_invalid', cache: 'miss' }, 5);
    assert.equal(await ours.registry.getSingleMetricAsString(name), await reference.getSingleMetricAsString(name));
  });

  it('label sets whose joined values would collide stay separate series', async () => {
    const ours = new GatewayMetrics({ defaultMetrics: false });
    ours.limitsDecisions.inc({ store: 'a', outcome: 'b' });
    ours.limitsDecisions.inc({ store: 'ab', outcome: '' });
    const text = await ours.registry.getSingleMetricAsString('inference_gateway_limits_decisions_total');
    assert.match(text, /\{store="a",outcome="b"\} 1$/m);
    assert.match(text, /\{store="ab",outcome=""\} 1$/m);
  });

  it('a counter without labels exposes what prom-client exposes, a zero before any update included', async () => {
    const ours = new GatewayMetrics({ defaultMetrics: false });
    const name = 'inference_gateway_limits_predictions_total';
    const reference = new Registry();
    const theirs = new Counter({ name, help: await helpOf(ours, name), registers: [reference] });
    assert.equal(await ours.registry.getSingleMetricAsString(name), await reference.getSingleMetricAsString(name));
    ours.limitsPredictions.inc(7);
    ours.limitsPredictions.inc();
    theirs.inc(8);
    assert.equal(await ours.registry.getSingleMetricAsString(name), await reference.getSingleMetricAsString(name));
  });

  // The contract with prom-client is undocumented (see metrics.ts): it holds for the pinned
  // version, checked by the tests above and by the whole scrape below.
  it('pins prom-client to one exact version, the one installed', () => {
    const root = new URL('../../../', import.meta.url);
    const wanted = (
      JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { dependencies: Record<string, string> }
    ).dependencies['prom-client'];
    const installed = (
      JSON.parse(readFileSync(new URL('node_modules/prom-client/package.json', root), 'utf8')) as { version: string }
    ).version;
    assert.match(wanted ?? '', /^\d+\.\d+\.\d+$/);
    assert.equal(installed, wanted);
  });

  it('the whole scrape (registry.metrics(), as /metrics serves it) carries the per-request metrics as prom-client writes them', async () => {
    const ours = new GatewayMetrics({ defaultMetrics: false });
    const name = 'inference_gateway_auth_verifications_total';
    const reference = new Registry();
    const theirs = new Counter({
      name,
      help: await helpOf(ours, name),
      labelNames: ['outcome', 'cache'],
      registers: [reference],
    });
    ours.authVerifications.inc({ outcome: 'allowed', cache: 'hit' }, 2);
    theirs.inc({ outcome: 'allowed', cache: 'hit' }, 2);
    const scrape = await ours.registry.metrics();
    assert.ok(scrape.includes(await reference.getSingleMetricAsString(name)), 'the counter block appears verbatim');
    assert.equal(ours.registry.contentType, reference.contentType);
  });
});
