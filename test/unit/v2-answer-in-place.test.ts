// An [N, C] tensor of probabilities is reduced reading each row in place; every reduction must
// be what classifying each row, copied out as a list, gives: the same classes, the same labels
// out, the same refusal.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { buildConfig } from '../../src/config/load-config.js';
import { compileContract, type ModelContract } from '../../src/inference/model-contract.js';
import { classifyRow } from '../../src/inference/predicted-class.js';
import { labelOut, topKOut } from '../../src/inference/reduced-answer.js';
import { reduceV2Answer } from '../../src/inference/v2-answer.js';

function contract(model: Record<string, unknown>): ModelContract {
  return compileContract(buildConfig({ auth: { enabled: false }, models: { m: model } }, 'test').models['m']!);
}

const CONTRACTS = [
  contract({ labels: ['setosa', 'versicolor', 'virginica'] }),
  contract({}),
  contract({ labels: ['a', 'b', 'c'], response: { policy: 'top-k', topK: 2 } }),
  contract({ labels: ['a', 'b', 'c'], response: { confidenceFloor: 0.5 } }),
];

const score = fc.oneof(
  { weight: 20, arbitrary: fc.double({ min: 0, max: 1, noNaN: true }) },
  { weight: 1, arbitrary: fc.constantFrom(0.5, 0, 1, -0) },
);

/** What a reduction must give: each row copied out and classified as a list. */
function expected(data: readonly number[], n: number, k: number, c: ModelContract) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const r = classifyRow(data.slice(i * k, i * k + k), c);
    if ('error' in r) return `error: output predict_proba row ${i}: ${r.error}`;
    out.push(r);
  }
  return out;
}

describe('reducing an [N, C] probability tensor in place', () => {
  it('gives every row the class classifying the copied-out row gives, under every policy', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 2, max: 4 }),
        fc.integer({ min: 0, max: CONTRACTS.length - 1 }),
        fc.infiniteStream(score),
        (n, k, which, scores) => {
          const c = CONTRACTS[which]!;
          const data = [...scores.take(n * k)];
          const doc = { outputs: [{ name: 'predict_proba', shape: [n, k], datatype: 'FP64', data }] };
          const got = reduceV2Answer(doc, c, 'm', undefined, undefined);
          const want = expected(data, n, k, c);
          if (typeof want === 'string') {
            assert.ok(!got.ok);
            assert.equal(`error: ${got.reason}`, want);
            return;
          }
          assert.ok(got.ok, got.ok ? '' : got.reason);
          assert.deepEqual(got.classes, want);
          const outputs = (got.doc as { outputs: Array<{ data: unknown[] }> }).outputs;
          if (c.policy === 'labels')
            assert.deepEqual(
              outputs[0]!.data,
              want.map((p) => labelOut(p, c)),
            );
          else
            assert.deepEqual(
              outputs[0]!.data,
              want.flatMap((p) => topKOut(p, c).map((e) => e.label)),
            );
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('refuses a row whose width does not match the configured labels, naming the row', () => {
    const doc = { outputs: [{ name: 'predict_proba', shape: [2, 2], datatype: 'FP64', data: [0.1, 0.9, 0.3, 0.7] }] };
    const got = reduceV2Answer(doc, CONTRACTS[0]!, 'm', undefined, undefined);
    assert.deepEqual(got, {
      ok: false,
      reason: 'output predict_proba row 0: a row of 2 scores for 3 configured labels',
    });
  });

  it('reads a tensor with a string among its scores the way a copied-out row is read', () => {
    const data = [0.1, 0.2, 0.7, 0.3, '0.5', 0.2];
    const doc = { outputs: [{ name: 'predict_proba', shape: [2, 3], datatype: 'FP64', data }] };
    const got = reduceV2Answer(doc, CONTRACTS[0]!, 'm', undefined, undefined);
    assert.deepEqual(got, {
      ok: false,
      reason: 'output predict_proba row 1: a prediction row is neither scores nor a class',
    });
  });
});
