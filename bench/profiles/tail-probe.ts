// Where the half-rate tail of the gateway comes from: the bench's open-loop load at a fixed rate
// against the Node floor and gateway variants (one feature toggled at a time), and with --stalls
// the gateway's own event-loop delay and GC pauses over the same seconds (bench/stall-monitor.ts).
// Rounds are interleaved in a rotated order like bench/run.ts, so drift of a shared machine shows
// as spread.
//
//   node dist/bench/profiles/tail-probe.js --targets node-floor,gw-all,gw-all-redis --rate 4000
//   node dist/bench/profiles/tail-probe.js --targets node-floor,gw-all,base:gw-all --base-dist ../main/dist
//
// A gateway's p99 well above its event-loop p99 waited for something other than its own CPU
// (an upstream, Redis, a lease); a loop max near the request max is a synchronous burst.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { startRedis, type RedisServer } from '../../test/helpers/redis-server.js';
import { createBenchIdentity, type BenchIdentity } from '../bench-identity.js';
import { startChild, type Child } from '../child-processes.js';
import { boundedArg } from '../cli-bounds.js';
import { v2InferCall } from '../load/bench-call.js';
import { pacedLoad } from '../load/paced-load.js';
import { cpuMicros } from '../proc-stats.js';
import type { Stalls } from '../stall-monitor.js';
import { nodeFloorTarget } from '../targets/node-peers.js';
import { everythingOnConfig, gatewayChildConfig } from '../targets/gateway-targets.js';

type Config = Record<string, unknown>;

const { values: args } = parseArgs({
  options: {
    targets: { type: 'string', default: 'node-floor,gw-all,gw-all-redis' },
    rate: { type: 'string', default: '4000' },
    seconds: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '50' },
    // Node flags for the gateways (e.g. --cpu-prof --cpu-prof-dir=/tmp/p).
    'gateway-flags': { type: 'string', default: '' },
    // Another build's dist/ (e.g. main's): targets named base:<variant> run that build's gateway.
    'base-dist': { type: 'string' },
    // The gateways' event-loop delay and GC pauses. Off by default: the monitor's 1 ms timer raised
    // the gateway's own p99 at 3,000 req/s (same build, with and without: 11 vs 46 ms medians), so
    // a run comparing latencies leaves it off, and one looking for where stalls come from turns it on.
    stalls: { type: 'boolean', default: false },
  },
});
const RATE = boundedArg('rate', args.rate, 100, 50_000);
const SECONDS = boundedArg('seconds', args.seconds, 1, 30);
const ROUNDS = boundedArg('rounds', args.rounds, 1, 10);
const CONNECTIONS = boundedArg('connections', args.connections, 1, 512);

const withStore = (cfg: Config, store: Config): Config => ({
  ...cfg,
  limits: { ...(cfg['limits'] as Config), store },
});
const withoutExtraction = (cfg: Config): Config => {
  const models = cfg['models'] as { iris: Config };
  const { extraction: _, ...iris } = models.iris;
  return { ...cfg, models: { iris } };
};

/** Each variant from the everything-on config: the Redis URL is filled in once Redis runs. */
const VARIANTS: Record<string, (id: BenchIdentity, redis: () => Promise<string>) => Promise<Config>> = {
  'gw-all': async (id) => everythingOnConfig(id),
  'gw-all-redis': async (id, redis) => withStore(everythingOnConfig(id), { kind: 'redis', redisUrl: await redis() }),
  'gw-all-redis-nolease': async (id, redis) =>
    withStore(everythingOnConfig(id), { kind: 'redis', redisUrl: await redis(), lease: { maxPredictions: 0 } }),
  'gw-all-redis-lease100': async (id, redis) =>
    withStore(everythingOnConfig(id), { kind: 'redis', redisUrl: await redis(), lease: { maxPredictions: 100 } }),
  'gw-noext': async (id) => withoutExtraction(everythingOnConfig(id)),
  'gw-noext-redis': async (id, redis) =>
    withStore(withoutExtraction(everythingOnConfig(id)), { kind: 'redis', redisUrl: await redis() }),
};

interface Running {
  readonly url: string;
  readonly pid: number;
  readonly child?: Child;
  /** A client of the target's own Redis, for its command counts. */
  readonly redis?: Redis;
  stop(): Promise<void>;
}

/** Commands Redis has run, by command (INFO commandstats, INFO itself left out). */
async function commandsRun(redis: Redis): Promise<Map<string, number>> {
  const by = new Map<string, number>();
  for (const m of (await redis.info('commandstats')).matchAll(/^cmdstat_(\w+):calls=(\d+)/gm))
    if (m[1] !== 'info') by.set(m[1]!, Number(m[2]));
  return by;
}

/** What ran between two counts, per request: the total and each command's share (which work sends them). */
function commandsPerRequest(before: Map<string, number>, after: Map<string, number>, requests: number) {
  const by = [...after]
    .map(([name, n]) => [name, (n - (before.get(name) ?? 0)) / requests] as const)
    .filter(([, x]) => x > 0);
  return { total: by.reduce((s, [, x]) => s + x, 0), by: by.map(([k, x]) => `${k} ${x.toFixed(3)}`).join(', ') };
}

const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '–');
const gcLine = (s: Stalls) =>
  Object.entries(s.gc)
    .map(([k, v]) => `${k} ${v.count}× ${fmt(v.totalMs)} ms (max ${fmt(v.maxMs)})`)
    .join(', ');

async function main(): Promise<void> {
  const workDir = mkdtempSync(join(tmpdir(), 'igw-tail-'));
  const identity = await createBenchIdentity(workDir);
  const token = await identity.token('bench-user');
  const predictor = await startChild('predictor', undefined, { stdout: 'ignore' });
  const running = new Map<string, Running>();
  const redises: RedisServer[] = [];
  const flags = args['gateway-flags'].split(' ').filter(Boolean);
  try {
    for (const id of args.targets.split(',')) {
      if (id === 'node-floor') {
        const r = await nodeFloorTarget.start({
          predictorUrl: predictor.url,
          identity,
          workDir,
          profileDir: undefined,
        });
        running.set(id, r);
        continue;
      }
      const base = id.startsWith('base:');
      if (base && !args['base-dist']) throw new Error(`${id} needs --base-dist`);
      const variant = VARIANTS[base ? id.slice('base:'.length) : id];
      if (!variant) throw new Error(`unknown target ${id} (known: node-floor, ${Object.keys(VARIANTS).join(', ')})`);
      let redis: RedisServer | undefined;
      const cfg = await variant(identity, async () => (redis ??= await startRedis()).url);
      if (redis) redises.push(redis);
      const child = await startChild('gateway', gatewayChildConfig(predictor.url, cfg), {
        execArgv: flags,
        stdout: 'ignore',
        ...(base ? { script: join(args['base-dist']!, 'bench', 'server-process.js') } : {}),
      });
      const reader = redis ? new Redis(redis.url) : undefined;
      running.set(id, {
        url: child.url,
        pid: child.pid,
        // The other build's server process may not answer the stall monitor's message.
        ...(base || !args.stalls ? {} : { child }),
        ...(reader ? { redis: reader } : {}),
        stop: async () => {
          reader?.disconnect();
          await child.stop();
        },
      });
    }
    const ids = [...running.keys()];
    const call = (id: string) => v2InferCall(1, id === 'node-floor' ? undefined : token);
    process.stderr.write(`warm-up, then ${ROUNDS} rounds at ${RATE} req/s for ${SECONDS} s\n`);
    for (const id of ids) await pacedLoad(running.get(id)!.url, call(id), RATE, 2, CONNECTIONS, 1);
    console.log(
      '| round | target | p50 ms | p99 ms | p99.9 ms | max ms | CPU µs/req | Redis commands/req | loop p99 ms | loop max ms | GC | errors |',
    );
    console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |');
    const rows = new Map<string, Array<{ p50: number; p99: number; cpu: number; commands: number | undefined }>>();
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < ids.length; i++) {
        const id = ids[(i + round) % ids.length]!;
        const r = running.get(id)!;
        await r.child?.stalls();
        const before = cpuMicros(r.pid);
        const commandsBefore = r.redis ? await commandsRun(r.redis) : undefined;
        // No unrecorded warm-up here: every request counted is one whose CPU and Redis commands are counted.
        const res = await pacedLoad(r.url, call(id), RATE, SECONDS, CONNECTIONS, 0);
        const cpu = (cpuMicros(r.pid) - before) / res.requests;
        const counted =
          r.redis && commandsBefore
            ? commandsPerRequest(commandsBefore, await commandsRun(r.redis), res.requests)
            : undefined;
        const commands = counted?.total;
        const s = await r.child?.stalls();
        rows.set(id, [...(rows.get(id) ?? []), { p50: res.p50, p99: res.p99, cpu, commands }]);
        console.log(
          `| ${round + 1} | ${id} | ${fmt(res.p50)} | ${fmt(res.p99)} | ${fmt(res.p999 ?? NaN)} | ${fmt(res.max ?? NaN)} | ${cpu.toFixed(0)} | ${counted ? `${counted.total.toFixed(3)} (${counted.by})` : ''} | ${s ? fmt(s.loopP99) : ''} | ${s ? fmt(s.loopMax) : ''} | ${s ? gcLine(s) : ''} | ${res.non2xx + res.errors} |`,
        );
      }
    }
    // Medians over rounds, and the p99 added over the floor's median.
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
    const floorP99 = rows.has('node-floor') ? median(rows.get('node-floor')!.map((r) => r.p99)) : NaN;
    console.log(`\nMedians over ${ROUNDS} rounds at ${RATE} req/s:\n`);
    console.log('| target | p50 ms | p99 ms | p99 over the floor, ms | CPU µs/req | Redis commands/req |');
    console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
    for (const [id, rs] of rows) {
      const p99 = median(rs.map((r) => r.p99));
      const commands = rs[0]!.commands === undefined ? '' : median(rs.map((r) => r.commands!)).toFixed(3);
      console.log(
        `| ${id} | ${fmt(median(rs.map((r) => r.p50)))} | ${fmt(p99)} | ${id === 'node-floor' ? '' : fmt(p99 - floorP99)} | ${median(rs.map((r) => r.cpu)).toFixed(0)} | ${commands} |`,
      );
    }
  } finally {
    for (const r of running.values()) await r.stop().catch(() => undefined);
    for (const r of redises) await r.stop().catch(() => undefined);
    await predictor.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
}

await main();
