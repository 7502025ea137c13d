import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startContractHarness, type ContractHarness } from '../helpers/contract-harness.js';
import { send } from '../helpers/http.js';

const IRIS = ['setosa', 'versicolor', 'virginica'];
const ok = [5.1, 3.5, 1.4, 0.2];

describe('input contract violations', () => {
  let h: ContractHarness;
  before(async () => {
    h = await startContractHarness({
      iris: { labels: IRIS, input: { features: 4, datatype: 'FP32', min: 0, max: 10, maxBatch: 3 } },
      digits: { protocol: 'v2', labels: IRIS, input: { shape: [2, 2], datatype: 'FP64' } },
      loose: { protocol: 'v1', labels: IRIS },
    });
    h.predictor.answer('/v1/models/iris:predict', { json: { predictions: [0] } });
    h.predictor.answer('/v1/models/loose:predict', { json: { predictions: [0] } });
  });
  after(() => h.close());

  const refused = async (path: string, body: string | object, message: string) => {
    const before = h.predictor.received.length;
    const r = await send(`${h.url}${path}`, { body, headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 400, r.text);
    assert.deepEqual(r.json(), { error: message, code: 'invalid_input' });
    assert.equal(h.predictor.received.length, before, 'the predictor must not be called');
  };

  it('accepts a request that keeps the contract', async () => {
    const r = await send(`${h.url}/v1/models/iris:predict`, { body: { instances: [ok] } });
    assert.equal(r.status, 200, r.text);
  });

  it('refuses a V1 row with the wrong number of features, naming the row', () =>
    refused('/v1/models/iris:predict', { instances: [ok, [1, 2, 3]] }, 'input "instances" row 1 has 3 values; the model takes 4'));

  it('refuses a value above the maximum, naming the value', () =>
    refused('/v1/models/iris:predict', { instances: [[1, 2, 11, 4]] }, 'input "instances" row 0[2] is 11, above the maximum 10'));

  it('refuses a value below the minimum', () => refused('/v1/models/iris:predict', { inputs: [[1, -2, 1, 4]] }, 'input "inputs" row 0[1] is -2, below the minimum 0'));

  it('refuses Infinity written as an overflowing literal', () =>
    refused('/v1/models/iris:predict', '{"instances": [[1, 1e999, 1, 1]]}', 'input "instances" row 0[1] is not a finite number; NaN and Infinity are refused'));

  it('refuses NaN written as a string', () => refused('/v1/models/iris:predict', { instances: [[1, 'NaN', 1, 1]] }, 'input "instances" row 0[1] is "NaN"; NaN and Infinity are refused'));

  it('refuses Infinity even on a model without input rules', () =>
    refused('/v1/models/loose:predict', '{"instances": [[1, -1e999]]}', 'input "instances" row 0[1] is not a finite number; NaN and Infinity are refused'));

  it('refuses a non-number where the contract wants FP32', () => refused('/v1/models/iris:predict', { instances: [[1, true, 1, 1]] }, 'input "instances" row 0[1] must be a FP32 value, got boolean'));

  it('refuses a batch over maxBatch', () => refused('/v1/models/iris:predict', { instances: [ok, ok, ok, ok] }, "a batch of 4 rows is over this model's maximum of 3"));

  it('refuses dict instances when the contract wants rows', () =>
    refused('/v1/models/iris:predict', { instances: [{ a: 1 }] }, 'input "instances" row 0 must be a list of 4 values'));

  it('refuses a V2 input of the wrong datatype', () =>
    refused('/v2/models/iris/infer', { inputs: [{ name: 'input-0', shape: [1, 4], datatype: 'FP64', data: ok }] }, 'input "input-0" has datatype FP64; the model takes FP32'));

  it('refuses a V2 input of the wrong shape', () =>
    refused('/v2/models/iris/infer', { inputs: [{ name: 'input-0', shape: [1, 5], datatype: 'FP32', data: [1, 1, 1, 1, 1] }] }, 'input "input-0" has shape [1, 5]; the model takes [batch, 4]'));

  it('refuses a V2 input whose data does not fill its shape', () =>
    refused('/v2/models/iris/infer', { inputs: [{ name: 'input-0', shape: [2, 4], datatype: 'FP32', data: [1, 1, 1, 1, 1, 1, 1] }] }, 'input "input-0" holds 7 values; its shape [2, 4] needs 8'));

  it('refuses a V2 value out of range, naming the input', () =>
    refused('/v2/models/iris/infer', { inputs: [{ name: 'input-0', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 40] }] }, 'input "input-0" value 3 is 40, above the maximum 10'));

  it('checks a multi-dimensional row shape', () =>
    refused('/v2/models/digits/infer', { inputs: [{ name: 'pixels', shape: [1, 4], datatype: 'FP64', data: [1, 2, 3, 4] }] }, 'input "pixels" has shape [1, 4]; the model takes [batch, 2, 2]'));

  it('refuses a V2 request without inputs', () => refused('/v2/models/iris/infer', { inputs: [] }, '"inputs" must be a non-empty list of tensors'));

  it('refuses a body that is not JSON with 400 invalid_body', async () => {
    const r = await send(`${h.url}/v1/models/iris:predict`, { body: '{"instances": [', headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 400);
    assert.deepEqual(r.json(), { error: 'request body is not valid JSON', code: 'invalid_body' });
  });
});
