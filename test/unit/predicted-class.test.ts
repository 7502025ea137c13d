import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildConfig } from '../../src/config/load-config.js';
import { compileContract, type ModelContract } from '../../src/inference/model-contract.js';
import { classifyRow, type RowResult } from '../../src/inference/predicted-class.js';

/** The contract of one model configured with `model` (labels, policy, threshold). */
function contract(model: Record<string, unknown> = {}): ModelContract {
  return compileContract(buildConfig({ auth: { enabled: false }, models: { m: model } }, 'test').models['m']!);
}

const IRIS = contract({ labels: ['setosa', 'versicolor', 'virginica'] });
const UNLABELLED = contract();

const labelOf = (r: RowResult) => ('error' in r ? `error: ${r.error}` : r.label);

describe('prediction row classification', () => {
  describe('score rows', () => {
    it('names the class with the highest score', () => {
      assert.equal(labelOf(classifyRow([0.1, 0.7, 0.2], IRIS)), 'versicolor');
    });

    it('answers the class index when no labels are configured', () => {
      assert.equal(labelOf(classifyRow([0.1, 0.2, 0.7], UNLABELLED)), 2);
    });

    it('keeps the best score as the confidence', () => {
      const r = classifyRow([0.1, 0.7, 0.2], IRIS);
      assert.ok(!('error' in r));
      assert.equal(r.confidence, 0.7);
    });

    it('refuses a row whose length differs from the configured labels', () => {
      assert.equal(labelOf(classifyRow([0.3, 0.7], IRIS)), 'error: a row of 2 scores for 3 configured labels');
    });

    it('ranks every class by descending score under top-k', () => {
      const r = classifyRow([0.2, 0.5, 0.3], contract({ labels: ['a', 'b', 'c'], response: { policy: 'top-k' } }));
      assert.ok(!('error' in r));
      assert.deepEqual(
        r.ranked?.map((x) => x.label),
        ['b', 'c', 'a'],
      );
    });

    it('does not rank under the labels policy', () => {
      const r = classifyRow([0.2, 0.5, 0.3], contract({ labels: ['a', 'b', 'c'] }));
      assert.ok(!('error' in r));
      assert.equal(r.ranked, undefined);
    });
  });

  describe('single values', () => {
    it('reads an integer as a class index', () => {
      assert.equal(labelOf(classifyRow(2, IRIS)), 'virginica');
    });

    it('refuses a class index outside the configured labels', () => {
      assert.equal(labelOf(classifyRow(3, IRIS)), 'error: class index 3 is outside the 3 configured labels');
    });

    it('refuses a negative class index', () => {
      assert.match(labelOf(classifyRow(-1, IRIS)) as string, /^error: class index -1/);
    });

    it('reads a fraction as the probability of class 1, decided by binaryThreshold', () => {
      const fraud = contract({ labels: ['legit', 'fraud'], binaryThreshold: 0.9 });
      assert.equal(labelOf(classifyRow(0.85, fraud)), 'legit');
      assert.equal(labelOf(classifyRow(0.95, fraud)), 'fraud');
    });

    it('refuses a single value that is neither a class id nor a probability', () => {
      assert.equal(
        labelOf(classifyRow(1.5, IRIS)),
        'error: a single prediction is neither a class id nor a probability',
      );
    });

    it('reads a boolean as class 1 or class 0', () => {
      const binary = contract({ labels: ['no', 'yes'] });
      assert.equal(labelOf(classifyRow(true, binary)), 'yes');
      assert.equal(labelOf(classifyRow(false, binary)), 'no');
    });

    it('unwraps a one-element row', () => {
      assert.equal(labelOf(classifyRow([1], IRIS)), 'versicolor');
    });
  });

  describe('class names', () => {
    it('accepts a configured label', () => {
      assert.equal(labelOf(classifyRow('setosa', IRIS)), 'setosa');
    });

    it('refuses a class name outside the configured labels (fails closed)', () => {
      assert.equal(
        labelOf(classifyRow('rose', IRIS)),
        'error: a class name in the answer is not one of the configured labels',
      );
    });

    it('refuses an unlabelled class name that looks like a score', () => {
      assert.match(labelOf(classifyRow('0.97', UNLABELLED)) as string, /carries a number, which may be a score/);
    });

    it("reads Triton's classification strings, value:index:label", () => {
      assert.equal(labelOf(classifyRow('0.8:1:versicolor', IRIS)), 'versicolor');
      assert.equal(labelOf(classifyRow('0.8:2', IRIS)), 'virginica');
    });
  });

  describe('dict rows', () => {
    it('reads a map of class name to score', () => {
      assert.equal(labelOf(classifyRow({ setosa: 0.1, versicolor: 0.2, virginica: 0.7 }, IRIS)), 'virginica');
    });

    it('reads a label field', () => {
      assert.equal(labelOf(classifyRow({ label: 'setosa' }, IRIS)), 'setosa');
    });

    it('reads classes with their scores', () => {
      assert.equal(
        labelOf(classifyRow({ classes: ['setosa', 'versicolor', 'virginica'], scores: [0.5, 0.3, 0.2] }, IRIS)),
        'setosa',
      );
    });

    it('refuses a dict with neither scores nor a label', () => {
      assert.equal(
        labelOf(classifyRow({ foo: 'bar' }, IRIS)),
        'error: a dict-shaped prediction has neither scores nor a label',
      );
    });
  });

  it('refuses a null prediction', () => {
    assert.equal(labelOf(classifyRow(null, IRIS)), 'error: a prediction is null');
  });

  it('refuses a score row holding a non-finite number', () => {
    assert.equal(
      labelOf(classifyRow([0.1, Number.NaN, 0.2], IRIS)),
      'error: a prediction row is neither scores nor a class',
    );
  });

  it('refuses a row mixing numbers and names', () => {
    assert.equal(labelOf(classifyRow([0.1, 'a'], IRIS)), 'error: a prediction row is neither scores nor a class');
  });
});
