import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { shapiroWilk, shapiroWilkCoefficients } from '../../src/extraction/shapiro-wilk.js';
import { normalQuantile, upperTail } from '../../src/extraction/normal-distribution.js';

// Reference values published with R's and SciPy's implementations of AS R94.
// mtcars$wt (R datasets; `shapiro.test(mtcars$wt)` prints W = 0.94326, p-value = 0.09265).
const MTCARS_WT = [
  2.62, 2.875, 2.32, 3.215, 3.44, 3.46, 3.57, 3.19, 3.15, 3.44, 3.44, 4.07, 3.73, 3.78, 5.25, 5.424, 5.345, 2.2, 1.615,
  1.835, 2.465, 3.52, 3.435, 3.84, 3.845, 1.935, 2.14, 1.513, 3.17, 2.77, 3.57, 2.78,
];
// mtcars$mpg (`shapiro.test(mtcars$mpg)`: W = 0.94756, p-value = 0.1229).
const MTCARS_MPG = [
  21, 21, 22.8, 21.4, 18.7, 18.1, 14.3, 24.4, 22.8, 19.2, 17.8, 16.4, 17.3, 15.2, 10.4, 10.4, 14.7, 32.4, 30.4, 33.9,
  21.5, 15.5, 15.2, 13.3, 19.2, 27.3, 26, 30.4, 15.8, 19.7, 15, 21.4,
];
// SciPy's `scipy.stats.shapiro` documentation example (weights of 11 adult males): statistic 0.7888, p-value 0.0067.
const SCIPY_WEIGHTS = [148, 154, 158, 160, 161, 162, 166, 170, 182, 195, 236];

describe('Shapiro–Wilk (AS R94)', () => {
  it('matches R for mtcars weights (n = 32, the large-sample p-value branch)', () => {
    const r = shapiroWilk(MTCARS_WT)!;
    assert.ok(Math.abs(r.w - 0.94326) < 5e-6, `W = ${r.w}`);
    assert.ok(Math.abs(r.pValue - 0.09265) < 5e-6, `p = ${r.pValue}`);
  });

  it('matches R for mtcars fuel consumption (n = 32)', () => {
    const r = shapiroWilk(MTCARS_MPG)!;
    assert.ok(Math.abs(r.w - 0.94756) < 5e-6, `W = ${r.w}`);
    assert.ok(Math.abs(r.pValue - 0.1229) < 5e-5, `p = ${r.pValue}`);
  });

  it('matches SciPy for eleven weights (the small-sample p-value branch)', () => {
    const r = shapiroWilk(SCIPY_WEIGHTS)!;
    assert.ok(Math.abs(r.w - 0.7888) < 5e-5, `W = ${r.w}`);
    assert.ok(Math.abs(r.pValue - 0.0067) < 5e-5, `p = ${r.pValue}`);
  });

  it('does not depend on the order of the sample', () => {
    const reversed = shapiroWilk([...MTCARS_WT].reverse())!;
    assert.equal(reversed.w, shapiroWilk(MTCARS_WT)!.w);
  });

  it('gives coefficients that are antisymmetric with unit sum of squares', () => {
    for (const n of [3, 4, 5, 6, 11, 12, 100, 256]) {
      const a = shapiroWilkCoefficients(n);
      let ss = 0;
      for (let i = 0; i < n; i++) {
        ss += a[i]! * a[i]!;
        assert.ok(Math.abs(a[i]! + a[n - 1 - i]!) < 1e-12);
      }
      assert.ok(Math.abs(ss - 1) < 1e-9, `n = ${n}: Σa² = ${ss}`);
    }
  });

  it('is undefined for a sample without spread', () => {
    assert.equal(shapiroWilk([1, 1, 1, 1, 1]), undefined);
  });

  it('gives the exact p-value for three observations', () => {
    // Three equally spaced points are as normal as three points can be: W = 1, p = 1.
    const r = shapiroWilk([1, 2, 3])!;
    assert.ok(Math.abs(r.w - 1) < 1e-12);
    assert.ok(Math.abs(r.pValue - 1) < 1e-9);
  });
});

describe('normal distribution helpers', () => {
  it('inverts the upper tail to full precision', () => {
    for (const p of [1e-12, 1e-6, 0.01, 0.02425, 0.3, 0.5, 0.9, 0.999999]) {
      const z = normalQuantile(p);
      // P(Z < z) = P(Z > -z): no cancellation in the lower tail.
      assert.ok(Math.abs(upperTail(-z) - p) / p < 1e-9, `p = ${p}`);
    }
  });

  it('knows the textbook quantiles', () => {
    assert.ok(Math.abs(normalQuantile(0.975) - 1.959963984540054) < 1e-12);
    assert.ok(Math.abs(upperTail(3) - 0.0013498980316301) < 1e-15);
  });
});
