// The gRPC rows of bench/RESULTS.md: the gateway's gRPC door against a plain HTTP/2 forwarder
// (the floor) and the predictor itself, 1 and 256 rows per ModelInfer call. Each server runs in
// its own process; CPU µs/call is that process's CPU time over the calls it served. Bounded:
// `--seconds` per measurement (at most 20), `--rounds` (at most 5), at most MAX_CALLS calls each.
//   node dist/bench/grpc/run.js [--seconds 4] [--rounds 2] [--concurrency 16] [--write] [--profile DIR] [--rows 1,256]
// `--profile DIR` runs the gateway under `node --cpu-prof` (its profile lands in DIR when it stops;
// summarise with `node dist/bench/profile-summary.js DIR OUT`): the profiler slows it, so the
// table of such a run is for shares, not for the record.
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { labelsOnlyGatewayConfig } from './gateway-config.js';
import { grpcLoad, inferRequestBytes, type GrpcLoadResult } from './grpc-load.js';

const SERVER = fileURLToPath(new URL('./grpc-server-process.js', import.meta.url));
const RESULTS = fileURLToPath(new URL('../../../bench/RESULTS.md', import.meta.url));
const BEGIN = '<!-- bench:grpc:begin (written by node dist/bench/grpc/run.js --write) -->';
const END = '<!-- bench:grpc:end -->';

interface Server {
  readonly address: string;
  readonly pid: number;
  cpuMicros(): Promise<number>;
  stop(): Promise<void>;
}

async function startServer(
  kind: 'predictor' | 'floor' | 'gateway',
  env: Record<string, string> = {},
  execArgv: string[] = [],
  script = SERVER,
): Promise<Server> {
  const child: ChildProcess = fork(script, [kind], {
    env: { ...process.env, ...env },
    execArgv: [...process.execArgv, ...execArgv],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const address = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${kind} did not start in 15 s`)), 15000);
    child.once('message', (m: { address?: string; error?: string }) => {
      clearTimeout(timer);
      if (m.address) resolve(m.address);
      else reject(new Error(`${kind} failed: ${m.error}`));
    });
  });
  return {
    address,
    pid: child.pid!,
    cpuMicros: () =>
      new Promise<number>((resolve) => {
        child.once('message', (m: { cpu: number }) => resolve(m.cpu));
        child.send('cpu');
      }),
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '2' },
    concurrency: { type: 'string', default: '16' },
    write: { type: 'boolean', default: false },
    profile: { type: 'string' },
    rows: { type: 'string', default: '1,256' },
    compare: { type: 'string' },
  },
});
const seconds = Math.min(20, Math.max(1, Number(values.seconds)));
const rounds = Math.min(5, Math.max(1, Number(values.rounds)));
const concurrency = Math.min(64, Math.max(1, Number(values.concurrency)));
// Rows per call, each measured separately: 1 (per-call cost) and 256 (per-row cost) by default.
const sizes = values.rows
  .split(',')
  .map(Number)
  .filter((n) => Number.isInteger(n) && n >= 1 && n <= 256);

const predictor = await startServer('predictor');
const upstream = `http://${predictor.address}`;
const floor = await startServer('floor', { BENCH_UPSTREAM: upstream });
const gatewayEnv = { BENCH_CONFIG: JSON.stringify(labelsOnlyGatewayConfig(upstream)) };
const gateway = await startServer(
  'gateway',
  gatewayEnv,
  values.profile ? ['--cpu-prof', `--cpu-prof-dir=${values.profile}`] : [],
);
// `--compare DIR`: the same gateway from another build (DIR holds its dist/, e.g. an earlier
// commit), measured in the same run, so a change is compared under the same load and noise.
const compareScript = values.compare
  ? fileURLToPath(new URL('bench/grpc/grpc-server-process.js', `file://${values.compare.replace(/\/?$/, '/')}dist/`))
  : undefined;
const compared = compareScript ? await startServer('gateway', gatewayEnv, [], compareScript) : undefined;

const targets = [
  { name: 'predictor directly (gRPC, the limit)', server: predictor },
  { name: 'plain HTTP/2 forwarder (node:http2, the floor)', server: floor },
  { name: 'gateway gRPC door, labels-only (contract checked, probabilities reduced)', server: gateway },
  ...(compared ? [{ name: `the same, built from ${values.compare}`, server: compared }] : []),
];

interface Row {
  calls: number;
  cpu: number;
  rps: number[];
  p50: number[];
  p99: number[];
  errors: number;
  firstError: string | undefined;
}
const rows = new Map<string, Row>();
for (const size of sizes) {
  const request = inferRequestBytes(size);
  for (const t of targets) await grpcLoad(t.server.address, request, concurrency, 1); // warm-up
  for (let r = 0; r < rounds; r++) {
    // Rotated order: drift shows as spread, not as a bias against whoever ran last.
    for (let i = 0; i < targets.length; i++) {
      const t = targets[(i + r) % targets.length]!;
      const key = `${size}|${t.name}`;
      const row = rows.get(key) ?? { calls: 0, cpu: 0, rps: [], p50: [], p99: [], errors: 0, firstError: undefined };
      const before = await t.server.cpuMicros();
      const res: GrpcLoadResult = await grpcLoad(t.server.address, request, concurrency, seconds);
      row.cpu += (await t.server.cpuMicros()) - before;
      row.calls += res.calls;
      row.rps.push(res.rps);
      row.p50.push(res.p50);
      row.p99.push(res.p99);
      row.errors += res.errors;
      row.firstError ??= res.firstError;
      rows.set(key, row);
    }
  }
}
await Promise.all([gateway.stop(), floor.stop(), predictor.stop(), compared?.stop()]);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const lines: string[] = [];
lines.push(BEGIN, '## gRPC (Open Inference Protocol, `inference.GRPCInferenceService/ModelInfer`)', '');
lines.push(
  `\`node dist/bench/grpc/run.js --write\`, ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}, ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, node ${process.version}; load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(
      ' ',
    )} at the end. ${rounds} rotated rounds of ${seconds} s per target and size after a 1 s warm-up, ${concurrency} calls in flight on one @grpc/grpc-js channel (bench/grpc/grpc-load.ts, in the bench process, not counted). Each server is its own process on 127.0.0.1; CPU µs/call is its own CPU time (process.cpuUsage) over the calls it served. The demo predictor answers \`predict_proba\` FP64 [N, 3] in typed contents; the request is N iris rows in typed FP32 contents. The floor re-sends each HTTP/2 stream to the predictor on one session without parsing a message.`,
  '',
);
lines.push(
  '| rows per call | target | calls/s | p50 ms | p99 ms | CPU µs/call | CPU vs floor | p99 vs floor | non-OK |',
  '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
);
for (const size of sizes) {
  const f = rows.get(`${size}|${targets[1]!.name}`)!;
  const fCpu = f.cpu / f.calls;
  const fP99 = median(f.p99);
  for (const t of targets) {
    const row = rows.get(`${size}|${t.name}`)!;
    const cpu = row.cpu / row.calls;
    const p99 = median(row.p99);
    const vs = t.server === predictor ? '' : `${(cpu / fCpu).toFixed(2)}×`;
    const vp = t.server === predictor ? '' : `${(p99 / fP99).toFixed(2)}×`;
    lines.push(
      `| ${size} | ${t.name} | ${Math.round(median(row.rps))} | ${median(row.p50).toFixed(2)} | ${p99.toFixed(2)} | ${Math.round(cpu)} | ${vs} | ${vp} | ${row.errors}${row.firstError ? ` (${row.firstError})` : ''} |`,
    );
  }
}
lines.push('', END);
const table = lines.join('\n');
process.stdout.write(`${table}\n`);
// Only a plain run of both sizes replaces the table.
if (values.write && !values.profile && !values.compare && values.rows === '1,256') {
  const text = readFileSync(RESULTS, 'utf8');
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  writeFileSync(
    RESULTS,
    start >= 0 && end > start
      ? text.slice(0, start) + table + text.slice(end + END.length)
      : `${text.trimEnd()}\n\n${table}\n`,
  );
}
