// Envelope exits and low margins are judged against the rates expected for the classes an
// account queries, learned per class from the model's own population.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LEVEL_FLAG } from '../../src/extraction/action-ladder.js';
import { ENVELOPE_SIGNAL, MARGIN_SIGNAL, UNKNOWN_CLASS } from '../../src/extraction/class-base-rates.js';
import type { ModelGuard } from '../../src/extraction/model-guard.js';
import { modelView } from '../../src/extraction/model-view.js';
import { Xoshiro128 } from '../../src/extraction/prng.js';
import { browser, EDGE, edgeUser, feed, modelGuard as guard, uniformBox } from '../helpers/extraction-population.js';

const population = (g: ModelGuard, users: number, known = true) => {
  for (let u = 0; u < users; u++)
    feed(
      g,
      `u${u}`,
      known
        ? browser(u + 1, 300)
        : [...browser(u + 1, 300)].map((q) => ({ ...q, cls: UNKNOWN_CLASS, margin: Number.NaN })),
    );
  g.calibration.refresh(1);
};

describe('class base rates', () => {
  it('converge per class from a benign population', () => {
    const g = guard();
    population(g, 300);
    const r = g.calibration.classRates;
    const edgeEnvelope = r.rates[ENVELOPE_SIGNAL]![EDGE]!;
    const edgeMargin = r.rates[MARGIN_SIGNAL]![EDGE]!;
    // About 40% of the edge class's rows leave the envelope; an exit that continues the account's
    // path is not counted, and a browser's edge row follows a row within half a σ in two other
    // features (each spread 0.6 σ) about two times in five by chance: about 0.24 is counted.
    assert.ok(edgeEnvelope > 0.15 && edgeEnvelope < 0.35, `edge class envelope rate ${edgeEnvelope}`);
    assert.ok(edgeMargin > 0.35 && edgeMargin < 0.65, `edge class low-margin rate ${edgeMargin}`);
    assert.ok(r.rates[ENVELOPE_SIGNAL]![0]! < 0.02, `class 0 envelope rate ${r.rates[ENVELOPE_SIGNAL]![0]}`);
    assert.ok(r.pooled[ENVELOPE_SIGNAL]! < 0.08, `pooled envelope rate ${r.pooled[ENVELOPE_SIGNAL]}`);
  });

  it('do not move when one account misbehaves', () => {
    const g = guard();
    population(g, 300);
    const r = g.calibration.classRates;
    const before = r.rates.map((x) => x.slice());
    // Thousands of rows of class 0 all far out, all with low margins, from one account.
    const rng = new Xoshiro128(99);
    const far = Array.from({ length: 5000 }, () => ({
      row: [6 + rng.next(), rng.normal(), rng.normal(), rng.normal()],
      cls: 0,
      margin: 0.01,
    }));
    feed(g, 'mallory', far);
    g.calibration.refresh(2);
    for (const s of [ENVELOPE_SIGNAL, MARGIN_SIGNAL])
      for (let c = 0; c < 3; c++) {
        const moved = Math.abs(r.rates[s]![c]! - before[s]![c]!);
        assert.ok(moved <= 0.005, `signal ${s} class ${c}: ${before[s]![c]} → ${r.rates[s]![c]}`);
      }
  });

  it('do not flag a rare user of one class at the edge of the data', () => {
    const g = guard();
    population(g, 300);
    let flagged = 0;
    for (let u = 0; u < 5; u++) if (feed(g, `edge${u}`, edgeUser(1000 + u, 2000)).level >= LEVEL_FLAG) flagged++;
    assert.equal(flagged, 0, `${flagged} of 5 edge-class users flagged`);
  });

  it('leave rows of unknown class (the ext-authz doors) judged on raw counts, where that user stands out', () => {
    const g = guard();
    population(g, 300, false);
    const acc = feed(g, 'edge', edgeUser(1000, 2000, false));
    assert.ok(acc.level >= LEVEL_FLAG, 'without its answers the same user is an envelope outlier, as before');
  });

  it('still catch uniform queries over a wide box in every class', () => {
    const g = guard();
    population(g, 300);
    const acc = feed(g, 'mallory', uniformBox(5, 600));
    assert.ok(acc.firstFlaggedAt > 0, 'flagged');
  });

  it('are shown in the model view, with the edge class apart', () => {
    const g = guard();
    population(g, 300);
    const rates = modelView(g).calibration.classRates;
    assert.ok(rates !== null);
    assert.ok(rates.envelope[EDGE]! > 5 * rates.envelope[0]!, `envelope rates ${rates.envelope.join(', ')}`);
  });

  it('are pinned with the calibration the operator prints', () => {
    const g = guard();
    population(g, 300);
    const pinned = g.calibration.snapshot();
    const h = guard({ calibration: { pinned } });
    assert.equal(h.calibration.state, 'pinned');
    assert.equal(h.calibration.rates, h.calibration.classRates);
    assert.deepEqual(h.calibration.classRates.snapshot(), pinned.classRates);
    let flagged = 0;
    for (let u = 0; u < 3; u++) if (feed(h, `edge${u}`, edgeUser(2000 + u, 2000)).level >= LEVEL_FLAG) flagged++;
    assert.equal(flagged, 0);
  });
});
