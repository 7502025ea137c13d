// npm run bench: our gateway beside its peers (nginx, HAProxy with and without JWT checks, the
// Node proxies, a bare node:http → undici forwarder) and the predictor itself, in one run.
// Rounds are interleaved (each round visits every target, in a rotated order), so drift of this
// shared machine shows as spread instead of favouring whoever ran first. Every load is bounded
// in time (and count); everything listens on 127.0.0.1.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { createBenchIdentity } from './bench-identity.js';
import { startChild } from './child-processes.js';
import { v2InferCall, type BenchCall, type LoadResult } from './load/bench-call.js';
import { autocannonLoad } from './load/autocannon-load.js';
import { pacedLoad } from './load/paced-load.js';
import { wrkInstalled, wrkLoad } from './load/wrk-load.js';
import { memoryPhase, type MemoryPhaseResult } from './memory-phase.js';
import { imageNodeFlags, limitedMemoryPhase } from './memory-limited-phase.js';
import { syscallsPhase, syscallsTable, type SyscallsRun } from './syscalls-phase.js';
import { cpuMicros, memoryOf } from './proc-stats.js';
import { summariseProfiles } from './profile-summary.js';
import { aggregate, findRow, type Sample, type ScenarioId } from './report/aggregate.js';
import { barChartSvg } from './report/chart-svg.js';
import { evaluateGoals } from './report/goals.js';
import { scoredRowCosts, scoredRowCostTable } from './extraction/cost.js';
import {
  c1Table,
  goalsTable,
  halfRateTable,
  memoryTable,
  rowsTable,
  saturationTable,
  type TableInputs,
} from './report/markdown.js';
import { writeSection } from './report/results-file.js';
import { METHOD } from './report/method.js';
import { directTarget } from './targets/direct-target.js';
import { extractionNotBuilt, gatewayEverythingOnId, gatewayTargets } from './targets/gateway-targets.js';
import { haproxyTargetJwt, haproxyTargetPlain, nginxTarget } from './targets/native-peers.js';
import {
  fastifyHttpProxyTarget,
  fastifyReplyFromJoseTarget,
  fastifyReplyFromTarget,
  nodeFloorTarget,
} from './targets/node-peers.js';
import type { RunningTarget, Target } from './targets/target.js';
import { boundedArg } from './cli-bounds.js';
import { batchCostTable, measureBatchCost } from './profiles/batch-cost.js';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '3' },
    'c1-rounds': { type: 'string', default: '2' },
    'c1-seconds': { type: 'string', default: '2' },
    'half-rate-seconds': { type: 'string', default: '4' },
    connections: { type: 'string', default: '50' },
    only: { type: 'string' },
    users: { type: 'string', default: '100000' },
    history: { type: 'string', default: '100000' },
    // The memory limit of the cgroup the second memory run puts the gateway in (a pod's limit).
    'pod-memory-mib': { type: 'string', default: '512' },
    'skip-memory': { type: 'boolean', default: false },
    // Requests traced per target by the syscalls phase (strace -c -f); 0 skips it.
    'syscalls-count': { type: 'string', default: '5000' },
    'skip-extraction-cost': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    write: { type: 'boolean', default: false },
  },
});
const bounded = (name: string, v: string | undefined, min: number, max: number) => boundedArg(name, v, min, max);
const ROUNDS = bounded('rounds', args.rounds, 1, 10);
const SECONDS = bounded('seconds', args.seconds, 1, 30);
const C1_ROUNDS = bounded('c1-rounds', args['c1-rounds'], 1, 10);
const C1_SECONDS = bounded('c1-seconds', args['c1-seconds'], 1, 30);
const HALF_SECONDS = bounded('half-rate-seconds', args['half-rate-seconds'], 1, 30);
const CONNECTIONS = bounded('connections', args.connections, 1, 512);
const USERS = bounded('users', args.users, 1000, 1_000_000);
const HISTORY = bounded('history', args.history, 1000, 1_000_000);
const SYSCALLS_COUNT = bounded('syscalls-count', args['syscalls-count'], 0, 100_000);
const SYSCALLS_TARGETS = ['node-floor', 'haproxy-jwt', gatewayEverythingOnId];
const POD_MEMORY = bounded('pod-memory-mib', args['pod-memory-mib'], 128, 65536) * 1048576;
const MAX_SECONDS_PER_MEMORY_STEP = 240;
const WARM_UP_SECONDS = 3;
const ROWS_TARGETS = ['direct', 'node-floor', 'reply-from-jose', 'gw-pass', 'gw-labels', gatewayEverythingOnId];
const HALF_RATE_TARGETS = ['direct', 'node-floor', 'gw-pass', gatewayEverythingOnId, 'gw-all-redis'];

const BENCH_DIR = fileURLToPath(new URL('../../bench/', import.meta.url));
const startedAt = Date.now();
const log = (line: string) =>
  process.stderr.write(`bench [${((Date.now() - startedAt) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);

/** Sends the bench call once and checks the answer is a V2 inference answer: a target that refuses or garbles it is not measured. */
async function answersCorrectly(url: string, call: BenchCall): Promise<string | undefined> {
  const res = await request(url + call.path, {
    method: call.method,
    headers: call.headers,
    body: call.body,
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  });
  const text = await res.body.text();
  if (res.statusCode !== 200) return `answered ${res.statusCode}: ${text.slice(0, 200)}`;
  if (!/"outputs"\s*:/.test(text)) return `answered 200 without V2 outputs: ${text.slice(0, 200)}`;
  return undefined;
}

async function main(): Promise<void> {
  const workDir = mkdtempSync(join(tmpdir(), 'igw-bench-'));
  const profileDir = args.profile ? join(BENCH_DIR, '.tmp', 'profiles') : undefined;
  if (profileDir) {
    rmSync(profileDir, { recursive: true, force: true });
    mkdirSync(profileDir, { recursive: true });
  }
  const identity = await createBenchIdentity(workDir);
  const token = await identity.token('bench-user');
  const predictor = await startChild('predictor', undefined, { stdout: 'ignore' });
  const env = { predictorUrl: predictor.url, identity, workDir, profileDir };
  const callFor = (t: Target, rows = 1) => v2InferCall(rows, t.authenticates ? token : undefined);

  const everyTarget: Target[] = [
    directTarget(predictor),
    nginxTarget,
    haproxyTargetPlain,
    haproxyTargetJwt,
    nodeFloorTarget,
    fastifyHttpProxyTarget,
    fastifyReplyFromTarget,
    fastifyReplyFromJoseTarget,
    ...gatewayTargets,
  ];
  const wanted = args.only?.split(',').map((x) => x.trim().toLowerCase());
  const targets = wanted
    ? everyTarget.filter(
        (t) => t.id === 'direct' || wanted.some((w) => t.id.includes(w) || t.name.toLowerCase().includes(w)),
      )
    : everyTarget;

  const running = new Map<string, RunningTarget>();
  const skipped = new Map<string, string>();
  const rssBytes = new Map<string, number>();
  for (const t of targets) {
    if (t.notBuilt) {
      skipped.set(t.id, t.notBuilt);
      continue;
    }
    try {
      const r = await t.start(env);
      const wrong = await answersCorrectly(r.url, callFor(t)).catch((e: Error) => `did not answer: ${e.message}`);
      if (wrong) {
        await r.stop();
        throw new Error(wrong);
      }
      running.set(t.id, r);
    } catch (e) {
      skipped.set(t.id, `could not start: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  for (const [id, why] of skipped) log(`${id}: ${why}`);
  const live = targets.filter((t) => running.has(t.id));

  const haveWrk = wrkInstalled();
  if (!haveWrk) log('wrk is not installed (npm run bench:setup installs it): autocannon only');
  const generators = haveWrk ? ['wrk', 'autocannon'] : ['autocannon'];
  const primary = generators[0]!;
  const samples: Sample[] = [];
  const failures: string[] = [];
  let syscalls: SyscallsRun | undefined;

  const measure = async (
    scenario: ScenarioId,
    t: Target,
    round: number,
    load: (url: string) => Promise<LoadResult>,
  ) => {
    const r = running.get(t.id)!;
    try {
      const before = cpuMicros(r.pid);
      const result = await load(r.url);
      samples.push({ scenario, targetId: t.id, round, result, cpuMicros: cpuMicros(r.pid) - before });
      if (result.non2xx + result.errors > 0)
        failures.push(
          `${scenario} ${t.id} ${result.generator} round ${round}: ${result.non2xx} non-2xx, ${result.errors} errors`,
        );
    } catch (e) {
      failures.push(`${scenario} ${t.id} round ${round}: ${(e as Error).message}`);
    }
  };
  const byGenerator = (g: string, call: BenchCall, connections: number, seconds: number) => (url: string) =>
    g === 'wrk' ? wrkLoad(url, call, connections, seconds, workDir) : autocannonLoad(url, call, connections, seconds);
  const rotated = <T>(xs: readonly T[], by: number) => xs.map((_, i) => xs[(i + by) % xs.length]!);

  try {
    // Long enough for V8 to optimise the hot paths (the first second of a Node target runs
    // slower and costs more CPU per request), so round 1 is not a cold round.
    log(`warm-up: ${live.length} targets, ${WARM_UP_SECONDS} s each`);
    for (const t of live)
      await byGenerator(
        primary,
        callFor(t),
        CONNECTIONS,
        WARM_UP_SECONDS,
      )(running.get(t.id)!.url).catch(() => undefined);

    for (let round = 0; round < ROUNDS; round++) {
      log(`-c${CONNECTIONS}, round ${round + 1}/${ROUNDS}`);
      for (const t of rotated(live, round))
        for (const g of generators) await measure('c50', t, round, byGenerator(g, callFor(t), CONNECTIONS, SECONDS));
    }
    for (let round = 0; round < C1_ROUNDS; round++) {
      log(`-c1, round ${round + 1}/${C1_ROUNDS}`);
      for (const t of rotated(live, round))
        await measure('c1', t, round, byGenerator(primary, callFor(t), 1, C1_SECONDS));
    }
    const rowsTargets = live.filter((t) => ROWS_TARGETS.includes(t.id));
    for (let round = 0; round < Math.min(2, ROUNDS); round++) {
      log(`256 rows per request, round ${round + 1}`);
      for (const t of rotated(rowsTargets, round))
        await measure('rows256', t, round, byGenerator(primary, callFor(t, 256), CONNECTIONS, SECONDS));
    }
    const saturated = findRow(aggregate(samples), 'c50', gatewayEverythingOnId, primary);
    if (saturated && saturated.rps > 0) {
      const rate = Math.round(saturated.rps / 2);
      const halfTargets = live.filter((t) => HALF_RATE_TARGETS.includes(t.id));
      for (let round = 0; round < Math.min(2, ROUNDS); round++) {
        log(`half of the gateway's saturation rate (${rate} req/s), round ${round + 1}`);
        for (const t of rotated(halfTargets, round))
          await measure('half-rate', t, round, (url) => pacedLoad(url, callFor(t), rate, HALF_SECONDS, CONNECTIONS));
      }
    } else failures.push('half-rate: no saturation figure for the everything-on gateway');
    if (SYSCALLS_COUNT > 0) {
      const traced = live.filter((t) => SYSCALLS_TARGETS.includes(t.id));
      syscalls = await syscallsPhase(
        traced.map((t) => ({ id: t.id, ...running.get(t.id)!, call: callFor(t) })),
        SYSCALLS_COUNT,
        [1, CONNECTIONS],
        workDir,
        log,
      );
      if ('failures' in syscalls) failures.push(...syscalls.failures.map((f) => `syscalls ${f}`));
    }
  } finally {
    for (const [id, r] of running) {
      try {
        rssBytes.set(id, memoryOf(r.pid).rss);
      } catch {
        // gone already: no RSS to report
      }
      if (id !== 'direct') await r.stop();
    }
  }

  // Where a batch's CPU goes, per part and per row (bench/profiles/batch-cost.ts), in this process.
  const batchCost = targets.some((t) => t.id === gatewayEverythingOnId)
    ? await measureBatchCost({ identity, batch: 256, count: 200, rounds: 3 }).catch(
        (e: Error) => void failures.push(`batch cost: ${e.message}`),
      )
    : undefined;
  // The same users twice: without a limit, then inside a pod-sized memory cgroup.
  const memoryOptions = {
    predictorUrl: predictor.url,
    users: USERS,
    history: HISTORY,
    connections: CONNECTIONS,
    extractionBuilt: !extractionNotBuilt(),
    window: 2500,
    maxSecondsPerStep: MAX_SECONDS_PER_MEMORY_STEP,
    log,
  };
  let memory: MemoryPhaseResult | undefined;
  if (!args['skip-memory']) {
    try {
      memory = await memoryPhase(memoryOptions);
    } catch (e) {
      failures.push(`memory phase: ${(e as Error).message}`);
    }
  }
  const limited = args['skip-memory']
    ? undefined
    : await limitedMemoryPhase(POD_MEMORY, (cgroup) =>
        memoryPhase({ ...memoryOptions, cgroup, nodeFlags: imageNodeFlags() }),
      );
  if (limited?.failed) failures.push(`memory phase inside a cgroup: ${limited.failed}`);
  await predictor.stop();
  rmSync(workDir, { recursive: true, force: true });

  // In this process, after every target has stopped: the guard's own CPU per scored row (goal 7),
  // in a full run or one that names extraction.
  const costWanted = !args['skip-extraction-cost'] && (!wanted || wanted.some((w) => w.includes('extraction')));
  const extractionCost = costWanted ? (log('extraction: CPU per scored row'), scoredRowCosts()) : undefined;
  const rows = aggregate(samples);
  const inputs: TableInputs = { rows, targets, generators, rssBytes, skipped };
  const goals = evaluateGoals({
    rows,
    generator: primary,
    everythingOn: gatewayEverythingOnId,
    memory,
    memoryLimited: limited?.result,
    memoryLimitedMissing: limited?.missing,
    syscalls,
    historyTolerance: 1.25,
    extractionCost,
  });
  const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const machine = `${availableParallelism()} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, Linux ${release()}, node ${process.version}`;
  const chartFile = 'charts/peers.svg';
  const complete = !wanted && !args['skip-memory'] && !args.profile;
  const section = [
    '## Peers and goals',
    '',
    `\`npm run bench\`, ${date}, ${machine}; load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')} at the end (other jobs share this machine: compare rows within a run). ` +
      `${ROUNDS} interleaved rounds of ${SECONDS} s per target and generator at -c${CONNECTIONS}, a V2 predictor answering a probabilities tensor, one RS256 token for targets that verify it. ` +
      `CPU µs/req is the target process's utime+stime from /proc (children included) over the requests it completed; the load generators run outside it. Run time ${((Date.now() - startedAt) / 60000).toFixed(1)} min.`,
    '',
    `![CPU per request and req/s per target](${chartFile})`,
    '',
    METHOD,
    '',
    ...(skipped.size
      ? [
          'Not measured in this run:',
          '',
          ...[...skipped].map(([id, why]) => `- ${targets.find((t) => t.id === id)?.name ?? id}: ${why}`),
          '',
        ]
      : []),
    `### Saturation, -c${CONNECTIONS}`,
    '',
    saturationTable(inputs),
    '',
    `### One connection (-c1, ${primary}): latency each hop adds without queueing`,
    '',
    c1Table(inputs, primary),
    '',
    "### At half of the everything-on gateway's saturation rate (open loop, fixed rate)",
    '',
    halfRateTable(inputs),
    '',
    `### 1 row vs 256 rows per request (-c${CONNECTIONS}, ${primary})`,
    '',
    rowsTable(inputs, primary),
    '',
    ...(batchCost
      ? [
          'Per row at 256 rows, everything on, in-process (bench/profiles/batch-cost.ts; identical rows are what the load above sends: the extraction guard does not score exact repeats):',
          '',
          batchCostTable(batchCost),
          '',
        ]
      : []),
    ...(syscalls
      ? [
          `### System calls per request (strace -c -f on the proxy process, ${SYSCALLS_COUNT} requests per target and concurrency)`,
          '',
          syscallsTable(syscalls, (id) => targets.find((t) => t.id === id)?.name ?? id),
          '',
        ]
      : []),
    ...(memory
      ? ['### Many users, long histories', '', memoryTable(memory, limited?.result, limited?.missing), '']
      : []),
    ...(extractionCost
      ? [
          '### Extraction, CPU per scored row (in-process, bench/extraction/cost.ts)',
          '',
          scoredRowCostTable(extractionCost),
          '',
        ]
      : []),
    '### Goals',
    '',
    goalsTable(goals),
    '',
    ...(failures.length ? ['Measurements with failures:', '', ...failures.map((f) => `- ${f}`), ''] : []),
  ].join('\n');
  process.stdout.write(`${section}\n`);

  mkdirSync(join(BENCH_DIR, '.tmp'), { recursive: true });
  writeFileSync(join(BENCH_DIR, '.tmp', 'peers-last.md'), section);
  writeFileSync(
    join(BENCH_DIR, '.tmp', 'peers-last.json'),
    JSON.stringify(
      { date, machine, rows, skipped: Object.fromEntries(skipped), memory, limited, syscalls, goals, failures },
      null,
      2,
    ),
  );
  const chart = barChartSvg({
    title: 'inference-gateway beside its peers',
    subtitle: `${date} · ${machine} · -c${CONNECTIONS}, ${primary}`,
    panels: [
      { title: 'CPU per request', unit: 'µs' },
      { title: 'throughput', unit: 'req/s' },
      { title: 'p99 latency', unit: 'ms' },
    ],
    bars: targets.map((t) => {
      const r = findRow(rows, 'c50', t.id, primary);
      return {
        label: t.name,
        group: t.group,
        values: [r?.cpuMicrosPerRequest ?? Number.NaN, r?.rps ?? Number.NaN, r?.p99 ?? Number.NaN],
      };
    }),
  });
  if (complete || args.write) {
    mkdirSync(join(BENCH_DIR, 'charts'), { recursive: true });
    writeFileSync(join(BENCH_DIR, chartFile), chart);
    writeSection(join(BENCH_DIR, 'RESULTS.md'), section);
    log(`wrote bench/RESULTS.md and bench/${chartFile}`);
  } else {
    writeFileSync(join(BENCH_DIR, '.tmp', 'peers.svg'), chart);
    log(
      'partial run (--only, --skip-memory or --profile): results in bench/.tmp/, RESULTS.md untouched (--write to force)',
    );
  }
  if (profileDir) {
    const written = summariseProfiles(profileDir, join(BENCH_DIR, 'profiles'));
    log(`profile summaries: ${written.join(', ') || 'none (no profile was written)'}`);
  }
  if (failures.length) {
    log(`${failures.length} measurement(s) with failures:\n  ${failures.join('\n  ')}`);
    process.exitCode = 1;
  }
}

await main();
