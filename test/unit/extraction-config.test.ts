import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildConfig } from '../../src/config/load-config.js';
import { problemsOf, NO_AUTH } from '../helpers/config-problems.js';

const withExtraction = (extraction: Record<string, unknown>) => ({ models: { m: { extraction } } });

describe('models.<model>.extraction config', () => {
  it('refuses an unknown mode, naming the field', () => {
    assert.ok(problemsOf(withExtraction({ mode: 'watch' })).some((p) => p.startsWith('models.m.extraction.mode:')));
  });

  it('refuses a feature description with both centre/scale and min/max', () => {
    const p = problemsOf(withExtraction({ features: { centre: [0], scale: [1], min: [0], max: [1] } }));
    assert.ok(
      p.some((x) => x.startsWith('models.m.extraction.features:') && x.includes('either')),
      p.join('\n'),
    );
  });

  it('refuses scales and centres of different lengths, naming the field', () => {
    const p = problemsOf(withExtraction({ features: { centre: [0, 0], scale: [1] } }));
    assert.ok(
      p.some((x) => x.startsWith('models.m.extraction.features.scale:')),
      p.join('\n'),
    );
  });

  it('refuses a zero scale, naming the feature', () => {
    const p = problemsOf(withExtraction({ features: { centre: [0, 0], scale: [1, 0] } }));
    assert.ok(
      p.some((x) => x.startsWith('models.m.extraction.features.scale[1]:')),
      p.join('\n'),
    );
  });

  it('refuses a max not above its min', () => {
    const p = problemsOf(withExtraction({ features: { min: [0, 5], max: [1, 5] } }));
    assert.ok(
      p.some((x) => x.startsWith('models.m.extraction.features.max[1]:')),
      p.join('\n'),
    );
  });

  it('refuses ladder rungs that decrease', () => {
    const p = problemsOf(withExtraction({ actions: { degradeAt: 50, throttleAt: 10 } }));
    assert.ok(
      p.some((x) => x.startsWith('models.m.extraction.actions.throttleAt:')),
      p.join('\n'),
    );
  });

  it('refuses a PRADA warm-up longer than its ring', () => {
    const p = problemsOf(withExtraction({ detectors: { ring: 50, minSamples: 100 } }));
    assert.ok(
      p.some((x) => x.startsWith('models.m.extraction.detectors.minSamples:')),
      p.join('\n'),
    );
  });

  it('refuses unknown keys in the section', () => {
    assert.ok(problemsOf(withExtraction({ treshold: 3 })).some((p) => p.includes('models.m.extraction')));
  });

  it('leaves mode unset, so extraction is off without features and shadow with them', () => {
    const cfg = buildConfig(
      { ...NO_AUTH, models: { a: {}, b: { extraction: { features: { centre: [0], scale: [1] } } } } },
      'test',
    );
    assert.equal(cfg.models['a']!.extraction.mode, undefined);
    assert.equal(cfg.models['a']!.extraction.features, undefined);
    assert.equal(cfg.models['b']!.extraction.actions.blockAt, 400);
  });
});
