import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_DETECTOR_SETTINGS } from '../../src/extraction/detector-settings.js';
import { normalQuantile } from '../../src/extraction/normal-distribution.js';
import { Xoshiro128 } from '../../src/extraction/prng.js';
import { clipOutliers, PrototypeDetector } from '../../src/extraction/prototype-detector.js';

const sorted = (values: number[]) => Float64Array.from(values).sort();

/** n values at the normal quantiles (i + ½)/n, mean 1 and σ 0.2: a normal sample without sampling noise. */
const normalScores = (n: number) => Float64Array.from({ length: n }, (_, i) => 1 + 0.2 * normalQuantile((i + 0.5) / n));

/** The range `clipOutliers` keeps, or undefined for a fixed step. */
function clip(values: Float64Array, k = 3): [number, number] | undefined {
  const kept = new Int32Array(2);
  return clipOutliers(values, 0, values.length, k, kept) ? [kept[0]!, kept[1]!] : undefined;
}

describe('PRADA outlier rejection', () => {
  it('rejects a far second cluster whole instead of cutting through it', () => {
    // Most distances at a noise's scale (0.15), the rest at the data's (from 0.4 on, spread 1): one
    // round's limit (median + 4.4 MAD) lies inside the second cluster and keeps 40 of its values.
    const rng = new Xoshiro128(1);
    const near = Array.from({ length: 140 }, () => 0.15 + 0.05 * rng.normal());
    const far = Array.from({ length: 116 }, () => 0.4 + Math.abs(rng.normal()));
    const values = sorted([...near, ...far]);
    const range = clip(values)!;
    assert.ok(range[1] - range[0] >= 130, `kept ${range[1] - range[0]}`);
    assert.ok(values[range[1] - 1]! < 0.4, `largest kept ${values[range[1] - 1]}`);
  });

  it('keeps a normal sample whole', () => {
    assert.deepEqual(clip(normalScores(256)), [0, 256]);
  });

  it('drops isolated far values and keeps the rest', () => {
    const values = sorted([...normalScores(250), 40, 50, 60]);
    assert.deepEqual(clip(values), [0, 250]);
  });

  it('reports a fixed step when more than half the distances are identical', () => {
    const values = sorted([...new Array<number>(140).fill(0.4), ...Array.from({ length: 116 }, (_, i) => 1 + i / 100)]);
    assert.equal(clip(values), undefined);
  });

  it('keeps the W of noisy revisits of 40 rows above 0.8 (one round of rejection let it fall to 0.66)', () => {
    // A narrow-interest user: 600 queries, each one of 40 rows (4 features) with noise of 0.05 σ.
    const dims = 4;
    for (let seed = 1; seed <= 10; seed++) {
      const d = new PrototypeDetector({ dims, ...DEFAULT_DETECTOR_SETTINGS });
      const st = d.createState(seed);
      const rng = new Xoshiro128(seed);
      const rows = Array.from({ length: 40 }, () => Float64Array.from({ length: dims }, () => rng.normal()));
      let minW = 1;
      for (let i = 0; i < 600; i++) {
        const row = rows[Math.floor(rng.next() * rows.length)]!;
        d.observe(
          st,
          Float64Array.from(row, (v) => v + 0.05 * rng.normal()),
          0,
        );
        minW = Math.min(minW, st.w);
      }
      assert.ok(minW > 0.8, `seed ${seed}: W fell to ${minW}`);
    }
  });
});
