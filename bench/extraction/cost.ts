import { benignUser } from './benign-users.js';
import { guardFor } from './evaluate.js';
import type { World } from './world.js';

export interface CostAt {
  readonly prior: number;
  readonly p50us: number;
  readonly p99us: number;
  readonly stateBytes: number;
  /** Mean µs per row of the novelty test alone (reference filled by other accounts first). */
  readonly noveltyUs: number;
}

/**
 * Per-query cost of the guard (all detectors and the ladder) after `prior` queries of history:
 * `samples` queries timed one by one with the victim's answers computed beforehand.
 */
export function costAfter(world: World, prior: number, samples: number): CostAt {
  const guard = guardFor(world, 7);
  // Other accounts fill the model's novelty reference first, so its test is part of the cost.
  for (let u = 0; u < 300; u++) {
    const other = guard.open(`lender-${u}`, 'm', 0);
    for (const { row } of benignUser(world, 1000 + u, 96))
      guard.observe(other, row, world.victim.answer(row), Number.NaN, 0);
  }
  const acc = guard.open('cost', 'm', 0);
  const rows: Float64Array[] = [];
  const classes: number[] = [];
  const margins: number[] = [];
  const times: number[] = [];
  for (const { row, t } of benignUser(world, 424242, prior + samples)) {
    rows.push(row);
    classes.push(world.victim.answer(row));
    margins.push(world.victim.margin());
    times.push(t * 1000);
  }
  for (let i = 0; i < prior; i++) guard.observe(acc, rows[i]!, classes[i]!, margins[i]!, times[i]!);
  const took = new Float64Array(samples);
  for (let i = 0; i < samples; i++) {
    const k = prior + i;
    const t0 = process.hrtime.bigint();
    guard.observe(acc, rows[k]!, classes[k]!, margins[k]!, times[k]!);
    took[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  took.sort();
  const novelty = guard.scorer.novelty;
  const n = guard.scorer.normaliser!;
  const zs = rows.slice(prior).map((r) => {
    const z = new Float64Array(n.dims);
    n.normalise(r, new Float64Array(n.width), z);
    return z;
  });
  let noveltyUs = Number.NaN;
  if (novelty?.ready) {
    const t0 = process.hrtime.bigint();
    for (const z of zs) novelty.isFar(z);
    noveltyUs = Number(process.hrtime.bigint() - t0) / 1000 / zs.length;
  }
  return {
    prior,
    p50us: took[Math.floor(samples * 0.5)]!,
    p99us: took[Math.floor(samples * 0.99)]!,
    stateBytes: acc.bytes,
    noveltyUs,
  };
}
