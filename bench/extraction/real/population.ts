import { Xoshiro128 } from '../../../src/extraction/prng.js';
import type { RealWorld } from './victims.js';

/**
 * The benign population of one model: every user's requests, in realistic patterns, merged into
 * one time-ordered stream, as the accounts of one model reach one gateway. Patterns:
 *
 * - browse: a few exact rows of the data set per request, Poisson think times;
 * - noisy: real rows with measurement noise (0.02–0.1 σ per feature);
 * - one-class: interest in one class only (a regression: one quartile of the answers), noisy rows;
 * - edge-class: the same, for the outer third of the class whose rows lie furthest out (largest
 *   mean of their largest |z|): a rare analyst of the strongest earthquakes or the most expensive
 *   houses (1% of users, fewer than the calibration's 99th percentile rests on), whose ordinary
 *   rows leave the population's envelope and get low-margin answers far more often than others';
 * - replay: a time-ordered window of a series (one country, the monthly record, a file in its
 *   order) sent row by row, the job re-run a few times;
 * - episode: the same, through the series' rarest stretch (the window with the most rows beyond
 *   three standard deviations, then the furthest out: a heat wave replayed hour by hour, a
 *   recession month by month), whose rows leave the envelope one after another where an ordinary
 *   replay leaves it now and then;
 * - retry: browsing with re-sends of the same request (timeouts, double clicks);
 * - dashboard: the same 30 rows polled every two minutes for hours;
 * - burst: batch jobs of hundreds of rows within a minute, a few times a session.
 */
export const PATTERNS = [
  'browse',
  'noisy',
  'one-class',
  'edge-class',
  'replay',
  'episode',
  'retry',
  'dashboard',
  'burst',
] as const;
export type Pattern = (typeof PATTERNS)[number];
const SHARES: Readonly<Record<Pattern, number>> = {
  browse: 0.19,
  noisy: 0.2,
  'one-class': 0.15,
  'edge-class': 0.01,
  replay: 0.13,
  episode: 0.02,
  retry: 0.1,
  dashboard: 0.05,
  burst: 0.15,
};

/** One request: its time (ms since the population went live), its user and its rows. */
export interface Request {
  readonly t: number;
  readonly user: number;
  readonly rows: readonly Float64Array[];
}

export interface Population {
  readonly users: number;
  readonly patterns: readonly Pattern[];
  /** All requests, by time (ties by user). */
  readonly requests: readonly Request[];
  readonly queries: number;
  /** When the last user starts (ms): attackers join a population that has been live this long. */
  readonly horizon: number;
}

const HOUR = 3_600_000;
/** Users start within the first six hours; sessions last one to eight hours. */
const START_SPREAD = 6 * HOUR;

function patternOf(u: number): Pattern {
  // Quotas by position along the golden-ratio sequence, so any prefix of the users has every pattern.
  const f = (u * 0.6180339887498949) % 1;
  let acc = 0;
  for (const p of PATTERNS) if (f < (acc += SHARES[p])) return p;
  return 'browse';
}

class UserGen {
  readonly out: Request[] = [];
  constructor(
    readonly w: RealWorld,
    readonly user: number,
    readonly rng: Xoshiro128,
  ) {}

  exp(meanMs: number): number {
    return -Math.log(this.rng.next() || 1e-12) * meanMs;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.rng.next() * (hi - lo + 1));
  }
  realRow(): Float64Array {
    const rows = this.w.data.rows;
    return rows[Math.floor(this.rng.next() * rows.length)]!;
  }
  noisy(x: Float64Array, sigma: number): Float64Array {
    const s = this.w.features.scale;
    return Float64Array.from(x, (v, j) => v + sigma * s[j]! * this.rng.normal());
  }
  push(t: number, rows: Float64Array[]): void {
    this.out.push({ t: Math.round(t), user: this.user, rows });
  }
}

function generate(g: UserGen, pattern: Pattern): void {
  const { rng } = g;
  const start = rng.next() * START_SPREAD;
  const end = start + HOUR + rng.next() * 7 * HOUR;
  const w = g.w;
  switch (pattern) {
    case 'browse':
    case 'noisy':
    case 'retry': {
      const sigma = pattern === 'noisy' ? 0.02 + 0.08 * rng.next() : 0;
      const gap = 30_000 + rng.next() * 150_000;
      for (let t = start + g.exp(gap); t < end; t += g.exp(gap)) {
        const rows = Array.from({ length: g.int(1, 4) }, () => (sigma > 0 ? g.noisy(g.realRow(), sigma) : g.realRow()));
        g.push(t, rows);
        if (pattern === 'retry' && rng.next() < 0.2) {
          let r = t;
          for (let k = g.int(1, 3); k > 0; k--) g.push((r += 1000 + g.exp(5000)), rows);
        }
      }
      return;
    }
    case 'one-class':
    case 'edge-class': {
      const pool = pattern === 'edge-class' ? edgeRows(w) : classRows(w, w.victim.label(g.realRow()));
      const sigma = 0.02 + 0.05 * rng.next();
      const gap = 30_000 + rng.next() * 90_000;
      for (let t = start + g.exp(gap); t < end; t += g.exp(gap)) {
        g.push(
          t,
          Array.from({ length: g.int(1, 3) }, () => g.noisy(pool[Math.floor(rng.next() * pool.length)]!, sigma)),
        );
      }
      return;
    }
    case 'replay':
    case 'episode': {
      const d = w.data;
      let window: Float64Array[];
      if (pattern === 'episode') window = rarestStretch(w, g.int(30, 120));
      else {
        let idx = d.rows.map((_, i) => i);
        if (d.series) {
          const s = d.series[Math.floor(rng.next() * d.rows.length)]!;
          idx = idx.filter((i) => d.series![i] === s);
        }
        idx = timeOrdered(w, idx);
        const len = Math.min(idx.length, g.int(50, 300));
        const from = Math.floor(rng.next() * (idx.length - len + 1));
        window = idx.slice(from, from + len).map((i) => d.rows[i]!);
      }
      const step = 5_000 + rng.next() * 25_000;
      let t = start;
      for (let run = g.int(1, 3); run > 0 && t < end; run--) {
        for (const x of window) g.push((t += step), [x]);
        t += g.exp(HOUR);
      }
      return;
    }
    case 'dashboard': {
      const rows = Array.from({ length: 30 }, () => g.realRow());
      const stop = start + 2 * HOUR + rng.next() * 4 * HOUR;
      for (let t = start; t < stop; t += 120_000) g.push(t, rows);
      return;
    }
    case 'burst': {
      const sigma = rng.next() < 0.5 ? 0 : 0.05;
      for (let b = g.int(1, 4), t = start; b > 0 && t < end; b--, t += g.exp(2 * HOUR)) {
        const n = g.int(100, 600);
        const batch = g.int(25, 100);
        let bt = t;
        for (let sent = 0; sent < n; sent += batch) {
          g.push(
            (bt += 1000 + g.exp(3000)),
            Array.from({ length: Math.min(batch, n - sent) }, () =>
              sigma > 0 ? g.noisy(g.realRow(), sigma) : g.realRow(),
            ),
          );
        }
      }
      return;
    }
  }
}

function classRows(w: RealWorld, want: number): Float64Array[] {
  return w.data.rows.filter((x) => w.victim.label(x) === want);
}

/** How far out a row lies: its largest |z|. */
function farness(w: RealWorld, x: Float64Array): number {
  const { centre, scale } = w.features;
  let far = 0;
  for (let j = 0; j < x.length; j++) far = Math.max(far, Math.abs((x[j]! - centre[j]!) / scale[j]!));
  return far;
}

function timeOrdered(w: RealWorld, idx: number[]): number[] {
  const time = w.data.time;
  return time ? idx.sort((a, b) => time[a]! - time[b]! || a - b) : idx;
}

/**
 * The `len` consecutive rows (in time order, within one series) with the most rows beyond three
 * standard deviations, ties broken by their summed farness.
 */
function rarestStretch(w: RealWorld, len: number): Float64Array[] {
  const d = w.data;
  const bySeries = new Map<number, number[]>();
  d.rows.forEach((_, i) => {
    const s = d.series?.[i] ?? 0;
    const list = bySeries.get(s) ?? [];
    list.push(i);
    bySeries.set(s, list);
  });
  const far = d.rows.map((x) => farness(w, x));
  let best: number[] = [];
  let bestScore = -1;
  for (const list of bySeries.values()) {
    const idx = timeOrdered(w, list);
    const n = Math.min(len, idx.length);
    // Exits weigh more than any sum of farness within the envelope (at most 3 per row).
    const score = (i: number) => (far[i]! > 3 ? 4 * len : 0) + far[i]!;
    let sum = 0;
    for (let k = 0; k < idx.length; k++) {
      sum += score(idx[k]!);
      if (k >= n) sum -= score(idx[k - n]!);
      if (k >= n - 1 && sum > bestScore) {
        bestScore = sum;
        best = idx.slice(k - n + 1, k + 1);
      }
    }
  }
  return best.map((i) => d.rows[i]!);
}

const edges = new WeakMap<RealWorld, Float64Array[]>();

/** The outer third (by farness) of the class whose rows lie furthest out on average. */
function edgeRows(w: RealWorld): Float64Array[] {
  let e = edges.get(w);
  if (e) return e;
  const sum = new Map<number, [number, number]>();
  for (const x of w.data.rows) {
    const far = farness(w, x);
    const c = w.victim.label(x);
    const s = sum.get(c) ?? [0, 0];
    s[0] += far;
    s[1]++;
    sum.set(c, s);
  }
  let best = -Infinity;
  let edge = 0;
  for (const [c, [far, n]] of sum)
    if (far / n > best) {
      best = far / n;
      edge = c;
    }
  const rows = classRows(w, edge).sort((a, b) => farness(w, b) - farness(w, a));
  e = rows.slice(0, Math.max(10, Math.ceil(rows.length / 3)));
  edges.set(w, e);
  return e;
}

/** `users` benign users of the world's model, deterministic by `seed`. */
export function buildPopulation(w: RealWorld, users: number, seed: number): Population {
  const patterns: Pattern[] = [];
  const requests: Request[] = [];
  for (let u = 0; u < users; u++) {
    const p = patternOf(u);
    patterns.push(p);
    const g = new UserGen(w, u, new Xoshiro128((seed * 0x9e3779b1) ^ (u + 1)));
    generate(g, p);
    for (const r of g.out) requests.push(r);
  }
  requests.sort((a, b) => a.t - b.t || a.user - b.user);
  const queries = requests.reduce((a, r) => a + r.rows.length, 0);
  return { users, patterns, requests, queries, horizon: START_SPREAD };
}
