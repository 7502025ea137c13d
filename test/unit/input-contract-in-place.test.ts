// The input contract checks the common tensor (numbers, flat or in rows) in place, without a
// message per element; every other body takes the described checks. Both must give the same
// answer on every body: the same refusal, word for word, or none.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { inferenceRequestOf } from '../../src/inference/inference-request.js';
import { inputViolation, inputViolationDescribed } from '../../src/inference/input-contract.js';
import { routedContext } from '../helpers/request-view.js';

type Contract = Parameters<typeof inputViolation>[1];

const RUNS = 2000;

// Mostly numbers a contract accepts, with every kind of element that breaks one rule or another.
const element = fc.oneof(
  { weight: 12, arbitrary: fc.integer({ min: 0, max: 10 }) },
  { weight: 12, arbitrary: fc.double({ min: 0, max: 10, noNaN: true }) },
  { weight: 2, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
  { weight: 1, arbitrary: fc.integer({ min: -20, max: -1 }) },
  { weight: 1, arbitrary: fc.constantFrom('NaN', 'inf', '-Infinity', 'x', '1.5', '') },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.constant({ a: 1 }) },
  { weight: 1, arbitrary: fc.constant([[1, 2]]) },
  { weight: 1, arbitrary: fc.constant(1e300) },
);

const contract: fc.Arbitrary<Contract> = fc.record({
  features: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
  shape: fc.option(fc.constantFrom([3], [-1], [2], [4]), { nil: undefined }),
  datatype: fc.option(fc.constantFrom('FP32', 'INT64'), { nil: undefined }),
  min: fc.option(fc.constantFrom(0, 1, -5), { nil: undefined }),
  max: fc.option(fc.constantFrom(10, 5), { nil: undefined }),
  maxBatch: fc.constant(1024),
});

// [n, w] tensors, with rows as nested lists or flat, sometimes ragged or miscounted.
const tensor = fc
  .record({
    n: fc.integer({ min: 0, max: 6 }),
    w: fc.integer({ min: 1, max: 4 }),
    nested: fc.boolean(),
    datatype: fc.constantFrom('FP32', 'FP64', 'FP16', 'BF16', 'INT64', 'INT8', 'UINT8', 'BOOL', 'BYTES', 'STRING'),
    shapeOff: fc.constantFrom(0, 0, 0, 1, -1),
    dropOne: fc.constantFrom(false, false, false, false, true),
  })
  .chain(({ n, w, nested, datatype, shapeOff, dropOne }) =>
    fc.array(fc.array(element, { minLength: w, maxLength: w }), { minLength: n, maxLength: n }).map((rows) => {
      const data: unknown[] = nested ? rows : rows.flat();
      if (dropOne) data.pop();
      return { name: 'input-0', shape: [n + shapeOff, w], datatype, data };
    }),
  );

const v2Body = fc.record({ inputs: fc.array(tensor, { minLength: 1, maxLength: 2 }) });

const v1Row = fc.oneof(
  fc.array(element, { minLength: 1, maxLength: 4 }),
  element,
  fc.dictionary(fc.constantFrom('a', 'b', 'c'), element),
);
const v1Body = fc.record({ instances: fc.array(v1Row, { minLength: 0, maxLength: 6 }) });

function bothAgree(body: unknown, path: string, c: Contract): void {
  const parsed = inferenceRequestOf(routedContext(body, { path }));
  if (!parsed?.ok) return;
  assert.equal(inputViolation(parsed.request, c), inputViolationDescribed(parsed.request, c));
}

describe('the input contract checks numeric tensors in place', () => {
  it('gives the same answer as the described checks on every generated V2 body', () => {
    fc.assert(
      fc.property(v2Body, contract, (body, c) => bothAgree(body, '/v2/models/m/infer', c)),
      { numRuns: RUNS },
    );
  });

  it('gives the same answer as the described checks on every generated V1 body', () => {
    fc.assert(
      fc.property(v1Body, contract, (body, c) => bothAgree(body, '/v1/models/m:predict', c)),
      { numRuns: RUNS },
    );
  });

  it('accepts a 256-row FP32 tensor of in-range numbers, as the described checks do', () => {
    const rows = Array.from({ length: 256 }, (_, i) => [i % 10, 2.5, 4.8, 1.4]);
    const c = { features: 4, shape: [4], datatype: 'FP32', min: 0, max: 10, maxBatch: 256 } as Contract;
    const parsed = inferenceRequestOf(
      routedContext(
        { inputs: [{ name: 'x', shape: [256, 4], datatype: 'FP32', data: rows }] },
        { path: '/v2/models/m/infer' },
      ),
    );
    assert.ok(parsed?.ok);
    assert.equal(inputViolation(parsed.request, c), undefined);
  });

  it('names the first element out of range in a large tensor, as the described checks do', () => {
    const rows = Array.from({ length: 256 }, () => [1, 2, 3, 4]);
    rows[200]![3] = 11;
    const c = { min: 0, max: 10, maxBatch: 256 } as Contract;
    const parsed = inferenceRequestOf(
      routedContext(
        { inputs: [{ name: 'x', shape: [256, 4], datatype: 'FP32', data: rows }] },
        { path: '/v2/models/m/infer' },
      ),
    );
    assert.ok(parsed?.ok);
    assert.equal(inputViolation(parsed.request, c), 'inputs[0] (x).data[803]: 11 is above the maximum 10');
  });

  it('refuses a non-integer in an INT64 tensor of numbers', () => {
    const parsed = inferenceRequestOf(
      routedContext(
        {
          inputs: [
            {
              name: 'x',
              shape: [2, 2],
              datatype: 'INT64',
              data: [
                [1, 2],
                [3, 4.5],
              ],
            },
          ],
        },
        { path: '/v2/models/m/infer' },
      ),
    );
    assert.ok(parsed?.ok);
    assert.equal(inputViolation(parsed.request, { maxBatch: 8 }), 'inputs[0] (x).data[3]: expected INT64, got 4.5');
  });
});
