// Bytes allocated and scavenges per request of the bench's own targets (the Node floor and the
// gateway rows), under a fixed number of requests, with the biggest allocation sites:
//   node dist/bench/profiles/alloc-per-request.js [--count 20000] [--only node-floor,gw-all,gw-all-redis] [--sites 15]
//     [--baseline /path/to/other/dist] [--rows 256]
// Every target runs with bench/profiles/alloc-probe.js preloaded (NODE_OPTIONS, so the floor and
// the gateways carry the same probe); after a warm-up, one window of `count` requests counts
// scavenges (no profiler attached) and a second window estimates allocated bytes with V8's
// sampling heap profiler. The target's own work is what the probe sees: the load generator and
// the predictor are other processes. Loopback only; bounded in count and in time.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createBenchIdentity } from '../bench-identity.js';
import { startChild } from '../child-processes.js';
import { boundedArg } from '../cli-bounds.js';
import { v2InferCall } from '../load/bench-call.js';
import { countedLoad } from '../load/counted-load.js';
import { nodeFloorTarget } from '../targets/node-peers.js';
import type { RunningTarget } from '../targets/target.js';
import { chosenTargets } from './chosen-targets.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '20000' },
    warmup: { type: 'string', default: '5000' },
    connections: { type: 'string', default: '32' },
    only: { type: 'string', default: 'node-floor,gw-all,gw-all-redis' },
    sites: { type: 'string', default: '15' },
    // Name each allocation site with this many of its callers.
    callers: { type: 'string', default: '0' },
    baseline: { type: 'string' },
    // Rows per request (the bench's 1-vs-256-rows table sends 256).
    rows: { type: 'string', default: '1' },
  },
});
const COUNT = boundedArg('count', values.count, 1000, 1_000_000, true);
const WARMUP = boundedArg('warmup', values.warmup, 0, 1_000_000, true);
const CONNECTIONS = boundedArg('connections', values.connections, 1, 256, true);
const SITES = boundedArg('sites', values.sites, 0, 40, true);
const ROWS = boundedArg('rows', values.rows, 1, 256, true);
const MAX_SECONDS = 120;

process.env['ALLOC_PROBE_CALLERS'] = String(boundedArg('callers', values.callers, 0, 8, true));
const probe = fileURLToPath(new URL('./alloc-probe.js', import.meta.url));
const chosen = await chosenTargets(values.only ?? '', [nodeFloorTarget], values.baseline);

/** Sends `count` requests between two SIGUSR2 to the target and reads what its probe wrote. */
async function window<T>(r: RunningTarget, dir: string, send: () => Promise<void>): Promise<T> {
  const file = join(dir, `${r.pid}.json`);
  rmSync(file, { force: true });
  process.kill(r.pid, 'SIGUSR2');
  await new Promise((res) => setTimeout(res, 200));
  await send();
  process.kill(r.pid, 'SIGUSR2');
  const until = Date.now() + 20_000;
  while (!existsSync(file) && Date.now() < until) await new Promise((res) => setTimeout(res, 100));
  // The probe writes the file in one call: a moment for it to land.
  await new Promise((res) => setTimeout(res, 100));
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

async function main(): Promise<void> {
  const workDir = mkdtempSync(join(tmpdir(), 'igw-alloc-'));
  const identity = await createBenchIdentity(workDir);
  const token = await identity.token('bench-user');
  const predictor = await startChild('predictor', undefined, { stdout: 'ignore' });
  const env = { predictorUrl: predictor.url, identity, workDir, profileDir: undefined };
  const lines = [
    `${new Date().toISOString()} · node ${process.version} · ${COUNT} requests per window, ${CONNECTIONS} connections, V2 infer (${ROWS} row${ROWS === 1 ? '' : 's'})`,
    '',
    '| target | kB allocated / request | scavenges / 10,000 requests | full GCs | GC pause ms / 10,000 requests |',
    '| --- | ---: | ---: | ---: | ---: |',
  ];
  const siteLines: string[] = [];
  try {
    for (const t of chosen) {
      const results: { gc?: { scavenges: number; marks: number; pauseMs: number }; heap?: HeapResult } = {};
      for (const mode of ['gc', 'heap'] as const) {
        const dir = mkdtempSync(join(workDir, `${t.id}-${mode}-`));
        const saved = process.env['NODE_OPTIONS'];
        process.env['NODE_OPTIONS'] = `${saved ?? ''} --import=${pathToFileURL(probe).href}`.trim();
        process.env['ALLOC_PROBE_DIR'] = dir;
        process.env['ALLOC_PROBE_MODE'] = mode;
        let r: RunningTarget;
        try {
          r = await t.start(env);
        } finally {
          if (saved === undefined) delete process.env['NODE_OPTIONS'];
          else process.env['NODE_OPTIONS'] = saved;
        }
        try {
          const call = v2InferCall(ROWS, t.authenticates ? token : undefined);
          await countedLoad(r.url, () => call, WARMUP, CONNECTIONS, MAX_SECONDS);
          const out = await window<never>(r, dir, async () => {
            const res = await countedLoad(r.url, () => call, COUNT, CONNECTIONS, MAX_SECONDS);
            if (res.non2xx || res.errors || res.cutShort)
              throw new Error(`${t.id}: ${res.non2xx} non-2xx, ${res.errors} errors, cut short: ${res.cutShort}`);
          });
          if (mode === 'gc') results.gc = out;
          else results.heap = out;
        } finally {
          await r.stop();
        }
      }
      const { gc, heap } = results as Required<typeof results>;
      const per10k = (x: number) => ((x * 10_000) / COUNT).toFixed(1);
      lines.push(
        `| ${t.name} | ${(heap.total / COUNT / 1000).toFixed(1)} | ${per10k(gc.scavenges)} | ${gc.marks} | ${per10k(gc.pauseMs)} |`,
      );
      process.stderr.write(`${t.id}: ${(heap.total / COUNT / 1000).toFixed(1)} kB/request\n`);
      if (SITES > 0) {
        siteLines.push('', `${t.name}: biggest allocation sites (bytes per request, self)`, '');
        for (const [site, bytes] of heap.sites.slice(0, SITES))
          siteLines.push(`- ${(bytes / COUNT).toFixed(0)} B  ${site}`);
        siteLines.push('', `${t.name}: bytes per request by the nearest gateway function on the stack (inclusive)`, '');
        for (const [owner, bytes] of heap.owners.slice(0, SITES))
          siteLines.push(`- ${(bytes / COUNT).toFixed(0)} B  ${owner}`);
      }
    }
  } finally {
    await predictor.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
  process.stdout.write([...lines, ...siteLines].join('\n') + '\n');
}

interface HeapResult {
  total: number;
  sites: Array<[string, number]>;
  owners: Array<[string, number]>;
}

await main();
