import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { inferenceRequestOf } from '../../src/inference/inference-request.js';
import { routedContext } from '../helpers/request-view.js';

const ctxFor = (body: string, bodyPartial: boolean) => routedContext(body, { door: 'ext-authz-http', bodyPartial });

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
