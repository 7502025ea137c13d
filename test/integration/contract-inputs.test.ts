// Each input-contract violation: 400 invalid_input in KServe's error shape, naming the input and the rule; the predictor is never called.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { send } from '../helpers/http.js';

describe('model contracts: input validation', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness(() => ({
      models: {
        iris: { input: { features: 4, shape: [4], datatype: 'FP32', min: 0, max: 10, maxBatch: 3 } },
        counts: { input: {} },
      },
    }));
  });
  after(() => h.close());

  const refused = async (path: string, body: string, message: string) => {
    const calls = h.predictor.calls;
    const r = await send(`${h.url}${path}`, { body, headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 400);
    assert.deepEqual(r.json(), { error: message, code: 'invalid_input' });
    assert.equal(h.predictor.calls, calls, 'the predictor was not called');
  };
  const V1 = '/v1/models/iris:predict';
  const V2 = '/v2/models/iris/infer';
  const tensor = (t: Record<string, unknown>) =>
    JSON.stringify({ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4], ...t }] });

  it('accepts requests that keep the contract', async () => {
    assert.equal((await send(`${h.url}${V1}`, { body: { instances: [[6.8, 2.8, 4.8, 1.4]] } })).status, 200);
    assert.equal((await send(`${h.url}${V2}`, { body: tensor({ data: [6.8, 2.8, 4.8, 1.4] }) })).status, 200);
  });

  it('refuses a V1 row with the wrong number of features', () =>
    refused(V1, '{"instances": [[1, 2, 3, 4], [1, 2, 3]]}', 'instances[1]: expected 4 features, got 3'));

  it('refuses a value below the minimum', () =>
    refused(V1, '{"instances": [[1, -2, 3, 4]]}', 'instances[0][1]: -2 is below the minimum 0'));

  it('refuses a value above the maximum', () =>
    refused(V2, tensor({ data: [1, 2, 30.5, 4] }), 'inputs[0] (x).data[2]: 30.5 is above the maximum 10'));

  it('refuses a batch over the maximum', () =>
    refused(
      V1,
      JSON.stringify({ instances: Array.from({ length: 4 }, () => [1, 2, 3, 4]) }),
      "a batch of 4 rows is over this model's maximum of 3",
    ));

  it('refuses NaN written by Python json', () =>
    refused(V1, '{"instances": [[1, NaN, 3, 4]]}', 'inputs must be finite numbers: NaN and Infinity are refused'));

  it('refuses Infinity written by Python json', () =>
    refused(
      V2,
      '{"inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP32", "data": [1, 2, -Infinity, 4]}]}',
      'inputs must be finite numbers: NaN and Infinity are refused',
    ));

  it('refuses NaN sent as a string', () =>
    refused(V1, '{"instances": [[1, "NaN", 3, 4]]}', 'instances[0][1]: "NaN" is not a finite number'));

  it('refuses a number too large to be finite', () =>
    refused(
      V1,
      '{"instances": [[1, 1e999, 3, 4]]}',
      'inputs must be finite numbers: a literal beyond the float64 range is read as infinity by some model servers and refused by others',
    ));

  it('refuses a V2 tensor of another datatype', () =>
    refused(V2, tensor({ datatype: 'FP64' }), 'inputs[0] (x).datatype: expected FP32, got FP64'));

  it('refuses a V2 tensor whose rows have another shape', () =>
    refused(
      V2,
      tensor({ shape: [1, 5], data: [1, 2, 3, 4, 5] }),
      'inputs[0] (x).shape: rows must have shape [4], got [5]',
    ));

  it('refuses a V2 tensor whose data does not fill its shape', () =>
    refused(V2, tensor({ shape: [2, 4] }), 'inputs[0] (x).data: has 4 elements, shape [2, 4] needs 8'));

  it('refuses a V2 request without inputs', () =>
    refused(V2, '{"inputs": []}', 'inputs: expected a non-empty list of tensors'));

  it('refuses a V1 request with neither instances nor inputs', () =>
    refused(V1, '{"rows": [[1, 2, 3, 4]]}', 'the request has neither "instances" nor "inputs"'));
  it('refuses a string where a range promises numbers', () =>
    refused(
      V1,
      '{"instances": [[1, "2", 3, 4]]}',
      'instances[0][1]: expected a number within the allowed range, got string',
    ));

  it('refuses a V2 element that does not fit the declared datatype', () =>
    refused(V2, tensor({ data: [1, true, 3, 4] }), 'inputs[0] (x).data[1]: expected FP32, got boolean'));

  it('refuses a fraction in an INT64 tensor', () =>
    refused(
      '/v2/models/counts/infer',
      '{"inputs": [{"name": "n", "shape": [2], "datatype": "INT64", "data": [1, 2.5]}]}',
      'inputs[0] (n).data[1]: expected INT64, got 2.5',
    ));

  // The JSON reader refuses such depth before the contract reads the body (see strict-json.ts).
  it('refuses a body nested deeper than any tensor with 400, not a fault', async () => {
    const body = `{"inputs": [{"name": "n", "shape": [1], "datatype": "FP32", "data": ${'['.repeat(5000)}1${']'.repeat(5000)}}]}`;
    const r = await send(`${h.url}/v2/models/counts/infer`, { body, headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 400);
    assert.deepEqual(r.json(), { error: 'request body nests deeper than 64 levels', code: 'invalid_body' });
  });
  it('refuses V1 instances nested deeper than any tensor with 400, not a fault', async () => {
    const r = await send(`${h.url}/v1/models/counts:predict`, {
      body: `{"instances": ${'['.repeat(5000)}1${']'.repeat(5000)}}`,
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(r.status, 400);
    assert.equal(r.json()['code'], 'invalid_body');
  });
});
