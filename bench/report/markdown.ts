// The run's tables in Markdown, printed and written into bench/RESULTS.md.
import { findRow, type Row } from './aggregate.js';
import type { Goal } from './goals.js';
import type { MemoryPhaseResult } from '../memory-phase.js';
import type { Target } from '../targets/target.js';

const n0 = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '' : x.toFixed(0));
const n2 = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '' : x.toFixed(2));
const n3 = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '' : x.toFixed(3));
const spread = (r: Row | undefined) =>
  r && r.rounds > 1 && r.rps > 0 ? `±${(((r.rpsMax - r.rpsMin) / 2 / r.rps) * 100).toFixed(0)}%` : '';
const signed = (x: number, f: (x: number) => string) => (x >= 0 ? `+${f(x)}` : `−${f(-x)}`);
const mb = (b: number | undefined) => (b === undefined ? '' : (b / 1048576).toFixed(0));

export interface TableInputs {
  readonly rows: readonly Row[];
  readonly targets: readonly Target[];
  readonly generators: readonly string[];
  readonly rssBytes: ReadonlyMap<string, number>;
  readonly skipped: ReadonlyMap<string, string>;
}

function table(head: string[], align: string[], body: string[][]): string {
  return [`| ${head.join(' | ')} |`, `| ${align.join(' | ')} |`, ...body.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

export function saturationTable(t: TableInputs): string {
  const head = ['target'];
  const align = ['---'];
  for (const g of t.generators) {
    head.push(`req/s (${g})`, 'round spread', 'p50 ms', 'p99 ms', 'CPU µs/req');
    align.push('---:', '---:', '---:', '---:', '---:');
  }
  head.push('RSS MB', 'non-2xx / errors');
  align.push('---:', '---:');
  const body = t.targets.map((target) => {
    const skip = t.skipped.get(target.id);
    if (skip) return [target.name, ...t.generators.flatMap(() => ['', '', '', '', '']), '', skip];
    const cells = [target.name];
    let bad = 0;
    for (const g of t.generators) {
      const r = findRow(t.rows, 'c50', target.id, g);
      cells.push(n0(r?.rps), spread(r), n2(r?.p50), n2(r?.p99), n0(r?.cpuMicrosPerRequest));
      bad += (r?.non2xx ?? 0) + (r?.errors ?? 0);
    }
    cells.push(mb(t.rssBytes.get(target.id)), String(bad));
    return cells;
  });
  return table(head, align, body);
}

export function c1Table(t: TableInputs, generator: string): string {
  const direct = findRow(t.rows, 'c1', 'direct', generator);
  const body = t.targets
    .filter((x) => !t.skipped.has(x.id))
    .map((target) => {
      const r = findRow(t.rows, 'c1', target.id, generator);
      const add = r && direct && target.id !== 'direct' ? signed(r.p50 - direct.p50, n3) : '';
      return [target.name, n3(r?.p50), n3(r?.p99), add, n0(r?.rps), n0(r?.cpuMicrosPerRequest)];
    });
  return table(
    ['target', 'p50 ms', 'p99 ms', 'p50 added over the predictor, ms', 'req/s', 'CPU µs/req'],
    ['---', '---:', '---:', '---:', '---:', '---:'],
    body,
  );
}

export function rowsTable(t: TableInputs, generator: string): string {
  const body = t.targets
    .filter((x) => findRow(t.rows, 'rows256', x.id, generator))
    .map((target) => {
      const one = findRow(t.rows, 'c50', target.id, generator);
      const many = findRow(t.rows, 'rows256', target.id, generator);
      const ratio = one && many ? `${(many.cpuMicrosPerRequest / one.cpuMicrosPerRequest).toFixed(2)}×` : '';
      return [
        target.name,
        n0(one?.cpuMicrosPerRequest),
        n0(many?.cpuMicrosPerRequest),
        ratio,
        n0(one?.rps),
        n0(many?.rps),
        n2(many?.p99),
      ];
    });
  return table(
    [
      'target',
      'CPU µs/req, 1 row',
      'CPU µs/req, 256 rows',
      '256 / 1',
      'req/s, 1 row',
      'req/s, 256 rows',
      'p99 ms, 256 rows',
    ],
    ['---', '---:', '---:', '---:', '---:', '---:', '---:'],
    body,
  );
}

export function halfRateTable(t: TableInputs): string {
  const direct = findRow(t.rows, 'half-rate', 'direct');
  // The Node floor at the same offered rate tells what a bare Node proxy costs in tail latency on
  // this host (the load generator, predictor and proxy share its cores), apart from the gateway.
  const floor = findRow(t.rows, 'half-rate', 'node-floor');
  const body = t.targets
    .filter((x) => findRow(t.rows, 'half-rate', x.id))
    .map((target) => {
      const r = findRow(t.rows, 'half-rate', target.id)!;
      const add = direct && target.id !== 'direct' ? signed(r.p99 - direct.p99, n2) : '';
      const overFloor =
        floor && target.id !== 'direct' && target.id !== 'node-floor' ? signed(r.p99 - floor.p99, n2) : '';
      return [
        target.name,
        n0(r.rps),
        n3(r.p50),
        n2(r.p99),
        add,
        overFloor,
        n0(r.cpuMicrosPerRequest),
        String(r.non2xx + r.errors),
      ];
    });
  return table(
    [
      'target',
      'req/s (offered = achieved)',
      'p50 ms',
      'p99 ms',
      'p99 added over the predictor, ms',
      'p99 added over the Node floor, ms',
      'CPU µs/req',
      'non-2xx / errors',
    ],
    ['---', '---:', '---:', '---:', '---:', '---:', '---:', '---:'],
    body,
  );
}

/** The users step without a limit beside the same step inside a memory cgroup (the pod's limit), then the history rows. */
export function memoryTable(m: MemoryPhaseResult, limited?: MemoryPhaseResult, limitedMissing?: string): string {
  const cg = limited?.cgroup;
  const pair = (f: (r: MemoryPhaseResult) => string, missing = limitedMissing ?? '') => [
    f(m),
    limited ? f(limited) : missing,
  ];
  const sent = (r: MemoryPhaseResult) =>
    `${r.users.requests.toLocaleString('en-US')} in ${r.users.seconds.toFixed(1)} s (${r.users.non2xx} non-2xx, ${r.users.errors} errors${r.users.cutShort ? ', cut short' : ''})`;
  const body = [
    ['distinct users sent', ...pair(sent), m.config],
    [
      'gateway Node flags',
      ...pair((r) => (r.nodeFlags.length ? r.nodeFlags.map((f) => `\`${f}\``).join(' ') : 'none')),
      "the limited run uses the container image's NODE_OPTIONS (Dockerfile)",
    ],
    [
      'CPU µs/req of those requests',
      ...pair((r) => n0(r.usersCpuMicrosPerRequest)),
      'every request a new user: token verified, limit counters, extraction account created',
    ],
    [
      'p50 / p99 of those requests, ms',
      ...pair((r) => `${n2(r.users.p50)} / ${n2(r.users.p99)}`),
      'closed loop at the bench connections: queueing included',
    ],
    [
      'RSS before / after / peak, MB',
      ...pair((r) => `${mb(r.rssBeforeBytes)} / ${mb(r.rssAfterBytes)} / ${mb(r.peakRssBytes)}`),
      'before = after a 10,000-request warm-up of 100 users',
    ],
    [
      'cgroup peak charge / limit hits / OOM kills',
      '',
      cg ? `${mb(cg.peakBytes)} MB / ${cg.limitHits} / ${cg.oomKills}` : (limitedMissing ?? ''),
      cg
        ? `cgroup v${cg.version}, limit ${mb(cg.limitBytes)} MiB; the charge counts page cache too; a limit hit is reclaim, not a kill`
        : '',
    ],
    [
      'V8 heap limit / young generation, MB',
      ...pair((r) => `${mb(r.heapLimitBytes)} / ${mb(r.youngBytes)}`),
      'Node sizes the old generation from the cgroup limit at start-up; the young generation follows --max-semi-space-size',
    ],
    [
      'after a full GC: RSS / V8 heap in use, MB',
      ...pair((r) => `${mb(r.rssAfterGcBytes)} / ${mb(r.heapAfterGcBytes)}`),
      'the heap in use is what stays live (per-user state included)',
    ],
  ];
  if (m.fewPrior && m.manyPrior)
    body.push(
      [
        `CPU µs/req, 20 users with ≈${m.fewPrior.prior} prior requests each`,
        n0(m.fewPrior.cpuMicrosPerRequest),
        '',
        `${m.fewPrior.window.requests} requests measured, after the users (same heap), alternating with the next row`,
      ],
      [
        `CPU µs/req, one user with ${m.manyPrior.prior.toLocaleString('en-US')} prior requests`,
        n0(m.manyPrior.cpuMicrosPerRequest),
        '',
        `${m.manyPrior.window.requests} requests measured; history ${m.manyPrior.history.seconds.toFixed(1)} s, ${m.manyPrior.history.non2xx} non-2xx`,
      ],
    );
  const limitHead = cg ? `inside ${mb(cg.limitBytes)} MiB` : 'inside a memory limit';
  return table(['memory and history', 'no limit', limitHead, 'notes'], ['---', '---:', '---:', '---'], body);
}

export function goalsTable(goals: readonly Goal[]): string {
  return table(
    ['goal', 'measured in this run', 'status'],
    ['---', '---', '---'],
    goals.map((g) => [
      g.goal,
      g.measured,
      g.status === 'met' ? '**met**' : g.status === 'missed' ? '**missed**' : g.status,
    ]),
  );
}
