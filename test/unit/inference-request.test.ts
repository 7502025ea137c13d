import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { inferenceRequestOf, inferenceRowsOf } from '../../src/inference/inference-request.js';
import { routedContext } from '../helpers/request-view.js';

const ctxFor = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  routedContext(body, { path, headers });

describe('inference request parsing', () => {
  it('counts V1 instances as predictions', () => {
    const ctx = ctxFor('/v1/models/m:predict', { instances: Array.from({ length: 50 }, () => [1, 2]) });
    const r = inferenceRequestOf(ctx);
    assert.ok(r?.ok);
    assert.equal(r.request.batchSize, 50);
    assert.equal(ctx.cost, 50);
  });

  it('counts V1 columnar inputs by column length', () => {
    const ctx = ctxFor('/v1/models/m:predict', { inputs: { a: [1, 2, 3], b: [4, 5, 6] } });
    assert.equal(inferenceRequestOf(ctx)?.ok && ctx.cost, 3);
  });

  it('counts V2 inputs by the batch dimension shape[0]', () => {
    const ctx = ctxFor('/v2/models/m/infer', { inputs: [{ name: 'x', shape: [7, 4], datatype: 'FP32', data: [] }] });
    assert.equal(inferenceRequestOf(ctx)?.ok && ctx.cost, 7);
  });

  it('costs at least one prediction', () => {
    const ctx = ctxFor('/v2/models/m/infer', { inputs: [] });
    assert.equal(inferenceRequestOf(ctx)?.ok && ctx.cost, 1);
  });

  it('reads only the JSON part of a binary-extension body', () => {
    const json = JSON.stringify({
      inputs: [{ name: 'x', shape: [3, 2], datatype: 'FP32', parameters: { binary_data_size: 24 } }],
    });
    const body = Buffer.concat([Buffer.from(json), Buffer.alloc(24)]);
    const ctx = ctxFor('/v2/models/m/infer', body, {
      'inference-header-content-length': String(Buffer.byteLength(json)),
    });
    assert.equal(inferenceRequestOf(ctx)?.ok && ctx.cost, 3);
  });

  it('refuses a body that is not JSON with invalid_body', () => {
    const r = inferenceRequestOf(ctxFor('/v1/models/m:predict', 'not json'));
    assert.equal(r?.ok, false);
    assert.equal(!r?.ok && r?.denial.code, 'invalid_body');
  });

  it('parses once and returns the same result to every caller', () => {
    const ctx = ctxFor('/v1/models/m:predict', { instances: [[1]] });
    assert.equal(inferenceRequestOf(ctx), inferenceRequestOf(ctx));
  });

  it('has nothing to parse when the door was not sent the body', () => {
    assert.equal(inferenceRequestOf(ctxFor('/v1/models/m:predict', undefined)), undefined);
  });
  it('exposes V1 instances as numeric rows for the extraction guard', () => {
    const r = inferenceRequestOf(
      ctxFor('/v1/models/m:predict', {
        instances: [
          [1, 2],
          [3, 4],
        ],
      }),
    );
    assert.ok(r?.ok);
    assert.deepEqual(inferenceRowsOf(r.request), [
      [1, 2],
      [3, 4],
    ]);
  });

  it('splits a flat V2 input on its batch dimension into rows', () => {
    const r = inferenceRequestOf(
      ctxFor('/v2/models/m/infer', {
        inputs: [{ name: 'x', shape: [2, 3], datatype: 'FP32', data: [1, 2, 3, 4, 5, 6] }],
      }),
    );
    assert.ok(r?.ok);
    assert.deepEqual(inferenceRowsOf(r.request), [
      [1, 2, 3],
      [4, 5, 6],
    ]);
  });

  it('reads a nested V2 input of one row per batch entry as those rows', () => {
    const r = inferenceRequestOf(
      ctxFor('/v2/models/m/infer', {
        inputs: [
          {
            name: 'x',
            shape: [2, 3],
            datatype: 'FP32',
            data: [
              [1, 2, 3],
              [4, 5, 6],
            ],
          },
        ],
      }),
    );
    assert.ok(r?.ok);
    assert.deepEqual(inferenceRowsOf(r.request), [
      [1, 2, 3],
      [4, 5, 6],
    ]);
  });

  it('reads a nested V2 input whose lists do not match its rows by its batch dimension, as the runtime reshapes it', () => {
    // Two lists of unequal width for a batch of 3: flattened row-major and cut in 3 rows of 2.
    const r = inferenceRequestOf(
      ctxFor('/v2/models/m/infer', {
        inputs: [
          {
            name: 'x',
            shape: [3, 2],
            datatype: 'FP32',
            data: [
              [1, 2],
              [3, 4, 5, 6],
            ],
          },
        ],
      }),
    );
    assert.ok(r?.ok);
    assert.deepEqual(inferenceRowsOf(r.request), [
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
  });

  it('has no rows when a nested V2 row holds something other than a number', () => {
    const r = inferenceRequestOf(
      ctxFor('/v2/models/m/infer', {
        inputs: [
          {
            name: 'x',
            shape: [2, 2],
            datatype: 'FP32',
            data: [
              [1, 2],
              [3, '4'],
            ],
          },
        ],
      }),
    );
    assert.ok(r?.ok);
    assert.equal(inferenceRowsOf(r.request), undefined);
  });

  it('has no rows when the instances are not all numbers', () => {
    const r = inferenceRequestOf(ctxFor('/v1/models/m:predict', { instances: [{ text: 'hi' }] }));
    assert.ok(r?.ok);
    assert.equal(inferenceRowsOf(r.request), undefined);
  });
});
