import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildConfig } from '../../src/config/load-config.js';
import { NO_AUTH, problemsOf } from '../helpers/config-problems.js';

describe('model contract configuration', () => {
  it('defaults a model to a classifier answered with labels', () => {
    const m = buildConfig({ ...NO_AUTH, models: { iris: {} } }, 'test').models['iris']!;
    assert.equal(m.task, 'classification');
    assert.equal(m.response.policy, 'labels');
    assert.equal(m.response.explain, false);
    assert.equal(m.response.fullAccess, undefined);
    assert.equal(m.input.maxBatch, 1024);
  });

  it('names labels that are not a list of strings', () => {
    assert.deepEqual(problemsOf({ models: { fraud: { labels: 'legit,fraud' } } }), [
      'models.fraud.labels: expected an array of strings, got a string',
    ]);
  });

  it('refuses a response policy other than labels or top-k', () => {
    const [p] = problemsOf({ models: { iris: { response: { policy: 'full' } } } });
    assert.match(p ?? '', /^models\.iris\.response\.policy: .*labels.*top-k/);
  });

  it('refuses an input minimum above its maximum', () => {
    assert.deepEqual(problemsOf({ models: { iris: { input: { min: 5, max: 1 } } } }), [
      'models.iris.input.min: is above max (5 > 1)',
    ]);
  });

  it('refuses a confidence floor outside [0, 1]', () => {
    const [p] = problemsOf({ models: { iris: { response: { confidenceFloor: 1.5 } } } });
    assert.match(p ?? '', /^models\.iris\.response\.confidenceFloor: /);
  });
  it('refuses a repeated class label, naming its position', () => {
    assert.deepEqual(problemsOf({ models: { iris: { labels: ['setosa', 'versicolor', 'setosa'] } } }), [
      'models.iris.labels[2]: repeats the label "setosa"',
    ]);
  });

  it('refuses an abstain label that is also a class label when a confidence floor is set', () => {
    assert.deepEqual(
      problemsOf({
        models: { iris: { labels: ['setosa', 'unsure'], response: { confidenceFloor: 0.5, abstainLabel: 'unsure' } } },
      }),
      [
        'models.iris.response.abstainLabel: is also a class label ("unsure"); an abstention must not read as a prediction',
      ],
    );
  });
});
