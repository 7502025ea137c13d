// Instructions per request, counted by valgrind (callgrind) on the proxy process: a figure that
// does not move with the load of a shared machine, unlike CPU time.
//   node dist/bench/profiles/instructions.js [--requests 2000] [--warmup 2000] [--only node-floor,gw-all] [--baseline other/dist]
// Each target runs twice under `valgrind --tool=callgrind`, each time warmed up with the same
// `warmup` requests and then sent `requests` or 2 × `requests` more; the difference of the two
// runs' totals over `requests` is the cost of one request, with start-up and warm-up cancelled
// out. User-space instructions only: the kernel's side of socket reads and writes is not in it
// (CPU time per request, bench/profiles/fixed-count.ts, has it). Same targets, calls and token as
// `npm run bench`; loopback only; every load bounded in count and time.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createBenchIdentity, type BenchIdentity } from '../bench-identity.js';
import { startChild } from '../child-processes.js';
import { v2InferCall } from '../load/bench-call.js';
import { countedLoad } from '../load/counted-load.js';
import { stopProcess } from '../targets/spawned-server.js';
import { everythingOnConfig } from '../targets/gateway-targets.js';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '2000' },
    warmup: { type: 'string', default: '2000' },
    connections: { type: 'string', default: '8' },
    only: { type: 'string', default: 'node-floor,reply-from-jose,gw-all' },
    baseline: { type: 'string' },
  },
});
const REQUESTS = Math.min(100_000, Math.max(100, Number(values.requests)));
const WARMUP = Math.min(100_000, Math.max(0, Number(values.warmup)));
const CONNECTIONS = Math.min(64, Math.max(1, Number(values.connections)));
const MAX_SECONDS = 600;

interface Launch {
  readonly name: string;
  readonly authenticates: boolean;
  /** Script and environment of the proxy process. */
  command(identity: BenchIdentity, predictorUrl: string): { script: string; env: Record<string, string> };
}

const here = (rel: string) => fileURLToPath(new URL(rel, import.meta.url));
const gateway = (name: string, dist: string): Launch => ({
  name,
  authenticates: true,
  command: (identity, predictorUrl) => ({
    script: resolve(dist, 'bench/server-process.js'),
    env: {
      BENCH_CONFIG: JSON.stringify({
        server: { host: '127.0.0.1', port: 0 },
        admin: { host: '127.0.0.1', port: 0 },
        upstream: { url: predictorUrl },
        ...everythingOnConfig(identity),
      }),
      BENCH_ARG: 'gateway',
    },
  }),
});
const launches: Record<string, Launch> = {
  'node-floor': {
    name: 'node:http → undici (Node floor)',
    authenticates: false,
    command: (_i, upstream) => ({ script: here('../peers/node-floor.js'), env: { BENCH_UPSTREAM: upstream } }),
  },
  'reply-from-jose': {
    name: 'fastify + reply-from + jose (LRU token cache)',
    authenticates: true,
    command: (i, upstream) => ({
      script: here('../peers/fastify-reply-from.js'),
      env: {
        BENCH_UPSTREAM: upstream,
        BENCH_JWKS: JSON.stringify(i.jwks),
        BENCH_ISSUER: i.issuer,
        BENCH_AUDIENCE: i.audience,
      },
    }),
  },
  'gw-all': gateway('gateway, everything on', fileURLToPath(new URL('../../', import.meta.url))),
  ...(values.baseline ? { 'gw-all@base': gateway('gateway, everything on [baseline build]', values.baseline) } : {}),
};

/** Starts the script under callgrind; resolves with its URL (IPC message or a JSON line on stdout). */
async function underCallgrind(script: string, env: Record<string, string>, outFile: string) {
  const args = [
    '--tool=callgrind',
    `--callgrind-out-file=${outFile}`,
    process.execPath,
    script,
    ...(env['BENCH_ARG'] ? [env['BENCH_ARG']] : []),
  ];
  const child = spawn('valgrind', args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  const url = await new Promise<string>((res, rej) => {
    const timer = setTimeout(
      () => rej(new Error(`${script} did not start under valgrind in 180 s: ${stderr}`)),
      180_000,
    );
    const done = (u: string) => {
      clearTimeout(timer);
      res(u);
    };
    child.on('message', (m: { url?: string }) => m.url && done(m.url));
    let out = '';
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n') && line?.startsWith('{')) done((JSON.parse(line) as { url: string }).url);
    });
    child.once('exit', (code) => rej(new Error(`${script} exited with ${code}: ${stderr}`)));
  });
  // SIGINT ends Node at once (no drain or grace period); valgrind writes its counts as the process ends.
  return { url, stop: () => stopProcess(child, 'SIGINT') };
}

function totalInstructions(file: string): number {
  const m = /^(?:summary|totals):\s*(\d+)/m.exec(readFileSync(file, 'utf8'));
  if (!m) throw new Error(`no instruction total in ${file}`);
  return Number(m[1]);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'igw-instr-'));
  const identity = await createBenchIdentity(dir);
  const token = await identity.token('bench-user');
  const predictor = await startChild('predictor', undefined, { stdout: 'ignore' });
  const rows: string[] = [];
  const perRequest = new Map<string, number>();
  try {
    for (const id of (values.only ?? '')
      .split(',')
      .flatMap((x) => [x.trim(), ...(values.baseline && x.trim() === 'gw-all' ? ['gw-all@base'] : [])])) {
      const t = launches[id];
      if (!t) throw new Error(`unknown target ${id}`);
      const call = v2InferCall(1, t.authenticates ? token : undefined);
      const totals: number[] = [];
      for (const n of [REQUESTS, 2 * REQUESTS]) {
        const { script, env } = t.command(identity, predictor.url);
        const out = join(dir, `${id}-${n}.callgrind`);
        const p = await underCallgrind(script, env, out);
        for (const count of [WARMUP, n]) {
          if (count === 0) continue;
          const r = await countedLoad(p.url, () => call, count, CONNECTIONS, MAX_SECONDS);
          if (r.non2xx || r.errors || r.cutShort)
            throw new Error(`${id}: ${r.non2xx} non-2xx, ${r.errors} errors, cut short ${r.cutShort}`);
        }
        await p.stop();
        totals.push(totalInstructions(out));
        process.stderr.write(`${id}: ${n} requests after warm-up, ${totals.at(-1)} instructions in all\n`);
      }
      const per = (totals[1]! - totals[0]!) / REQUESTS;
      perRequest.set(id, per);
      rows.push(`| ${t.name} | ${(per / 1000).toFixed(1)} |`);
    }
  } finally {
    await predictor.stop();
  }
  const floor = perRequest.get('node-floor');
  const peer = perRequest.get('reply-from-jose');
  const out = [
    `${new Date().toISOString()} · node ${process.version} · callgrind, ${WARMUP} warm-up requests, then ${REQUESTS} vs ${2 * REQUESTS}; ${CONNECTIONS} connections`,
    '',
    '| target | thousand instructions / request | × Node floor | × fastify + reply-from + jose |',
    '| --- | ---: | ---: | ---: |',
    ...rows.map((r, i) => {
      const id = [...perRequest.keys()][i]!;
      const v = perRequest.get(id)!;
      return `${r} ${floor ? `${(v / floor).toFixed(2)}×` : ''} | ${peer ? `${(v / peer).toFixed(2)}×` : ''} |`;
    }),
  ];
  process.stdout.write(out.join('\n') + '\n');
}

await main();
