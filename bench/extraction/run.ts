import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ATTACKS, type AttackName } from './attacks.js';
import { detectionChart, type Curve } from './chart.js';
import { costAfter, type CostAt } from './cost.js';
import type { AttackVariant, BenignOutcome, Mode } from './evaluate.js';
import type { RealAttackOutcome, RealAttackVariant, RealBenignOutcome } from './real/evaluate-real.js';
import {
  attackRow,
  attackTable as realAttackTable,
  benignTable as realBenignTable,
  goalsTable,
  realHeader,
  realPlan,
  realTasks,
  victimsTable,
} from './real/real-report.js';
import { buildRealWorld } from './real/victims.js';
import type { Task, TaskResult } from './tasks.js';
import { buildWorld } from './world.js';

/**
 * `npm run bench:extraction`: the evaluation of the extraction detectors on the synthetic world
 * (benign users and the protocol's attacks), on real tabular data (bench/extraction/real: victims
 * trained on public data sets, a benign population per model, attacks joining it), their
 * per-query cost, and a run through the real gateway. Thresholds are the library defaults; the
 * world seed below was never used while developing them (development used seed 1).
 *
 * `--quick`: the real-data evaluation on the DEVELOP data sets only, smaller populations, nothing
 * written (about a minute on one core): the loop to iterate on the detector with.
 * `--no-synthetic`, `--no-real`, `--datasets a,b`: parts of the full run. `--attacks a,b`,
 * `--mixes 0.5`, `--arrivals live`: only those attack rows (same seeds as in the full run), beside
 * the benign populations; `--attacks none`: the benign populations alone.
 */
const args = process.argv.slice(2);
// An option this script does not know must not start the full run: that run reads every split,
// UNSEEN sets included, which are to be read only in the final evaluation of a change.
const VALUED = ['seed', 'real-seed', 'users', 'queries', 'instances', 'budget', 'workers', 'deadline-seconds'];
const LISTS = ['datasets', 'attacks', 'mixes', 'arrivals', 'render'];
const FILES = ['save-json'];
const FLAGS = ['quick', 'no-write', 'no-gateway', 'no-synthetic', 'no-real'];
for (let i = 0; i < args.length; i++) {
  const name = args[i]!.startsWith('--') ? args[i]!.slice(2) : undefined;
  if (name !== undefined && [...VALUED, ...LISTS, ...FILES].includes(name)) i++;
  else if (name === undefined || !FLAGS.includes(name)) {
    console.error(
      `bench:extraction: unknown option ${args[i]}\noptions: ${[...FLAGS, ...VALUED.map((v) => `${v} N`), ...LISTS.map((l) => `${l} a,b`), ...FILES.map((f) => `${f} FILE`)].map((o) => `--${o}`).join(' ')}`,
    );
    process.exit(2);
  }
}
const arg = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const SEED = arg('seed', 20261201);
const USERS = arg('users', 1000);
const QUERIES = arg('queries', 10_000);
const INSTANCES = arg('instances', 20);
const BUDGET = arg('budget', 5000);
const WORKERS = Math.max(1, Math.min(arg('workers', 2), availableParallelism()));
const WRITE = !args.includes('--no-write');
const END_TO_END = !args.includes('--no-gateway');
// The full run (15 data sets, live and early attackers) takes about a quarter of an hour on two workers.
const DEADLINE_MS = arg('deadline-seconds', 2400) * 1000;
const QUICK = args.includes('--quick');
const SYNTHETIC_ON = !QUICK && !args.includes('--no-synthetic');
const REAL_ON = !args.includes('--no-real');
const list = (name: string) =>
  args.indexOf(`--${name}`) >= 0 ? args[args.indexOf(`--${name}`) + 1]!.split(',') : undefined;
const datasetsArg = list('datasets');
const attacksArg = list('attacks');
const mixesArg = list('mixes')?.map(Number);
const arrivalsArg = list('arrivals');
// The real data sets' split seed: REPORT data sets were never looked at under any seed while tuning.
const REAL_PLAN = realPlan({
  quick: QUICK,
  worldSeed: arg('real-seed', 20261207),
  ...(datasetsArg ? { datasets: datasetsArg } : {}),
  ...(attacksArg || mixesArg || arrivalsArg
    ? { only: { attacks: attacksArg, mixes: mixesArg, arrivals: arrivalsArg } }
    : {}),
});

const NOISES = [0, 0.05, 0.1, 0.25, 0.5];
const SYNTHETIC: readonly AttackName[] = ['uniform', 'jbda', 'line-search', 'sweep', 'equation-solving'];

function tasks(): Task[] {
  const out: Task[] = REAL_ON ? realTasks(REAL_PLAN) : [];
  if (!SYNTHETIC_ON) return out;
  const seeds = (n: number, base: number) => Array.from({ length: n }, (_, i) => base + i);
  const attack = (key: string, variant: AttackVariant, n: number, base: number) =>
    out.push({ kind: 'attack', worldSeed: SEED, variant, seeds: seeds(n, base), key });
  let base = 1_000_000;
  for (const a of ATTACKS) {
    for (const noise of NOISES)
      attack(
        `${a}|${noise}|1|proxy|0.1`,
        { attack: a, noise, accounts: 1, interval: 0.1, budget: BUDGET, mode: 'proxy' },
        INSTANCES,
        (base += 1000),
      );
    attack(
      `${a}|0|1|ext-authz|0.1`,
      { attack: a, noise: 0, accounts: 1, interval: 0.1, budget: BUDGET, mode: 'ext-authz' },
      INSTANCES,
      (base += 1000),
    );
    attack(
      `${a}|0|1|proxy|1`,
      { attack: a, noise: 0, accounts: 1, interval: 1, budget: BUDGET, mode: 'proxy' },
      Math.ceil(INSTANCES / 2),
      (base += 1000),
    );
  }
  for (const a of ['jbda', 'sweep', 'line-search', 'uniform'] as const) {
    for (const accounts of [2, 8, 64])
      attack(
        `${a}|0|${accounts}|proxy|0.1`,
        { attack: a, noise: 0, accounts, interval: 0.1, budget: 6400, mode: 'proxy' },
        5,
        (base += 1000),
      );
  }
  const chunk = 25;
  for (let u = 0; u < USERS; u += chunk)
    out.push({
      kind: 'benign',
      worldSeed: SEED,
      seeds: seeds(Math.min(chunk, USERS - u), 10_000 + u),
      queries: QUERIES,
      mode: 'proxy',
    });
  const extUsers = Math.ceil(USERS / 5);
  for (let u = 0; u < extUsers; u += chunk)
    out.push({
      kind: 'benign',
      worldSeed: SEED,
      seeds: seeds(Math.min(chunk, extUsers - u), 10_000 + u),
      queries: QUERIES,
      mode: 'ext-authz',
    });
  return out;
}

async function runAll(list: Task[]): Promise<TaskResult[]> {
  const results: TaskResult[] = [];
  const queue = [...list];
  const started = Date.now();
  const workerUrl = new URL('./worker.js', import.meta.url);
  await Promise.all(
    Array.from({ length: WORKERS }, async () => {
      const w = new Worker(fileURLToPath(workerUrl));
      try {
        for (let t = queue.shift(); t; t = queue.shift()) {
          if (Date.now() - started > DEADLINE_MS)
            throw new Error(`evaluation over its ${DEADLINE_MS / 1000} s deadline`);
          const task = t;
          results.push(
            await new Promise<TaskResult>((resolve, reject) => {
              const onError = (err: Error) => reject(err);
              w.once('error', onError);
              w.once('message', (m: TaskResult) => {
                w.off('error', onError);
                resolve(m);
              });
              w.postMessage(task);
            }),
          );
          process.stderr.write('.');
        }
      } finally {
        await w.terminate();
      }
    }),
  );
  process.stderr.write('\n');
  return results;
}

const quantile = (sorted: readonly number[], q: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : NaN;

interface Row {
  readonly v: AttackVariant;
  readonly rate: number;
  readonly median: number;
  readonly p90: number;
  readonly max: number;
  readonly accountsFlagged: number;
  readonly by: string;
  readonly detectedAt: number[];
}

function summarise(r: Extract<TaskResult, { kind: 'attack' }>): Row {
  const at = r.outcomes.map((o) => o.flaggedAt);
  const hits = at.filter((q) => q > 0).sort((a, b) => a - b);
  const by = new Map<string, number>();
  for (const o of r.outcomes) {
    const first = Object.entries(o.detectorAt)
      .filter(([, q]) => q > 0 && q === o.flaggedAt)
      .map(([d]) => d);
    for (const d of first) by.set(d, (by.get(d) ?? 0) + 1);
  }
  const byText =
    [...by.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([d]) => d)
      .join(', ') || '—';
  // For a split attack a "detection" is any account flagged; the accounts column tells how many.
  return {
    v: r.variant,
    rate: hits.length / at.length,
    median:
      hits.length * 2 > at.length
        ? quantile(hits.concat(new Array(at.length - hits.length).fill(Infinity)), 0.5)
        : Infinity,
    p90:
      hits.length * 10 >= at.length * 9
        ? quantile(hits.concat(new Array(at.length - hits.length).fill(Infinity)), 0.9)
        : Infinity,
    max: hits.length === at.length ? hits[hits.length - 1]! : Infinity,
    accountsFlagged: r.outcomes.reduce((a, o) => a + o.accountsFlagged, 0) / r.outcomes.length,
    by: byText,
    detectedAt: at,
  };
}

const fmt = (n: number) => (Number.isFinite(n) ? String(n) : 'miss');
const pct = (x: number) => `${(100 * x).toFixed(x > 0 && x < 0.01 ? 2 : 0)}%`;

function attackTable(rows: readonly Row[]): string {
  const lines = [
    '| attack | noise σ | accounts | door | pace q/s | detected | median q | p90 q | max q | accounts flagged | first alarm by | goal |',
    '| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |',
  ];
  for (const r of rows) {
    const synthetic = SYNTHETIC.includes(r.v.attack) && r.v.noise === 0 && r.v.accounts === 1;
    const goal = synthetic ? (r.median <= 300 && r.max <= 2000 ? 'met' : 'MISSED') : '';
    lines.push(
      `| ${r.v.attack} | ${r.v.noise} | ${r.v.accounts} | ${r.v.mode} | ${1 / r.v.interval} | ${pct(r.rate)} | ${fmt(r.median)} | ${fmt(r.p90)} | ${fmt(r.max)} | ${pct(r.accountsFlagged)} | ${r.by} | ${goal} |`,
    );
  }
  return lines.join('\n');
}

function benignTable(b: Map<Mode, BenignOutcome>): string {
  const lines = [
    '| door | users | queries | users ever flagged | alarmed queries per 10⁶ | flagged by | goal (≤ 0.1% users) |',
    '| --- | ---: | ---: | ---: | ---: | --- | --- |',
  ];
  for (const [mode, o] of b) {
    const share = o.flaggedUsers / o.users;
    lines.push(
      `| ${mode} | ${o.users} | ${o.queries} | ${o.flaggedUsers} (${pct(share)}) | ${((o.alarmedQueries / o.queries) * 1e6).toFixed(1)} | ${JSON.stringify(o.flaggedBy)} | ${share <= 0.001 ? 'met' : 'MISSED'} |`,
    );
  }
  return lines.join('\n');
}

function costTable(c: readonly CostAt[]): string {
  const lines = [
    '| prior queries | µs/query p50 | µs/query p99 | novelty test, mean µs/row | state bytes/user | goal (p99 ≤ 50 µs) |',
    '| ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const x of c)
    lines.push(
      `| ${x.prior} | ${x.p50us.toFixed(2)} | ${x.p99us.toFixed(2)} | ${x.noveltyUs.toFixed(2)} | ${x.stateBytes} | ${x.p99us <= 50 ? 'met' : 'MISSED'} |`,
    );
  return lines.join('\n');
}

function realSection(results: readonly TaskResult[], seconds: number): string {
  const benign: RealBenignOutcome[] = [];
  const attacks = new Map<string, { variant: RealAttackVariant; outcomes: RealAttackOutcome[] }>();
  for (const r of results) {
    if (r.kind === 'real-benign') benign.push(r.outcome);
    else if (r.kind === 'real-attack') attacks.set(r.key, { variant: r.variant, outcomes: r.outcomes });
  }
  const order = realTasks(REAL_PLAN).flatMap((t) => (t.kind === 'real-attack' ? [t.key] : []));
  const rows = order.map((k) => attackRow(attacks.get(k)!.variant, attacks.get(k)!.outcomes));
  const byDataset = (a: RealBenignOutcome, b: RealBenignOutcome) =>
    REAL_PLAN.datasets.indexOf(a.dataset) - REAL_PLAN.datasets.indexOf(b.dataset);
  benign.sort(byDataset);
  const worlds = REAL_PLAN.datasets.map((d) => buildRealWorld(d, REAL_PLAN.worldSeed));
  return [
    realHeader(REAL_PLAN, seconds, RENDER ? WORKERS * RENDER.length : WORKERS),
    '',
    '#### Goals',
    '',
    goalsTable(benign, rows),
    '',
    '#### Victims',
    '',
    victimsTable(worlds),
    '',
    '#### Benign population',
    '',
    realBenignTable(benign),
    '',
    '#### Attacks',
    '',
    realAttackTable(rows.filter((r) => r.v.arrival === 'live')),
    '',
    '#### Attackers who arrive before the calibration',
    '',
    'The same attacks from an account that arrives ten minutes after the population went live: the model has no calibration and runs in shadow, so only the detectors trusted at their published thresholds (`calibration.uncalibratedDetectors`) flag, and nothing is enforced. Its population is the same size; the attack ends within its budget, before any calibration.',
    '',
    realAttackTable(rows.filter((r) => r.v.arrival === 'early')),
  ].join('\n');
}

// Results of separate runs (e.g. one process per data set, `--save-json`) rendered as one (`--render a.json,b.json`).
const SAVE_JSON = args.indexOf('--save-json') >= 0 ? args[args.indexOf('--save-json') + 1] : undefined;
const RENDER = args.indexOf('--render') >= 0 ? args[args.indexOf('--render') + 1]!.split(',') : undefined;
const keepNonFinite = (_: string, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v);
const readNonFinite = (_: string, v: unknown) =>
  v === 'NaN' ? Number.NaN : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v;

async function main(): Promise<void> {
  const t0 = Date.now();
  let results: TaskResult[];
  let seconds: number;
  if (RENDER) {
    const saved = RENDER.map(
      (f) => JSON.parse(readFileSync(f, 'utf8'), readNonFinite) as { seconds: number; results: TaskResult[] },
    );
    results = saved.flatMap((x) => x.results);
    // The processes ran side by side: the wall time is the longest one's.
    seconds = Math.max(...saved.map((x) => x.seconds));
  } else {
    results = await runAll(tasks());
    seconds = Math.round((Date.now() - t0) / 1000);
    if (SAVE_JSON) writeFileSync(SAVE_JSON, JSON.stringify({ seconds, results }, keepNonFinite));
  }
  const real = REAL_ON ? `### Real data\n\n${realSection(results, seconds)}` : '';
  if (SYNTHETIC_ON) await synthetic(results, seconds);
  if (real) process.stdout.write(`${real}\n`);
  // A run of some data sets only, or the quick one, is not the table of record.
  if (real && WRITE && !QUICK && !datasetsArg) writeBlock(REAL_BEGIN, REAL_END, real);
}

async function synthetic(results: readonly TaskResult[], seconds: number): Promise<void> {
  const benign = new Map<Mode, BenignOutcome>();
  for (const r of results) {
    if (r.kind !== 'benign') continue;
    const prev = benign.get(r.mode);
    const o = r.outcome;
    const merged: Record<string, number> = { ...(prev?.flaggedBy ?? {}) };
    for (const [d, n] of Object.entries(o.flaggedBy)) merged[d] = (merged[d] ?? 0) + n;
    benign.set(
      r.mode,
      prev
        ? {
            users: prev.users + o.users,
            flaggedUsers: prev.flaggedUsers + o.flaggedUsers,
            queries: prev.queries + o.queries,
            alarmedQueries: prev.alarmedQueries + o.alarmedQueries,
            flaggedBy: merged,
          }
        : o,
    );
  }
  const order = tasks().flatMap((t) => (t.kind === 'attack' ? [t.key] : []));
  const rows = order.map((k) =>
    summarise(results.find((r) => r.kind === 'attack' && r.key === k) as Extract<TaskResult, { kind: 'attack' }>),
  );
  const world = buildWorld(SEED);
  const cost = [costAfter(world, 100, 20_000), costAfter(world, 100_000, 20_000)];
  let e2e = '';
  if (END_TO_END) {
    const { endToEnd } = await import('./end-to-end.js');
    e2e = await endToEnd();
  }
  const header = `World seed ${SEED} (thresholds were developed on seed 1 and never fitted to this one). Each account is scored by the detectors and the ladder directly (\`AccountGuard\`), without a model's population calibration or breaker: the published thresholds (floors) at work; the real-data tables below drive the model guard as an operator configures it. ${USERS} benign users × ${QUERIES} queries behind the proxy (answers seen), ${Math.ceil(USERS / 5)} of them again through an ext-authz door (inputs only); ${INSTANCES} attacker accounts per attack row (${Math.ceil(INSTANCES / 2)} for the slow rows, 5 runs for Sybil splits), budget ${BUDGET} queries per account (6,400 in total for Sybil splits); ${seconds} s on ${WORKERS} worker threads, node ${process.version}.`;
  const text = [
    header,
    '',
    '### Attacks',
    '',
    attackTable(rows),
    '',
    '### Benign users',
    '',
    benignTable(benign),
    '',
    '### Cost (one thread, all detectors and the ladder, in-process)',
    '',
    costTable(cost),
    e2e ? `\n### Through the real gateway\n\n${e2e}` : '',
  ].join('\n');
  process.stdout.write(text + '\n');
  if (!WRITE) return;
  const base = (SYNTHETIC as readonly string[]).concat(['knockoff-shifted', 'knockoff-same']);
  const curves: Curve[] = base.map((a) => ({
    label: a,
    detectedAt: rows.find(
      (r) => r.v.attack === a && r.v.noise === 0 && r.v.accounts === 1 && r.v.mode === 'proxy' && r.v.interval === 0.1,
    )!.detectedAt,
  }));
  const chartPath = new URL('../../../bench/extraction/detection.svg', import.meta.url);
  writeFileSync(
    chartPath,
    detectionChart(
      `Accounts flagged against queries sent (world seed ${SEED}, one account per attacker, no noise)`,
      curves,
      BUDGET,
    ),
  );
  writeBlock(BEGIN, END, `${text}\n\n![Accounts flagged against queries sent](extraction/detection.svg)`);
}

const BEGIN = '<!-- extraction:begin (written by npm run bench:extraction) -->';
const END = '<!-- extraction:end -->';
const REAL_BEGIN = '<!-- extraction-real:begin (written by npm run bench:extraction) -->';
const REAL_END = '<!-- extraction-real:end -->';

/** Replaces one generated block of bench/RESULTS.md (appended to the extraction section when new). */
function writeBlock(begin: string, end: string, text: string): void {
  const path = new URL('../../../bench/RESULTS.md', import.meta.url);
  const current = readFileSync(path, 'utf8');
  const section = `${begin}\n${text}\n${end}`;
  const i = current.indexOf(begin);
  const j = current.indexOf(end);
  let next: string;
  if (i >= 0 && j > i) next = current.slice(0, i) + section + current.slice(j + end.length);
  else {
    const after = current.indexOf(END);
    next =
      after >= 0
        ? `${current.slice(0, after + END.length)}\n\n${section}${current.slice(after + END.length)}`
        : `${current.trimEnd()}\n\n## Extraction detection (issues 13 and 20)\n\n${section}\n`;
  }
  writeFileSync(path, next);
}

await main();
