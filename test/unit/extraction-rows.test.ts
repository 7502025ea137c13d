import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { inferenceRequestOf, inferenceRowsOf } from '../../src/inference/inference-request.js';
import { routedContext } from '../helpers/request-view.js';

const rowsOf = (body: unknown) => {
  const r = inferenceRequestOf(routedContext(body, { path: '/v2/models/m/infer' }));
  assert.ok(r?.ok);
  return inferenceRowsOf(r.request);
};

describe('rows the extraction detectors see (V2)', () => {
  it('joins row i of every input, the way the model server predicts on them', () => {
    const body = {
      inputs: [
        { name: 'b', shape: [2, 1], datatype: 'FP32', data: [10, 20] },
        { name: 'a', shape: [2, 2], datatype: 'FP32', data: [1, 2, 3, 4] },
      ],
    };
    // Inputs in name order, whatever their order in the request.
    assert.deepEqual(rowsOf(body), [
      [1, 2, 10],
      [3, 4, 20],
    ]);
  });

  it('gives no numeric rows when any input is not numbers', () => {
    const body = {
      inputs: [
        { name: 'a', shape: [1, 2], datatype: 'FP32', data: [1, 2] },
        { name: 't', shape: [1], datatype: 'BYTES', data: ['hello'] },
      ],
    };
    assert.equal(rowsOf(body), undefined);
  });
});
