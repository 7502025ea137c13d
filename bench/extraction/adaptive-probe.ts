import { parseArgs } from 'node:util';
import { Xoshiro128 } from '../../src/extraction/prng.js';
import { loadDataset } from './real/datasets.js';
import { runRealAttack } from './real/evaluate-real.js';
import { withRealRows } from './real/real-attacks.js';
import type { RealWorld } from './real/victims.js';

// Attacks written against the detector's own rules, run outside the bench's table (they are
// probes of a known evasion, reported in bench/RESULTS.md, not goals):
//   node dist/bench/extraction/adaptive-probe.js [--datasets penguins,sensor-motes,sp500-days,movies] [--runs 3] [--budget 3000]
// Only DEVELOP data sets: what this finds is meant to be worked on.
//
// slice-walk: half of the features (the even or the odd ones, alternating every 50 rows) walk from a
// real row by N(0, (0.2 σ)²) steps while the others are uniform over each feature's range ±20%.
// Every row's step from the previous one keeps half of the features within 0.5 σ, so its exits
// beyond 3 σ pass as continuing the account's path (README: exits along the account's own path)
// and count for neither `envelope` nor `novelty`.

const { values } = parseArgs({
  options: {
    datasets: { type: 'string', default: 'penguins,sensor-motes,sp500-days,movies' },
    runs: { type: 'string', default: '3' },
    budget: { type: 'string', default: '3000' },
    seed: { type: 'string', default: '20261207' },
  },
});

function* sliceWalk(w: RealWorld, rng: Xoshiro128): Generator<Float64Array> {
  const { min, max, scale } = w.features;
  const width = min.length;
  let current = Float64Array.from(w.data.rows[Math.floor(rng.next() * w.data.rows.length)]!);
  for (let i = 0; ; i++) {
    const slow = Math.floor(i / 50) % 2;
    const next = new Float64Array(width);
    for (let j = 0; j < width; j++) {
      const range = max[j]! - min[j]!;
      next[j] =
        j % 2 === slow
          ? current[j]! + 0.2 * scale[j]! * rng.normal()
          : min[j]! - 0.2 * range + 1.4 * range * rng.next();
    }
    current = next;
    yield next;
  }
}

const worldSeed = Number(values.seed);
const runs = Number(values.runs);
const budget = Number(values.budget);
for (const dataset of values.datasets.split(',')) {
  if (loadDataset(dataset).split !== 'develop') throw new Error(`${dataset} is not a DEVELOP data set`);
  for (const mix of [0, 0.5]) {
    const cells: string[] = [];
    for (let r = 1; r <= runs; r++) {
      const seed = 1000 + r;
      const o = runRealAttack(
        { dataset, attack: 'uniform', mix, budget, users: 300, arrival: 'live' },
        seed,
        worldSeed,
        (w) => withRealRows(sliceWalk(w, new Xoshiro128(seed)), w, seed, mix),
      );
      const agreement = `${(100 * o.agreement).toFixed(0)}%`;
      cells.push(
        o.flaggedAt
          ? `flagged at ${o.flaggedAt} by ${o.firstAlarm} (agreement ${agreement})`
          : `missed (agreement at budget end ${agreement})`,
      );
    }
    console.log(`| ${dataset} | slice-walk | ${100 * mix}% | ${cells.join('; ')} |`);
  }
}
