import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_DETECTOR_SETTINGS } from '../../src/extraction/detector-settings.js';
import { FeatureNormaliser } from '../../src/extraction/feature-normaliser.js';
import { Xoshiro128 } from '../../src/extraction/prng.js';
import { QueryScorer, type QueryStreamState } from '../../src/extraction/query-scorer.js';
import { warmStream } from '../../src/extraction/state-warmup.js';

const WIDTH = 6;

function scorer(): QueryScorer {
  const normaliser = new FeatureNormaliser({
    scaling: { kind: 'standard', centre: new Array<number>(WIDTH).fill(0), scale: new Array<number>(WIDTH).fill(1) },
    projectAbove: 64,
    projectTo: 16,
    seed: 1,
  });
  return new QueryScorer(normaliser, DEFAULT_DETECTOR_SETTINGS, 1);
}

/** Every typed array the account's state holds, copied, found by walking its objects. */
function snapshot(st: QueryStreamState): number[][] {
  const out: number[][] = [];
  const seen = new Set<object>();
  const walk = (v: unknown): void => {
    if (v === null || typeof v !== 'object' || seen.has(v)) return;
    seen.add(v);
    if (ArrayBuffer.isView(v)) {
      out.push(Array.from(v as unknown as ArrayLike<number>));
      return;
    }
    for (const key of Object.keys(v)) walk((v as Record<string, unknown>)[key]);
  };
  walk(st);
  return out;
}

describe('state warm-up', () => {
  it('reads an account state without changing any of it, at every stage of its history', () => {
    const s = scorer();
    const st = s.createState();
    const rng = new Xoshiro128(21);
    for (let i = 0; i < 400; i++) {
      const classId = i % 5;
      const before = snapshot(st);
      warmStream(st, classId, WIDTH);
      assert.deepEqual(snapshot(st), before, `after ${i} rows`);
      s.observe(
        st,
        Float64Array.from({ length: WIDTH }, () => rng.normal()),
        classId,
        0.5,
      );
    }
    assert.ok(snapshot(st).length > 10, 'the walk reached the detectors’ arrays');
  });

  it('leaves every score as scoring without it gives', () => {
    const a = scorer();
    const b = scorer();
    const sa = a.createState();
    const sb = b.createState();
    const rng = new Xoshiro128(22);
    for (let i = 0; i < 600; i++) {
      const row = Float64Array.from({ length: WIDTH }, () => (i % 3 ? rng.normal() : Math.round(rng.normal() * 2) / 2));
      warmStream(sa, i % 3, WIDTH);
      assert.equal(a.observe(sa, row, i % 3, 0.4), b.observe(sb, row, i % 3, 0.4), `row ${i}`);
    }
    assert.deepEqual(Array.from(sa.scores), Array.from(sb.scores));
  });
});
