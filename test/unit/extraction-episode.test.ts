// A benign user replaying a real series in time order through its rarest stretch leaves the
// envelope row after row, but each reading continues the previous one in its slow coordinates;
// exits along the account's own path are not counted, while off-data probes through the same region
// still are.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildConfig } from '../../src/config/load-config.js';
import { LEVEL_FLAG } from '../../src/extraction/action-ladder.js';
import type { AccountState } from '../../src/extraction/account-state.js';
import { DEFAULT_DETECTOR_SETTINGS } from '../../src/extraction/detector-settings.js';
import { GeometryDetector } from '../../src/extraction/geometry-detector.js';
import { ModelGuard } from '../../src/extraction/model-guard.js';
import { Xoshiro128 } from '../../src/extraction/prng.js';
import { feed, type Query } from '../helpers/extraction-population.js';
import { SENSOR_EPISODE, SENSOR_FEATURES } from '../helpers/sensor-motes-episode.js';

const WIDTH = 4;

function geometry(): GeometryDetector {
  const s = DEFAULT_DETECTOR_SETTINGS;
  return new GeometryDetector({
    width: WIDTH,
    dims: WIDTH,
    window: s.window,
    alpha: s.alpha,
    envelope: s.envelope,
    envelopeRate: 0.05,
    sweepRate: s.sweepRate,
    collinearCosine: s.collinearCosine,
    collinearRate: s.collinearRate,
    lowMargin: s.lowMargin,
    marginRate: s.marginRate,
  });
}

/** A geometry detector whose model's traffic reached ±`reach` σ in every feature (17 rows lent at each edge). */
function lentTo(reach: number): GeometryDetector {
  const d = geometry();
  for (let i = 0; i < 17; i++) {
    d.support.lend(new Array<number>(WIDTH).fill(-reach));
    d.support.lend(new Array<number>(WIDTH).fill(reach));
  }
  return d;
}

/** Whether `next` continues the path of an account whose only row so far is `first` (rows on the benign scale). */
function continuesAfter(first: number[], next: number[], d = lentTo(50)): boolean {
  const st = d.createState();
  const out = new Float64Array(4);
  const a = Float64Array.from(first);
  d.observe(st, a, a, Number.NaN, out, 0, 0, undefined, undefined);
  return d.continues(st, Float64Array.from(next));
}

describe('an exit that continues the account’s own path', () => {
  it('is one that moves half of the features by at most half a standard deviation, the others staying within the traffic', () => {
    assert.equal(continuesAfter([4, 1, 30, -20], [4.3, 0.8, -12, 41]), true);
  });

  it('is not a row within the envelope, however small its step', () => {
    assert.equal(continuesAfter([1, 1, 2, -2], [1.2, 0.9, 2.8, -1.1]), false);
  });

  it('is not the account’s first row', () => {
    const d = lentTo(50);
    assert.equal(d.continues(d.createState(), Float64Array.from([4, 1, 30, -20])), false);
  });

  it('is not a sweep’s step, which moves one feature only', () => {
    assert.equal(continuesAfter([4, 1, 30, -20], [4, 1, 30, 35]), false);
  });

  it('is not a jump of more than half a standard deviation in most features', () => {
    assert.equal(continuesAfter([4, 1, 30, -20], [4.3, 2, -12, 41]), false);
  });

  it('is not one whose jumping features land beyond the values the model’s traffic reaches', () => {
    assert.equal(continuesAfter([4, 1, 30, -20], [4.3, 0.8, -12, 41], lentTo(40)), false);
  });

  it('is not one whose still features alone lie beyond the traffic: only the jumps must stay within it', () => {
    assert.equal(continuesAfter([60, 1, 30, -20], [60.3, 0.8, -12, 41], lentTo(45)), true);
  });

  it('is none while the model’s traffic support is unknown (fewer than 17 rows lent at an edge)', () => {
    const d = geometry();
    for (let i = 0; i < 16; i++) d.support.lend([-50, -50, -50, -50].map((v) => v + 6 * i));
    assert.equal(continuesAfter([4, 1, 30, -20], [4.3, 0.8, -12, 41], d), false);
  });
});

/** The sensor model's class rule: humid, hot or neither. */
const classOf = (x: readonly number[]): number => (x[0]! > 60 ? 0 : x[1]! > 35 ? 1 : 2);

const answered = (rows: Iterable<readonly number[]>, rng: Xoshiro128): Query[] =>
  Array.from(rows, (row) => ({ row, cls: classOf(row), margin: rng.next() }));

/** Ordinary readings of the motes, at the data's 0.01 resolution; changes with a heavy tail. */
function* readings(seed: number, n: number): Generator<readonly number[]> {
  const rng = new Xoshiro128(seed);
  const { centre, scale } = SENSOR_FEATURES;
  const r = (v: number) => Math.round(v * 100) / 100;
  for (let i = 0; i < n; i++) {
    const tail = () => (rng.next() < 0.03 ? 6 : 1);
    yield [
      r(centre[0]! + scale[0]! * rng.normal()),
      r(centre[1]! + scale[1]! * rng.normal()),
      r(scale[2]! * rng.normal() * tail()),
      r(scale[3]! * rng.normal() * tail()),
    ];
  }
}

function sensorGuard(): ModelGuard {
  const config = buildConfig({
    auth: { enabled: false },
    models: {
      motes: {
        labels: ['humid', 'hot', 'other'],
        extraction: { mode: 'enforce', features: SENSOR_FEATURES, calibration: { minAccounts: 50, minQueries: 100 } },
      },
    },
  });
  return new ModelGuard('motes', 'enforce', config.models['motes']!);
}

const scoresOf = (acc: AccountState): string => Array.from(acc.stream.scores, (v) => v.toFixed(2)).join(' ');

/**
 * A model whose 300 accounts read ordinary readings and six (2%, as the bench's `episode` users)
 * replay the mote's hottest stretch: the stretch is traffic of the model, calibrated.
 */
function populated(): ModelGuard {
  const g = sensorGuard();
  for (let u = 0; u < 300; u++) {
    feed(g, `u${u}`, answered(readings(u + 1, 300), new Xoshiro128(u)));
    if (u % 50 === 0) feed(g, `replayer${u}`, answered(SENSOR_EPISODE, new Xoshiro128(u)));
  }
  g.calibration.refresh(1);
  return g;
}

/** Per feature, the episode's lowest and highest value. */
function episodeBox(): [number[], number[]] {
  const lo = SENSOR_EPISODE[0]!.map((_, j) => Math.min(...SENSOR_EPISODE.map((x) => x[j]!)));
  const hi = SENSOR_EPISODE[0]!.map((_, j) => Math.max(...SENSOR_EPISODE.map((x) => x[j]!)));
  return [lo, hi];
}

/** A boundary walk (the bench's): a pair on either side of the class boundary moved together by 0.2 σ, then bisected. */
function* boundaryWalk(seed: number, n: number): Generator<readonly number[]> {
  const rng = new Xoshiro128(seed);
  const s = SENSOR_FEATURES.scale;
  const mid = (a: readonly number[], b: readonly number[]) => a.map((v, j) => (v + b[j]!) / 2);
  const start = (): [readonly number[], readonly number[]] => {
    const a = SENSOR_EPISODE[Math.floor(rng.next() * SENSOR_EPISODE.length)]!;
    const others = SENSOR_EPISODE.filter((x) => classOf(x) !== classOf(a));
    return [a, others[Math.floor(rng.next() * others.length)]!];
  };
  let [a, c] = start();
  for (let sent = 0; sent < n;) {
    const u = s.map((sj) => 0.2 * sj * rng.normal());
    const a2 = a.map((v, j) => v + u[j]!);
    const c2 = c.map((v, j) => v + u[j]!);
    yield a2;
    yield c2;
    sent += 2;
    if (classOf(a2) === classOf(c2)) {
      [a, c] = start();
      continue;
    }
    [a, c] = [a2, c2];
    for (let i = 0; i < 5; i++, sent++) {
      const m = mid(a, c);
      yield m;
      if (classOf(m) === classOf(a)) a = m;
      else c = m;
    }
  }
}

describe('a real series replayed through its rarest stretch (sensor motes)', () => {
  const g = populated();

  it('does not flag a user replaying a mote’s hottest stretch in time order, twice', () => {
    const acc = feed(g, 'episode', answered([...SENSOR_EPISODE, ...SENSOR_EPISODE], new Xoshiro128(7)));
    assert.ok(acc.level < LEVEL_FLAG, `level ${acc.level}, scores ${scoresOf(acc)}`);
  });

  it('counts the exits of the same readings sent in random order: they no longer continue a path', () => {
    // Real readings of the hot and humid classes, whose own rows the novelty reference finds far
    // at about 20% (the pooled rate is about 1%): judged against those classes' rates,
    // a shuffled replay of them sits at the calibrated threshold rather than beyond it, so what is
    // specified here is that their exits count, three times as many as the ordered replay's.
    const ordered = feed(g, 'ordered', answered([...SENSOR_EPISODE, ...SENSOR_EPISODE], new Xoshiro128(7))).stream;
    const rng = new Xoshiro128(8);
    const shuffled = [...SENSOR_EPISODE].sort(() => rng.next() - 0.5);
    const acc = feed(g, 'shuffled', answered([...shuffled, ...shuffled], rng)).stream;
    const counts = `exits ${acc.geometry!.envelopeHits} vs ${ordered.geometry!.envelopeHits}, far ${acc.novelty!.judged} vs ${ordered.novelty!.judged}`;
    assert.ok(acc.geometry!.envelopeHits >= 3 * ordered.geometry!.envelopeHits, counts);
    assert.ok(acc.novelty!.judged >= 3 * ordered.novelty!.judged, counts);
  });

  it('still flags uniform rows over the same region of the data', () => {
    const [lo, hi] = episodeBox();
    const rng = new Xoshiro128(9);
    const rows = Array.from({ length: 2 * SENSOR_EPISODE.length }, () =>
      lo.map((l, j) => l + rng.next() * (hi[j]! - l)),
    );
    const acc = feed(g, 'uniform', answered(rows, rng));
    assert.ok(acc.level >= LEVEL_FLAG, `level ${acc.level}, scores ${scoresOf(acc)}`);
  });

  it('flags a slice walk: half of the features walk by small steps, the others jump uniformly over ±30 σ, beyond the traffic', () => {
    const rng = new Xoshiro128(11);
    const { centre, scale } = SENSOR_FEATURES;
    let current = [...SENSOR_EPISODE[0]!];
    const rows: number[][] = [];
    for (let i = 0; i < 2 * SENSOR_EPISODE.length; i++) {
      const still = Math.floor(i / 50) % 2;
      current = current.map((v, j) =>
        j % 2 === still ? v + 0.2 * scale[j]! * rng.normal() : centre[j]! + scale[j]! * 30 * (2 * rng.next() - 1),
      );
      rows.push(current);
    }
    const acc = feed(g, 'slicer', answered(rows, rng));
    assert.ok(acc.level >= LEVEL_FLAG, `level ${acc.level}, scores ${scoresOf(acc)}`);
  });

  it('still flags a boundary walk through the same region, though its steps are small', () => {
    const acc = feed(g, 'walker', answered(boundaryWalk(10, 2 * SENSOR_EPISODE.length), new Xoshiro128(10)));
    assert.ok(acc.level >= LEVEL_FLAG, `level ${acc.level}, scores ${scoresOf(acc)}`);
  });
});
