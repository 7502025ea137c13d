import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildConfig } from '../../src/config/load-config.js';
import { DecisionPipeline } from '../../src/decision/pipeline.js';
import type { Stage } from '../../src/decision/stage.js';
import { createLogger } from '../../src/observability/logger.js';
import { GatewayMetrics } from '../../src/observability/metrics.js';
import { startDemoPredictor, type DemoPredictor } from '../../src/quickstart/demo-predictor.js';
import { send, v1Body } from '../helpers/http.js';
import { listenProxyDoor, type ListeningDoor } from '../helpers/proxy-door.js';

// The proxy with an answer rewriter that faults: the gateway must answer, and not with the raw answer.
describe('proxy with a faulty answer rewriter', () => {
  let predictor: DemoPredictor;
  let proxy: ListeningDoor;
  let url: string;
  before(async () => {
    predictor = await startDemoPredictor();
    const config = buildConfig(
      {
        upstream: { url: predictor.url },
        auth: { enabled: false },
        log: { level: 'silent' },
        models: { iris: { task: 'regression' } },
      },
      'test',
    );
    const faulty: Stage = {
      name: 'extraction',
      run(ctx) {
        ctx.rewrite = {
          rewrite() {
            throw new Error('bug in a handler');
          },
        };
        return undefined;
      },
    };
    const log = createLogger('silent');
    proxy = await listenProxyDoor({
      config,
      pipeline: new DecisionPipeline(config, [faulty], log),
      metrics: new GatewayMetrics({ defaultMetrics: false }),
      log,
    });
    url = proxy.url;
  });
  after(async () => {
    await proxy.close();
    await predictor.close();
  });

  it('answers 500 internal_error instead of crashing or passing the answer', async () => {
    const r = await send(`${url}/v1/models/iris:predict`, { body: v1Body() });
    assert.equal(r.status, 500);
    assert.deepEqual(r.json(), { error: 'internal error while reading the predictor answer', code: 'internal_error' });
  });

  it('keeps serving after the fault', async () => {
    const r = await send(`${url}/v1/models/iris:predict`, { body: v1Body() });
    assert.equal(r.json()['code'], 'internal_error');
  });
});
