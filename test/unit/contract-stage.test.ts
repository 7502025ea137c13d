import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildConfig } from '../../src/config/load-config.js';
import { DecisionPipeline } from '../../src/decision/pipeline.js';
import type { Door, RequestView } from '../../src/decision/request-view.js';
import { postView } from '../helpers/request-view.js';
import type { StageDeps } from '../../src/decision/stage-deps.js';
import { contractStages } from '../../src/inference/contract-stages.js';
import { predictedClassesOf } from '../../src/inference/contract-response.js';
import { createLogger } from '../../src/observability/logger.js';
import { GatewayMetrics } from '../../src/observability/metrics.js';

const config = buildConfig(
  { auth: { enabled: false }, models: { iris: { labels: ['setosa', 'versicolor', 'virginica'] } } },
  'test',
);
const pipeline = new DecisionPipeline(
  config,
  contractStages({ config, metrics: new GatewayMetrics({ defaultMetrics: false }) } as StageDeps),
  createLogger('silent'),
);

const view = (door: Door, body: unknown): RequestView => postView(body, { door, path: '/v1/models/iris:predict' });

describe('contract stage', () => {
  it('shares the predicted classes of a reduced answer with later readers (the extraction guard)', async () => {
    const d = await pipeline.decide(
      view('proxy', {
        instances: [
          [1, 2, 3, 4],
          [4, 3, 2, 1],
        ],
      }),
    );
    assert.ok(d.allowed && d.ctx.rewrite);
    const answer = d.ctx.rewrite.rewrite(
      { status: 200, headers: {}, body: Buffer.from('{"predictions": [[0.1, 0.8, 0.1], [0.7, 0.2, 0.1]]}') },
      d.ctx,
    );
    assert.ok(answer.ok);
    assert.deepEqual(
      predictedClassesOf(d.ctx)?.map((p) => [p.label, p.confidence]),
      [
        ['versicolor', 0.8],
        ['setosa', 0.7],
      ],
    );
  });

  it('sets no response handler in an ext-authz door, which cannot rewrite answers', async () => {
    const d = await pipeline.decide(view('ext-authz-http', { instances: [[1, 2, 3, 4]] }));
    assert.equal(d.allowed, true);
    assert.equal(d.ctx.rewrite, undefined);
  });
});
