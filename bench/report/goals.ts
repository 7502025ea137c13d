// The goals of the performance issue, each computed from figures of the same run.
import { findRow, type Row } from './aggregate.js';
import type { MemoryPhaseResult } from '../memory-phase.js';
import type { ScoredRowCost } from '../extraction/cost.js';

export type GoalStatus = 'met' | 'missed' | 'not measured';

export interface Goal {
  readonly goal: string;
  readonly measured: string;
  readonly status: GoalStatus;
}

export interface GoalInputs {
  readonly rows: readonly Row[];
  /** The generator whose figures the goals use (wrk when installed). */
  readonly generator: string;
  readonly everythingOn: string;
  readonly memory: MemoryPhaseResult | undefined;
  readonly rssBoundBytes: number;
  /** Largest ratio of CPU per request with 10⁵ prior requests over 10² still counted as "not growing with history". */
  readonly historyTolerance: number;
  /** The extraction guard's CPU per scored row at 4–16 features (bench/extraction/cost.ts), when measured. */
  readonly extractionCost?: readonly ScoredRowCost[] | undefined;
}

const fmt = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
const signed = (x: number, d: number) => (x >= 0 ? `+${fmt(x, d)}` : `−${fmt(-x, d)}`);
const mb = (b: number) => `${(b / 1048576).toFixed(0)} MB`;

function compare(
  name: string,
  a: Row | undefined,
  b: Row | undefined,
  measure: (a: Row, b: Row) => { text: string; ok: boolean },
): Goal {
  if (!a || !b)
    return {
      goal: name,
      measured: `not measured (missing ${!a ? 'the gateway row' : 'the baseline row'})`,
      status: 'not measured',
    };
  const { text, ok } = measure(a, b);
  return { goal: name, measured: text, status: ok ? 'met' : 'missed' };
}

export function evaluateGoals(i: GoalInputs): Goal[] {
  const row = (scenario: Row['scenario'], id: string, gen = i.generator) => findRow(i.rows, scenario, id, gen);
  const all = (scenario: Row['scenario'], gen?: string) => row(scenario, i.everythingOn, gen);
  const goals: Goal[] = [
    compare(
      '1a. everything on: less CPU per request than fastify + reply-from + jose (cache)',
      all('c50'),
      row('c50', 'reply-from-jose'),
      (a, b) => {
        const r = a.cpuMicrosPerRequest / b.cpuMicrosPerRequest;
        return {
          text: `${fmt(a.cpuMicrosPerRequest, 0)} vs ${fmt(b.cpuMicrosPerRequest, 0)} µs/req = ${fmt(r)}× (goal < 1)`,
          ok: r < 1,
        };
      },
    ),
    compare(
      "1b. everything on: at most 1.5× the Node floor's CPU per request",
      all('c50'),
      row('c50', 'node-floor'),
      (a, b) => {
        const r = a.cpuMicrosPerRequest / b.cpuMicrosPerRequest;
        return {
          text: `${fmt(a.cpuMicrosPerRequest, 0)} vs ${fmt(b.cpuMicrosPerRequest, 0)} µs/req = ${fmt(r)}× (goal ≤ 1.5)`,
          ok: r <= 1.5,
        };
      },
    ),
    compare(
      '2. everything on: more req/s than @fastify/http-proxy',
      all('c50'),
      row('c50', 'fastify-http-proxy'),
      (a, b) => {
        const r = a.rps / b.rps;
        return { text: `${fmt(a.rps, 0)} vs ${fmt(b.rps, 0)} req/s = ${fmt(r)}× (goal > 1)`, ok: r > 1 };
      },
    ),
    compare(
      "3. at half the gateway's saturation rate, p99 at most 2 ms above the predictor's",
      all('half-rate', 'paced (undici)'),
      row('half-rate', 'direct', 'paced (undici)'),
      (a, b) => {
        const d = a.p99 - b.p99;
        return {
          text: `p99 ${fmt(a.p99)} vs ${fmt(b.p99)} ms at ${fmt(a.rps, 0)} req/s: ${signed(d, 2)} ms (goal ≤ +2)`,
          ok: d <= 2,
        };
      },
    ),
    compare('4. at -c1, at most 0.15 ms added at p50 over the predictor', all('c1'), row('c1', 'direct'), (a, b) => {
      const d = a.p50 - b.p50;
      return { text: `p50 ${fmt(a.p50, 3)} vs ${fmt(b.p50, 3)} ms: ${signed(d, 3)} ms (goal ≤ +0.15)`, ok: d <= 0.15 };
    }),
    ...sharedLimitsGoals(row, i.everythingOn),
  ];
  const m = i.memory;
  goals.push(
    m
      ? {
          goal: `5. ${m.users.requests.toLocaleString('en-US')} distinct users (${m.config}): RSS under ${mb(i.rssBoundBytes)}`,
          measured: `RSS ${mb(m.rssBeforeBytes)} before, ${mb(m.rssAfterBytes)} after (peak ${mb(m.peakRssBytes)}), ${mb(m.rssAfterGcBytes)} after a full GC${m.users.cutShort ? ' (cut short by the time bound)' : ''}`,
          status: m.rssAfterBytes <= i.rssBoundBytes && !m.users.cutShort ? 'met' : 'missed',
        }
      : {
          goal: '5. distinct users: RSS under the bound',
          measured: 'not measured (memory phase skipped)',
          status: 'not measured',
        },
  );
  const rows1 = all('c50');
  const rows256 = all('rows256');
  const direct1 = row('c50', 'direct');
  const direct256 = row('rows256', 'direct');
  const rowsText =
    rows1 && rows256 && direct1 && direct256
      ? `1 → 256 rows: gateway ${fmt(rows1.cpuMicrosPerRequest, 0)} → ${fmt(rows256.cpuMicrosPerRequest, 0)} µs/req (${fmt(rows256.cpuMicrosPerRequest / rows1.cpuMicrosPerRequest)}×), predictor ${fmt(direct1.cpuMicrosPerRequest, 0)} → ${fmt(direct256.cpuMicrosPerRequest, 0)} µs/req (${fmt(direct256.cpuMicrosPerRequest / direct1.cpuMicrosPerRequest)}×)`
      : '1 vs 256 rows: not measured';
  const historyRatio = m ? m.manyPrior.cpuMicrosPerRequest / m.fewPrior.cpuMicrosPerRequest : Number.NaN;
  const historyText = m
    ? `${m.fewPrior.prior.toLocaleString('en-US')} vs ${m.manyPrior.prior.toLocaleString('en-US')} prior requests: ${fmt(m.fewPrior.cpuMicrosPerRequest, 0)} vs ${fmt(m.manyPrior.cpuMicrosPerRequest, 0)} µs/req (${fmt(historyRatio)}×, counted as flat within ${fmt(i.historyTolerance)}×)`
    : 'history: not measured';
  goals.push({
    goal: '6. cost grows with work, not with history (1 vs 256 rows; 10² vs 10⁵ prior requests per user)',
    measured: `${rowsText}; ${historyText}`,
    status: !m || !rows256 ? 'not measured' : historyRatio <= i.historyTolerance ? 'met' : 'missed',
  });
  goals.push(extractionCostGoal(i.extractionCost));
  return goals;
}

/** Issue 25, goal 3: extraction enforced costs at most 3 µs of CPU per scored row (each of 4, 8, 13, 16 features), p99 ≤ 50 µs. */
function extractionCostGoal(costs: readonly ScoredRowCost[] | undefined): Goal {
  const goal = '7. extraction enforced: at most 3 µs of CPU per scored row at 4–16 features, p99 per query ≤ 50 µs';
  if (!costs?.length)
    return { goal, measured: 'not measured (partial run or --skip-extraction-cost)', status: 'not measured' };
  const perRow = costs.map((c) => `${c.features}: ${fmt(c.cpuUsPerRow)}`).join(', ');
  const p99 = Math.max(...costs.map((c) => c.p99us));
  return {
    goal,
    measured: `CPU µs per scored row by features ${perRow}; p99 per query at most ${fmt(p99, 1)} µs`,
    status: costs.every((c) => c.cpuUsPerRow <= 3) && p99 <= 50 ? 'met' : 'missed',
  };
}

/** Issue 25, goal 1: limits on Redis cost what limits in memory cost (same run, everything on either way). */
function sharedLimitsGoals(
  row: (scenario: Row['scenario'], id: string, gen?: string) => Row | undefined,
  everythingOn: string,
): Goal[] {
  const redisId = 'gw-all-redis';
  return [
    compare(
      '1c. everything on, limits on Redis: at most 1.2× the CPU per request of limits in memory',
      row('c50', redisId),
      row('c50', everythingOn),
      (a, b) => {
        const r = a.cpuMicrosPerRequest / b.cpuMicrosPerRequest;
        return {
          text: `${fmt(a.cpuMicrosPerRequest, 0)} vs ${fmt(b.cpuMicrosPerRequest, 0)} µs/req = ${fmt(r)}× (goal ≤ 1.2)`,
          ok: r <= 1.2,
        };
      },
    ),
    compare(
      '1d. at -c1, limits on Redis add at most 0.05 ms at p50 over limits in memory',
      row('c1', redisId),
      row('c1', everythingOn),
      (a, b) => {
        const d = a.p50 - b.p50;
        return {
          text: `p50 ${fmt(a.p50, 3)} vs ${fmt(b.p50, 3)} ms: ${signed(d, 3)} ms (goal ≤ +0.05)`,
          ok: d <= 0.05,
        };
      },
    ),
    compare(
      "1e. limits on Redis, at half the gateway's saturation rate: p99 at most 2 ms above the predictor's",
      row('half-rate', redisId, 'paced (undici)'),
      row('half-rate', 'direct', 'paced (undici)'),
      (a, b) => {
        const d = a.p99 - b.p99;
        return { text: `p99 ${fmt(a.p99)} vs ${fmt(b.p99)} ms: ${signed(d, 2)} ms (goal ≤ +2)`, ok: d <= 2 };
      },
    ),
  ];
}
