import { parseArgs } from 'node:util';
import { Xoshiro128 } from '../../src/extraction/prng.js';
import { splitOf } from './real/datasets.js';
import { runRealAttack } from './real/evaluate-real.js';
import { withRealRows } from './real/real-attacks.js';
import type { RealWorld } from './real/victims.js';

// Attacks written against the detector's own rules, run outside the bench's table (they are
// probes of a known evasion, reported in bench/RESULTS.md, not goals):
//   node dist/bench/extraction/adaptive-probe.js [--datasets penguins,sensor-motes,sp500-days,movies]
//     [--variants slice-walk,slice-walk-in-range,slice-walk-real,slice-walk-out] [--runs 3] [--budget 3000]
// Only DEVELOP data sets: what this finds is meant to be worked on.
//
// Each variant is written against the path rule (README: exits along the account's own path): every
// row's step from the previous one keeps half of the features (the even or the odd ones,
// alternating every 50 rows) within 0.5 σ, so a row beyond 3 σ passes as continuing the account's
// path when the features that jumped stay within the model's traffic support.
// - slice-walk: the still half walks from a real row by N(0, (0.2 σ)²) steps, the jumping half is
//   uniform over each feature's range ±20% (it lands beyond the traffic support);
// - slice-walk-in-range: the same, uniform over the range itself (training split's min and max);
// - slice-walk-real: the jumping half takes the values of a real row drawn afresh at each step
//   (within the support by construction; its rows rarely leave the envelope);
// - slice-walk-out: the jumping half as in slice-walk-real, while the still half heads for a target
//   drawn uniformly over the range ±20% by steps of 0.45 σ (a new target once reached): its exits
//   are carried by the still half, off the data, the way a heat wave's temperature is;
// - slice-walk-parked: the still half as in slice-walk-out, the jumping half as in slice-walk.
const VARIANTS = [
  'slice-walk',
  'slice-walk-in-range',
  'slice-walk-real',
  'slice-walk-out',
  'slice-walk-parked',
] as const;
type Variant = (typeof VARIANTS)[number];

const { values } = parseArgs({
  options: {
    datasets: { type: 'string', default: 'penguins,sensor-motes,sp500-days,movies' },
    variants: { type: 'string', default: VARIANTS.join(',') },
    runs: { type: 'string', default: '3' },
    budget: { type: 'string', default: '3000' },
    seed: { type: 'string', default: '20261207' },
  },
});

/** The still half's next value of feature `j` for `variant`: a small random step, or a step towards `target`. */
function stillStep(
  variant: Variant,
  w: RealWorld,
  rng: Xoshiro128,
  current: Float64Array,
  target: Float64Array,
  j: number,
): number {
  const { min, max, scale } = w.features;
  const range = max[j]! - min[j]!;
  if (variant !== 'slice-walk-out' && variant !== 'slice-walk-parked')
    return current[j]! + 0.2 * scale[j]! * rng.normal();
  const step = 0.45 * scale[j]!;
  const gap = target[j]! - current[j]!;
  if (Math.abs(gap) <= step) {
    target[j] = min[j]! - 0.2 * range + 1.4 * range * rng.next();
    return current[j]! + gap;
  }
  return current[j]! + Math.sign(gap) * step;
}

function* sliceWalk(w: RealWorld, rng: Xoshiro128, variant: Variant): Generator<Float64Array> {
  const { min, max } = w.features;
  const rows = w.data.rows;
  const width = min.length;
  let current = Float64Array.from(rows[Math.floor(rng.next() * rows.length)]!);
  const target = Float64Array.from(current);
  for (let i = 0; ; i++) {
    const slow = Math.floor(i / 50) % 2;
    const donor = rows[Math.floor(rng.next() * rows.length)]!;
    const next = new Float64Array(width);
    for (let j = 0; j < width; j++) {
      const range = max[j]! - min[j]!;
      if (j % 2 === slow) next[j] = stillStep(variant, w, rng, current, target, j);
      else if (variant === 'slice-walk' || variant === 'slice-walk-parked')
        next[j] = min[j]! - 0.2 * range + 1.4 * range * rng.next();
      else if (variant === 'slice-walk-in-range') next[j] = min[j]! + range * rng.next();
      else next[j] = donor[j]!;
    }
    current = next;
    yield next;
  }
}

const worldSeed = Number(values.seed);
const runs = Number(values.runs);
const budget = Number(values.budget);
const variants = values.variants.split(',').map((v) => {
  if (!(VARIANTS as readonly string[]).includes(v))
    throw new Error(`unknown variant ${v}: one of ${VARIANTS.join(', ')}`);
  return v as Variant;
});
for (const dataset of values.datasets.split(',')) {
  if (splitOf(dataset) !== 'develop') throw new Error(`${dataset} is not a DEVELOP data set`);
  for (const variant of variants)
    for (const mix of [0, 0.5]) {
      const cells: string[] = [];
      for (let r = 1; r <= runs; r++) {
        const seed = 1000 + r;
        const o = runRealAttack(
          { dataset, attack: 'uniform', mix, budget, users: 300, arrival: 'live' },
          seed,
          worldSeed,
          (w) => withRealRows(sliceWalk(w, new Xoshiro128(seed), variant), w, seed, mix),
        );
        const agreement = `${(100 * o.agreement).toFixed(0)}%`;
        cells.push(
          o.flaggedAt
            ? `flagged at ${o.flaggedAt} by ${o.firstAlarm} (agreement ${agreement})`
            : `missed (agreement at budget end ${agreement})`,
        );
      }
      console.log(`| ${dataset} | ${variant} | ${100 * mix}% | ${cells.join('; ')} |`);
    }
}
