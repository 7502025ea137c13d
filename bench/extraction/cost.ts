import { buildConfig } from '../../src/config/load-config.js';
import type { AccountState } from '../../src/extraction/account-state.js';
import type { ModelConfig } from '../../src/config/schema.js';
import { ModelGuard } from '../../src/extraction/model-guard.js';
import type { QueryScorer } from '../../src/extraction/query-scorer.js';
import { Xoshiro128 } from '../../src/extraction/prng.js';
import { benignUser } from './benign-users.js';
import { guardFor } from './evaluate.js';
import { buildPopulation } from './real/population.js';
import { buildRealWorld } from './real/victims.js';
import { buildWorld, type World } from './world.js';

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

/** One model the scored-row cost is measured on: its rows, the victim's answers and the operator's feature description. */
interface CostSource {
  readonly name: string;
  readonly features: number;
  readonly centre: readonly number[];
  readonly scale: readonly number[];
  /** Class labels the model answers with, or undefined for a regression (one group). */
  readonly labels: number | undefined;
  /** A fresh natural row (never an exact repeat of an earlier one), with the victim's class and margin. */
  next(rng: Xoshiro128): { row: Float64Array; classId: number; margin: number };
  /** The model's benign population (`users` users, their requests in time order), answered by the victim. */
  population(users: number, seed: number): AnsweredRequest[];
}

/** One request of a benign population: when (ms), whose, its rows and the victim's answers. */
export interface AnsweredRequest {
  readonly t: number;
  readonly user: number;
  readonly rows: readonly Float64Array[];
  readonly classes: readonly number[];
  readonly margins: readonly number[];
}

/** A real data set's rows with measurement noise (0.05 σ per feature): distinct, as the population's noisy users send them. */
function realSource(dataset: string, seed: number): CostSource {
  const w = buildRealWorld(dataset, seed);
  const rows = w.data.rows;
  const { centre, scale } = w.features;
  const regression = w.victim.kind === 'regression';
  return {
    name: dataset,
    features: centre.length,
    centre,
    scale,
    labels: regression ? undefined : w.victim.labels,
    next(rng) {
      const x = rows[Math.floor(rng.next() * rows.length)]!;
      const row = Float64Array.from(x, (v, j) => v + 0.05 * scale[j]! * rng.normal());
      const classId = w.victim.answer(row);
      return { row, classId, margin: w.victim.margin };
    },
    population(users, seed) {
      return buildPopulation(w, users, seed).requests.map((r) => {
        const classes = r.rows.map((x) => w.victim.answer(x));
        const margins = r.rows.map((x) => (w.victim.answer(x), w.victim.margin));
        return { ...r, classes, margins };
      });
    },
  };
}

/** The evaluation protocol's 16-feature Gaussian-mixture world (bench/extraction/world.ts). */
function mixtureSource(seed: number): CostSource {
  const w = buildWorld(seed);
  return {
    name: 'mixture (synthetic, 16 features)',
    features: w.features.centre.length,
    centre: w.features.centre,
    scale: w.features.scale,
    labels: 4,
    next(rng) {
      const row = w.p.sample(rng);
      const classId = w.victim.answer(row);
      return { row, classId, margin: w.victim.margin() };
    },
    population(users, seed) {
      // The protocol's benign users (batches of 1–32 rows, sessions, retries), started over the
      // first hour and merged in time; rows sent together share their time.
      const out: AnsweredRequest[] = [];
      const rng = new Xoshiro128(seed);
      for (let u = 0; u < users; u++) {
        const start = rng.next() * 3_600_000;
        let open: { t: number; user: number; rows: Float64Array[]; classes: number[]; margins: number[] } | undefined;
        for (const { row, t } of benignUser(w, seed * 7919 + u, 700)) {
          const at = Math.round(start + t * 1000);
          if (!open || open.t !== at) {
            open = { t: at, user: u, rows: [], classes: [], margins: [] };
            out.push(open);
          }
          open.rows.push(row);
          open.classes.push(w.victim.answer(row));
          open.margins.push(w.victim.margin());
        }
      }
      return out.sort((a, b) => a.t - b.t || a.user - b.user);
    },
  };
}

export interface ScoredRowCost {
  readonly source: string;
  readonly features: number;
  /** Rows scored in the CPU pass (all distinct: every one runs every detector). */
  readonly rows: number;
  /**
   * Process CPU (user + system) per scored row, µs, the median of the CPU pass's chunks: the
   * detectors, the ladder, the per-request bookkeeping.
   */
  readonly cpuUsPerRow: number;
  /** One row's scoring, timed alone (the request's bookkeeping charged to its last row), µs. */
  readonly p50us: number;
  readonly p99us: number;
  /** Whether the calibration was in force when timing started (the production state). */
  readonly calibrated: boolean;
  /**
   * The model's benign population instead (browsing, replays, retries, dashboards, batch jobs,
   * users interleaved in time): process CPU per scored row over its second half (the first warms
   * the guard and its calibration), the median of its chunks; exact re-sends cost CPU but are
   * not scored rows.
   */
  readonly population: { readonly users: number; readonly rows: number; readonly cpuUsPerRow: number };
}

export interface ScoredRowCostOptions {
  /** Accounts the traffic is spread over (more than the CPU caches hold, as in a gateway). */
  readonly accounts: number;
  /** Rows per account before measuring (history, and a calibration in force). */
  readonly warmRows: number;
  /** Rows in the CPU pass, and again in the timed pass. */
  readonly rows: number;
  readonly seed: number;
  /** Users of the benign-population measurement (0: none). */
  readonly populationUsers: number;
  /** Detectors switched off for a breakdown of the cost (COST_PARTS; a measurement only, never a configuration). */
  readonly off?: readonly CostPart[];
}

/**
 * The parts of the scorer a cost breakdown can switch off: each detector (geometry is envelope,
 * sweep, collinear and margin together, with its traffic support). What is left with all of them
 * off is the per-row path outside the detectors: normalising, hashing, exact repeats, known rows,
 * the warm-up, calibration tracking, the account table and the ladder.
 */
export const COST_PARTS = ['prada', 'fingerprint', 'geometry', 'novelty', 'steps', 'lineage', 'seeds'] as const;
export type CostPart = (typeof COST_PARTS)[number];

/**
 * Replaces the named detectors' per-row methods on this scorer by ones that do nothing (their
 * scores stay 0): the decisions change, so this serves the cost breakdown only.
 */
function switchOff(scorer: QueryScorer, off: readonly CostPart[]): void {
  const field: Record<CostPart, string> = {
    prada: 'prada',
    fingerprint: 'fingerprint',
    geometry: 'geometry',
    novelty: 'novelty',
    steps: 'steps',
    lineage: 'lineage',
    seeds: 'seedDetector',
  };
  const parts = scorer as unknown as Record<string, object | undefined>;
  const zero = () => 0;
  const nothing = () => undefined;
  for (const p of off) {
    const d = parts[field[p]];
    if (!d) continue;
    if (p === 'geometry') {
      Object.assign(d, { observe: nothing, continues: () => false });
      Object.assign((d as { support: object }).support, { lend: nothing });
    } else Object.assign(d, { observe: zero, offer: nothing, regrain: nothing });
  }
}

/** Chunks of the CPU pass (the median chunk is the figure). */
const CHUNKS = 7;

export const DEFAULT_COST_OPTIONS: ScoredRowCostOptions = {
  accounts: 400,
  warmRows: 160,
  rows: 60_000,
  seed: 11,
  populationUsers: 300,
};

/**
 * CPU per scored row of one model's guard, driven the way the extraction stage drives it: per
 * request the account looked up, each row observed, the timeline recorded and the calibration
 * refreshed when due; requests of 1–4 distinct rows from accounts taken at random. The model is
 * configured as an operator configures it (enforce mode, the data's centre and scale, every
 * other setting at its default) and warmed until its population calibration is in force.
 */
export function scoredRowCost(src: CostSource, o: ScoredRowCostOptions = DEFAULT_COST_OPTIONS): ScoredRowCost {
  const labels = src.labels === undefined ? undefined : Array.from({ length: src.labels }, (_, i) => `class-${i}`);
  const config = buildConfig({
    auth: { enabled: false },
    models: {
      m: {
        ...(labels ? { labels } : {}),
        extraction: { mode: 'enforce', features: { centre: [...src.centre], scale: [...src.scale] } },
      },
    },
  });
  let now = 0;
  const g = new ModelGuard('m', 'enforce', config.models['m']!, () => now);
  switchOff(g.guard.scorer, o.off ?? []);
  const rng = new Xoshiro128(o.seed);
  const users = Array.from({ length: o.accounts }, (_, i) => `issuer|user-${i}`);

  interface Req {
    readonly user: string;
    readonly rows: Float64Array[];
    readonly classes: number[];
    readonly margins: number[];
  }
  const requests = (rows: number, perUser?: number): Req[] => {
    const out: Req[] = [];
    let sent = 0;
    let u = 0;
    while (sent < rows) {
      const n = Math.min(rows - sent, 1 + Math.floor(rng.next() * 4));
      const user = perUser === undefined ? users[Math.floor(rng.next() * users.length)]! : users[u++ % users.length]!;
      const r: Req = { user, rows: [], classes: [], margins: [] };
      for (let i = 0; i < n; i++) {
        const x = src.next(rng);
        r.rows.push(x.row);
        r.classes.push(x.classId);
        r.margins.push(x.margin);
      }
      out.push(r);
      sent += n;
    }
    return out;
  };
  const send = (r: Req, timings?: Float64Array, at = 0): number => {
    now += 50;
    const acc: AccountState = g.account(r.user, now);
    const last = r.rows.length - 1;
    for (let i = 0; i <= last; i++) {
      const t0 = timings ? process.hrtime.bigint() : 0n;
      g.guard.observe(acc, r.rows[i]!, r.classes[i]!, r.margins[i]!, now);
      if (i === last) {
        g.recordTimeline(acc, now, r.rows.length);
        g.calibration.maybeRefresh(now);
      }
      if (timings) timings[at + i] = Number(process.hrtime.bigint() - t0) / 1000;
    }
    return r.rows.length;
  };

  // Warm-up: every account gets history (round robin, so all of them contribute to the calibration).
  for (const r of requests(o.accounts * o.warmRows, 1)) send(r);
  g.calibration.refresh(now);
  const calibrated = g.calibration.inForce;

  // The CPU pass in chunks: this machine is shared, and a chunk that another process's burst
  // slowed (cache and core contention show up as our CPU time) is an outlier, not our cost. The
  // figure is the median chunk's CPU per scored row.
  const scoredNow = () => [...g.accounts.values()].reduce((s, a) => s + a.stream.distinct, 0);
  const perChunk: number[] = [];
  let scored = 0;
  for (let chunk = 0; chunk < CHUNKS; chunk++) {
    const pass = requests(Math.ceil(o.rows / CHUNKS));
    const before = scoredNow();
    const c0 = process.cpuUsage();
    for (const r of pass) send(r);
    const c = process.cpuUsage(c0);
    const n = scoredNow() - before;
    scored += n;
    perChunk.push((c.user + c.system) / n);
  }
  perChunk.sort((a, b) => a - b);

  const timedPass = requests(o.rows);
  const took = new Float64Array(o.rows);
  let k = 0;
  for (const r of timedPass) k += send(r, took, k);
  took.sort();
  return {
    population: populationCost(src, config.models['m']!, o),
    source: src.name,
    features: src.features,
    rows: scored,
    cpuUsPerRow: perChunk[perChunk.length >> 1]!,
    p50us: took[Math.floor(o.rows * 0.5)]!,
    p99us: took[Math.floor(o.rows * 0.99)]!,
    calibrated,
  };
}

/** CPU per scored row over the model's benign population, driven as the extraction stage drives the guard. */
function populationCost(src: CostSource, model: ModelConfig, o: ScoredRowCostOptions): ScoredRowCost['population'] {
  let now = 0;
  const g = new ModelGuard('m', 'enforce', model, () => now);
  switchOff(g.guard.scorer, o.off ?? []);
  const requests = o.populationUsers > 0 ? src.population(o.populationUsers, o.seed) : [];
  const scoredNow = () => [...g.accounts.values()].reduce((s, a) => s + a.stream.distinct, 0);
  const send = (r: AnsweredRequest) => {
    now = r.t;
    const acc = g.account(`issuer|user-${r.user}`, now);
    for (let i = 0; i < r.rows.length; i++) g.guard.observe(acc, r.rows[i]!, r.classes[i]!, r.margins[i]!, now);
    g.recordTimeline(acc, now, r.rows.length);
    g.calibration.maybeRefresh(now);
  };
  const half = requests.length >> 1;
  for (let i = 0; i < half; i++) send(requests[i]!);
  const perChunk: number[] = [];
  let rows = 0;
  const size = Math.ceil((requests.length - half) / CHUNKS);
  for (let from = half; from < requests.length; from += size) {
    const to = Math.min(requests.length, from + size);
    const before = scoredNow();
    const c0 = process.cpuUsage();
    for (let i = from; i < to; i++) send(requests[i]!);
    const c = process.cpuUsage(c0);
    const n = scoredNow() - before;
    rows += n;
    if (n > 0) perChunk.push((c.user + c.system) / n);
  }
  perChunk.sort((a, b) => a - b);
  return { users: o.populationUsers, rows, cpuUsPerRow: perChunk[perChunk.length >> 1] ?? Number.NaN };
}

/** The models the goal "extraction ≤ 3 µs per scored row at 4–16 features" is measured on. */
export function costSources(seed = 20261207): CostSource[] {
  return [
    realSource('penguins', seed),
    realSource('movies', seed),
    realSource('boston-housing', seed),
    mixtureSource(seed),
  ];
}

/** The scored-row cost at 4, 8, 13 and 16 features (`only`: the sources whose name starts with one of these). */
export function scoredRowCosts(
  o: ScoredRowCostOptions = DEFAULT_COST_OPTIONS,
  only?: readonly string[],
): ScoredRowCost[] {
  return costSources()
    .filter((s) => !only || only.some((w) => s.name.startsWith(w)))
    .map((s) => scoredRowCost(s, o));
}

/** CPU µs per scored row with every detector off, and with each one alone on, per source. */
export interface CostBreakdown {
  readonly source: string;
  readonly features: number;
  readonly allOn: number;
  readonly allOff: number;
  /** Per part, CPU µs per scored row with it alone on. */
  readonly alone: Readonly<Record<CostPart, number>>;
}

/** The cost breakdown (`rounds` alternations, the median of each figure), without the population pass. */
export function costBreakdowns(o: ScoredRowCostOptions, only?: readonly string[], rounds = 3): CostBreakdown[] {
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1]!;
  const q = { ...o, populationUsers: 0 };
  return costSources()
    .filter((s) => !only || only.some((w) => s.name.startsWith(w)))
    .map((s) => {
      const cost = (off: readonly CostPart[]) => scoredRowCost(s, { ...q, off }).cpuUsPerRow;
      const on: number[] = [];
      const none: number[] = [];
      const alone = Object.fromEntries(COST_PARTS.map((p) => [p, [] as number[]])) as Record<CostPart, number[]>;
      for (let r = 0; r < rounds; r++) {
        on.push(cost([]));
        none.push(cost(COST_PARTS));
        for (const p of COST_PARTS) alone[p].push(cost(COST_PARTS.filter((x) => x !== p)));
      }
      return {
        source: s.name,
        features: s.features,
        allOn: median(on),
        allOff: median(none),
        alone: Object.fromEntries(COST_PARTS.map((p) => [p, median(alone[p])])) as Record<CostPart, number>,
      };
    });
}

export function costBreakdownTable(rows: readonly CostBreakdown[]): string {
  const lines = [
    `| features | model | all on | all off | ${COST_PARTS.map((p) => `${p} alone (+)`).join(' | ')} |`,
    `| ---: | --- | ---: | ---: | ${COST_PARTS.map(() => '---:').join(' | ')} |`,
  ];
  for (const b of rows)
    lines.push(
      `| ${b.features} | ${b.source} | ${b.allOn.toFixed(2)} | ${b.allOff.toFixed(2)} | ${COST_PARTS.map((p) => `${b.alone[p].toFixed(2)} (+${(b.alone[p] - b.allOff).toFixed(2)})`).join(' | ')} |`,
    );
  return lines.join('\n');
}

export function scoredRowCostTable(costs: readonly ScoredRowCost[]): string {
  const lines = [
    '| features | model | CPU µs per scored row: 1–4 distinct rows per request, 400 accounts | µs/row p50 | µs/row p99 | calibrated | CPU µs per scored row: benign population | goal (≤ 3 µs, p99 ≤ 50 µs) |',
    '| ---: | --- | ---: | ---: | ---: | --- | ---: | --- |',
  ];
  for (const c of costs)
    lines.push(
      `| ${c.features} | ${c.source} | ${c.cpuUsPerRow.toFixed(2)} (${c.rows} rows) | ${c.p50us.toFixed(2)} | ${c.p99us.toFixed(2)} | ${c.calibrated ? 'yes' : 'no'} | ${c.population.cpuUsPerRow.toFixed(2)} (${c.population.users} users, ${c.population.rows} rows) | ${c.cpuUsPerRow <= 3 && c.p99us <= 50 ? 'met' : 'MISSED'} |`,
    );
  return lines.join('\n');
}
