// The novelty window's far rows are judged against the share of far rows expected for the classes
// the account queried, as envelope exits and low margins are: a user of one class at the edge of
// the data (whose own rows the reference often finds far) is held to that class's rate.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FAR_RATE_MIN_ROWS, NOVELTY_SIGNAL } from '../../src/extraction/class-base-rates.js';
import { LEVEL_FLAG } from '../../src/extraction/action-ladder.js';
import type { ModelGuard } from '../../src/extraction/model-guard.js';
import { NOVELTY } from '../../src/extraction/novelty-detector.js';
import { Xoshiro128 } from '../../src/extraction/prng.js';
import {
  browser,
  browserPopulation,
  D,
  EDGE,
  edgeUser,
  feed,
  modelGuard as guard,
  rowsLent,
  type Query,
  uniformBox,
} from '../helpers/extraction-population.js';

/**
 * A class whose rows are scattered thinly over a wide region beside the others (as the rarest,
 * strongest events of a real data set are): a quarter or more of its own rows lie beyond the
 * novelty reference's radius, which one quantile sets for the whole population.
 */
const SCATTERED = 2;

function scatteredRow(rng: Xoshiro128, cls: number): Query {
  const row = Array.from({ length: D }, () => Math.round(rng.normal() * 0.6 * 100) / 100);
  if (cls === SCATTERED)
    for (let j = 0; j < D; j++) row[j] = Math.round(((j === 0 ? 3 : 0) + 2 * rng.normal()) * 100) / 100;
  else row[1] = Math.round((row[1]! + (cls === 0 ? -0.8 : 0.8)) * 100) / 100;
  return { row, cls, margin: 0.1 + rng.next() * 0.9 };
}

function* scatteredBrowser(seed: number, n: number): Generator<Query> {
  const rng = new Xoshiro128(seed);
  for (let i = 0; i < n; i++) yield scatteredRow(rng, rng.next() < 0.04 ? SCATTERED : rng.next() < 0.5 ? 0 : 1);
}

function* scatteredUser(seed: number, n: number): Generator<Query> {
  const rng = new Xoshiro128(seed);
  for (let i = 0; i < n; i++) yield scatteredRow(rng, SCATTERED);
}

const population = browserPopulation;
const farRowsLent = (g: ModelGuard) => rowsLent(g, NOVELTY_SIGNAL);

describe('novelty judged per class', () => {
  it('lends no row to the far-row rates while the model has no novelty reference in force', () => {
    const g = guard();
    for (let u = 0; u < 40; u++) {
      feed(g, `u${u}`, browser(u + 1, 150));
      if (!g.guard.scorer.novelty!.ready) assert.equal(farRowsLent(g), 0, `account ${u}`);
    }
  });

  it('learns a higher far-row rate for the edge class than the pooled rate', () => {
    const g = guard();
    population(g, 300);
    assert.ok(farRowsLent(g) >= FAR_RATE_MIN_ROWS, `${farRowsLent(g)} rows lent`);
    const rates = g.calibration.classRates;
    assert.equal(rates.ready[NOVELTY_SIGNAL], true);
    const edge = rates.rates[NOVELTY_SIGNAL]![EDGE]!;
    const pooled = rates.pooled[NOVELTY_SIGNAL]!;
    assert.ok(edge > pooled, `edge class ${edge}, pooled ${pooled}`);
  });

  it('judges an edge-class user on fewer far rows than its window counts', () => {
    const g = guard();
    population(g, 300);
    const n = feed(g, 'edge', edgeUser(7, 300)).stream.novelty!;
    assert.ok(n.far.count > 0, 'the edge class has far rows');
    assert.ok(n.judged < n.far.count, `judged ${n.judged} of ${n.far.count} far rows`);
  });

  it('still alarms novelty on uniform rows', () => {
    const g = guard();
    population(g, 300);
    const acc = feed(g, 'mallory', uniformBox(5, 128));
    assert.ok(acc.stream.scores[NOVELTY]! >= 1, `novelty score ${acc.stream.scores[NOVELTY]}`);
  });

  it('prints the far-row rates in the pinned block, and a block carrying them judges per class', () => {
    const g = guard();
    population(g, 300);
    const pinned = g.calibration.snapshot();
    assert.equal(pinned.classRates?.novelty?.length, pinned.classRates?.envelope.length);
    const h = guard({ calibration: { pinned } });
    assert.equal(h.calibration.classRates.ready[NOVELTY_SIGNAL], true);
    population(h, 300);
    const n = feed(h, 'edge', edgeUser(7, 300)).stream.novelty!;
    assert.ok(n.judged < n.far.count, `judged ${n.judged} of ${n.far.count} far rows`);
  });

  it('judges the raw far count under a pinned block printed before novelty was judged per class', () => {
    const g = guard();
    population(g, 300);
    const { novelty: _, ...older } = g.calibration.snapshot().classRates!;
    const h = guard({ calibration: { pinned: { ...g.calibration.snapshot(), classRates: older } } });
    assert.equal(h.calibration.classRates.ready[NOVELTY_SIGNAL], false);
    population(h, 300);
    const n = feed(h, 'edge', edgeUser(7, 300)).stream.novelty!;
    assert.equal(n.judged, n.far.count);
  });

  it('does not flag users of a scattered class by novelty', () => {
    // The regression: on DEVELOP us-births a quarter of one class's own rows lay beyond the
    // reference's radius (0.6–11.5% for the others), and users of that class alone were flagged.
    const g = guard();
    for (let u = 0; u < 300; u++) feed(g, `u${u}`, scatteredBrowser(u + 1, 300));
    g.calibration.refresh(1);
    const rates = g.calibration.classRates;
    const own = rates.rates[NOVELTY_SIGNAL]![SCATTERED]!;
    assert.ok(own > 0.2, `${own} of the scattered class's rows are far`);
    const scores: number[] = [];
    for (let u = 0; u < 5; u++) {
      const acc = feed(g, `one-class${u}`, scatteredUser(3000 + u, 1000));
      scores.push(acc.stream.scores[NOVELTY]!);
      assert.ok(acc.level < LEVEL_FLAG, `one-class${u}: level ${acc.level}, novelty ${scores.join(', ')}`);
    }
    assert.ok(Math.max(...scores) < 1, `novelty scores ${scores.join(', ')}`);
  });
});
