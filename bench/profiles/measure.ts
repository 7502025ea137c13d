// The proxy door's cost beside local peers, interleaved in one run:
//   node dist/bench/profiles/measure.js [--duration 6] [--connections 32] [--rounds 2] [--prof dir] [--only a,b]
// CPU per request is read from /proc/<pid>/stat of each proxy process (utime + stime), the figure
// that carries over between machines. Loopback only; every load is bounded in time.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { DEMO_LABELS } from '../../src/quickstart/demo-model.js';
import { DEV_AUDIENCE, startDevIssuer } from '../../src/quickstart/dev-issuer.js';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '6' },
    connections: { type: 'string', default: '32' },
    rounds: { type: 'string', default: '2' },
    prof: { type: 'string' },
    only: { type: 'string' },
    rate: { type: 'string' },
    'access-log': { type: 'string', default: 'true' },
    // Count each proxy's system calls during the measured load (strace -c -f), into this directory.
    strace: { type: 'string' },
  },
});
const DURATION = Math.min(30, Math.max(1, Number(values.duration)));
const CONNECTIONS = Math.min(256, Math.max(1, Number(values.connections)));
const ROUNDS = Math.min(5, Math.max(1, Number(values.rounds)));
const RATE = values.rate ? Number(values.rate) : undefined;
const TICK_US = 1e6 / 100; // CLK_TCK is 100 on Linux

interface Proc {
  readonly url: string;
  readonly child: ChildProcess;
}

function start(script: string, args: string[], env: Record<string, string> = {}, execArgv: string[] = []): Promise<Proc> {
  const child = fork(fileURLToPath(new URL(script, import.meta.url)), args, { env: { ...process.env, ...env }, execArgv, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} ${args[0]} did not start in 15 s`)), 15000);
    child.once('message', (m: { url?: string; error?: string }) => {
      clearTimeout(timer);
      if (m.url) resolve({ url: m.url, child });
      else reject(new Error(m.error));
    });
  });
}

function stop(p: Proc): Promise<void> {
  return new Promise((resolve) => {
    p.child.once('exit', () => resolve());
    p.child.kill('SIGTERM');
  });
}

function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * TICK_US;
}

const body = JSON.stringify({ instances: [[6.8, 2.8, 4.8, 1.4]] });

async function main(): Promise<void> {
  const issuer = await startDevIssuer({ stateDir: mkdtempSync(join(tmpdir(), 'igw-measure-')) });
  const tokens = await Promise.all(Array.from({ length: 64 }, (_, i) => issuer.mint({ sub: `user-${i}` })));
  const predictor = await start('../server-process.js', ['predictor']);
  const auth = { issuers: [{ issuer: issuer.issuer, jwksUri: issuer.jwksUri, audiences: [DEV_AUDIENCE], algorithms: ['ES256'], claimHeaders: { 'x-user-id': 'sub' } }] };
  const base = {
    server: { host: '127.0.0.1', port: 0, drainDelaySeconds: 0 },
    admin: { host: '127.0.0.1', port: 0 },
    log: { level: 'info', accessLog: values['access-log'] !== 'false' },
    upstream: { url: predictor.url },
  };
  const roomy = [
    { name: 'burst', predictions: 1_000_000_000, perSeconds: 1 },
    { name: 'daily', predictions: 1_000_000_000, perSeconds: 86400 },
  ];
  const gateways: Record<string, unknown> = {
    'gateway pass-through': { ...base, auth: { enabled: false }, models: { iris: { task: 'regression' } } },
    'gateway auth-only': { ...base, auth, models: { iris: { task: 'regression' } } },
    'gateway everything-on': { ...base, auth, limits: { default: roomy }, models: { iris: { labels: [...DEMO_LABELS] } } },
  };
  const targets: { name: string; token: boolean; start: () => Promise<Proc | undefined> }[] = [
    { name: 'direct', token: false, start: async () => undefined },
    { name: 'node floor', token: false, start: () => start('./peer-process.js', ['floor', predictor.url]) },
    { name: 'fastify+reply-from+jose', token: true, start: () => start('./peer-process.js', ['reply-from-jose', predictor.url, issuer.jwksUri]) },
    ...Object.entries(gateways).map(([name, cfg]) => ({
      name,
      token: name !== 'gateway pass-through',
      start: () =>
        start(
          '../server-process.js',
          ['gateway'],
          { BENCH_CONFIG: JSON.stringify(cfg) },
          values.prof ? ['--cpu-prof', `--cpu-prof-dir=${values.prof}`, `--cpu-prof-name=${name.replace(/\W+/g, '-')}.cpuprofile`] : [],
        ),
    })),
  ];
  const wanted = values.only?.split(',');
  const chosen = targets.filter((t) => !wanted || wanted.some((w) => t.name.includes(w)));
  const rows = new Map<string, { rps: number[]; p50: number[]; p99: number[]; mean: number[]; cpu: number[]; bad: number }>();
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const t of chosen) {
        const proc = await t.start();
        const url = proc?.url ?? predictor.url;
        const requests = (t.token ? tokens : [undefined]).map((tok) => ({
          method: 'POST' as const,
          path: '/v1/models/iris:predict',
          headers: { 'content-type': 'application/json', ...(tok ? { authorization: `Bearer ${tok}` } : {}) },
          body,
        }));
        const opts = { url, connections: CONNECTIONS, requests, ...(RATE ? { overallRate: RATE } : {}) };
        await autocannon({ ...opts, duration: 1 });
        const pid = proc?.child.pid;
        const tracer = pid && values.strace ? spawn('strace', ['-c', '-f', '-p', String(pid), '-o', join(values.strace, `${t.name.replace(/\W+/g, '-')}.strace.txt`)], { stdio: 'ignore' }) : undefined;
        if (tracer) await new Promise((r) => setTimeout(r, 500));
        const before = pid ? cpuMicros(pid) : 0;
        const r = await autocannon({ ...opts, duration: DURATION });
        const after = pid ? cpuMicros(pid) : 0;
        if (tracer) {
          const done = new Promise((r) => tracer.once('exit', r));
          tracer.kill('SIGINT');
          await done;
          process.stderr.write(`${t.name}: ${r.requests.total} requests under strace\n`);
        }
        if (proc) await stop(proc);
        const row = rows.get(t.name) ?? { rps: [], p50: [], p99: [], mean: [], cpu: [], bad: 0 };
        row.rps.push(r.requests.average);
        row.p50.push(r.latency.p50);
        row.p99.push(r.latency.p99);
        // autocannon records whole milliseconds; in a closed loop the mean is exact: connections / rate.
        row.mean.push(RATE ? r.latency.mean : (1000 * CONNECTIONS) / r.requests.average);
        if (pid) row.cpu.push((after - before) / r.requests.total);
        row.bad += r.non2xx + r.errors + r.timeouts;
        rows.set(t.name, row);
        process.stderr.write(`${t.name}: ${r.requests.average.toFixed(0)} req/s\n`);
      }
    }
  } finally {
    await stop(predictor);
    await issuer.close();
  }
  const med = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]! : NaN);
  const lines = [
    `${new Date().toISOString()} · node ${process.version} · ${DURATION}s × ${ROUNDS} rounds, ${CONNECTIONS} connections${RATE ? `, ${RATE} req/s offered` : ''}`,
    '',
    '| target | req/s | mean ms | p50 ms | p99 ms | CPU µs/req | failed |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const [name, r] of rows)
    lines.push(`| ${name} | ${med(r.rps).toFixed(0)} | ${med(r.mean).toFixed(3)} | ${med(r.p50)} | ${med(r.p99)} | ${r.cpu.length ? med(r.cpu).toFixed(0) : ''} | ${r.bad} |`);
  process.stdout.write(lines.join('\n') + '\n');
}

await main();
