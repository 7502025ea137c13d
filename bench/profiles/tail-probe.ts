// Where the half-rate tail of the gateway comes from: the bench's open-loop load at a fixed rate
// against the Node floor and gateway variants (one feature toggled at a time), with the gateway's
// own event-loop delay and GC pauses over the same seconds (bench/stall-monitor.ts). Rounds are
// interleaved in a rotated order like bench/run.ts, so drift of a shared machine shows as spread.
//
//   node dist/bench/profiles/tail-probe.js --targets node-floor,gw-all,gw-all-redis --rate 4000
//
// A gateway's p99 well above its event-loop p99 waited for something other than its own CPU
// (an upstream, Redis, a lease); a loop max near the request max is a synchronous burst.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startRedis, type RedisServer } from '../../test/helpers/redis-server.js';
import { createBenchIdentity, type BenchIdentity } from '../bench-identity.js';
import { startChild, type Child } from '../child-processes.js';
import { boundedArg } from '../cli-bounds.js';
import { v2InferCall } from '../load/bench-call.js';
import { pacedLoad } from '../load/paced-load.js';
import { cpuMicros } from '../proc-stats.js';
import type { Stalls } from '../stall-monitor.js';
import { nodeFloorTarget } from '../targets/node-peers.js';
import { everythingOnConfig } from '../targets/gateway-targets.js';

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
  'gw-noext': async (id) => withoutExtraction(everythingOnConfig(id)),
  'gw-noext-redis': async (id, redis) =>
    withStore(withoutExtraction(everythingOnConfig(id)), { kind: 'redis', redisUrl: await redis() }),
};

interface Running {
  readonly url: string;
  readonly pid: number;
  readonly child?: Child;
  stop(): Promise<void>;
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
      const variant = VARIANTS[id];
      if (!variant) throw new Error(`unknown target ${id} (known: node-floor, ${Object.keys(VARIANTS).join(', ')})`);
      let redis: RedisServer | undefined;
      const cfg = await variant(identity, async () => (redis ??= await startRedis()).url);
      if (redis) redises.push(redis);
      const child = await startChild(
        'gateway',
        {
          server: { host: '127.0.0.1', port: 0 },
          admin: { host: '127.0.0.1', port: 0 },
          upstream: { url: predictor.url },
          ...cfg,
        },
        { execArgv: flags, stdout: 'ignore' },
      );
      running.set(id, { url: child.url, pid: child.pid, child, stop: () => child.stop() });
    }
    const ids = [...running.keys()];
    const call = (id: string) => v2InferCall(1, id === 'node-floor' ? undefined : token);
    process.stderr.write(`warm-up, then ${ROUNDS} rounds at ${RATE} req/s for ${SECONDS} s\n`);
    for (const id of ids) await pacedLoad(running.get(id)!.url, call(id), RATE, 2, CONNECTIONS, 1);
    console.log(
      '| round | target | p50 ms | p99 ms | p99.9 ms | max ms | CPU µs/req | loop p99 ms | loop max ms | GC | errors |',
    );
    console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |');
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < ids.length; i++) {
        const id = ids[(i + round) % ids.length]!;
        const r = running.get(id)!;
        await r.child?.stalls();
        const before = cpuMicros(r.pid);
        const res = await pacedLoad(r.url, call(id), RATE, SECONDS, CONNECTIONS, 1);
        const cpu = (cpuMicros(r.pid) - before) / res.requests;
        const s = await r.child?.stalls();
        console.log(
          `| ${round + 1} | ${id} | ${fmt(res.p50)} | ${fmt(res.p99)} | ${fmt(res.p999 ?? NaN)} | ${fmt(res.max ?? NaN)} | ${cpu.toFixed(0)} | ${s ? fmt(s.loopP99) : ''} | ${s ? fmt(s.loopMax) : ''} | ${s ? gcLine(s) : ''} | ${res.non2xx + res.errors} |`,
        );
      }
    }
  } finally {
    for (const r of running.values()) await r.stop().catch(() => undefined);
    for (const r of redises) await r.stop().catch(() => undefined);
    await predictor.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
}

await main();
