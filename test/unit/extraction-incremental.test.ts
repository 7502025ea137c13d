import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_DETECTOR_SETTINGS } from '../../src/extraction/detector-settings.js';
import { Xoshiro128 } from '../../src/extraction/prng.js';
import {
  medianAbsoluteDeviation,
  nearest,
  PrototypeDetector,
  type PrototypeState,
} from '../../src/extraction/prototype-detector.js';
import {
  effectiveQuantum,
  FingerprintDetector,
  REVISIT_LAG,
  type FingerprintDetectorOptions,
} from '../../src/extraction/fingerprint-detector.js';
import { fmix, mix } from '../../src/extraction/row-hash.js';
import { shapiroWilk } from '../../src/extraction/shapiro-wilk.js';
import { StepDetector } from '../../src/extraction/step-detector.js';

// The hot path keeps some statistics incrementally or computes them in a cheaper form; each is
// checked here against the direct computation on seeded random streams, ties and evictions
// included (values on a coarse grid repeat often).

type Kind = 'normal' | 'grid';
const draw = (rng: Xoshiro128, kind: Kind) => (kind === 'normal' ? rng.normal() : Math.round(rng.normal() * 4) / 4);

const prada = (dims: number, ring: number) =>
  new PrototypeDetector({
    dims,
    prototypes: DEFAULT_DETECTOR_SETTINGS.prototypes,
    maxClasses: 4,
    ring,
    minSamples: Math.min(100, ring),
    testEvery: 10,
    delta: 0.9,
    rejectSigma: 3,
  });

/** The median of a sorted array. */
function medianOf(sorted: ArrayLike<number>): number {
  const m = sorted.length;
  return m % 2 ? sorted[(m - 1) >> 1]! : (sorted[m / 2 - 1]! + sorted[m / 2]!) / 2;
}

/**
 * The ring's distances and PRADA's W computed from scratch: the values more than `rejectSigma`
 * scaled MADs from the median dropped, again and again on what is kept, until none is dropped
 * (at most 8 rounds).
 */
function direct(st: PrototypeState, rejectSigma: number, minSamples: number, previous: number) {
  let kept = Float64Array.from(st.distances.subarray(0, st.ringFilled)).sort();
  for (let round = 0; round < 8; round++) {
    const median = medianOf(kept);
    const mad = medianOf(Float64Array.from(kept, (x) => Math.abs(x - median)).sort());
    if (mad <= 1e-12 * Math.max(1, median)) return { w: 0 };
    const limit = rejectSigma * 1.4826 * mad;
    const next = kept.filter((x) => Math.abs(x - median) <= limit);
    if (next.length === kept.length) break;
    kept = next;
    if (kept.length < minSamples) return { w: previous };
  }
  return { w: shapiroWilk(kept)?.w ?? 0 };
}

describe('PRADA kept incrementally', () => {
  for (const [kind, testEvery] of [
    ['normal', 10],
    ['grid', 10],
    ['normal', 1000],
  ] as const)
    it(`keeps the ring's sorted copy equal to the ring sorted at every merge (${kind} values, a test every ${testEvery} queries)`, () => {
      const d = new PrototypeDetector({ ...prada(4, 120).o, testEvery });
      const st = d.createState(3);
      const rng = new Xoshiro128(11);
      const z = new Float64Array(4);
      let merges = 0;
      for (let i = 0; i < 2000; i++) {
        for (let j = 0; j < 4; j++) z[j] = draw(rng, kind);
        d.observe(st, z, i % 3);
        if (st.pending > 0) continue;
        merges++;
        const ring = st.distances.subarray(0, st.ringFilled);
        const kept = st.distances.subarray(st.ring, st.ring + st.sorted);
        assert.deepEqual(kept, ring.slice().sort(), `after query ${i + 1}`);
      }
      // At most a test's worth (or the ring's length) of distances waits between two merges.
      assert.ok(merges >= Math.floor(2000 / Math.min(testEvery, 120)), `${merges} merges`);
    });

  for (const kind of ['normal', 'grid'] as const)
    it(`gives the W of the distances sorted, outliers rejected around the median until none is left, tested from scratch (${kind} values)`, () => {
      const d = prada(8, 256);
      const st = d.createState(5);
      const rng = new Xoshiro128(12);
      const z = new Float64Array(8);
      let tests = 0;
      let expected = 1;
      for (let i = 0; i < 3000; i++) {
        for (let j = 0; j < 8; j++) z[j] = draw(rng, kind);
        const due = st.sinceTest + 1 >= 10 && st.ringFilled >= 100;
        d.observe(st, z, i % 4);
        if (!due) continue;
        tests++;
        expected = direct(st, 3, 100, expected).w;
        assert.equal(st.w, expected, `test ${tests}`);
        expected = st.w;
      }
      assert.ok(tests > 250);
    });

  it('finds the median absolute deviation of a sorted range as the median of the sorted deviations', () => {
    const rng = new Xoshiro128(13);
    for (let trial = 0; trial < 500; trial++) {
      const n = 1 + Math.floor(rng.next() * 60);
      const pad = Math.floor(rng.next() * 5);
      const values = Array.from({ length: n }, () => draw(rng, trial % 2 ? 'grid' : 'normal')).sort((a, b) => a - b);
      const padded = [...new Array<number>(pad).fill(-99), ...values, 99];
      const median = n % 2 ? values[(n - 1) >> 1]! : (values[n / 2 - 1]! + values[n / 2]!) / 2;
      const dev = values.map((x) => Math.abs(x - median)).sort((a, b) => a - b);
      const want = n % 2 ? dev[(n - 1) >> 1]! : (dev[n / 2 - 1]! + dev[n / 2]!) / 2;
      assert.equal(medianAbsoluteDeviation(padded, median, pad, pad + n), want);
    }
  });
});

describe('nearest prototype, two at a time', () => {
  it('finds the same squared distance as a plain loop over every prototype, NaN rows and odd counts included', () => {
    const rng = new Xoshiro128(15);
    let trials = 0;
    for (const dims of [1, 2, 3, 4, 5, 7, 8, 13, 16, 17])
      for (let trial = 0; trial < 400; trial++) {
        const n = 1 + (trial % 32);
        const set = Float32Array.from({ length: 32 * dims }, () => draw(rng, trial % 2 ? 'grid' : 'normal'));
        const z = Float64Array.from({ length: dims }, () => draw(rng, trial % 2 ? 'grid' : 'normal'));
        if (trial % 37 === 0) z[dims - 1] = Number.NaN;
        if (trial % 41 === 0) set[(n - 1) * dims] = Number.NaN;
        let want = Infinity;
        for (let p = 0; p < n; p++) {
          let d = 0;
          for (let j = 0; j < dims; j++) d += (z[j]! - set[p * dims + j]!) ** 2;
          if (d < want) want = d;
        }
        assert.equal(nearest(z, set, n, dims), want, `dims ${dims}, ${n} prototypes`);
        trials++;
      }
    assert.equal(trials, 4000);
  });
});

/** The step detector as first written: Math.round of each scaled difference, hashed. */
function referenceStepHits(rows: readonly Float64Array[], width: number, onGrain: readonly boolean[] = []): boolean[] {
  const s = DEFAULT_DETECTOR_SETTINGS;
  // The detector's ring of recent rows, compared in slot order.
  const recent: Float64Array[] = [];
  const grained: boolean[] = [];
  let head = 0;
  const shapes = new Uint16Array(s.stepTable);
  const hits: boolean[] = [];
  for (const [i, x] of rows.entries()) {
    let hit = false;
    for (const [k, y] of recent.entries()) {
      // Two rows on the data's grain differ by its grain, not by a step.
      if (onGrain[i] && grained[k]) continue;
      let h = 0x2f1b3c4d;
      let changed = 0;
      for (let j = 0; j < width; j++) {
        const q = Math.round(Math.abs(x[j]! - y[j]!) * 1048576);
        if (q !== 0) changed++;
        h = mix(h, q | 0);
      }
      if (changed < 2) continue;
      const f = fmix(h);
      const slot = f & (s.stepTable - 1);
      const tag = (f >>> 16) | 1;
      if (shapes[slot] === tag) hit = true;
      shapes[slot] = tag;
    }
    hits.push(hit);
    recent[head] = x;
    grained[head] = onGrain[i] ?? false;
    head = (head + 1) % s.stepRecent;
  }
  return hits;
}

/** Whether each row added a hit, fed to the step detector (with its on-grain flag) one by one. */
function stepHits(rows: readonly Float64Array[], width: number, onGrain: readonly boolean[] = []): boolean[] {
  const s = DEFAULT_DETECTOR_SETTINGS;
  const d = new StepDetector({
    width,
    recent: s.stepRecent,
    table: s.stepTable,
    window: 100_000,
    benignRate: s.stepRate,
    alpha: s.alpha,
  });
  const st = d.createState();
  return rows.map((r, i) => {
    const before = st.hits.count;
    d.observe(st, r, onGrain[i] ?? false);
    return st.hits.count > before;
  });
}

describe('step shapes without Math.round', () => {
  it('finds the same repeated shapes as rounding each difference, on steps, grids and noise', () => {
    const width = 6;
    const rng = new Xoshiro128(14);
    const rows: Float64Array[] = [];
    const seed = Float64Array.from({ length: width }, () => rng.normal());
    for (let i = 0; i < 3000; i++) {
      const kind = i % 3;
      // Signed steps of a fixed size around a seed (T-RND), a half-step grid (differences land
      // on x.5 · 2⁻²⁰ exactly, where rounding ties), and plain noise.
      const row =
        kind === 0
          ? Float64Array.from(seed, (v) => v + 0.05 * (rng.next() < 0.5 ? -1 : 1))
          : kind === 1
            ? Float64Array.from({ length: width }, () => Math.floor(rng.next() * 8) * 2 ** -21)
            : Float64Array.from({ length: width }, () => rng.normal());
      rows.push(row);
    }
    const want = referenceStepHits(rows, width);
    assert.deepEqual(stepHits(rows, width), want);
    assert.ok(want.filter(Boolean).length > 100, 'the stream has repeated shapes to find');
  });

  it('skips the pairs of two rows on the grain as pairing one row at a time did', () => {
    const width = 5;
    const rng = new Xoshiro128(16);
    const seed = Float64Array.from({ length: width }, () => rng.normal());
    const rows = Array.from({ length: 3000 }, () =>
      Float64Array.from(seed, (v) => v + 0.05 * (rng.next() < 0.5 ? -1 : 1)),
    );
    const onGrain = rows.map(() => rng.next() < 0.4);
    const want = referenceStepHits(rows, width, onGrain);
    assert.deepEqual(stepHits(rows, width, onGrain), want);
    assert.ok(want.filter(Boolean).length > 100, 'the stream has repeated shapes to find');
  });
});

/** The fingerprints written plainly: each band's signature computed alone, the lags in matched queries kept in full. */
function referenceFingerprintHits(o: FingerprintDetectorOptions, rows: readonly Float64Array[]): boolean[] {
  const rng = new Xoshiro128(o.seed ^ 0x5bd1e995);
  const offsets = Float64Array.from({ length: o.bands * o.dims }, () => rng.next());
  const inv = 1 / effectiveQuantum(o);
  const slots = new Uint32Array(o.tableSize);
  // Per query, the queries that had matched any cell up to and including it.
  const matchedAfter: number[] = [];
  let matchedSoFar = 0;
  return rows.map((z, i) => {
    const now = (i + 1) & 0xfff;
    const sigs = Array.from({ length: o.bands }, (_, b) => {
      let h = 0x9747b28c ^ b;
      for (let j = 0; j < o.dims; j++) h = mix(h, Math.floor(z[j]! * inv + offsets[b * o.dims + j]!));
      return fmix(h) | 1;
    });
    const found = sigs.map((sig, b) => {
      const at = (sig ^ Math.imul(b, 0x9e3779b1)) & (o.tableSize - 1);
      const v = slots[at]!;
      const lag = (now - v) & 0xfff;
      if (v === 0 || v >>> 13 !== sig >>> 13 || lag > o.horizon) return { at, matched: false, mark: 0 };
      const since = lag < 128 ? matchedSoFar - matchedAfter[i - lag]! : lag;
      return { at, matched: true, mark: since > REVISIT_LAG ? 0x1000 : v & 0x1000 };
    });
    found.forEach(({ at, mark }, b) => (slots[at] = (((sigs[b]! >>> 13) << 13) | mark | now) >>> 0));
    if (found.some((f) => f.matched)) matchedSoFar++;
    matchedAfter[i] = matchedSoFar;
    const marked = found.filter((f) => f.mark !== 0).length;
    return found.filter((f) => f.matched && f.mark === 0).length > marked;
  });
}

describe('fingerprints, two bands at a time', () => {
  for (const bands of [8, 5])
    it(`finds the same near-duplicates as signing one band at a time (${bands} bands)`, () => {
      const s = DEFAULT_DETECTOR_SETTINGS;
      const o: FingerprintDetectorOptions = {
        dims: 6,
        bands,
        quantum: s.quantum,
        tableSize: s.tableSize,
        horizon: s.horizon,
        window: 100_000,
        benignRate: s.nearDuplicateRate,
        alpha: s.alpha,
        seed: 17,
      };
      const rng = new Xoshiro128(18);
      const rows: Float64Array[] = [];
      for (let i = 0; i < 3000; i++) {
        // Fresh rows, and near-duplicates of a recent one (a binary search closing in).
        const from =
          rows.length > 0 && i % 2
            ? rows[rows.length - 1 - Math.floor(rng.next() * Math.min(rows.length, 50))]!
            : undefined;
        rows.push(
          Float64Array.from({ length: o.dims }, (_, j) => (from ? from[j]! + 0.01 * rng.normal() : rng.normal())),
        );
      }
      const d = new FingerprintDetector(o);
      const st = d.createState();
      const got = rows.map((z) => {
        const before = st.hits.count;
        d.observe(st, z);
        return st.hits.count > before;
      });
      const want = referenceFingerprintHits(o, rows);
      assert.deepEqual(got, want);
      assert.ok(want.filter(Boolean).length > 100, 'the stream has near-duplicates to find');
    });
});
