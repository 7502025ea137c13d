import { buildConfig } from '../../src/config/load-config.js';
import type { AccountState } from '../../src/extraction/account-state.js';
import { UNKNOWN_CLASS } from '../../src/extraction/class-base-rates.js';
import { ModelGuard } from '../../src/extraction/model-guard.js';
import { Xoshiro128 } from '../../src/extraction/prng.js';

/** Four standardised features, three labelled classes. */
export const D = 4;
export const FEATURES = { centre: new Array<number>(D).fill(0), scale: new Array<number>(D).fill(1) };

/** One scored row: its features, its predicted class and the answer's margin (NaN when unseen). */
export interface Query {
  readonly row: readonly number[];
  readonly cls: number;
  readonly margin: number;
}

/** An enforce-mode guard of a 3-class, 4-feature model, calibrated on 50 accounts of 100 queries unless `extraction` says otherwise. */
export function modelGuard(extraction: Record<string, unknown> = {}): ModelGuard {
  const { calibration, ...rest } = extraction as { calibration?: Record<string, unknown> };
  const config = buildConfig({
    auth: { enabled: false },
    models: {
      m: {
        labels: ['a', 'b', 'c'],
        extraction: {
          mode: 'enforce',
          features: FEATURES,
          calibration: { minAccounts: 50, minQueries: 100, ...calibration },
          ...rest,
        },
      },
    },
  });
  return new ModelGuard('m', 'enforce', config.models['m']!);
}

/** Scores `stream` as `user`, one query a second from `t0`, as the extraction stage does. */
export function feed(g: ModelGuard, user: string, stream: Iterable<Query>, t0 = 0): AccountState {
  const acc = g.account(user, t0);
  let t = t0;
  for (const q of stream) {
    g.guard.observe(acc, q.row, q.cls, q.margin, (t += 1000));
    g.calibration.maybeRefresh(t);
  }
  return acc;
}

/** In the edge-class population below, class 2 lies at the edge of the data. */
export const EDGE = 2;

/** One row of class `cls`: the edge class has about 40% of its rows beyond 3 σ (2.8 σ out on the first feature) and half its answers with a low margin. */
export function edgePopulationRow(rng: Xoshiro128, cls: number): Query {
  const row = Array.from({ length: D }, () => Math.round(rng.normal() * 0.6 * 100) / 100);
  if (cls === EDGE) row[0] = Math.round((2.8 + 0.6 * rng.normal()) * 100) / 100;
  else row[1] = Math.round((row[1]! + (cls === 0 ? -0.8 : 0.8)) * 100) / 100;
  const margin = cls === EDGE ? rng.next() * 0.2 : 0.1 + rng.next() * 0.9;
  return { row, cls, margin };
}

/** A user browsing every class; the edge class is about one row in seven. */
export function* browser(seed: number, n: number): Generator<Query> {
  const rng = new Xoshiro128(seed);
  for (let i = 0; i < n; i++) yield edgePopulationRow(rng, rng.next() < 0.15 ? EDGE : rng.next() < 0.5 ? 0 : 1);
}

/** A user interested in the edge class only (`known`: its answers are seen, else of unknown class). */
export function* edgeUser(seed: number, n: number, known = true): Generator<Query> {
  const rng = new Xoshiro128(seed);
  for (let i = 0; i < n; i++) {
    const q = edgePopulationRow(rng, EDGE);
    yield known ? q : { ...q, cls: UNKNOWN_CLASS, margin: Number.NaN };
  }
}

/** The edge-class population's answer to a row (class 2 beyond 1.8 σ on the first feature). */
export function edgePopulationClass(row: readonly number[]): number {
  return row[0]! > 1.8 ? EDGE : row[1]! < 0 ? 0 : 1;
}

/** Uniform rows over a box five standard deviations wide each way, answered by the edge-class population's rule. */
export function uniformBox(seed: number, n: number): Query[] {
  const rng = new Xoshiro128(seed);
  return Array.from({ length: n }, () => {
    const row = Array.from({ length: D }, () => -5 + 10 * rng.next());
    return { row, cls: edgePopulationClass(row), margin: rng.next() };
  });
}

/** Feeds `users` browsers of 300 rows each to `g` and refreshes its calibration. */
export function browserPopulation(g: ModelGuard, users: number): void {
  for (let u = 0; u < users; u++) feed(g, `u${u}`, browser(u + 1, 300));
  g.calibration.refresh(1);
}

/** Rows lent so far to the class rates of `signal` (every class). */
export function rowsLent(g: ModelGuard, signal: number): number {
  const c = g.calibration.classRates.counts[signal]!;
  let n = 0;
  for (let i = 0; i < c.length; i += 2) n += c[i]!;
  return n;
}
