import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildConfig } from '../../src/config/load-config.js';
import type { Door, RequestView } from '../../src/decision/request-view.js';
import { Gateway } from '../../src/gateway.js';
import { predictedClassesOf } from '../../src/inference/inference-answer.js';
import { createLogger } from '../../src/observability/logger.js';

// The ext-authz doors cannot rewrite answers: the decision itself must refuse requests for scores.
describe('requests for scores at doors that cannot rewrite answers', () => {
  let gw: Gateway;
  before(async () => {
    const cfg = buildConfig(
      {
        upstream: { url: 'http://127.0.0.1:9' },
        log: { level: 'silent' },
        auth: { enabled: false },
        models: {
          iris: { labels: ['setosa', 'versicolor', 'virginica'] },
          ranked: { labels: ['a', 'b', 'c', 'd'], response: { policy: 'top-k', topK: 2 } },
          open: { response: { policy: 'full' } },
        },
      },
      'test',
    );
    gw = await Gateway.create(cfg, { log: createLogger('silent'), defaultMetrics: false });
  });
  after(() => gw.close());

  const view = (door: Door, path: string, body: object | undefined): RequestView => ({
    door,
    method: 'POST',
    path,
    query: '',
    headers: { 'content-type': 'application/json' },
    authorization: [],
    body: body === undefined ? undefined : Buffer.from(JSON.stringify(body)),
    bodyPartial: false,
    peer: '127.0.0.1',
    requestId: 'r',
  });
  const v2 = (outputs: object[]) => ({ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }], outputs });
  const decide = (door: Door, path: string, body?: object) => gw.pipeline.decide(view(door, path, body));

  it('refuses MLServer predict_proba at the HTTP ext-authz door, saying why', async () => {
    const d = await decide('ext-authz-http', '/v2/models/iris/infer', v2([{ name: 'predict_proba' }]));
    assert.ok(!d.allowed);
    assert.equal(d.denial.code, 'scores_not_allowed');
    assert.equal(d.denial.message, `output "predict_proba" returns class probabilities, and this model's response policy is labels`);
  });

  it('refuses Triton classification > 1 at the gRPC ext-authz door under labels', async () => {
    const d = await decide('ext-authz-grpc', '/v2/models/iris/infer', v2([{ name: 'out', parameters: { classification: 2 } }]));
    assert.ok(!d.allowed);
    assert.equal(d.denial.message, `classification 2 returns 2 scored classes, and this model's response policy allows 1`);
  });

  it('allows Triton classification up to topK under a top-k policy', async () => {
    const d = await decide('ext-authz-http', '/v2/models/ranked/infer', v2([{ name: 'out', parameters: { classification: 2 } }]));
    assert.ok(d.allowed);
  });

  it('refuses V1 :explain at an ext-authz door even without a body', async () => {
    const d = await decide('ext-authz-http', '/v1/models/iris:explain');
    assert.ok(!d.allowed);
    assert.equal(d.denial.code, 'scores_not_allowed');
  });

  it('skips body checks when the door was not sent the body', async () => {
    const d = await decide('ext-authz-http', '/v2/models/iris/infer');
    assert.ok(d.allowed);
    assert.equal(d.ctx.response, undefined);
  });

  it('allows a plain predict at an ext-authz door without setting a response handler', async () => {
    const d = await decide('ext-authz-http', '/v2/models/iris/infer', v2([]));
    assert.ok(d.allowed);
    assert.equal(d.ctx.response, undefined);
  });

  it('lets the proxy door forward predict_proba, since it rewrites the answer to labels', async () => {
    const d = await decide('proxy', '/v2/models/iris/infer', v2([{ name: 'predict_proba' }]));
    assert.ok(d.allowed);
    assert.ok(d.ctx.response);
  });

  it('records the predicted classes of a rewritten answer for the extraction guard', async () => {
    const d = await decide('proxy', '/v2/models/iris/infer', v2([]));
    assert.ok(d.allowed && d.ctx.response);
    const body = Buffer.from(JSON.stringify({ outputs: [{ name: 'p', shape: [2, 3], datatype: 'FP64', data: [0.1, 0.1, 0.8, 0.6, 0.3, 0.1] }] }));
    const answer = d.ctx.response.handle({ status: 200, headers: {}, body }, d.ctx);
    assert.ok(answer.ok);
    assert.deepEqual(predictedClassesOf(d.ctx), [2, 0]);
  });

  it('allows predict_proba for a model whose policy is full', async () => {
    const d = await decide('ext-authz-http', '/v2/models/open/infer', v2([{ name: 'predict_proba' }]));
    assert.ok(d.allowed);
  });
});
