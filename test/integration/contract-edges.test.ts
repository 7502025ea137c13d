// Edge cases of the model contract found by probing the implementation: each was a way for an
// answer to escape the response policy's shape or for a predictor to exhaust the gateway.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { startFixturePredictor, type FixturePredictor } from '../helpers/fixture-predictor.js';
import { send, v1Batch, v2Batch } from '../helpers/http.js';
import { DEMO_LABELS } from '../../src/quickstart/demo-model.js';

const IRIS = [...DEMO_LABELS];
const v1 = v1Batch;
const v2 = v2Batch;

describe('model contracts: edge cases', () => {
  let h: Harness;
  let p: FixturePredictor;
  before(async () => {
    p = await startFixturePredictor();
    h = await startHarness(() => ({
      upstream: { url: p.url, maxAnswerBytes: 64 * 1024 },
      models: {
        sklearn: { labels: IRIS },
        unlabelled: {},
        floorNoLabels: { response: { confidenceFloor: 0.6 } },
        ranked: { labels: IRIS, response: { policy: 'top-k', topK: 2 } },
        rankedFloor: { labels: IRIS, response: { policy: 'top-k', topK: 2, confidenceFloor: 0.6 } },
        tritonTopK: { labels: ['a', 'b', 'c', 'd'], response: { policy: 'top-k', topK: 3 } },
        accented: { labels: ['sétosa', 'versicolor-版', 'virginica-🌸'] },
      },
    }));
  });
  after(async () => {
    await h.close();
    await p.close();
  });

  it('refuses a compressed answer that inflates past upstream.maxAnswerBytes with 502', async () => {
    const inflated = `{"predictions": [[0.9, 0.05, 0.05]]${' '.repeat(1024 * 1024)}}`;
    p.answer = { body: gzipSync(inflated), headers: { 'content-encoding': 'gzip' } };
    const r = await send(`${h.url}/v1/models/sklearn:predict`, { body: v1() });
    assert.equal(r.status, 502, r.text);
    assert.equal(r.json()['code'], 'upstream_bad_response');
  });

  it('still decodes a compressed answer that inflates within upstream.maxAnswerBytes', async () => {
    p.answer = {
      body: gzipSync(`{"predictions": [[0.9, 0.05, 0.05]]${' '.repeat(1024)}}`),
      headers: { 'content-encoding': 'gzip' },
    };
    const r = await send(`${h.url}/v1/models/sklearn:predict`, { body: v1() });
    assert.deepEqual(r.json(), { predictions: ['setosa'] });
  });

  it('keeps a V2 label tensor of one datatype when a row abstains', async () => {
    p.answer = {
      body: JSON.stringify({
        outputs: [{ name: 'predict_proba', shape: [2, 3], datatype: 'FP64', data: [0.4, 0.35, 0.25, 0.9, 0.05, 0.05] }],
      }),
    };
    const r = await send(`${h.url}/v2/models/floorNoLabels/infer`, { body: v2(2) });
    const out = r.json<{ outputs: Array<{ datatype: string; data: unknown[] }> }>().outputs[0]!;
    const fits =
      out.datatype === 'BYTES'
        ? out.data.every((d) => typeof d === 'string')
        : out.data.every((d) => Number.isInteger(d));
    assert.ok(fits, `a ${out.datatype} tensor holds ${JSON.stringify(out.data)}`);
  });

  it('gives a reduced answer with labels outside ASCII a content-length counting its UTF-8 bytes', async () => {
    p.answer = {
      body: JSON.stringify({
        outputs: [
          {
            name: 'predict_proba',
            shape: [3, 3],
            datatype: 'FP64',
            data: [0.8, 0.1, 0.1, 0.1, 0.8, 0.1, 0.1, 0.1, 0.8],
          },
        ],
      }),
    };
    const r = await send(`${h.url}/v2/models/accented/infer`, { body: v2(3) });
    assert.equal(r.status, 200, r.text);
    assert.equal(Number(r.headers['content-length']), Buffer.byteLength(r.text, 'utf8'));
    assert.deepEqual(r.json<{ outputs: Array<{ data: unknown[] }> }>().outputs[0]!.data, [
      'sétosa',
      'versicolor-版',
      'virginica-🌸',
    ]);
  });

  it('answers V2 top-k with a label tensor whose shape matches its data', async () => {
    p.answer = {
      body: JSON.stringify({
        outputs: [{ name: 'predict_proba', shape: [2, 3], datatype: 'FP64', data: [0.1, 0.7, 0.2, 0.5, 0.3, 0.2] }],
      }),
    };
    const r = await send(`${h.url}/v2/models/ranked/infer`, { body: v2(2) });
    assert.equal(r.status, 200, r.text);
    for (const o of r.json<{ outputs: Array<{ shape: number[]; data: unknown[] }> }>().outputs) {
      assert.equal(
        o.shape.reduce((a, b) => a * b, 1),
        o.data.length,
        JSON.stringify(o),
      );
    }
  });

  it('refuses a Triton classification answer with more classes than topK', async () => {
    p.answer = {
      body: JSON.stringify({
        outputs: [{ name: 'out', shape: [4], datatype: 'BYTES', data: ['0.4:1', '0.3:0', '0.2:3', '0.1:2'] }],
      }),
    };
    const r = await send(`${h.url}/v2/models/tritonTopK/infer`, {
      body: v2(1, { outputs: [{ name: 'out', parameters: { classification: 4 } }] }),
    });
    if (r.status === 200) {
      const body = JSON.stringify(r.json());
      assert.ok(!body.includes('0.1') && !body.includes('"c"'), `more than topK classes left: ${body}`);
    } else {
      assert.equal(r.json()['code'], 'upstream_bad_response');
    }
  });
  it('fails closed on a score row shorter than the configured labels instead of naming a class from them', async () => {
    p.answer = { body: JSON.stringify({ predictions: [[0.1, 0.9]] }) };
    const r = await send(`${h.url}/v1/models/sklearn:predict`, { body: v1() });
    assert.equal(r.status, 502, r.text);
    assert.deepEqual(r.json(), {
      error:
        "the predictor's answer cannot be reduced to the response policy: predictions[0]: a row of 2 scores for 3 configured labels",
      code: 'upstream_bad_response',
    });
  });
  it("keeps the other rows' top-k in V2 when one row abstains", async () => {
    p.answer = {
      body: JSON.stringify({
        outputs: [{ name: 'predict_proba', shape: [2, 3], datatype: 'FP64', data: [0.4, 0.35, 0.25, 0.1, 0.8, 0.1] }],
      }),
    };
    const r = await send(`${h.url}/v2/models/rankedFloor/infer`, { body: v2(2) });
    assert.deepEqual(r.json<{ outputs: unknown }>().outputs, [
      { name: 'predict', shape: [2, 2], datatype: 'BYTES', data: ['abstain', 'abstain', 'versicolor', 'setosa'] },
      { name: 'predict_scores', shape: [2, 2], datatype: 'FP64', data: [0, 0, 0.8, 0.1] },
    ]);
  });
  it('counts an answer refused under the policy in /metrics', async () => {
    const refused = async () =>
      Number(
        /^inference_gateway_contract_answers_total\{model="sklearn",outcome="refused"\} (\d+)$/m.exec(
          (await send(`${h.adminUrl}/metrics`)).text,
        )?.[1] ?? 0,
      );
    const before = await refused();
    p.answer = { body: '{"predictions": "not a list"}' };
    assert.equal((await send(`${h.url}/v1/models/sklearn:predict`, { body: v1() })).status, 502);
    assert.equal(await refused(), before + 1);
  });
  it('passes class names through when no labels are configured', async () => {
    p.answer = { body: JSON.stringify({ predictions: ['setosa', 'virginica'] }) };
    const r = await send(`${h.url}/v1/models/unlabelled:predict`, { body: v1(2) });
    assert.deepEqual(r.json(), { predictions: ['setosa', 'virginica'] });
  });

  for (const name of ['setosa:0.81', '81%', '2', 'p=9e-1']) {
    it(`fails closed on the class name ${JSON.stringify(name)}, which carries a number, when no labels are configured`, async () => {
      p.answer = { body: JSON.stringify({ predictions: ['setosa', name] }) };
      const r = await send(`${h.url}/v1/models/unlabelled:predict`, { body: v1(2) });
      assert.equal(r.status, 502, r.text);
      assert.equal(r.json()['code'], 'upstream_bad_response');
    });
  }

  it('fails closed on a score written as a string when no labels are configured', async () => {
    p.answer = { body: JSON.stringify({ predictions: ['setosa', '0.97'] }) };
    const r = await send(`${h.url}/v1/models/unlabelled:predict`, { body: v1(2) });
    assert.equal(r.status, 502, r.text);
    assert.equal(r.json()['code'], 'upstream_bad_response');
  });

  it('fails closed on a V2 BYTES tensor of stringified scores when no labels are configured', async () => {
    p.answer = {
      body: JSON.stringify({ outputs: [{ name: 'predict', shape: [1], datatype: 'BYTES', data: ['9.1e-1'] }] }),
    };
    const r = await send(`${h.url}/v2/models/unlabelled/infer`, { body: v2(1) });
    assert.equal(r.status, 502, r.text);
  });
});
