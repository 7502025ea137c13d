// The real-data extraction bench stands on its victims: data sets read from installed packages
// (never the files reserved for judging), models trained deterministically, and one victim whose
// ordinary answers have low margins, the case that broke the fixed thresholds.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DATASET_NAMES, loadDataset, packageFile } from '../../bench/extraction/real/datasets.js';
import { buildRealWorld, LOW_MARGIN, LOW_MARGIN_SHARE } from '../../bench/extraction/real/victims.js';

// The seed bench:extraction splits the real data sets with.
const BENCH_SEED = 20261207;

describe('real data sets of the extraction bench', () => {
  it('loads every data set as finite rows of its declared width with a target per row', () => {
    for (const name of DATASET_NAMES) {
      const d = loadDataset(name);
      assert.ok(d.rows.length >= 300, `${name}: ${d.rows.length} rows`);
      assert.equal(d.target.length, d.rows.length);
      for (const r of d.rows)
        assert.ok(r.length === d.features.length && r.every(Number.isFinite), `${name}: a row of ${r.length} values`);
      if (d.classes)
        assert.ok(
          d.target.every((y) => Number.isInteger(y) && y >= 0 && y < d.classes!.length),
          `${name}: class indices`,
        );
    }
  });

  it('has every victim kind among the DEVELOP data sets and among the REPORT ones', () => {
    for (const split of ['develop', 'report'] as const) {
      const kinds = new Set(
        DATASET_NAMES.map(loadDataset)
          .filter((d) => d.split === split)
          .map((d) => d.victim),
      );
      assert.deepEqual([...kinds].sort(), ['mlp', 'regression', 'softmax'], split);
    }
  });

  it('refuses to read the files reserved for judging the detector', () => {
    for (const file of [
      'data/seattle-weather.csv',
      'data/seattle-weather-hourly-normals.csv',
      'data/weather.csv',
      'data/flights-2k.json',
      'data/flights-200k.arrow',
    ]) {
      assert.throws(() => packageFile('vega-datasets', file), /reserved/, file);
    }
  });
});

describe('victims of the extraction bench', () => {
  it('answers with top-1 − top-2 below 0.1 on at least 40% of the rows for every MLP victim', () => {
    for (const name of DATASET_NAMES.filter((n) => loadDataset(n).victim === 'mlp')) {
      const w = buildRealWorld(name, BENCH_SEED);
      let low = 0;
      for (const x of w.data.rows) {
        w.victim.answer(x);
        if (w.victim.margin < LOW_MARGIN) low++;
      }
      assert.ok(low / w.data.rows.length >= LOW_MARGIN_SHARE, `${name}: ${low} of ${w.data.rows.length}`);
      assert.equal(w.lowMarginShare, low / w.data.rows.length);
    }
  });

  it('learns better than chance on the held-out rows', () => {
    for (const name of DATASET_NAMES) {
      const w = buildRealWorld(name, BENCH_SEED);
      const chance = w.data.classes ? 1 / w.data.classes.length : 0;
      assert.ok(w.quality > chance + 0.1, `${name}: ${w.quality} (chance ${chance})`);
    }
  });

  it('trains the same victim from the same seed', () => {
    const a = buildRealWorld('cps-wages', 7);
    const b = buildRealWorld('cps-wages', 7);
    for (const x of a.data.rows.slice(0, 50)) {
      assert.equal(a.victim.answer(x), b.victim.answer(x));
      assert.equal(a.victim.margin, b.victim.margin);
    }
  });

  it('describes the features by the training split alone, as an operator configures them', () => {
    const w = buildRealWorld('cars', BENCH_SEED);
    const j = 2;
    const mean = w.train.reduce((s, i) => s + w.data.rows[i]![j]!, 0) / w.train.length;
    const all = w.data.rows.reduce((s, r) => s + r[j]!, 0) / w.data.rows.length;
    assert.ok(Math.abs(w.features.centre[j]! - mean) < 1e-9);
    assert.notEqual(w.features.centre[j], all);
  });
});

describe('the extraction bench command line', () => {
  it('refuses an option it does not know instead of starting the full run, which reads every split', () => {
    const run = fileURLToPath(new URL('../../bench/extraction/run.js', import.meta.url));
    const r = spawnSync(process.execPath, [run, '--help'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown option --help/);
    assert.equal(r.stdout, '');
  });
});
