import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { startContractHarness, type ContractHarness } from '../helpers/contract-harness.js';
import { binaryBody, fp32 } from '../helpers/fixture-predictor.js';
import { send } from '../helpers/http.js';

const IRIS = ['setosa', 'versicolor', 'virginica'];
const row = [6.8, 2.8, 4.8, 1.4];
const v1 = (n = 2) => ({ instances: Array.from({ length: n }, () => row) });
const v2 = (n = 2, extra: Record<string, unknown> = {}) => ({ inputs: [{ name: 'input-0', shape: [n, 4], datatype: 'FP32', data: Array.from({ length: n }, () => row) }], ...extra });

// Golden answers shaped like the real runtimes' (PROTOCOLS.md §4.3), served by a real HTTP predictor.
describe('labels-only answers for real runtimes through the gateway', () => {
  let h: ContractHarness;
  before(async () => {
    h = await startContractHarness({
      'sklearn-iris': { protocol: 'v1', labels: IRIS },
      'xgb-binary': { protocol: 'v1', binaryThreshold: 0.5 },
      'xgb-multi': { protocol: 'v1' },
      lgbm: { protocol: 'v1', labels: IRIS },
      'dict-model': { protocol: 'v1', labels: IRIS },
      'mlserver-iris': { protocol: 'v2' },
      'mlserver-named': { protocol: 'v2', labels: IRIS },
      'kserve-v2': { protocol: 'v2', labels: IRIS },
      'xgb-v2': { protocol: 'v2' },
      triton: { protocol: 'v2', labels: ['index_0_label', 'index_1_label', 'index_2_label', 'index_3_label'] },
      'iris-topk': { protocol: 'any', labels: IRIS, response: { policy: 'top-k', topK: 2, decimals: 2 } },
      'iris-floor': { protocol: 'v1', labels: IRIS, response: { confidenceFloor: 0.6, abstainLabel: 'unsure' } },
      'house-prices': { protocol: 'v1', task: 'regression' },
      'picky-v2': { protocol: 'v2', scoreOutputs: ['predict_proba'], labels: IRIS },
    });
  });
  after(() => h.close());

  const fixture = (path: string, json: unknown) => h.predictor.answer(path, { json });

  it('turns kserve sklearn PREDICT_PROBA rows into class labels', async () => {
    fixture('/v1/models/sklearn-iris:predict', { predictions: [[0.9, 0.05, 0.05], [0.1, 0.2, 0.7]] });
    const r = await send(`${h.url}/v1/models/sklearn-iris:predict`, { body: v1() });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json(), { predictions: ['setosa', 'virginica'] });
  });

  it('turns xgboost binary:logistic scores into classes with the configured threshold', async () => {
    fixture('/v1/models/xgb-binary:predict', { predictions: [0.82, 0.13, 0.5] });
    const r = await send(`${h.url}/v1/models/xgb-binary:predict`, { body: v1(3) });
    assert.deepEqual(r.json(), { predictions: [1, 0, 1] });
  });

  it('turns xgboost multi:softprob rows into class indices when no labels are configured', async () => {
    fixture('/v1/models/xgb-multi:predict', { predictions: [[0.1, 0.2, 0.3, 0.4], [0.7, 0.1, 0.1, 0.1]] });
    const r = await send(`${h.url}/v1/models/xgb-multi:predict`, { body: v1() });
    assert.deepEqual(r.json(), { predictions: [3, 0] });
  });

  it('turns the lightgbm docs answer into its label', async () => {
    fixture('/v1/models/lgbm:predict', { predictions: [[0.9, 0.05, 0.05]] });
    const r = await send(`${h.url}/v1/models/lgbm:predict`, { body: v1(1) });
    assert.deepEqual(r.json(), { predictions: ['setosa'] });
  });

  it('reads dict-shaped predictions through the configured labels', async () => {
    fixture('/v1/models/dict-model:predict', { predictions: [{ setosa: 0.1, versicolor: 0.8, virginica: 0.1 }] });
    const r = await send(`${h.url}/v1/models/dict-model:predict`, { body: v1(1) });
    assert.deepEqual(r.json(), { predictions: ['versicolor'] });
  });

  it('turns MLServer predict_proba into the INT64 predict tensor MLServer returns by default', async () => {
    fixture('/v2/models/mlserver-iris/infer', {
      model_name: 'mlserver-iris',
      outputs: [{ name: 'predict_proba', shape: [2, 3], datatype: 'FP64', data: [0.0, 0.97, 0.03, 0.0, 0.91, 0.09] }],
    });
    const r = await send(`${h.url}/v2/models/mlserver-iris/infer`, { body: v2(2, { outputs: [{ name: 'predict_proba' }] }) });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json(), { model_name: 'mlserver-iris', outputs: [{ name: 'predict', shape: [2], datatype: 'INT64', data: [1, 1] }] });
  });

  it('names the classes in a BYTES tensor when labels are configured', async () => {
    fixture('/v2/models/mlserver-named/infer', {
      model_name: 'mlserver-named',
      model_version: '3',
      outputs: [{ name: 'predict_proba', shape: [2, 3], datatype: 'FP64', data: [[0.0, 0.97, 0.03], [0.8, 0.1, 0.1]] }],
    });
    const r = await send(`${h.url}/v2/models/mlserver-named/infer`, { body: { id: 'r-1', ...v2() } });
    assert.deepEqual(r.json(), { model_name: 'mlserver-named', model_version: '3', id: 'r-1', outputs: [{ name: 'predict', shape: [2], datatype: 'BYTES', data: ['versicolor', 'setosa'] }] });
  });

  it('turns the kserve sklearnserver V2 output-0 probability matrix into labels', async () => {
    fixture('/v2/models/kserve-v2/infer', { model_name: 'kserve-v2', id: 'x', outputs: [{ name: 'output-0', shape: [1, 3], datatype: 'FP32', data: [0.2, 0.3, 0.5] }] });
    const r = await send(`${h.url}/v2/models/kserve-v2/infer`, { body: v2(1) });
    assert.deepEqual(r.json<{ outputs: unknown }>().outputs, [{ name: 'output-0', shape: [1], datatype: 'BYTES', data: ['virginica'] }]);
  });

  it('reads the xgboost V2 float class ids as classes', async () => {
    fixture('/v2/models/xgb-v2/infer', { model_name: 'xgb-v2', outputs: [{ name: 'predict', datatype: 'FP32', shape: [2], data: [1.0, 1.0] }] });
    const r = await send(`${h.url}/v2/models/xgb-v2/infer`, { body: v2() });
    assert.deepEqual(r.json<{ outputs: unknown }>().outputs, [{ name: 'predict', shape: [2], datatype: 'INT64', data: [1, 1] }]);
  });

  it('reduces Triton classification strings to the top label', async () => {
    fixture('/v2/models/triton/infer', { id: '42', outputs: [{ name: 'output0', shape: [2], datatype: 'STRING', data: ['3.3:1', '2.4:3'] }] });
    const r = await send(`${h.url}/v2/models/triton/infer`, { body: { id: '42', ...v2(1), outputs: [{ name: 'output0', parameters: { classification: 2 } }] } });
    assert.deepEqual(r.json(), { model_name: 'triton', id: '42', outputs: [{ name: 'output0', shape: [1], datatype: 'BYTES', data: ['index_1_label'] }] });
  });

  it('answers top-k with rounded scores under the top-k policy', async () => {
    fixture('/v1/models/iris-topk:predict', { predictions: [[0.123, 0.654, 0.223]] });
    const r = await send(`${h.url}/v1/models/iris-topk:predict`, { body: v1(1) });
    assert.deepEqual(r.json(), { predictions: [[{ label: 'versicolor', score: 0.65 }, { label: 'virginica', score: 0.22 }]] });
  });

  it('answers V2 top-k as a label tensor and a scores tensor of shape [batch, k]', async () => {
    fixture('/v2/models/iris-topk/infer', { outputs: [{ name: 'predict_proba', shape: [1, 3], datatype: 'FP64', data: [0.123, 0.654, 0.223] }] });
    const r = await send(`${h.url}/v2/models/iris-topk/infer`, { body: v2(1) });
    assert.deepEqual(r.json<{ outputs: unknown }>().outputs, [
      { name: 'predict', shape: [1, 2], datatype: 'BYTES', data: ['versicolor', 'virginica'] },
      { name: 'predict_scores', shape: [1, 2], datatype: 'FP64', data: [0.65, 0.22] },
    ]);
  });

  it('answers the abstain label for a row under the confidence floor', async () => {
    fixture('/v1/models/iris-floor:predict', { predictions: [[0.4, 0.35, 0.25], [0.05, 0.9, 0.05]] });
    const r = await send(`${h.url}/v1/models/iris-floor:predict`, { body: v1() });
    assert.deepEqual(r.json(), { predictions: ['unsure', 'versicolor'] });
  });

  it('passes a regression answer through unchanged', async () => {
    fixture('/v1/models/house-prices:predict', { predictions: [312000.5, 198000.25] });
    const r = await send(`${h.url}/v1/models/house-prices:predict`, { body: v1() });
    assert.deepEqual(r.json(), { predictions: [312000.5, 198000.25] });
  });

  it('drops outputs not listed in scoreOutputs', async () => {
    fixture('/v2/models/picky-v2/infer', {
      outputs: [
        { name: 'predict_proba', shape: [1, 3], datatype: 'FP64', data: [0.1, 0.1, 0.8] },
        { name: 'embedding', shape: [1, 4], datatype: 'FP32', data: [0.3, 0.1, 0.2, 0.9] },
      ],
    });
    const r = await send(`${h.url}/v2/models/picky-v2/infer`, { body: v2(1) });
    assert.deepEqual(r.json<{ outputs: unknown }>().outputs, [{ name: 'predict', shape: [1], datatype: 'BYTES', data: ['virginica'] }]);
  });

  it('decodes a gzip answer the predictor sends anyway and sets a correct content-length', async () => {
    h.predictor.answer('/v1/models/sklearn-iris:predict', { bytes: gzipSync(JSON.stringify({ predictions: [[0.1, 0.8, 0.1]] })), headers: { 'content-encoding': 'gzip' } });
    const r = await send(`${h.url}/v1/models/sklearn-iris:predict`, { body: v1(1) });
    assert.equal(r.text, '{"predictions":["versicolor"]}');
    assert.equal(r.headers['content-length'], String(Buffer.byteLength(r.text)));
    assert.equal(r.headers['content-encoding'], undefined);
    assert.equal(h.predictor.received.at(-1)?.headers['accept-encoding'], 'identity');
  });

  it('parses a binary-extension answer into a JSON label tensor', async () => {
    const { body, headLength } = binaryBody(
      { model_name: 'kserve-v2', outputs: [{ name: 'output-0', shape: [2, 3], datatype: 'FP32', parameters: { binary_data_size: 24 } }] },
      [fp32([0.7, 0.2, 0.1, 0.1, 0.1, 0.8])],
    );
    h.predictor.answer('/v2/models/kserve-v2/infer', { bytes: body, headers: { 'inference-header-content-length': String(headLength), 'content-type': 'application/octet-stream' } });
    const r = await send(`${h.url}/v2/models/kserve-v2/infer`, { body: v2() });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers['inference-header-content-length'], undefined);
    assert.match(String(r.headers['content-type']), /^application\/json/);
    assert.equal(r.headers['content-length'], String(Buffer.byteLength(r.text)));
    assert.deepEqual(r.json<{ outputs: unknown }>().outputs, [{ name: 'output-0', shape: [2], datatype: 'BYTES', data: ['setosa', 'virginica'] }]);
  });

  it('refuses a binary-extension answer whose bytes do not fit its tensors with 502', async () => {
    const { body, headLength } = binaryBody({ outputs: [{ name: 'output-0', shape: [1, 3], datatype: 'FP32', parameters: { binary_data_size: 12 } }] }, [fp32([0.7, 0.2])]);
    h.predictor.answer('/v2/models/kserve-v2/infer', { bytes: body, headers: { 'inference-header-content-length': String(headLength) } });
    const r = await send(`${h.url}/v2/models/kserve-v2/infer`, { body: v2(1) });
    assert.equal(r.status, 502);
    assert.equal(r.json()['code'], 'upstream_bad_response');
    assert.equal(r.headers['inference-header-content-length'], undefined);
  });

  it('removes binary_data and binary_data_output from the request so the answer comes back as JSON', async () => {
    fixture('/v2/models/kserve-v2/infer', { outputs: [{ name: 'output-0', shape: [1, 3], datatype: 'FP32', data: [0.2, 0.3, 0.5] }] });
    const body = v2(1, { parameters: { binary_data_output: true }, outputs: [{ name: 'output-0', parameters: { binary_data: true } }] });
    const r = await send(`${h.url}/v2/models/kserve-v2/infer`, { body });
    assert.equal(r.status, 200);
    const sent = JSON.parse(h.predictor.received.at(-1)!.body.toString()) as { parameters: object; outputs: Array<{ parameters: object }> };
    assert.deepEqual(sent.parameters, {});
    assert.deepEqual(sent.outputs[0]!.parameters, {});
    assert.equal(h.predictor.received.at(-1)!.headers['content-length'], String(h.predictor.received.at(-1)!.body.length));
  });

  it('fails closed with 502 upstream_bad_response on an answer it cannot read', async () => {
    fixture('/v1/models/sklearn-iris:predict', { predictions: [[0.9, 0.1]] });
    const r = await send(`${h.url}/v1/models/sklearn-iris:predict`, { body: v1(1) });
    assert.equal(r.status, 502);
    assert.deepEqual(r.json(), { error: 'the predictor answer cannot be reduced to labels: a row has 2 scores for 3 configured labels', code: 'upstream_bad_response' });
  });

  it('passes a predictor error answer through unchanged', async () => {
    h.predictor.answer('/v1/models/sklearn-iris:predict', { status: 400, json: { error: 'Expected 4 features, got 3' } });
    const r = await send(`${h.url}/v1/models/sklearn-iris:predict`, { body: v1(1) });
    assert.equal(r.status, 400);
    assert.deepEqual(r.json(), { error: 'Expected 4 features, got 3' });
  });

  it('refuses :explain under a labels policy with 403 scores_not_allowed, without calling the predictor', async () => {
    const before = h.predictor.received.length;
    const r = await send(`${h.url}/v1/models/sklearn-iris:explain`, { body: v1(1) });
    assert.equal(r.status, 403);
    assert.deepEqual(r.json(), { error: 'explanations reveal the model\'s scores, and the response policy of model "sklearn-iris" is labels', code: 'scores_not_allowed' });
    assert.equal(h.predictor.received.length, before);
  });
});
