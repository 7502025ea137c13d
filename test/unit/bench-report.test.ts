// The bench's arithmetic: what it folds, compares and writes must be right for its tables to mean anything.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { aggregate, median, type Sample } from '../../bench/report/aggregate.js';
import { evaluateGoals } from '../../bench/report/goals.js';
import { BEGIN, END, replaceSection } from '../../bench/report/results-file.js';
import { barChartSvg } from '../../bench/report/chart-svg.js';
import { LatencyRecorder, percentile } from '../../bench/load/latency-stats.js';
import type { LoadResult } from '../../bench/load/bench-call.js';

const load = (over: Partial<LoadResult>): LoadResult => ({
  generator: 'wrk',
  requests: 1000,
  seconds: 1,
  rps: 1000,
  p50: 1,
  p99: 2,
  non2xx: 0,
  errors: 0,
  ...over,
});
const sample = (
  targetId: string,
  round: number,
  over: Partial<LoadResult>,
  cpuMicros: number,
  scenario: Sample['scenario'] = 'c50',
): Sample => ({
  scenario,
  targetId,
  round,
  result: load(over),
  cpuMicros,
});

describe('bench aggregation', () => {
  it('takes the median of an even number of rounds as the mean of the middle two', () => {
    assert.equal(median([4, 1, 3, 2]), 2.5);
  });

  it('pools CPU over rounds as total CPU over total requests, not a mean of per-round ratios', () => {
    const [row] = aggregate([
      sample('gw', 0, { requests: 1000 }, 100_000),
      sample('gw', 1, { requests: 3000 }, 100_000),
    ]);
    assert.equal(row!.cpuMicrosPerRequest, 50);
  });

  it('keeps the rounds of each generator apart and reports the spread of req/s', () => {
    const rows = aggregate([
      sample('gw', 0, { rps: 900 }, 1),
      sample('gw', 1, { rps: 1100 }, 1),
      sample('gw', 0, { generator: 'autocannon', rps: 500 }, 1),
    ]);
    const wrk = rows.find((r) => r.generator === 'wrk')!;
    assert.equal(rows.length, 2);
    assert.deepEqual([wrk.rps, wrk.rpsMin, wrk.rpsMax, wrk.rounds], [1000, 900, 1100, 2]);
  });

  it('picks nearest-rank percentiles from recorded latencies', () => {
    const r = new LatencyRecorder(100);
    for (let i = 100; i >= 1; i--) r.record(i);
    const sorted = r.sorted();
    assert.deepEqual([percentile(sorted, 50), percentile(sorted, 99), percentile(sorted, 100)], [50, 99, 100]);
  });
});

describe('bench goals', () => {
  const rows = aggregate([
    sample('gw-all', 0, { rps: 3000 }, 200 * 1000),
    sample('reply-from-jose', 0, { rps: 5000 }, 100 * 1000),
    sample('node-floor', 0, { rps: 9000 }, 150 * 1000),
    sample('fastify-http-proxy', 0, { rps: 2000 }, 300 * 1000),
  ]);
  const goals = evaluateGoals({
    rows,
    generator: 'wrk',
    everythingOn: 'gw-all',
    memory: undefined,
    historyTolerance: 1.25,
  });
  const status = (prefix: string) => goals.find((g) => g.goal.startsWith(prefix))!;

  it('marks a CPU goal missed with the ratio it measured', () => {
    assert.equal(status('1a.').status, 'missed');
    assert.match(status('1a.').measured, /200 vs 100 µs\/req = 2\.00×/);
  });

  it('marks the Node-floor goal met at or under 1.5×', () => {
    assert.equal(status('1b.').status, 'met');
  });

  it('marks the throughput goal met when the gateway serves more req/s than @fastify/http-proxy', () => {
    assert.equal(status('2.').status, 'met');
  });

  it('marks the syscalls goal missed when the gateway makes more calls per request than the floor', () => {
    const profile = (targetId: string, totalCalls: number) => ({
      targetId,
      connections: 1,
      requests: 1000,
      counts: [{ syscall: 'read', calls: totalCalls, errors: 0 }],
      totalCalls,
    });
    const withSyscalls = evaluateGoals({
      rows,
      generator: 'wrk',
      everythingOn: 'gw-all',
      memory: undefined,
      historyTolerance: 1.25,
      syscalls: { profiles: [profile('node-floor', 6800), profile('gw-all', 7800)], failures: [] },
    }).find((g) => g.goal.startsWith('8.'))!;
    assert.equal(withSyscalls.status, 'missed');
    assert.match(withSyscalls.measured, /-c1: 7\.80 vs 6\.80 \(floor\); wake-ups and futex 0\.00 vs 0\.00/);
  });

  it('states what the bare Node floor adds to the tail at the same half rate beside the tail goal', () => {
    const paced = (targetId: string, p99: number) =>
      sample(targetId, 0, { generator: 'paced (undici)', p99 }, 1000, 'half-rate');
    const tail = evaluateGoals({
      rows: aggregate([paced('direct', 2), paced('node-floor', 7.5), paced('gw-all', 9)]),
      generator: 'wrk',
      everythingOn: 'gw-all',
      memory: undefined,
      historyTolerance: 1.25,
    }).find((g) => g.goal.startsWith('3.'))!;
    assert.equal(tail.status, 'missed');
    assert.match(tail.measured, /\+7\.00 ms \(goal ≤ \+2\); the Node floor at the same rate: \+5\.50 ms/);
  });

  it('says "not measured" instead of met or missed when a row is missing', () => {
    assert.equal(status('3.').status, 'not measured');
    assert.equal(status('5.').status, 'not measured');
  });
});

describe('bench goals for limits on Redis', () => {
  const goalsFor = (redisCpu: number, redisP50: number) => {
    const rows = aggregate([
      sample('gw-all', 0, {}, 200 * 1000),
      sample('gw-all-redis', 0, {}, redisCpu * 1000),
      sample('gw-all', 0, { p50: 0.5 }, 200 * 1000, 'c1'),
      sample('gw-all-redis', 0, { p50: redisP50 }, 200 * 1000, 'c1'),
    ]);
    const goals = evaluateGoals({
      rows,
      generator: 'wrk',
      everythingOn: 'gw-all',
      memory: undefined,
      historyTolerance: 1.25,
    });
    return (prefix: string) => goals.find((g) => g.goal.startsWith(prefix))!;
  };

  it('compares the Redis row with the memory row of the same run: met at 1.2×, missed above', () => {
    assert.equal(goalsFor(240, 0.5)('1c.').status, 'met');
    const over = goalsFor(250, 0.5)('1c.');
    assert.equal(over.status, 'missed');
    assert.match(over.measured, /250 vs 200 µs\/req = 1\.25×/);
  });

  it('allows the Redis row at most 0.05 ms more at -c1 p50 than the memory row', () => {
    assert.equal(goalsFor(200, 0.54)('1d.').status, 'met');
    assert.equal(goalsFor(200, 0.56)('1d.').status, 'missed');
  });
});

describe('bench results file', () => {
  const doc = '# Benchmark results\n\nIntro.\n\n## Model contracts\n\nTheirs.\n';

  it('inserts its section before the first other section on the first run', () => {
    const out = replaceSection(doc, '## Peers\n\nmine');
    assert.ok(out.indexOf(BEGIN) > out.indexOf('Intro.'));
    assert.ok(out.indexOf(END) < out.indexOf('## Model contracts'));
  });

  it('replaces only its own section on later runs', () => {
    const once = replaceSection(doc, '## Peers\n\nfirst');
    const twice = replaceSection(once, '## Peers\n\nsecond');
    assert.ok(!twice.includes('first'));
    assert.ok(twice.includes('second'));
    assert.equal(twice.replace(/<!-- bench:peers:begin[\s\S]*bench:peers:end -->\n\n/, ''), doc);
  });
});

describe('bench chart', () => {
  const svg = barChartSvg({
    title: 'a <title> & more',
    subtitle: 's',
    panels: [{ title: 'CPU', unit: 'µs' }],
    bars: [
      { label: 'fastify + reply-from <jose>', group: 'node peer', values: [120] },
      { label: 'extraction', group: 'gateway', values: [Number.NaN] },
    ],
  });

  it('escapes labels so the SVG stays well-formed', () => {
    assert.ok(svg.includes('fastify + reply-from &lt;jose&gt;'));
    assert.ok(svg.includes('a &lt;title&gt; &amp; more'));
  });

  it('loads nothing from outside the file (no links, no web fonts)', () => {
    assert.doesNotMatch(svg, /href|url\(|@import|<script/);
  });

  it('draws "n/a" for a target that was not measured instead of a zero bar', () => {
    assert.match(svg, />n\/a</);
  });
});
