// A benign user who keeps coming back to a few rows of interest (an analyst of a rare
// class whose model predicts it for a dozen rows, re-reading them with measurement noise) sends a
// near-duplicate of an earlier row nearly every time. The fingerprints tell such revisits from
// probing: a probe takes each query from the last few, a revisit returns to a cell it left.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LEVEL_FLAG } from '../../src/extraction/action-ladder.js';
import { DEFAULT_DETECTOR_SETTINGS } from '../../src/extraction/detector-settings.js';
import { FingerprintDetector, REVISIT_LAG, type FingerprintState } from '../../src/extraction/fingerprint-detector.js';
import { Xoshiro128 } from '../../src/extraction/prng.js';
import { enforcingGuard } from '../helpers/model-guard.js';

const DIMS = 8;
const s = DEFAULT_DETECTOR_SETTINGS;

const detector = (tableSize = s.tableSize) =>
  new FingerprintDetector({
    dims: DIMS,
    bands: s.bands,
    quantum: s.quantum,
    tableSize,
    horizon: s.horizon,
    window: s.window,
    benignRate: s.nearDuplicateRate,
    alpha: s.alpha,
    seed: 7,
  });

const gaussian = (rng: Xoshiro128, spread = 1) => Float64Array.from({ length: DIMS }, () => spread * rng.normal());
const plus = (x: Float64Array, rng: Xoshiro128, sigma: number) => x.map((v) => v + sigma * rng.normal());

/** `n` noisy copies (σ' drawn once in 0.02–0.07 feature σ) of rows picked at random from a pool of `k`. */
function revisits(k: number, n: number, seed: number): Float64Array[] {
  const rng = new Xoshiro128(seed);
  // A tight pool, as a rare class's rows are: nearest neighbours about 0.4 σ apart (RMS per feature).
  const centre = gaussian(rng);
  const pool = Array.from({ length: k }, () => plus(centre, rng, 0.45));
  const sigma = 0.02 + 0.05 * rng.next();
  return Array.from({ length: n }, () => plus(pool[Math.floor(rng.next() * k)]!, rng, sigma));
}

/** Feeds the rows; returns the first query (1-based) whose score reached the alarm, or 0. */
function firstAlarm(d: FingerprintDetector, st: FingerprintState, rows: Iterable<Float64Array>): number {
  let q = 0;
  for (const z of rows) {
    q++;
    if (d.observe(st, z) >= 1) return q;
  }
  return 0;
}

/** Bisections between random pairs of rows down to 10⁻³ σ, as Tramèr's line search and Lowd–Meek do. */
function* bisections(rng: Xoshiro128): Generator<Float64Array> {
  for (;;) {
    let a = gaussian(rng);
    let b = gaussian(rng);
    for (let length = 4; length > 1e-3; length /= 2) {
      const m = a.map((v, j) => (v + b[j]!) / 2);
      yield m;
      if (rng.next() < 0.5) a = m;
      else b = m;
    }
  }
}

/** A pair walking along a boundary by random steps of 0.2 σ, bisected five times after each step. */
function* boundaryWalk(rng: Xoshiro128): Generator<Float64Array> {
  let a = gaussian(rng);
  let c = a.map((v) => v + 0.05);
  for (;;) {
    const u = gaussian(rng, 0.2);
    a = a.map((v, j) => v + u[j]!);
    c = c.map((v, j) => v + u[j]!);
    yield a;
    yield c;
    for (let i = 0; i < 5; i++) {
      const m = a.map((v, j) => (v + c[j]!) / 2);
      yield m;
      if (rng.next() < 0.5) a = m;
      else c = m;
    }
  }
}

/** `inner` with each query replaced, with probability `share`, by an unrelated row. */
function* diluted(inner: Iterator<Float64Array>, rng: Xoshiro128, share: number): Generator<Float64Array> {
  for (;;) yield rng.next() < share ? gaussian(rng) : (inner.next().value as Float64Array);
}

function* take(n: number, rows: Iterable<Float64Array>): Generator<Float64Array> {
  if (n <= 0) return;
  for (const r of rows) {
    yield r;
    if (--n === 0) return;
  }
}

describe('fingerprints: revisits are not probes', () => {
  it('does not alarm on 500 noisy copies of 15 fixed rows, though nearly every copy is a near-duplicate', () => {
    const d = detector();
    for (let seed = 1; seed <= 10; seed++) {
      const st = d.createState();
      let peak = 0;
      for (const z of revisits(15, 500, seed)) {
        d.observe(st, z);
        peak = Math.max(peak, st.hits.count);
      }
      assert.ok(peak < d.alarmCount, `seed ${seed}: ${peak} hits in a window (alarm at ${d.alarmCount})`);
      assert.ok(st.revisits > 250, `seed ${seed}: only ${st.revisits} of 500 rows were revisits`);
    }
  });

  it('counts a match on the previous query as a hit and a return after more than REVISIT_LAG matched queries as a revisit', () => {
    // A table large enough that the rows between cannot overwrite the place's slots: the rule
    // alone, without the direct-mapped table's forgetting.
    const d = detector(1 << 16);
    const rng = new Xoshiro128(3);
    const st = d.createState();
    const x = gaussian(rng);
    d.observe(st, x);
    d.observe(st, plus(x, rng, 0.001));
    assert.equal(st.hits.count, 1, 'the next query, 0.001 σ away, is a near-duplicate hit');
    // Another place, visited REVISIT_LAG + 2 times: REVISIT_LAG + 1 matched queries.
    const y = gaussian(rng, 3);
    for (let i = 0; i < REVISIT_LAG + 2; i++) d.observe(st, plus(y, rng, 0.001));
    const before = st.hits.count;
    d.observe(st, plus(x, rng, 0.001));
    assert.equal(st.hits.count, before, 'the return to x is no hit');
    assert.equal(st.revisits, 1);
    d.observe(st, plus(x, rng, 0.001));
    assert.equal(st.hits.count, before, 'x is marked: a match on the previous query there is a revisit too');
    assert.equal(st.revisits, 2);
  });

  it('does not take unrelated rows between two probes for a return', () => {
    const d = detector(1 << 16);
    const rng = new Xoshiro128(4);
    const st = d.createState();
    const x = gaussian(rng);
    d.observe(st, x);
    for (let i = 0; i < 10; i++) d.observe(st, gaussian(rng, 3));
    d.observe(st, plus(x, rng, 0.001));
    assert.equal(st.hits.count, 1, 'ten rows that matched nothing between: still a near-duplicate hit');
    assert.equal(st.revisits, 0);
  });

  it('still alarms on bisections within 40 queries', () => {
    const d = detector();
    for (let seed = 1; seed <= 5; seed++) {
      const q = firstAlarm(d, d.createState(), take(2000, bisections(new Xoshiro128(seed))));
      assert.ok(q > 0 && q <= 40, `seed ${seed}: alarm at ${q}`);
    }
  });

  it('still alarms on a boundary walk diluted with half unrelated rows within 200 queries', () => {
    const d = detector();
    for (let seed = 1; seed <= 5; seed++) {
      const rng = new Xoshiro128(seed);
      const q = firstAlarm(d, d.createState(), take(2000, diluted(boundaryWalk(rng), rng, 0.5)));
      assert.ok(q > 0 && q <= 200, `seed ${seed}: alarm at ${q}`);
    }
  });

  it('still alarms on repeated small perturbations of one point within 30 queries', () => {
    const d = detector();
    const rng = new Xoshiro128(9);
    const x = gaussian(rng);
    const q = firstAlarm(
      d,
      d.createState(),
      Array.from({ length: 500 }, () => plus(x, rng, 0.01)),
    );
    assert.ok(q > 0 && q <= 30, `alarm at ${q}`);
  });

  it('does not flag a user re-reading 15 rows with noise for 600 queries through the guard', () => {
    const g = enforcingGuard({
      features: { centre: new Array<number>(DIMS).fill(0), scale: new Array<number>(DIMS).fill(1) },
      calibration: { minAccounts: 0 },
    });
    const acc = g.account('analyst', 0);
    revisits(15, 600, 21).forEach((z, i) => g.guard.observe(acc, z, 0, 0.5, i * 60_000));
    assert.ok(acc.stream.fingerprint!.revisits > 300, `${acc.stream.fingerprint!.revisits} revisits`);
    assert.equal(acc.firstFlaggedAt, 0, `flagged by ${acc.firstAlarmDetector}`);
    assert.ok(g.guard.levelAt(acc, 600 * 60_000) < LEVEL_FLAG);
  });
});
