// Golden fixtures shaped like real runtimes' answers (sklearn, xgboost and lightgbm servers, MLServer, and Triton's classification extension, https://github.com/triton-inference-server/server/blob/main/docs/protocol/extension_classification.md), served by a real
// predictor on port 0, through the real gateway under each model's response policy.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { startFixturePredictor, type FixturePredictor } from '../helpers/fixture-predictor.js';
import { send, v1Batch, v2Batch } from '../helpers/http.js';
import { DEMO_LABELS } from '../../src/quickstart/demo-model.js';

const IRIS = [...DEMO_LABELS];
const v1 = v1Batch;
const v2 = v2Batch;

describe('model contracts: golden runtime answers through the gateway', () => {
  let h: Harness;
  let p: FixturePredictor;
  before(async () => {
    p = await startFixturePredictor();
    h = await startHarness(() => ({
      upstream: { url: p.url },
      models: {
        sklearn: { labels: IRIS, response: { passHeaders: ['X-Model-Version'] } },
        indices: {},
        fraud: { labels: ['legit', 'fraud'] },
        strict: { binaryThreshold: 0.9 },
        ranked: { labels: IRIS, response: { policy: 'top-k', topK: 2, decimals: 1 } },
        unsure: { labels: IRIS, response: { confidenceFloor: 0.6, abstainLabel: 'unsure' } },
        explainable: { labels: IRIS, response: { explain: true } },
        regressor: { task: 'regression' },
        mixed: { scoreOutputs: ['predict_proba'], passOutputs: ['embedding_norm'] },
      },
    }));
  });
  after(async () => {
    await h.close();
    await p.close();
  });
  beforeEach(() => {
    p.answer = { body: '{}' };
  });

  const predict = async (
    model: string,
    answer: string | Buffer,
    headers: Record<string, string> = {},
    body: object = v1(),
  ) => {
    p.answer = { body: answer, headers };
    return send(`${h.url}/v1/models/${model}:predict`, { body });
  };
  const infer = async (
    model: string,
    answer: object | Buffer,
    body: object = v2(),
    headers: Record<string, string> = {},
  ) => {
    p.answer = { body: Buffer.isBuffer(answer) ? answer : JSON.stringify(answer), headers };
    return send(`${h.url}/v2/models/${model}/infer`, { body });
  };

  it('reduces kserve sklearnserver PREDICT_PROBA rows to the configured class names', async () => {
    const r = await predict('sklearn', '{"predictions": [[0.9, 0.05, 0.05], [0.1, 0.7, 0.2]]}');
    assert.equal(r.status, 200);
    assert.deepEqual(r.json(), { predictions: ['setosa', 'versicolor'] });
  });

  it('reduces probability rows to class indices when no labels are configured (lightgbm)', async () => {
    const r = await predict('indices', '{"predictions": [[0.9, 0.05, 0.05]]}');
    assert.deepEqual(r.json(), { predictions: [0] });
  });

  it('applies the binary threshold to xgboost binary:logistic probabilities', async () => {
    assert.deepEqual((await predict('fraud', '{"predictions": [0.82, 0.13]}')).json(), {
      predictions: ['fraud', 'legit'],
    });
    assert.deepEqual((await predict('strict', '{"predictions": [0.82, 0.95]}')).json(), { predictions: [0, 1] });
  });

  it('keeps xgboost multi:softmax class ids as classes', async () => {
    assert.deepEqual((await predict('sklearn', '{"predictions": [2.0, 0.0]}')).json(), {
      predictions: ['virginica', 'setosa'],
    });
  });

  it('reduces xgboost multi:softprob rows by their highest probability', async () => {
    assert.deepEqual((await predict('indices', '{"predictions": [[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]]}')).json(), {
      predictions: [2, 0],
    });
  });

  it('reduces dict-shaped predictions to the best class name', async () => {
    const r = await predict('sklearn', '{"predictions": [{"setosa": 0.1, "versicolor": 0.8, "virginica": 0.1}]}');
    assert.deepEqual(r.json(), { predictions: ['versicolor'] });
  });

  it('drops every answer member other than predictions', async () => {
    const r = await predict('sklearn', '{"predictions": [[0.9, 0.05, 0.05]], "probabilities": [[0.9, 0.05, 0.05]]}');
    assert.deepEqual(r.json(), { predictions: ['setosa'] });
  });

  it('answers top-k entries with scores rounded to the configured decimals', async () => {
    const r = await predict('ranked', '{"predictions": [[0.13, 0.66, 0.21]]}');
    assert.deepEqual(r.json(), {
      predictions: [
        [
          { label: 'versicolor', score: 0.7 },
          { label: 'virginica', score: 0.2 },
        ],
      ],
    });
  });

  it('answers the abstain label for a row under the confidence floor', async () => {
    const r = await predict('unsure', '{"predictions": [[0.4, 0.35, 0.25], [0.05, 0.9, 0.05]]}');
    assert.deepEqual(r.json(), { predictions: ['unsure', 'versicolor'] });
  });

  it('passes regression answers unchanged', async () => {
    const r = await predict('regressor', '{"predictions": [12.75, 3.5]}');
    assert.deepEqual(r.json(), { predictions: [12.75, 3.5] });
  });

  it('reduces an MLServer predict_proba tensor to its INT64 predict tensor, with the request id and model name', async () => {
    const answer = {
      model_name: 'sklearn-iris',
      model_version: 'v1',
      id: 'ignored',
      outputs: [{ name: 'predict_proba', shape: [2, 3], datatype: 'FP64', data: [0.0, 0.97, 0.03, 0.0, 0.91, 0.09] }],
    };
    const r = await infer('indices', answer, v2(2, { id: 'req-9', outputs: [{ name: 'predict_proba' }] }));
    assert.equal(r.status, 200);
    assert.deepEqual(r.json(), {
      model_name: 'indices',
      id: 'req-9',
      outputs: [{ name: 'predict', shape: [2], datatype: 'INT64', data: [1, 1] }],
    });
  });

  it('reduces a kserve sklearnserver V2 output-0 tensor to BYTES class names', async () => {
    const answer = {
      model_name: 'sklearn',
      outputs: [
        {
          name: 'output-0',
          shape: [2, 3],
          datatype: 'FP32',
          data: [
            [0.1, 0.2, 0.7],
            [0.8, 0.1, 0.1],
          ],
        },
      ],
    };
    const r = await infer('sklearn', answer, v2(2));
    assert.deepEqual(r.json()['outputs'], [
      { name: 'output-0', shape: [2], datatype: 'BYTES', data: ['virginica', 'setosa'] },
    ]);
  });

  it('reduces Triton classification strings to the top label and asks the predictor for one class only', async () => {
    const answer = {
      id: '42',
      outputs: [{ name: 'output0', shape: [2], datatype: 'STRING', data: ['3.3:1:cat', '2.4:3:dog'] }],
    };
    const r = await infer(
      'indices',
      answer,
      v2(1, { id: '42', outputs: [{ name: 'output0', parameters: { classification: 2 } }] }),
    );
    assert.deepEqual(r.json()['outputs'], [{ name: 'output0', shape: [1], datatype: 'BYTES', data: ['cat'] }]);
    const sent = JSON.parse(p.received.at(-1)!.body.toString()) as {
      outputs: Array<{ parameters: { classification: number } }>;
    };
    assert.equal(sent.outputs[0]!.parameters.classification, 1);
  });

  it('answers V2 top-k as a labels tensor and a rounded scores tensor of shape [N, k]', async () => {
    const answer = {
      outputs: [{ name: 'predict_proba', shape: [2, 3], datatype: 'FP64', data: [0.13, 0.66, 0.21, 0.05, 0.15, 0.8] }],
    };
    const r = await infer('ranked', answer, v2(2));
    assert.deepEqual(r.json()['outputs'], [
      {
        name: 'predict',
        shape: [2, 2],
        datatype: 'BYTES',
        data: ['versicolor', 'virginica', 'virginica', 'versicolor'],
      },
      { name: 'predict_scores', shape: [2, 2], datatype: 'FP64', data: [0.7, 0.2, 0.8, 0.2] },
    ]);
  });

  it('caps a Triton classification count sent as a string to the classes the policy lets out', async () => {
    const answer = { outputs: [{ name: 'output0', shape: [1], datatype: 'STRING', data: ['3.3:1:cat'] }] };
    await infer('indices', answer, v2(1, { outputs: [{ name: 'output0', parameters: { classification: '5' } }] }));
    const sent = JSON.parse(p.received.at(-1)!.body.toString()) as {
      outputs: Array<{ parameters: { classification: unknown } }>;
    };
    assert.equal(sent.outputs[0]!.parameters.classification, 1);
  });

  it('drops a V2 output that is neither a score output nor listed in passOutputs', async () => {
    const answer = {
      outputs: [
        { name: 'predict_proba', shape: [1, 2], datatype: 'FP64', data: [0.3, 0.7] },
        { name: 'logits', shape: [1, 2], datatype: 'FP32', data: [-0.8472, 0.8472] },
      ],
    };
    const r = await infer('mixed', answer);
    assert.deepEqual(r.json()['outputs'], [{ name: 'predict', shape: [1], datatype: 'INT64', data: [1] }]);
    assert.doesNotMatch(r.text, /0\.847/);
  });

  it('reduces the score outputs and passes the outputs listed in passOutputs unchanged', async () => {
    const answer = {
      outputs: [
        { name: 'predict_proba', shape: [1, 2], datatype: 'FP64', data: [0.3, 0.7] },
        { name: 'embedding_norm', shape: [1], datatype: 'FP32', data: [2.5] },
      ],
    };
    const r = await infer('mixed', answer);
    assert.deepEqual(r.json()['outputs'], [
      { name: 'predict', shape: [1], datatype: 'INT64', data: [1] },
      { name: 'embedding_norm', shape: [1], datatype: 'FP32', data: [2.5] },
    ]);
  });

  it('removes binary_data_output from the request so the answer comes back as JSON', async () => {
    await infer(
      'indices',
      { outputs: [{ name: 'p', shape: [1, 2], datatype: 'FP32', data: [0.1, 0.9] }] },
      v2(1, {
        parameters: { binary_data_output: true, keep: 1 },
        outputs: [{ name: 'p', parameters: { binary_data: true } }],
      }),
    );
    const sent = JSON.parse(p.received.at(-1)!.body.toString()) as Record<string, unknown>;
    assert.deepEqual(sent['parameters'], { keep: 1 });
    assert.deepEqual(sent['outputs'], [{ name: 'p', parameters: {} }]);
  });

  it('keeps binary input tensors intact when it rewrites the JSON part of a binary request', async () => {
    p.answer = {
      body: JSON.stringify({ outputs: [{ name: 'p', shape: [1, 2], datatype: 'FP32', data: [0.1, 0.9] }] }),
    };
    const json = Buffer.from(
      JSON.stringify({
        inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', parameters: { binary_data_size: 16 } }],
        parameters: { binary_data_output: true },
      }),
    );
    const tensor = Buffer.alloc(16);
    (v1Batch().instances[0] as number[]).forEach((v, i) => tensor.writeFloatLE(v, i * 4));
    const r = await send(`${h.url}/v2/models/indices/infer`, {
      body: Buffer.concat([json, tensor]),
      headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(json.length) },
    });
    assert.equal(r.status, 200);
    const sent = p.received.at(-1)!;
    const n = Number(sent.headers['inference-header-content-length']);
    assert.deepEqual(JSON.parse(sent.body.subarray(0, n).toString()), {
      inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', parameters: { binary_data_size: 16 } }],
      parameters: {},
    });
    assert.deepEqual(sent.body.subarray(n), tensor);
    assert.equal(sent.headers['content-type'], 'application/octet-stream');
  });

  it('parses a binary-extension answer and answers labels as JSON', async () => {
    const json = Buffer.from(
      JSON.stringify({
        model_name: 'x',
        outputs: [{ name: 'probs', shape: [2, 2], datatype: 'FP32', parameters: { binary_data_size: 16 } }],
      }),
    );
    const tensor = Buffer.alloc(16);
    [0.2, 0.8, 0.9, 0.1].forEach((v, i) => tensor.writeFloatLE(v, i * 4));
    const r = await infer('fraud', Buffer.concat([json, tensor]), v2(2), {
      'inference-header-content-length': String(json.length),
      'content-type': 'application/octet-stream',
    });
    assert.equal(r.status, 200);
    assert.equal(r.headers['inference-header-content-length'], undefined);
    assert.match(String(r.headers['content-type']), /^application\/json/);
    assert.deepEqual(r.json()['outputs'], [{ name: 'probs', shape: [2], datatype: 'BYTES', data: ['fraud', 'legit'] }]);
  });

  it('refuses a binary-extension answer it cannot read with 502, never passing it through', async () => {
    const json = Buffer.from(
      JSON.stringify({
        outputs: [{ name: 'probs', shape: [1, 2], datatype: 'FP8', parameters: { binary_data_size: 4 } }],
      }),
    );
    const r = await infer('indices', Buffer.concat([json, Buffer.alloc(4)]), v2(1), {
      'inference-header-content-length': String(json.length),
    });
    assert.equal(r.status, 502);
    assert.equal(r.json()['code'], 'upstream_bad_response');
  });

  it('decodes a gzip answer the predictor sent although identity was asked', async () => {
    const r = await predict('sklearn', gzipSync('{"predictions": [[0.1, 0.1, 0.8]]}'), { 'content-encoding': 'gzip' });
    assert.equal(r.headers['content-encoding'], undefined);
    assert.deepEqual(r.json(), { predictions: ['virginica'] });
    assert.equal(p.received.at(-1)!.headers['accept-encoding'], 'identity');
  });

  it('sends a content-length that matches the rewritten body', async () => {
    const r = await predict('sklearn', '{"predictions": [[0.9, 0.05, 0.05]]}');
    assert.equal(Number(r.headers['content-length']), Buffer.byteLength(r.text));
  });

  it('answers a predictor error with its status and a generic body of its own, never the predictor body', async () => {
    p.answer = { status: 400, body: '{"error": "Failed to predict: expected 4 features, 0.93 confidence"}' };
    const r = await send(`${h.url}/v1/models/sklearn:predict`, { body: v1() });
    assert.equal(r.status, 400);
    assert.equal(r.json()['code'], 'upstream_error');
    assert.doesNotMatch(r.text, /0\.93/);
  });

  it('withholds the body of a 3xx and a 5xx predictor answer the same way', async () => {
    for (const status of [302, 503]) {
      p.answer = {
        status,
        headers: { location: 'http://scores.example/?p=0.93' },
        body: '{"predictions": [[0.07, 0.93]]}',
      };
      const r = await send(`${h.url}/v1/models/sklearn:predict`, { body: v1() });
      assert.equal(r.status, status);
      assert.equal(r.json()['code'], 'upstream_error');
      assert.equal(r.headers['location'], undefined);
      assert.doesNotMatch(r.text, /0\.93/);
    }
  });

  it('sends no predictor header with a refusal of an answer it cannot reduce', async () => {
    p.answer = { headers: { 'x-model-scores': '0.07,0.93' }, body: '{"predictions": [[0.9, "x", null]]}' };
    const r = await send(`${h.url}/v1/models/sklearn:predict`, { body: v1() });
    assert.equal(r.status, 502, r.text);
    assert.equal(r.headers['x-model-scores'], undefined);
  });

  it('sends only allowlisted predictor headers with a reduced answer', async () => {
    p.answer = {
      headers: { 'x-model-scores': '0.07,0.93', 'x-confidence': '0.93', 'x-model-version': '7' },
      body: '{"predictions": [[0.05, 0.02, 0.93]]}',
    };
    const r = await send(`${h.url}/v1/models/sklearn:predict`, { body: v1() });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers['x-model-scores'], undefined);
    assert.equal(r.headers['x-confidence'], undefined);
    assert.equal(r.headers['x-model-version'], '7');
  });

  it('fails closed with 502 on an answer it cannot reduce', async () => {
    const r = await predict('sklearn', '{"predictions": [[0.9, "x", null]]}');
    assert.equal(r.status, 502);
    assert.equal(r.json()['code'], 'upstream_bad_response');
    assert.doesNotMatch(r.text, /0\.9/);
  });

  it('fails closed when a class name in the answer is not a configured label', async () => {
    const r = await predict('sklearn', '{"predictions": ["0.97"]}');
    assert.equal(r.status, 502);
  });

  it('refuses :explain under a labels policy with 403 scores_not_allowed', async () => {
    p.answer = { body: '{"predictions": [0], "explanations": [[0.4, 0.1]]}' };
    const r = await send(`${h.url}/v1/models/sklearn:explain`, { body: v1() });
    assert.equal(r.status, 403);
    assert.equal(r.json()['code'], 'scores_not_allowed');
  });

  it('lets :explain through unchanged where the policy allows it', async () => {
    p.answer = { body: '{"predictions": [0], "explanations": [[0.4, 0.1]]}' };
    const r = await send(`${h.url}/v1/models/explainable:explain`, { body: v1() });
    assert.deepEqual(r.json(), { predictions: [0], explanations: [[0.4, 0.1]] });
  });
});

describe('model contracts: answers too large to buffer', () => {
  it('refuses an answer over upstream.maxAnswerBytes with 502 instead of buffering or passing it', async () => {
    const p = await startFixturePredictor({
      body: JSON.stringify({ predictions: Array.from({ length: 2000 }, () => [0.1, 0.2, 0.7]) }),
    });
    const h = await startHarness(() => ({
      upstream: { url: p.url, maxAnswerBytes: 4096 },
      models: { iris: { labels: IRIS } },
    }));
    try {
      const r = await send(`${h.url}/v1/models/iris:predict`, { body: v1() });
      assert.equal(r.status, 502);
      assert.equal(r.json()['code'], 'upstream_bad_response');
      // The next request on the same gateway still works.
      p.answer = { body: '{"predictions": [[0.1, 0.2, 0.7]]}' };
      assert.deepEqual((await send(`${h.url}/v1/models/iris:predict`, { body: v1() })).json(), {
        predictions: ['virginica'],
      });
    } finally {
      await h.close();
      await p.close();
    }
  });
});
