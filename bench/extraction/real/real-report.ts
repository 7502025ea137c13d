import { DATASET_NAMES, splitOf, type Split } from './datasets.js';
import type { RealAttackOutcome, RealAttackVariant, RealBenignOutcome } from './evaluate-real.js';
import { PATTERNS } from './population.js';
import { REAL_ATTACKS, SYNTHETIC_ATTACKS, type RealAttack } from './real-attacks.js';
import { LOW_MARGIN, LOW_MARGIN_SHARE, type RealWorld } from './victims.js';

/**
 * The real-data evaluation's plan and tables. DEVELOP data sets may be used to tune the detector's
 * thresholds; REPORT data sets are only reported on, and the goals are judged on them; HELDOUT data
 * sets were added late and their misses then studied; UNSEEN data sets are run only in the final
 * evaluation, never tuned on. Which set is in which split, and since when: datasets.ts.
 */
export interface RealPlan {
  readonly quick: boolean;
  readonly worldSeed: number;
  readonly datasets: readonly string[];
  readonly benignUsers: number;
  readonly attackUsers: number;
  /** Attack runs per row, by data set. */
  readonly runs: (dataset: string) => number;
  readonly budget: number;
  readonly attacks: readonly RealAttack[];
  readonly mixes: readonly number[];
  /** Attack rows kept (undefined: all); the others are not run, and the kept ones keep their seeds. */
  readonly only?: AttackFilter | undefined;
}

/** A narrowing of the attack rows to reproduce one of them (`--attacks`, `--mixes`, `--arrivals`). */
export interface AttackFilter {
  readonly attacks?: readonly string[] | undefined;
  readonly mixes?: readonly number[] | undefined;
  readonly arrivals?: readonly string[] | undefined;
}

const kept = (f: AttackFilter | undefined, v: Pick<RealAttackVariant, 'attack' | 'mix' | 'arrival'>) =>
  !f ||
  ((!f.attacks || f.attacks.includes(v.attack)) &&
    (!f.mixes || f.mixes.includes(v.mix)) &&
    (!f.arrivals || f.arrivals.includes(v.arrival)));

export function realPlan(opts: {
  quick: boolean;
  worldSeed: number;
  datasets?: readonly string[];
  only?: AttackFilter;
}): RealPlan {
  const datasets = opts.datasets ?? DATASET_NAMES.filter((n) => !opts.quick || splitOf(n) === 'develop');
  // Attack runs replay a population up to the attacker's arrival, one population per run (an
  // attacker's account would stay in the calibration of the next): the population must be large
  // enough for the default calibration (200 accounts with 128 queries) to be in force by then.
  return opts.quick
    ? {
        quick: true,
        worldSeed: opts.worldSeed,
        datasets,
        benignUsers: 300,
        attackUsers: 300,
        runs: () => 2,
        budget: 2000,
        attacks: REAL_ATTACKS,
        mixes: [0, 0.5],
        only: opts.only,
      }
    : {
        quick: false,
        worldSeed: opts.worldSeed,
        datasets,
        benignUsers: 1000,
        attackUsers: 500,
        runs: (d) => (splitOf(d) === 'develop' ? 3 : 5),
        budget: 3000,
        attacks: REAL_ATTACKS,
        mixes: [0, 0.2, 0.5],
        only: opts.only,
      };
}

export type RealTask =
  | { readonly kind: 'real-benign'; readonly dataset: string; readonly worldSeed: number; readonly users: number }
  | {
      readonly kind: 'real-attack';
      readonly variant: RealAttackVariant;
      readonly worldSeed: number;
      readonly seeds: number[];
      readonly key: string;
    };

export type RealTaskResult =
  | { readonly kind: 'real-benign'; readonly outcome: RealBenignOutcome }
  | {
      readonly kind: 'real-attack';
      readonly key: string;
      readonly variant: RealAttackVariant;
      readonly outcomes: RealAttackOutcome[];
    };

export const attackKey = (v: RealAttackVariant) => `${v.dataset}|${v.attack}|${v.mix}|${v.arrival}`;

export function realTasks(p: RealPlan): RealTask[] {
  const out: RealTask[] = [];
  let base = 5_000_000;
  for (const dataset of p.datasets) {
    out.push({ kind: 'real-benign', dataset, worldSeed: p.worldSeed, users: p.benignUsers });
    for (const attack of p.attacks) {
      // In-distribution queries are reported alone: mixing them with real rows changes nothing.
      for (const mix of attack === 'natural' ? [0] : p.mixes) {
        base += 1000;
        out.push(attackTask({ dataset, attack, mix, arrival: 'live' }, p, base));
      }
    }
  }
  // Attackers who arrive before the model has a calibration, alone and with half real rows.
  let early = 9_000_000;
  for (const dataset of p.datasets)
    for (const attack of SYNTHETIC_ATTACKS)
      for (const mix of [0, 0.5]) {
        early += 1000;
        out.push(attackTask({ dataset, attack, mix, arrival: 'early' }, p, early));
      }
  // Filtered after numbering, so a narrowed run replays the very runs of the full one; the benign
  // population, which the goals rest on, is always run.
  return out.filter((t) => t.kind === 'real-benign' || kept(p.only, t.variant));
}

function attackTask(
  what: Pick<RealAttackVariant, 'dataset' | 'attack' | 'mix' | 'arrival'>,
  p: RealPlan,
  base: number,
): RealTask {
  const variant: RealAttackVariant = { ...what, budget: p.budget, users: p.attackUsers };
  return {
    kind: 'real-attack',
    variant,
    worldSeed: p.worldSeed,
    seeds: Array.from({ length: p.runs(variant.dataset) }, (_, i) => base + i),
    key: attackKey(variant),
  };
}

const pct = (x: number, digits = 1) =>
  Number.isFinite(x) ? `${(100 * x).toFixed(x > 0 && x < 0.001 ? 3 : digits)}%` : '—';
const median = (xs: readonly number[]) => {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
};

export function victimsTable(worlds: readonly RealWorld[]): string {
  const lines = [
    `| data set | split | victim | features | classes | rows (train / held out) | held-out accuracy (R² for regression) | answers with top-1 − top-2 < ${LOW_MARGIN} | softmax temperature | source |`,
    '| --- | --- | --- | ---: | ---: | --- | ---: | ---: | ---: | --- |',
  ];
  for (const w of worlds) {
    const lm =
      w.data.victim === 'mlp'
        ? `${pct(w.lowMarginShare)} (needs ≥ ${pct(LOW_MARGIN_SHARE, 0)}: ${w.lowMarginShare >= LOW_MARGIN_SHARE ? 'yes' : 'NO'})`
        : pct(w.lowMarginShare);
    lines.push(
      `| ${w.data.name} | ${w.data.split.toUpperCase()} | ${w.data.victim} | ${w.data.features.length} | ${w.data.classes?.length ?? '— (value)'} | ${w.train.length} / ${w.test.length} | ${w.quality.toFixed(3)} | ${lm} | ${w.temperature} | ${w.data.source} |`,
    );
  }
  return lines.join('\n');
}

/** "met", or "MISSED by …": how far a measured value is from its bound. */
function goal(value: number, bound: number, unit: (x: number) => string): string {
  if (value <= bound) return 'met';
  return `MISSED (${unit(value)} vs ≤ ${unit(bound)}${bound > 0 ? `, ${(value / bound).toFixed(value / bound < 10 ? 1 : 0)}×` : ''})`;
}

export function benignTable(outcomes: readonly RealBenignOutcome[]): string {
  const lines = [
    '| data set | split | users | queries | calibration in force after | users ever flagged | … flagged while calibrated | degraded or above (enforced) | … reached, not enforced | breaker trips | flagged, by pattern (flagged/users) | first alarm by | p50 / p99 µs per query |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: |',
  ];
  for (const o of outcomes) {
    const split = splitOf(o.dataset).toUpperCase();
    const by = PATTERNS.map((p) => `${p} ${o.byPattern[p]![0]}/${o.byPattern[p]![1]}`).join(', ');
    lines.push(
      `| ${o.dataset} | ${split} | ${o.users} | ${o.queries} | ${Number.isFinite(o.enforcingAfterHours) ? `${o.enforcingAfterHours.toFixed(1)} h` : 'never'} | ${o.flagged} (${pct(o.flagged / o.users, 2)}) | ${o.flaggedCalibrated} | ${o.degraded} (${pct(o.degraded / o.users, 2)}) | ${o.degradedReached - o.degraded} | ${o.breakerTrips === undefined ? 'no breaker' : `${o.breakerTrips}${o.breakerDetectors.length ? ` (${o.breakerDetectors.join(', ')})` : ''}`} | ${by} | ${countsText(o.byDetector)} | ${o.p50us.toFixed(1)} / ${o.p99us.toFixed(1)} |`,
    );
  }
  return lines.join('\n');
}

const countsText = (c: Record<string, number>) =>
  Object.entries(c)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([k, n]) => `${k} ${n}`)
    .join(', ') || '—';

export interface AttackRow {
  readonly v: RealAttackVariant;
  readonly caught: number;
  readonly runs: number;
  readonly median: number;
  readonly max: number;
  readonly degradedMedian: number;
  readonly agreement: number;
  readonly agreementDegraded: number;
  readonly agreementMissed: number;
  /** Runs in which the model's calibration was in force when the attacker joined. */
  readonly enforcingAtJoin: number;
  /** Flagged runs by the detector that first alarmed. */
  readonly by: Record<string, number>;
}

export function attackRow(v: RealAttackVariant, outcomes: readonly RealAttackOutcome[]): AttackRow {
  const hits = outcomes.filter((o) => o.flaggedAt > 0);
  const degraded = outcomes.filter((o) => o.degradedAt > 0).map((o) => o.degradedAt);
  return {
    v,
    caught: hits.length,
    runs: outcomes.length,
    median:
      hits.length * 2 > outcomes.length
        ? median(outcomes.map((o) => (o.flaggedAt > 0 ? o.flaggedAt : Infinity)))
        : Infinity,
    max: hits.length === outcomes.length ? Math.max(...hits.map((o) => o.flaggedAt)) : Infinity,
    degradedMedian:
      degraded.length * 2 > outcomes.length
        ? median(outcomes.map((o) => (o.degradedAt > 0 ? o.degradedAt : Infinity)))
        : Infinity,
    agreement: median(hits.map((o) => o.agreement)),
    agreementDegraded: median(outcomes.filter((o) => o.degradedAt > 0).map((o) => o.agreementDegraded)),
    agreementMissed: median(outcomes.filter((o) => o.flaggedAt === 0).map((o) => o.agreement)),
    enforcingAtJoin: outcomes.filter((o) => o.enforcingAtJoin).length,
    by: hits.reduce<Record<string, number>>(
      (c, o) => ((c[o.firstAlarm || 'unknown'] = (c[o.firstAlarm || 'unknown'] ?? 0) + 1), c),
      {},
    ),
  };
}

const q = (n: number) => (Number.isFinite(n) ? String(n) : 'miss');

function attackGoal(r: AttackRow): string {
  if (!SYNTHETIC_ATTACKS.includes(r.v.attack)) return 'reported only';
  if (r.v.arrival === 'early') return 'reported (flagged in shadow, never enforced)';
  const misses: string[] = [];
  if (r.caught < r.runs) misses.push(`${r.runs - r.caught} of ${r.runs} runs not flagged within ${r.v.budget}`);
  if (r.median > 300) misses.push(Number.isFinite(r.median) ? `median ${r.median} > 300` : 'no median');
  if (r.max > 2000 && r.caught === r.runs) misses.push(`max ${r.max} > 2000`);
  return misses.length ? `MISSED (${misses.join('; ')})` : 'met';
}

export function attackTable(rows: readonly AttackRow[]): string {
  const lines = [
    '| data set | split | attack | real rows mixed in | enforcing when it joined | runs flagged | median q to flag | max q to flag | median q to degrade (enforced) | surrogate agreement at flag (median) | … at degrade | … when never flagged, at budget end | first alarm by | goal |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.v.dataset} | ${splitOf(r.v.dataset).toUpperCase()} | ${r.v.attack} | ${pct(r.v.mix, 0)} | ${r.enforcingAtJoin}/${r.runs} | ${r.caught}/${r.runs} | ${q(r.median)} | ${q(r.max)} | ${q(r.degradedMedian)} | ${pct(r.agreement, 0)} | ${pct(r.agreementDegraded, 0)} | ${pct(r.agreementMissed, 0)} | ${countsText(r.by)} | ${attackGoal(r)} |`,
    );
  }
  return lines.join('\n');
}

/** The goals, judged on the REPORT data sets (and, for reference, on the DEVELOP ones). */
export function goalsTable(benign: readonly RealBenignOutcome[], rows: readonly AttackRow[]): string {
  const lines = [
    '| goal | REPORT data sets | HELDOUT data sets | UNSEEN data sets (final run only) | DEVELOP data sets (reference) |',
    '| --- | --- | --- | --- | --- |',
  ];
  const judge = (split: Split) => {
    const b = benign.filter((o) => splitOf(o.dataset) === split);
    const a = rows.filter(
      (r) => splitOf(r.v.dataset) === split && SYNTHETIC_ATTACKS.includes(r.v.attack) && r.v.arrival === 'live',
    );
    if (b.length === 0) return undefined;
    const users = b.reduce((s, o) => s + o.users, 0);
    const flagged = b.reduce((s, o) => s + o.flagged, 0);
    const degraded = b.reduce((s, o) => s + o.degraded, 0);
    const trips = b.map((o) => o.breakerTrips);
    const tripSum = trips.some((t) => t === undefined) ? undefined : trips.reduce<number>((s, t) => s + t!, 0);
    const runs = a.reduce((s, r) => s + r.runs, 0);
    const caught = a.reduce((s, r) => s + r.caught, 0);
    const badMedian = a.filter((r) => r.median > 300);
    const allHits = a.flatMap((r) => (Number.isFinite(r.max) ? [r.max] : []));
    const p99 = Math.max(...b.map((o) => o.p99us));
    return {
      flagged: `${flagged}/${users} = ${pct(flagged / users, 2)}: ${goal(flagged / users, 0.001, (x) => pct(x, 2))}`,
      degraded: `${degraded}/${users} = ${pct(degraded / users, 2)}: ${goal(degraded / users, 0.0001, (x) => pct(x, 2))}`,
      every: `${caught}/${runs} runs flagged: ${caught === runs ? 'met' : `MISSED (${runs - caught} runs not flagged)`}`,
      median: `${a.length - badMedian.length}/${a.length} attack × mix rows with median ≤ 300: ${
        badMedian.length === 0
          ? 'met'
          : `MISSED (${badMedian.map((r) => `${r.v.dataset} ${r.v.attack} ${pct(r.v.mix, 0)}: ${q(r.median)}`).join('; ')})`
      }`,
      max: `worst max ${allHits.length ? Math.max(...allHits) : '—'}: ${allHits.every((m) => m <= 2000) ? 'met among flagged rows' : 'MISSED'}`,
      breaker: tripSum === undefined ? 'n/a (no breaker)' : `${tripSum} trips: ${tripSum === 0 ? 'met' : 'MISSED'}`,
      p99: `${p99.toFixed(1)} µs: ${goal(p99, 50, (x) => `${x.toFixed(1)} µs`)}`,
    };
  };
  const rep = judge('report');
  const dev = judge('develop');
  const held = judge('heldout');
  const unseen = judge('unseen');
  const cell = (j: ReturnType<typeof judge>, k: keyof NonNullable<ReturnType<typeof judge>>) => (j ? j[k] : 'not run');
  const rowsOut: Array<[string, keyof NonNullable<ReturnType<typeof judge>>]> = [
    ['benign users ever flagged ≤ 0.1%', 'flagged'],
    ['benign users degraded or above ≤ 0.01%', 'degraded'],
    ['synthetic attacks (alone, with real rows) flagged in every run', 'every'],
    ['… at a median ≤ 300 queries', 'median'],
    ['… each within 2,000 queries', 'max'],
    ['breaker never trips on benign traffic', 'breaker'],
    ['p99 ≤ 50 µs per query in-process', 'p99'],
  ];
  for (const [label, k] of rowsOut)
    lines.push(`| ${label} | ${cell(rep, k)} | ${cell(held, k)} | ${cell(unseen, k)} | ${cell(dev, k)} |`);
  return lines.join('\n');
}

export function realHeader(p: RealPlan, seconds: number, workers: number): string {
  return [
    `Real tabular data (${p.quick ? 'QUICK mode: DEVELOP data sets only, smaller populations' : 'full run'}), world seed ${p.worldSeed}: victims trained on a seeded 70% split, the detector configured as an operator would (enforce mode, \`features.centre\`/\`scale\` from the training split, every other setting at its default).`,
    `Per data set ${p.benignUsers} benign users in one interleaved population (patterns: ${PATTERNS.join(', ')}; users start over six hours, sessions of one to eight hours); each attack run is one account joining a population of ${p.attackUsers} benign users six hours after it went live, sending 10 rows every 2 s, ${p.runs('cars')} runs per row on REPORT, HELDOUT and UNSEEN data sets and ${p.runs('penguins')} on DEVELOP ones, budget ${p.budget} queries. DEVELOP data sets may be tuned on; REPORT data sets are only reported, and the goals are judged on them. ${seconds} s on ${workers} worker thread(s), node ${process.version}.`,
  ].join('\n');
}
