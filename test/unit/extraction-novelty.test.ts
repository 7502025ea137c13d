// The novelty detector judges a row by its distance to a reference sample of the model's own
// benign rows: rows off the population's manifold (a curve here) are far, rows on it are near.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildConfig } from '../../src/config/load-config.js';
import { ModelGuard } from '../../src/extraction/model-guard.js';
import {
  deferredSlices,
  inlineSlices,
  NOVELTY,
  NoveltyDetector,
  type NoveltyOptions,
} from '../../src/extraction/novelty-detector.js';
import { Xoshiro128 } from '../../src/extraction/prng.js';
import { enforcingGuard } from '../helpers/model-guard.js';

const OPTIONS: NoveltyOptions = {
  dims: 3,
  reference: 512,
  minReference: 128,
  neighbours: 2,
  quantile: 0.99,
  window: 128,
  benignRate: 0.05,
  alpha: 1e-8,
  offerFrom: 1,
  offerSpread: 1,
  offerCap: 1,
  seed: 1,
  slices: inlineSlices,
};

/** A point of a helix: the season on the unit circle, the year along the axis (a monthly series' shape). */
function onCurve(rng: Xoshiro128): Float64Array {
  const year = rng.next() * 4 - 2;
  const month = Math.floor(rng.next() * 12);
  const a = (2 * Math.PI * month) / 12 + 0.02 * rng.normal();
  return Float64Array.of(Math.cos(a), Math.sin(a), year);
}

/** Fills the reference with one row from each of `accounts` accounts of a curve-shaped population. */
function populated(accounts: number): NoveltyDetector {
  const det = new NoveltyDetector(OPTIONS);
  const rng = new Xoshiro128(7);
  for (let a = 0; a < accounts; a++) det.offer(det.createState(), onCurve(rng), 1, true);
  return det;
}

function farShare(det: NoveltyDetector, rows: Iterable<Float64Array>): number {
  let far = 0;
  let n = 0;
  for (const r of rows) {
    n++;
    if (det.isFar(r)) far++;
  }
  return far / n;
}

function* take(n: number, make: () => Float64Array) {
  for (let i = 0; i < n; i++) yield make();
}

describe('novelty detector', () => {
  it('finds rows on the population’s curve near and rows off it far, though every feature stays in range', () => {
    const det = populated(512);
    assert.ok(det.ready);
    const rng = new Xoshiro128(99);
    const on = farShare(
      det,
      take(2000, () => onCurve(rng)),
    );
    // Same year and feature ranges, but the season's (cos, sin) pushed off the unit circle.
    const off = farShare(
      det,
      take(2000, () => {
        const r = onCurve(rng);
        const s = rng.next() < 0.5 ? 0.6 : 1.4;
        return Float64Array.of(r[0]! * s, r[1]! * s, r[2]!);
      }),
    );
    assert.ok(on <= 0.03, `${(100 * on).toFixed(1)}% of on-curve rows far`);
    assert.ok(off >= 0.9, `${(100 * off).toFixed(1)}% of off-curve rows far`);
  });

  it('judges no row before a quarter of the reference is filled', () => {
    const det = populated(OPTIONS.minReference - 1);
    assert.equal(det.ready, false);
    assert.equal(det.observe(det.createState(), Float64Array.of(9, 9, 9)), 0);
  });

  it('does not count a far row that continues the account’s path in its window, yet still says it is far', () => {
    const det = populated(512);
    const st = det.createState();
    const off = Float64Array.of(9, 9, 9);
    assert.equal(det.observe(st, off, true), 0);
    assert.equal(st.lastFar, true);
    assert.equal(st.far.count, 0);
    det.observe(st, off, false);
    assert.equal(st.far.count, 1);
  });

  it('takes at most its cap of rows from one account, and none from a flagged one', () => {
    const det = new NoveltyDetector({ ...OPTIONS, offerCap: 3 });
    const st = det.createState();
    const rng = new Xoshiro128(3);
    for (let n = 1; n <= 1000; n++) det.offer(st, onCurve(rng), n, true);
    assert.equal(det.size, 3);
    const flagged = det.createState();
    for (let n = 1; n <= 1000; n++) det.offer(flagged, onCurve(rng), n, false);
    assert.equal(det.size, 3);
  });

  it('is not made near at a spot by one account lending one row there', () => {
    const det = populated(400);
    const probe = Float64Array.of(0, 0, 0);
    det.offer(det.createState(), probe, 1, true);
    det.rebuild();
    assert.equal(det.isFar(probe), true);
  });

  it('loses at most a few points of a uniform probe’s far share when one account lent its whole cap inside it', () => {
    const build = (poison: boolean) => {
      const det = new NoveltyDetector({ ...OPTIONS, offerCap: 4 });
      const rng = new Xoshiro128(5);
      for (let a = 0; a < 400; a++) det.offer(det.createState(), onCurve(rng), 1, true);
      const box = new Xoshiro128(11);
      const inBox = () => Float64Array.of(3 * box.next() - 1.5, 3 * box.next() - 1.5, 4 * box.next() - 2);
      if (poison) {
        const mallory = det.createState();
        for (let n = 1; n <= 4; n++) det.offer(mallory, inBox(), n, true);
        det.rebuild();
      }
      return farShare(det, take(4000, inBox));
    };
    const clean = build(false);
    const poisoned = build(true);
    assert.ok(clean >= 0.3, `${(100 * clean).toFixed(1)}% of the box far`);
    assert.ok(clean - poisoned <= 0.02, `${(100 * clean).toFixed(1)}% → ${(100 * poisoned).toFixed(1)}%`);
  });
});

/** The radius by definition: every row's distance to its `neighbours`-th nearest other row, all pairs, then the quantile. */
function bruteForceRadius(rows: readonly Float64Array[], neighbours: number, quantile: number): number {
  const kth = rows.map((a, i) => {
    const d = rows.flatMap((b, m) => (m === i ? [] : [a.reduce((s, v, j) => s + (v - b[j]!) ** 2, 0)]));
    return d.sort((x, y) => x - y)[neighbours - 1]!;
  });
  kth.sort((x, y) => x - y);
  return Math.sqrt(kth[Math.min(rows.length - 1, Math.ceil(quantile * rows.length) - 1)]!);
}

describe('novelty reference radius', () => {
  const cases = [
    { dims: 3, neighbours: 2, quantile: 0.99, rows: 512, duplicates: false },
    { dims: 16, neighbours: 2, quantile: 0.99, rows: 1024, duplicates: false },
    { dims: 4, neighbours: 3, quantile: 0.9, rows: 300, duplicates: false },
    { dims: 4, neighbours: 2, quantile: 0.99, rows: 400, duplicates: true },
    { dims: 2, neighbours: 2, quantile: 1, rows: 200, duplicates: false },
  ];
  for (const c of cases)
    it(`is exactly the ${c.quantile} quantile of the rows’ distances to their k-th nearest other row (k = ${c.neighbours}, ${c.dims} features, ${c.rows} rows${c.duplicates ? ', repeated rows' : ''})`, () => {
      const rng = new Xoshiro128(c.dims * 1000 + c.rows);
      const det = new NoveltyDetector({
        ...OPTIONS,
        dims: c.dims,
        reference: c.rows,
        minReference: 16,
        neighbours: c.neighbours,
        quantile: c.quantile,
      });
      const rows: Float64Array[] = [];
      for (let i = 0; i < c.rows; i++) {
        // A heavy-tailed cloud (a normal over a uniform scale), some rows sent twice when asked.
        const s = 0.2 + 3 * rng.next() ** 4;
        const row =
          c.duplicates && i % 5 === 4 ? rows[i - 1]! : Float64Array.from({ length: c.dims }, () => s * rng.normal());
        rows.push(row);
        det.offer(det.createState(), row, 1, true);
      }
      det.rebuild();
      assert.equal(det.radius, bruteForceRadius(rows, c.neighbours, c.quantile));
    });
});

describe('novelty reference rebuilt between requests', () => {
  const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
  /** Event-loop turns until the rebuild under way has run its last slice. */
  async function settle(det: NoveltyDetector): Promise<number> {
    let turns = 0;
    while (det.rebuilding) {
      await turn();
      turns++;
    }
    return turns;
  }
  /** Offers rows from new accounts (rebuilds settled between offers) until the reference is in force. */
  async function readyDetector(o: NoveltyOptions, row: () => Float64Array) {
    const det = new NoveltyDetector({ ...o, slices: deferredSlices });
    const offer = () => det.offer(det.createState(), row(), 1, true);
    while (!det.ready) {
      offer();
      await settle(det);
    }
    /** Offers until an offer starts a rebuild (within an eighth of the reference and some). */
    const untilRebuilding = () => {
      for (let i = 0; i < o.reference && !det.rebuilding; i++) offer();
      assert.ok(det.rebuilding, 'an offer started a rebuild that is still to run');
    };
    return { det, untilRebuilding };
  }

  it('starts no rebuild before the reference holds enough rows to judge, and one at the row that makes it enough', () => {
    const det = new NoveltyDetector({ ...OPTIONS, slices: deferredSlices });
    const rng = new Xoshiro128(7);
    for (let a = 1; a < OPTIONS.minReference; a++) {
      det.offer(det.createState(), onCurve(rng), 1, true);
      assert.equal(det.rebuilding, false, `a rebuild started at ${a} rows`);
    }
    det.offer(det.createState(), onCurve(rng), 1, true);
    assert.equal(det.rebuilding, true);
  });

  it('keeps judging with the reference in force when an offer starts a rebuild, and switches once it ends', async () => {
    const rng = new Xoshiro128(7);
    const { det, untilRebuilding } = await readyDetector(OPTIONS, () => onCurve(rng));
    const before = det.radius;
    const probes = Array.from({ length: 200 }, () => Float64Array.of(rng.normal(), rng.normal(), rng.normal()));
    const verdicts = probes.map((p) => det.isFar(p));
    untilRebuilding();
    // The offering call returned with the rebuild still to run: same radius, same verdicts.
    assert.equal(det.radius, before);
    assert.deepEqual(
      probes.map((p) => det.isFar(p)),
      verdicts,
    );
    assert.ok((await settle(det)) >= 1);
    assert.notEqual(det.radius, before);
  });

  it('ends with the reference an inline rebuild of the same rows gives', async () => {
    const rng = new Xoshiro128(7);
    const offered: Float64Array[] = [];
    const { det, untilRebuilding } = await readyDetector(OPTIONS, () => {
      const r = onCurve(rng);
      offered.push(r);
      return r;
    });
    untilRebuilding();
    await settle(det);
    const inline = new NoveltyDetector(OPTIONS);
    for (const r of offered) inline.offer(inline.createState(), r, 1, true);
    assert.equal(det.radius, inline.radius);
    const probes = new Xoshiro128(21);
    for (let i = 0; i < 500; i++) {
      const p = Float64Array.of(3 * probes.next() - 1.5, 3 * probes.next() - 1.5, 4 * probes.next() - 2);
      assert.equal(det.isFar(p), inline.isFar(p));
    }
  });

  it('splits a rebuild of 1,024 rows of 16 features into several slices', async () => {
    const rng = new Xoshiro128(9);
    const o = { ...OPTIONS, dims: 16, reference: 1024, minReference: 1024 };
    const { det, untilRebuilding } = await readyDetector(o, () =>
      Float64Array.from({ length: 16 }, () => rng.normal()),
    );
    untilRebuilding();
    const turns = await settle(det);
    assert.ok(turns >= 8, `${turns} slices`);
  });
});

/** A guard on a 3-feature model whose benign population lies on the helix. */
function curveGuard(): ModelGuard {
  return enforcingGuard({
    features: { centre: [0, 0, 0], scale: [1, 1, 1] },
    calibration: { minAccounts: 50, minQueries: 100 },
  });
}

function feedRows(g: ModelGuard, user: string, rows: Iterable<Float64Array>, t0: number): void {
  const acc = g.account(user, t0);
  let t = t0;
  for (const r of rows) {
    g.guard.observe(acc, r, 0, Number.NaN, (t += 1000));
    g.calibration.maybeRefresh(t);
  }
}

describe('novelty calibration', () => {
  it('learns its alarm count from the population and is not moved by one account sending off-curve rows', () => {
    const g = curveGuard();
    for (let u = 0; u < 300; u++) {
      const rng = new Xoshiro128(u + 1);
      feedRows(
        g,
        `u${u}`,
        take(200, () => onCurve(rng)),
        u,
      );
    }
    g.calibration.refresh(1);
    assert.equal(g.calibration.state, 'calibrated');
    const before = g.calibration.effective(NOVELTY);
    assert.ok(Number.isFinite(g.calibration.thresholds[NOVELTY]!), 'a calibrated novelty threshold');
    const rng = new Xoshiro128(77);
    feedRows(
      g,
      'mallory',
      take(3000, () => Float64Array.of(rng.next() * 4 - 2, rng.next() * 4 - 2, rng.next() * 4 - 2)),
      400,
    );
    g.calibration.refresh(2);
    assert.equal(g.calibration.effective(NOVELTY), before);
    assert.ok(g.accounts.get('mallory')!.stream.scores[NOVELTY]! >= 1, 'mallory’s own rows alarm');
  });
});

/** A monthly series' rows: decimal year, the month's sine and cosine, and a value that follows the year and season. */
function monthlySeries(): Float64Array[] {
  const rng = new Xoshiro128(2026);
  const rows: Float64Array[] = [];
  for (let m = 0; m < 720; m++) {
    const year = m / 12;
    const a = (2 * Math.PI * (m % 12)) / 12;
    rows.push(Float64Array.of(year, Math.sin(a), Math.cos(a), 1.5 * year + 3 * Math.sin(a) + 0.3 * rng.normal()));
  }
  return rows;
}

function describeFeatures(rows: readonly Float64Array[]): { centre: number[]; scale: number[] } {
  const d = rows[0]!.length;
  const centre = Array.from({ length: d }, (_, j) => rows.reduce((s, r) => s + r[j]!, 0) / rows.length);
  const scale = centre.map((c, j) => Math.sqrt(rows.reduce((s, r) => s + (r[j]! - c) ** 2, 0) / rows.length));
  return { centre, scale };
}

describe('model guard on a low-dimensional model', () => {
  it('flags, by novelty, a T-RND attacker with random step sizes that sends 50% real rows, within 1,000 queries, and none of 250 benign users', () => {
    const data = monthlySeries();
    const features = describeFeatures(data);
    const config = buildConfig({
      auth: { enabled: false },
      models: { co2: { extraction: { mode: 'enforce', features } } },
    });
    const g = new ModelGuard('co2', 'enforce', config.models['co2']!);
    const rng = new Xoshiro128(31);
    const real = () => data[Math.floor(rng.next() * data.length)]!;
    const noisy = (x: Float64Array, s: number) =>
      Float64Array.from(x, (v, j) => v + s * features.scale[j]! * rng.normal());
    let t = 0;
    const users = 250;
    for (let u = 0; u < users; u++) {
      const acc = g.account(`u${u}`, t);
      // Browsing exact rows, noisy measurements, or a replay of the series in time order.
      const kind = u % 3;
      const from = Math.floor(rng.next() * (data.length - 200));
      for (let i = 0; i < 200; i++) {
        const row = kind === 0 ? real() : kind === 1 ? noisy(real(), 0.05) : data[from + i]!;
        g.guard.observe(acc, row, 0, Number.NaN, (t += 100));
        g.calibration.maybeRefresh(t);
      }
    }
    g.calibration.refresh(t);
    assert.equal(g.effectiveMode, 'enforce');
    const flaggedBenign = [...g.accounts.values()].filter((a) => a.firstFlaggedAt > 0).length;
    assert.equal(flaggedBenign, 0);
    // PRADA's T-RND: ten real seeds, then rounds in which every row so far gets a copy moved by
    // 0.05–0.15 σ per feature in random directions (random sizes: no repeated step shape for the
    // `steps` detector); every other query is an exact real row.
    const mallory = g.account('mallory', t);
    const set: Float64Array[] = [];
    const attack = function* () {
      for (let i = 0; i < 10; i++) yield set[set.push(real()) - 1]!;
      for (;;)
        for (let i = 0, n = set.length; i < n; i++)
          yield set[
            set.push(
              Float64Array.from(
                set[i]!,
                (v, j) => v + (0.05 + 0.1 * rng.next()) * features.scale[j]! * (rng.next() < 0.5 ? -1 : 1),
              ),
            ) - 1
          ]!;
    };
    const synthetic = attack();
    let sent = 0;
    // Novelty's own alarm is what is specified here: the seeds detector (the attacker sends its
    // seeds exactly) usually flags the account first.
    while (sent < 1000 && !(mallory.stream.scores[NOVELTY]! >= 1)) {
      const row = rng.next() < 0.5 ? real() : synthetic.next().value;
      g.guard.observe(mallory, row, 0, Number.NaN, (t += 100));
      g.calibration.maybeRefresh(t);
      sent++;
    }
    assert.ok(mallory.stream.scores[NOVELTY]! >= 1, `no novelty alarm after ${sent} queries`);
    assert.ok(mallory.firstFlaggedAt > 0, 'the account is flagged');
  });
});
