import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { startContractHarness, type ContractHarness } from '../helpers/contract-harness.js';
import { send } from '../helpers/http.js';

const LABELS = ['cat', 'dog', 'eel'];
const DATATYPES = ['BOOL', 'UINT8', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES', 'STRING', 'BF16'];

// Answers a predictor may give: anything at all, and near-misses of the real shapes.
const score = fc.oneof(fc.double(), fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: -2, max: 5 }));
const v1Answer = fc.oneof(
  fc.jsonValue(),
  fc.record({
    predictions: fc.array(fc.oneof(score, fc.array(score, { maxLength: 4 }), fc.constantFrom(...LABELS, 'owl', '0.97'), fc.dictionary(fc.constantFrom(...LABELS, 'owl'), score)), { maxLength: 4 }),
    extra: fc.option(fc.jsonValue()),
  }),
);
const tensorData = fc.oneof(
  fc.array(score, { maxLength: 8 }),
  fc.array(fc.array(score, { maxLength: 3 }), { maxLength: 3 }),
  fc.array(fc.oneof(fc.constantFrom('0.9:1', '3.3:2:eel', '0.1:7', 'x:1', ...LABELS), fc.string()), { maxLength: 4 }),
  fc.jsonValue(),
);
// Tensors whose shape fits their data, so most reach the rewriting path.
const wellFormedOutput = fc
  .tuple(fc.integer({ min: 1, max: 3 }), fc.constantFrom(1, 3), fc.constantFrom('FP32', 'FP64', 'INT64', 'BYTES', 'STRING'), fc.constantFrom('predict_proba', 'output-0', '0.97', 'p'))
  .chain(([n, w, datatype, name]) =>
    fc.record({
      name: fc.constant(name),
      shape: fc.constant(w === 1 ? [n] : [n, w]),
      datatype: fc.constant(datatype),
      data: fc.array<string | number>(datatype === 'BYTES' || datatype === 'STRING' ? fc.constantFrom(...LABELS, 'owl', '0.9:1', '0.2:2:eel', '0.5:9') : score, { minLength: n * w, maxLength: n * w }),
    }),
  );
const v2Answer = fc.oneof(
  fc.record({ model_name: fc.string(), model_version: fc.constantFrom('1', '0.97', 'v'), outputs: fc.array(wellFormedOutput, { minLength: 1, maxLength: 2 }) }),
  fc.jsonValue(),
  fc.record(
    {
      model_name: fc.string(),
      model_version: fc.oneof(fc.string(), fc.constant('0.97')),
      id: fc.string(),
      parameters: fc.jsonValue(),
      outputs: fc.array(
        fc.record(
          {
            name: fc.oneof(fc.constantFrom('predict_proba', 'output-0', 'predict'), fc.string()),
            shape: fc.array(fc.nat(4), { maxLength: 3 }),
            datatype: fc.constantFrom(...DATATYPES),
            data: tensorData,
            parameters: fc.jsonValue(),
          },
          { requiredKeys: ['name', 'shape', 'datatype', 'data'] },
        ),
        { maxLength: 3 },
      ),
    },
    { requiredKeys: ['outputs'] },
  ),
);

/** Under a labels policy, a 200 carries only configured labels; anything else must be a 502. */
function assertNoScores(status: number, body: Record<string, unknown>, protocol: 'v1' | 'v2'): void {
  if (status !== 200) {
    assert.equal(status, 502);
    assert.equal(body['code'], 'upstream_bad_response');
    return;
  }
  if (protocol === 'v1') {
    assert.deepEqual(Object.keys(body), ['predictions']);
    for (const p of body['predictions'] as unknown[]) assert.ok(typeof p === 'string' && LABELS.includes(p), `leaked ${JSON.stringify(p)}`);
    return;
  }
  for (const key of Object.keys(body)) assert.ok(['model_name', 'model_version', 'outputs'].includes(key), `unexpected key ${key}`);
  assert.equal(body['model_name'], 'm');
  if (body['model_version'] !== undefined) assert.match(String(body['model_version']), /^[0-9]+$/);
  for (const o of body['outputs'] as Array<Record<string, unknown>>) {
    assert.deepEqual(Object.keys(o).sort(), ['data', 'datatype', 'name', 'shape']);
    assert.match(String(o['name']), /^[A-Za-z_]/);
    assert.equal(o['datatype'], 'BYTES');
    const data = o['data'] as unknown[];
    assert.deepEqual(o['shape'], [data.length]);
    for (const d of data) assert.ok(typeof d === 'string' && LABELS.includes(d), `leaked ${JSON.stringify(d)}`);
  }
}

describe('labels policy against any predictor answer (property)', () => {
  let h: ContractHarness;
  before(async () => {
    h = await startContractHarness({ m: { labels: LABELS } });
  });
  after(() => h.close());

  for (const protocol of ['v1', 'v2'] as const) {
    it(`lets no score out of a ${protocol} answer: labels or 502, nothing else`, async () => {
      const path = protocol === 'v1' ? '/v1/models/m:predict' : '/v2/models/m/infer';
      const body = protocol === 'v1' ? { instances: [[1, 2]] } : { inputs: [{ name: 'x', shape: [1, 2], datatype: 'FP32', data: [1, 2] }] };
      let rewritten = 0;
      await fc.assert(
        fc.asyncProperty(protocol === 'v1' ? v1Answer : v2Answer, async (answer) => {
          h.predictor.answer(path, { json: answer });
          const r = await send(`${h.url}${path}`, { body });
          assertNoScores(r.status, r.json(), protocol);
          if (r.status === 200) rewritten++;
        }),
        { numRuns: 300 },
      );
      // The generators must reach the rewriting path, or the property says nothing.
      assert.ok(rewritten > 10, `only ${rewritten} answers were rewritten`);
    });
  }
});
