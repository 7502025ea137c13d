// Property: whatever JSON the predictor answers, under a labels policy no score leaves the
// gateway. Either the answer is reduced (only integers, configured labels, the request's own
// names and ids, output names), or it is refused with 502 upstream_bad_response.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { startFixturePredictor, type FixturePredictor } from '../helpers/fixture-predictor.js';
import { send } from '../helpers/http.js';

const LABELS = ['cat', 'dog', 'bird'];
const RUNS = 120;

const prob = fc.double({ min: 0, max: 1, noNaN: true });
const probRow = fc.array(prob, { minLength: 1, maxLength: 5 });
const anyJson = fc.jsonValue({ maxDepth: 4 });
// Answers shaped like the runtimes', and answers that are anything at all.
const v1Answer = fc.oneof(
  fc.record({
    predictions: fc.array(
      fc.oneof(
        probRow,
        prob,
        fc.nat(4),
        fc.constantFrom(...LABELS),
        fc.dictionary(fc.constantFrom(...LABELS), prob),
        anyJson,
      ),
      { maxLength: 6 },
    ),
  }),
  fc.record({ predictions: fc.array(probRow, { maxLength: 4 }), extra: anyJson }),
  anyJson,
);
const tensor = fc.record({
  name: fc.oneof(fc.constantFrom('predict_proba', 'output-0', 'output0'), fc.string()),
  datatype: fc.constantFrom('FP32', 'FP64', 'INT64', 'BYTES', 'STRING'),
  shape: fc.array(fc.nat(4), { minLength: 1, maxLength: 3 }),
  data: fc.array(fc.oneof(prob, fc.nat(3), fc.string(), fc.constantFrom('0.93:1', '0.5:2:dog', '3.3:0:cat')), {
    maxLength: 12,
  }),
  parameters: fc.option(anyJson, { nil: undefined }),
});
// Consistent probability tensors, [N, C] or [N], as sklearn / MLServer / xgboost answer them.
const probTensor = fc
  .tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.constantFrom('predict_proba', 'output-0'))
  .chain(([n, k, name]) =>
    fc
      .array(prob, { minLength: n * k, maxLength: n * k })
      .map((data) => ({ name, datatype: 'FP64', shape: k === 1 ? [n] : [n, k], data })),
  );
const v2Answer = fc.oneof(
  fc.record({ model_name: fc.string(), outputs: fc.array(probTensor, { minLength: 1, maxLength: 2 }) }),
  fc.record({
    model_name: fc.string(),
    model_version: fc.string(),
    id: fc.string(),
    parameters: anyJson,
    outputs: fc.array(tensor, { maxLength: 3 }),
  }),
  anyJson,
);

function leaks(doc: unknown, allowedStrings: ReadonlySet<string>): string | undefined {
  if (typeof doc === 'number') return Number.isInteger(doc) ? undefined : `number ${doc}`;
  if (typeof doc === 'string') return allowedStrings.has(doc) ? undefined : `string ${JSON.stringify(doc)}`;
  if (Array.isArray(doc)) {
    for (const x of doc) {
      const l = leaks(x, allowedStrings);
      if (l) return l;
    }
  } else if (doc && typeof doc === 'object') {
    for (const x of Object.values(doc)) {
      const l = leaks(x, allowedStrings);
      if (l) return l;
    }
  }
  return undefined;
}

describe('model contracts: no score leaves under a labels policy (property)', () => {
  let h: Harness;
  let p: FixturePredictor;
  before(async () => {
    p = await startFixturePredictor();
    h = await startHarness(() => ({ upstream: { url: p.url }, models: { pets: { labels: LABELS }, anon: {} } }));
  });
  after(async () => {
    await h.close();
    await p.close();
  });

  const reduced = { v1: 0, v2: 0 };
  const check = (status: number, text: string, allowed: Set<string>, protocol: 'v1' | 'v2') => {
    if (status === 502) {
      assert.equal(JSON.parse(text).code, 'upstream_bad_response');
      return;
    }
    assert.equal(status, 200, text);
    const doc = JSON.parse(text) as { outputs?: Array<{ name?: unknown }> };
    for (const o of doc.outputs ?? []) if (typeof o.name === 'string') allowed.add(o.name);
    const leak = leaks(doc, allowed);
    assert.equal(leak, undefined, `leaked ${leak} in ${text}`);
    reduced[protocol]++;
  };

  it('holds for V1 answers', async () => {
    await fc.assert(
      fc.asyncProperty(v1Answer, async (answer) => {
        p.answer = { body: JSON.stringify(answer) };
        const r = await send(`${h.url}/v1/models/pets:predict`, { body: { instances: [[1, 2]] } });
        check(r.status, r.text, new Set(LABELS), 'v1');
      }),
      { numRuns: RUNS },
    );
    // The property must be exercised on answers that were reduced, not only on refusals.
    assert.ok(reduced.v1 > RUNS / 10, `only ${reduced.v1} of ${RUNS} V1 answers were reduced`);
  });

  it('holds for V2 answers', async () => {
    await fc.assert(
      fc.asyncProperty(v2Answer, async (answer) => {
        p.answer = { body: JSON.stringify(answer) };
        const r = await send(`${h.url}/v2/models/pets/infer`, {
          body: { id: 'req-1', inputs: [{ name: 'x', shape: [1, 2], datatype: 'FP32', data: [1, 2] }] },
        });
        check(r.status, r.text, new Set([...LABELS, 'pets', 'req-1', 'INT64', 'BYTES']), 'v2');
      }),
      { numRuns: RUNS },
    );
    assert.ok(reduced.v2 > RUNS / 20, `only ${reduced.v2} of ${RUNS} V2 answers were reduced`);
  });
  it('holds for V1 answers to a model without configured labels: class names pass, no score does', async () => {
    const fraction = /^\s*[-+]?(?:\d*\.\d+|\d+\.\d*|\d+(?:\.\d*)?[eE][-+]?\d+)\s*$/;
    const scoreLike = (doc: unknown): boolean =>
      typeof doc === 'number'
        ? !Number.isInteger(doc)
        : typeof doc === 'string'
          ? fraction.test(doc)
          : Array.isArray(doc)
            ? doc.some(scoreLike)
            : doc !== null && typeof doc === 'object'
              ? Object.values(doc).some(scoreLike)
              : false;
    const answer = fc.record({
      predictions: fc.array(
        fc.oneof(prob, fc.nat(4), fc.string(), prob.map(String), probRow, fc.dictionary(fc.string(), prob)),
        { maxLength: 5 },
      ),
    });
    let passed = 0;
    await fc.assert(
      fc.asyncProperty(answer, async (a) => {
        p.answer = { body: JSON.stringify(a) };
        const r = await send(`${h.url}/v1/models/anon:predict`, { body: { instances: [[1, 2]] } });
        if (r.status === 502) return;
        assert.equal(r.status, 200, r.text);
        assert.ok(!scoreLike(r.json()), `leaked a score in ${r.text}`);
        passed++;
      }),
      { numRuns: RUNS },
    );
    assert.ok(passed > RUNS / 10, `only ${passed} of ${RUNS} answers were reduced`);
  });
});
