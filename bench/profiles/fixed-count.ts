// CPU per request of the bench's own targets under a fixed number of requests, interleaved, so a
// before/after is a ratio measured in one run on a shared machine:
//   node dist/bench/profiles/fixed-count.js [--count 20000] [--rounds 5] [--connections 32] [--only node-floor,gw-all] [--prof dir]
//     [--baseline /path/to/other/dist] [--strace dir] [--rows 256]
// --baseline adds the gateway rows of another build (its dist/ directory, e.g. the main branch
// built elsewhere) as `<id>@base`, so a change is measured against what it replaces in one run.
// Targets are exactly the ones `npm run bench` measures (bench/targets/*: the Node floor, fastify +
// reply-from + jose with its token cache, the gateway rows with their production defaults), sent
// the same V2 call with the same RS256 token. Each target runs once for the whole run and is warmed
// up first; every round then sends it exactly `count` requests (bounded in time too) and reads its
// utime + stime from /proc. Targets are visited in a rotated order each round so drift shows as
// spread; the table gives the median and the range over rounds. Loopback only.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createBenchIdentity } from '../bench-identity.js';
import { startChild } from '../child-processes.js';
import { v2InferCall } from '../load/bench-call.js';
import { countedLoad } from '../load/counted-load.js';
import { cpuMicros } from '../proc-stats.js';
import { fastifyReplyFromJoseTarget, nodeFloorTarget } from '../targets/node-peers.js';
import type { RunningTarget, Target } from '../targets/target.js';
import { chosenTargets } from './chosen-targets.js';
import { boundedArg } from '../cli-bounds.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '20000' },
    warmup: { type: 'string', default: '5000' },
    rounds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '32' },
    only: { type: 'string', default: 'node-floor,reply-from-jose,gw-pass,gw-auth,gw-all' },
    prof: { type: 'string' },
    baseline: { type: 'string' },
    // Rows per request (the bench's 1-vs-256-rows table sends 256).
    rows: { type: 'string', default: '1' },
    // Count each target's system calls during one extra round (strace -c -f), into this directory.
    strace: { type: 'string' },
  },
});
const bounded = (name: string, v: string | undefined, min: number, max: number) => boundedArg(name, v, min, max, true);
const COUNT = bounded('count', values.count, 100, 1_000_000);
const WARMUP = bounded('warmup', values.warmup, 0, 1_000_000);
const ROUNDS = bounded('rounds', values.rounds, 1, 20);
const ROWS = bounded('rows', values.rows, 1, 256);
const CONNECTIONS = bounded('connections', values.connections, 1, 256);
const MAX_SECONDS = 120;

const chosen = await chosenTargets(values.only ?? '', [nodeFloorTarget, fastifyReplyFromJoseTarget], values.baseline);

async function main(): Promise<void> {
  const workDir = mkdtempSync(join(tmpdir(), 'igw-fixed-'));
  const identity = await createBenchIdentity(workDir);
  const token = await identity.token('bench-user');
  const predictor = await startChild('predictor', undefined, { stdout: 'ignore' });
  const env = { predictorUrl: predictor.url, identity, workDir, profileDir: values.prof };
  const running = new Map<string, RunningTarget>();
  const cpu = new Map<string, number[]>();
  try {
    for (const t of chosen) {
      const r = await t.start(env);
      running.set(t.id, r);
      const call = v2InferCall(ROWS, t.authenticates ? token : undefined);
      const warm = await countedLoad(r.url, () => call, WARMUP, CONNECTIONS, MAX_SECONDS);
      if (warm.non2xx || warm.errors)
        throw new Error(`${t.id}: ${warm.non2xx} non-2xx and ${warm.errors} errors during warm-up`);
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (let k = 0; k < chosen.length; k++) {
        const t = chosen[(k + round) % chosen.length] as Target;
        const r = running.get(t.id) as RunningTarget;
        const call = v2InferCall(ROWS, t.authenticates ? token : undefined);
        const before = cpuMicros(r.pid);
        const res = await countedLoad(r.url, () => call, COUNT, CONNECTIONS, MAX_SECONDS);
        const after = cpuMicros(r.pid);
        if (res.non2xx || res.errors || res.cutShort)
          throw new Error(`${t.id}: ${res.non2xx} non-2xx, ${res.errors} errors, cut short: ${res.cutShort}`);
        const perReq = (after - before) / res.requests;
        (cpu.get(t.id) ?? cpu.set(t.id, []).get(t.id)!).push(perReq);
        process.stderr.write(
          `round ${round + 1} ${t.id}: ${perReq.toFixed(1)} µs/req, ${(res.requests / res.seconds).toFixed(0)} req/s\n`,
        );
      }
    }
    if (values.strace) {
      for (const t of chosen) {
        const r = running.get(t.id) as RunningTarget;
        const call = v2InferCall(ROWS, t.authenticates ? token : undefined);
        const file = join(values.strace, `${t.id}.strace.txt`);
        const tracer = spawn('strace', ['-c', '-f', '-p', String(r.pid), '-o', file], { stdio: 'ignore' });
        await new Promise((res) => setTimeout(res, 500));
        const res = await countedLoad(r.url, () => call, COUNT, CONNECTIONS, MAX_SECONDS);
        const exited = new Promise((done) => tracer.once('exit', done));
        tracer.kill('SIGINT');
        await exited;
        process.stderr.write(`${t.id}: ${res.requests} requests under strace, counts in ${file}\n`);
      }
    }
  } finally {
    for (const r of running.values()) await r.stop();
    await predictor.stop();
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  const floor = cpu.get('node-floor');
  const peer = cpu.get('reply-from-jose');
  const lines = [
    `${new Date().toISOString()} · node ${process.version} · ${COUNT} requests × ${ROUNDS} rounds per target, ${CONNECTIONS} connections, V2 infer (${ROWS} row${ROWS === 1 ? '' : 's'}), RS256 token where the target verifies one`,
    '',
    '| target | CPU µs/req (median) | min–max | × Node floor | × fastify + reply-from + jose |',
    '| --- | ---: | ---: | ---: | ---: |',
  ];
  for (const t of chosen) {
    const xs = cpu.get(t.id) ?? [];
    const m = med(xs);
    const ratio = (base: number[] | undefined) => (base ? `${(m / med(base)).toFixed(2)}×` : '');
    lines.push(
      `| ${t.name} | ${m.toFixed(1)} | ${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)} | ${ratio(floor)} | ${ratio(peer)} |`,
    );
  }
  process.stdout.write(lines.join('\n') + '\n');
}

await main();
