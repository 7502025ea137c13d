// Instructions per ModelInfer call, counted by valgrind (callgrind) on the forwarding process: the
// gRPC bench's comparison (bench/grpc/run.ts) in a figure that does not move with the load of a
// shared machine, unlike CPU time.
//   node dist/bench/grpc/instructions.js [--calls 1000] [--warmup 1000] [--rows 1,256] [--baseline other/]
// Each target runs twice under `valgrind --tool=callgrind`, each time warmed up with the same
// `warmup` calls and then sent `calls` or 2 × `calls` more; the difference of the two runs' totals
// over `calls` is the cost of one call, start-up and warm-up cancelled out. User-space
// instructions only: the kernel's side of socket reads and writes is not in it (the CPU time of
// bench/grpc/run.ts has it). `--baseline DIR` adds the gateway built in DIR (its dist/), so a
// change is counted against the build before it. Loopback only; every load bounded in count and time.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { stopProcess } from '../targets/spawned-server.js';
import { grpcLoad, inferRequestBytes } from './grpc-load.js';
import { labelsOnlyGatewayConfig } from './gateway-config.js';

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '1000' },
    warmup: { type: 'string', default: '1000' },
    rows: { type: 'string', default: '1,256' },
    concurrency: { type: 'string', default: '16' },
    baseline: { type: 'string' },
  },
});
const CALLS = Math.min(20_000, Math.max(100, Number(values.calls)));
const WARMUP = Math.min(20_000, Math.max(0, Number(values.warmup)));
const CONCURRENCY = Math.min(64, Math.max(1, Number(values.concurrency)));
const MAX_SECONDS = 600;
// Under valgrind a call runs some fifty times slower, the first ones (code not yet compiled) more.
const SLOW_DEADLINE_MS = 120_000;
const sizes = values.rows
  .split(',')
  .map(Number)
  .filter((n) => Number.isInteger(n) && n >= 1 && n <= 256);

const here = fileURLToPath(new URL('../../', import.meta.url));
const serverScript = (dist: string) => resolve(dist, 'bench/grpc/grpc-server-process.js');

interface Target {
  readonly name: string;
  readonly script: string;
  readonly kind: 'floor' | 'gateway';
}

/** Starts one server of the gRPC bench under callgrind; resolves with its address (IPC message). */
async function underCallgrind(t: Target, env: Record<string, string>, outFile: string) {
  const child = spawn(
    'valgrind',
    ['--tool=callgrind', `--callgrind-out-file=${outFile}`, process.execPath, t.script, t.kind],
    { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] },
  );
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  const address = await new Promise<string>((res, rej) => {
    const timer = setTimeout(
      () => rej(new Error(`${t.name} did not start under valgrind in 180 s: ${stderr}`)),
      180_000,
    );
    child.on('message', (m: { address?: string; error?: string }) => {
      clearTimeout(timer);
      if (m.address) res(m.address);
      else rej(new Error(`${t.name} failed: ${m.error}`));
    });
    child.once('exit', (code) => rej(new Error(`${t.name} exited with ${code}: ${stderr}`)));
  });
  // SIGINT ends Node at once; valgrind writes its counts as the process ends.
  return { address, stop: () => stopProcess(child, 'SIGINT') };
}

function totalInstructions(file: string): number {
  const m = /^(?:summary|totals):\s*(\d+)/m.exec(readFileSync(file, 'utf8'));
  if (!m) throw new Error(`no instruction total in ${file}`);
  return Number(m[1]);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'igw-grpc-instr-'));
  const predictor: ChildProcess = fork(serverScript(here), ['predictor'], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const predictorAddress = await new Promise<string>((res) =>
    predictor.once('message', (m: { address: string }) => res(m.address)),
  );
  const upstream = `http://${predictorAddress}`;
  const targets: Target[] = [
    { name: 'plain HTTP/2 forwarder (the floor)', script: serverScript(here), kind: 'floor' },
    { name: 'gateway gRPC door, labels-only', script: serverScript(here), kind: 'gateway' },
    ...(values.baseline
      ? [
          {
            name: `the same, built from ${values.baseline}`,
            script: serverScript(resolve(values.baseline, 'dist')),
            kind: 'gateway' as const,
          },
        ]
      : []),
  ];
  const config = labelsOnlyGatewayConfig(upstream);
  config['upstream'] = { ...(config['upstream'] as object), timeoutMs: SLOW_DEADLINE_MS };
  const env = { BENCH_UPSTREAM: upstream, BENCH_CONFIG: JSON.stringify(config) };
  const lines: string[] = [];
  try {
    for (const size of sizes) {
      const request = inferRequestBytes(size);
      let floor: number | undefined;
      for (const t of targets) {
        const totals: number[] = [];
        for (const n of [CALLS, 2 * CALLS]) {
          const out = join(
            dir,
            `${t.kind}-${size}-${n}-${totals.length}-${Math.random().toString(36).slice(2)}.callgrind`,
          );
          const p = await underCallgrind(t, env, out);
          for (const count of [WARMUP, n]) {
            if (count === 0) continue;
            const r = await grpcLoad(p.address, request, CONCURRENCY, MAX_SECONDS, count, SLOW_DEADLINE_MS);
            if (r.errors || r.calls < count)
              throw new Error(`${t.name}: ${r.errors} non-OK (${r.firstError}), ${r.calls} of ${count} calls`);
          }
          await p.stop();
          totals.push(totalInstructions(out));
          process.stderr.write(
            `${t.name}, ${size} rows: ${n} calls after warm-up, ${totals.at(-1)} instructions in all\n`,
          );
        }
        const per = (totals[1]! - totals[0]!) / CALLS;
        floor ??= per;
        lines.push(`| ${size} | ${t.name} | ${(per / 1000).toFixed(1)} | ${(per / floor).toFixed(2)}× |`);
      }
    }
  } finally {
    predictor.kill('SIGTERM');
  }
  process.stdout.write(
    [
      `${new Date().toISOString()} · node ${process.version} · callgrind, ${WARMUP} warm-up calls, then ${CALLS} vs ${2 * CALLS}; ${CONCURRENCY} calls in flight on one channel`,
      '',
      '| rows per call | target | thousand instructions / call | × floor |',
      '| ---: | --- | ---: | ---: |',
      ...lines,
      '',
    ].join('\n'),
  );
}

await main();
