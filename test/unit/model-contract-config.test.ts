import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, buildConfig } from '../../src/config/load-config.js';

const base = { auth: { enabled: false }, upstream: { url: 'http://127.0.0.1:1' } };

function problemsOf(model: Record<string, unknown>): string[] {
  try {
    buildConfig({ ...base, models: { m: model } }, 'test');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.problems.map((p) => `${p.path}: ${p.message}`);
  }
  return [];
}

describe('model contract configuration', () => {
  it('defaults a model to a labels-only classifier', () => {
    const c = buildConfig({ ...base, models: { m: {} } }, 'test');
    assert.equal(c.models['m']?.task, 'classification');
    assert.equal(c.models['m']?.response.policy, 'labels');
  });

  it('refuses a confidence floor without labels', () => {
    assert.deepEqual(problemsOf({ response: { confidenceFloor: 0.5 } }), ['models.m.response.confidenceFloor: needs `labels`, so an abstaining row can be told apart from a class']);
  });

  it('refuses repeated labels', () => {
    assert.deepEqual(problemsOf({ labels: ['a', 'b', 'a'] }), ['models.m.labels: must not repeat a label']);
  });

  it('refuses an abstain label that is also a class label', () => {
    assert.deepEqual(problemsOf({ labels: ['a', 'unsure'], response: { confidenceFloor: 0.5, abstainLabel: 'unsure' } }), ['models.m.response.abstainLabel: must differ from every class label']);
  });

  it('refuses an input range whose min is above its max', () => {
    assert.deepEqual(problemsOf({ input: { min: 5, max: 1 } }), ['models.m.input.min: must not be greater than max']);
  });

  it('refuses an unknown response policy', () => {
    assert.deepEqual(problemsOf({ response: { policy: 'scores' } }), ['models.m.response.policy: expected one of "labels", "top-k", "full", got "scores"']);
  });
});
