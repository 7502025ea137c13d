// An envelope exit is counted apart when the model's novelty reference finds the row far from its
// own traffic; an account is judged by that count only where the rates it is judged against were
// learned by the same definition, at every moment (reference ready or not, rates pinned or learned).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LEVEL_FLAG } from '../../src/extraction/action-ladder.js';
import { ENVELOPE_FAR_SIGNAL, FAR_RATE_MIN_ROWS } from '../../src/extraction/class-base-rates.js';
import type { ModelGuard } from '../../src/extraction/model-guard.js';
import { Xoshiro128 } from '../../src/extraction/prng.js';
import {
  browser,
  browserPopulation,
  EDGE,
  edgePopulationClass,
  edgePopulationRow as rowOf,
  edgeUser,
  feed,
  modelGuard as guard,
  rowsLent,
  type Query,
  uniformBox,
} from '../helpers/extraction-population.js';

const population = browserPopulation;
const farRowsLent = (g: ModelGuard) => rowsLent(g, ENVELOPE_FAR_SIGNAL);

const scorer = (g: ModelGuard) => g.guard.scorer;

/** T-RND: real rows of the edge class, each feature pushed by up to ±3 σ at random. */
function tRnd(seed: number, n: number): Query[] {
  const rng = new Xoshiro128(seed);
  return Array.from({ length: n }, () => {
    const q = rowOf(rng, EDGE);
    const row = q.row.map((v) => v + (rng.next() < 0.5 ? -3 : 3) * rng.next());
    return { row, cls: edgePopulationClass(row), margin: rng.next() };
  });
}

/** Feeds `probe` to an account of a populated model: it is judged by far exits, most of its exits are far, and the envelope alarms. */
function assertFarExitsAlarm(probe: Query[]): void {
  const g = guard();
  population(g, 300);
  const acc = feed(g, 'mallory', probe);
  const geo = acc.stream.geometry!;
  assert.equal(geo.countedFar, true);
  assert.ok(geo.envelopeHits > 40, `${geo.envelopeHits} exits`);
  assert.ok(geo.farHits >= 0.8 * geo.envelopeHits, `${geo.farHits} far of ${geo.envelopeHits} exits`);
  assert.ok(acc.stream.scores[2]! >= 1, `envelope score ${acc.stream.scores[2]}`);
}

describe('envelope exits told apart by the novelty reference', () => {
  it('lends no row to the far-exit rates while the model has no novelty reference in force', () => {
    const g = guard();
    for (let u = 0; u < 40; u++) {
      feed(g, `u${u}`, browser(u + 1, 150));
      if (!scorer(g).novelty!.ready) assert.equal(farRowsLent(g), 0, `account ${u}`);
    }
  });

  it('learns far-exit rates from the rows judged once the reference is in force', () => {
    const g = guard();
    population(g, 300);
    assert.ok(scorer(g).novelty!.ready);
    assert.ok(farRowsLent(g) >= FAR_RATE_MIN_ROWS, `${farRowsLent(g)} rows lent`);
    assert.equal(g.calibration.classRates.farReady, true);
    const r = g.calibration.classRates.rates;
    // The edge class's own rows lie among the population: few of its exits are far from it.
    assert.ok(
      r[ENVELOPE_FAR_SIGNAL]![EDGE]! < 0.5 * r[0]![EDGE]!,
      `far ${r[ENVELOPE_FAR_SIGNAL]![EDGE]}, 3σ ${r[0]![EDGE]}`,
    );
  });

  it('judges an account by the three-sigma count while any row of its window was judged without a reference', () => {
    const g = guard();
    population(g, 300);
    const pinned = g.calibration.snapshot();
    const h = guard({ calibration: { pinned } });
    const acc = feed(h, 'edge', edgeUser(7, 200));
    assert.equal(scorer(h).novelty!.ready, false);
    assert.equal(acc.stream.geometry!.countedFar, false);
    assert.ok(acc.stream.geometry!.unjudged > 0);
  });

  it('does not flag an edge-class user on a replica whose pinned calibration has far rates but whose reference is still empty', () => {
    // The regression: rates pinned by the far definition judged three-sigma exits while the
    // reference filled, and flagged a user of the edge class at start-up.
    const g = guard();
    population(g, 300);
    const pinned = g.calibration.snapshot();
    assert.ok(pinned.classRates?.envelopeFar, 'the printed block carries the far rates');
    const h = guard({ calibration: { pinned } });
    let flagged = 0;
    for (let u = 0; u < 3; u++) if (feed(h, `edge${u}`, edgeUser(2000 + u, 2000)).level >= LEVEL_FLAG) flagged++;
    assert.equal(flagged, 0);
  });

  it('still flags uniform rows by the three-sigma count on a replica whose reference is still empty', () => {
    const g = guard();
    population(g, 300);
    const h = guard({ calibration: { pinned: g.calibration.snapshot() } });
    const acc = feed(h, 'mallory', uniformBox(5, 128));
    assert.equal(scorer(h).novelty!.ready, false);
    assert.equal(acc.stream.geometry!.countedFar, false);
    assert.ok(acc.stream.scores[2]! >= 1, `envelope score ${acc.stream.scores[2]}`);
  });

  it('does not flag an edge-class user judged by the far count', () => {
    const g = guard();
    population(g, 300);
    let flagged = 0;
    for (let u = 0; u < 5; u++) {
      const acc = feed(g, `edge${u}`, edgeUser(1000 + u, 2000));
      assert.equal(acc.stream.geometry!.countedFar, true, `edge${u} judged by the far count`);
      if (acc.level >= LEVEL_FLAG) flagged++;
    }
    assert.equal(flagged, 0, `${flagged} of 5 edge-class users flagged`);
  });

  it('still counts uniform rows beyond the envelope as far exits and flags them by the envelope', () => {
    assertFarExitsAlarm(uniformBox(5, 128));
  });

  it('still counts T-RND rows pushed off the data beyond the envelope as far exits', () => {
    assertFarExitsAlarm(tRnd(6, 128));
  });

  it('judges by the three-sigma count under a pinned block printed before far rates existed', () => {
    const g = guard();
    population(g, 300);
    const { envelopeFar: _, ...older } = g.calibration.snapshot().classRates!;
    const h = guard({ calibration: { pinned: { ...g.calibration.snapshot(), classRates: older } } });
    population(h, 300);
    assert.equal(h.calibration.classRates.farReady, false);
    assert.equal(feed(h, 'edge', edgeUser(3, 300)).stream.geometry!.countedFar, false);
  });
});
