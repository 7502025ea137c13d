import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DecisionContext } from '../../src/decision/decision-context.js';
import type { RequestView } from '../../src/decision/request-view.js';
import { inferenceRequestOf } from '../../src/inference/inference-request.js';
import { parseModelRoute } from '../../src/inference/kserve-route.js';

function ctxFor(body: string, bodyPartial: boolean): DecisionContext {
  const path = '/v1/models/m:predict';
  const view: RequestView = {
    door: 'ext-authz-http',
    method: 'POST',
    path,
    query: '',
    headers: {},
    authorization: [],
    body: Buffer.from(body),
    bodyPartial,
    peer: '127.0.0.1',
    requestId: 't',
  };
  const ctx = new DecisionContext(view, []);
  ctx.route = { kind: 'model', route: parseModelRoute(path)! };
  return ctx;
}

describe('inference request parsing of a body Envoy truncated', () => {
  it('treats a partial body as no body: not parsed, not refused, cost left at 1', () => {
    const ctx = ctxFor('{"instances": [[1, 2], [3, 4], [5', true);
    assert.equal(inferenceRequestOf(ctx), undefined);
    assert.equal(ctx.cost, 1);
  });

  it('parses and counts the same bytes when the body is whole', () => {
    const ctx = ctxFor('{"instances": [[1, 2], [3, 4], [5, 6]]}', false);
    assert.ok(inferenceRequestOf(ctx)?.ok);
    assert.equal(ctx.cost, 3);
  });
});
