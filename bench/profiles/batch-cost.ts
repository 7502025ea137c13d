// Where a batch's CPU goes, per row: the gateway's own JavaScript for one V2 request of N rows of
// a 4-feature model, split into the parts a batch pays per row, called in-process (no sockets) on
// a real predictor's real answers:
//   node dist/bench/profiles/batch-cost.js [--rows 256] [--count 400] [--rounds 5]
//   node --cpu-prof dist/bench/profiles/batch-cost.js
// Parts: reading (strict JSON and the V2 body, once per request), contract (the input contract
// and the request's policy check), counting (the limits stage charging N predictions), answer
// reduction (the predictor's answer reduced to labels), extraction (the guard's body stage and its
// answer observer, which scores every new row). Two kinds of batch: N identical rows (what the
// HTTP load of `npm run bench` sends: the extraction guard counts them as exact repeats and does
// not score them) and N distinct iris-like rows (scored). Each request's parts are timed with
// process CPU time (getrusage); medians over rounds, round 0 is the warm-up.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { IncomingMessage } from 'node:http';
import { request } from 'undici';
import { buildConfig } from '../../src/config/load-config.js';
import { Gateway } from '../../src/gateway.js';
import { createLogger } from '../../src/observability/logger.js';
import { requestViewOf } from '../../src/adapters/proxy/request-view-from-incoming.js';
import { answerForRewriter } from '../../src/adapters/proxy/exchange.js';
import { inferenceRequestOf } from '../../src/inference/inference-request.js';
import type { Stage } from '../../src/decision/stage.js';
import type { DecisionPipeline } from '../../src/decision/pipeline.js';
import { createBenchIdentity, type BenchIdentity } from '../bench-identity.js';
import { startChild } from '../child-processes.js';
import { everythingOnConfig } from '../targets/gateway-targets.js';
import { boundedArg } from '../cli-bounds.js';

export const BATCH_PARTS = ['reading', 'contract', 'counting', 'reduction', 'extraction'] as const;
export type BatchPart = (typeof BATCH_PARTS)[number];

export interface BatchCostRow {
  readonly rows: 'identical' | 'distinct';
  readonly batch: number;
  /** Median µs per request for each part. */
  readonly perRequest: Readonly<Record<BatchPart, number>>;
}

// Iris per-class feature means and standard deviations (Fisher 1936, the UCI Iris data set).
const IRIS_CLASSES = [
  { mean: [5.006, 3.428, 1.462, 0.246], sd: [0.352, 0.379, 0.174, 0.105] },
  { mean: [5.936, 2.77, 4.26, 1.326], sd: [0.516, 0.314, 0.47, 0.198] },
  { mean: [6.588, 2.974, 5.552, 2.026], sd: [0.636, 0.322, 0.552, 0.275] },
];
const IDENTICAL_ROW = [6.8, 2.8, 4.8, 1.4];

/** A seeded generator (mulberry32), so every run sends the same rows. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Iris-like rows: a class at random, each feature normal around its class mean, two decimals as clients send them. */
function distinctRows(n: number, random: () => number): number[][] {
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  return Array.from({ length: n }, () => {
    const c = IRIS_CLASSES[Math.floor(random() * 3)]!;
    return c.mean.map((m, j) => Math.min(10, Math.max(0.1, Math.round((m + c.sd[j]! * normal()) * 100) / 100)));
  });
}

const v2Body = (rows: readonly (readonly number[])[]) =>
  JSON.stringify({
    inputs: [{ name: 'input-0', shape: [rows.length, 4], datatype: 'FP32', data: rows }],
  });

interface Case {
  readonly body: Buffer;
  readonly answerStatus: number;
  readonly answerHeaders: Record<string, string | string[] | undefined>;
  readonly answerBody: Buffer;
}

async function casesFor(predictorUrl: string, bodies: string[]): Promise<Case[]> {
  const out: Case[] = [];
  for (const b of bodies) {
    const res = await request(`${predictorUrl}/v2/models/iris/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: b,
    });
    const answerBody = Buffer.from(await res.body.arrayBuffer());
    if (res.statusCode !== 200) throw new Error(`predictor answered ${res.statusCode}: ${answerBody.toString()}`);
    out.push({ body: Buffer.from(b), answerStatus: res.statusCode, answerHeaders: res.headers, answerBody });
  }
  return out;
}

/** Process CPU time (user + system, all threads: GC helpers included) in µs: the machine is shared, so wall time would count other jobs. */
const cpuNow = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * Runs the breakdown: the everything-on gateway's configuration (auth, memory limits, labels-only,
 * extraction in shadow), in this process, against a demo predictor it starts and stops.
 */
export async function measureBatchCost(opts: {
  readonly identity: BenchIdentity;
  readonly batch: number;
  readonly count: number;
  readonly rounds: number;
}): Promise<BatchCostRow[]> {
  const { identity, batch, count, rounds } = opts;
  const predictor = await startChild('predictor', undefined, { stdout: 'ignore' });
  const random = seeded(25);
  // Distinct batches: enough different bodies that the guard sees new rows; a fresh account per
  // pass over them, so a pass never repeats a row an account has already sent.
  const distinctCount = 64;
  let identical: Case[];
  let distinct: Case[];
  try {
    identical = await casesFor(predictor.url, [v2Body(Array.from({ length: batch }, () => IDENTICAL_ROW))]);
    distinct = await casesFor(
      predictor.url,
      Array.from({ length: distinctCount }, () => v2Body(distinctRows(batch, random))),
    );
  } finally {
    await predictor.stop();
  }
  const config = buildConfig(
    {
      server: { host: '127.0.0.1', port: 0 },
      admin: { host: '127.0.0.1', port: 0 },
      upstream: { url: 'http://127.0.0.1:9' },
      ...everythingOnConfig(identity),
    },
    'bench',
  );
  const gw = await Gateway.create(config, { log: createLogger('error', '/dev/null'), defaultMetrics: false });
  const pipeline = gw.pipeline;
  const bodyStages = (pipeline as unknown as { bodyStages: readonly Stage[] }).bodyStages;
  const partOf: Record<string, BatchPart> = {
    contract: 'contract',
    'rate-limit': 'counting',
    extraction: 'extraction',
  };
  const passes = Math.ceil((count * (rounds + 1)) / distinctCount) + 1;
  const tokens = await Promise.all(Array.from({ length: passes }, (_, i) => identity.token(`batch-user-${i}`)));
  const results: BatchCostRow[] = [];
  try {
    for (const [kind, cases] of [
      ['identical', identical],
      ['distinct', distinct],
    ] as const) {
      let n = 0;
      const perRound: Record<BatchPart, number[]> = {
        reading: [],
        contract: [],
        counting: [],
        reduction: [],
        extraction: [],
      };
      for (let r = 0; r < rounds + 1; r++) {
        const sums: Record<BatchPart, number> = { reading: 0, contract: 0, counting: 0, reduction: 0, extraction: 0 };
        for (let i = 0; i < count; i++, n++) {
          const c = cases[n % cases.length]!;
          const token = kind === 'distinct' ? tokens[Math.floor(n / cases.length)]! : tokens[0]!;
          await oneRequest(pipeline, bodyStages, partOf, c, token, `batch-${n}`, sums, config.upstream.maxAnswerBytes);
        }
        if (r > 0) for (const p of BATCH_PARTS) perRound[p].push(sums[p] / count);
      }
      const perRequest = Object.fromEntries(BATCH_PARTS.map((p) => [p, median(perRound[p])])) as Record<
        BatchPart,
        number
      >;
      results.push({ rows: kind, batch, perRequest });
    }
  } finally {
    await gw.close();
  }
  return results;
}

async function oneRequest(
  pipeline: DecisionPipeline,
  bodyStages: readonly Stage[],
  partOf: Record<string, BatchPart>,
  c: Case,
  token: string,
  requestId: string,
  sums: Record<BatchPart, number>,
  maxAnswerBytes: number,
): Promise<void> {
  const headers: Record<string, string> = {
    host: '127.0.0.1:8080',
    'content-type': 'application/json',
    authorization: `Bearer ${token}`,
    'content-length': String(c.body.length),
  };
  const req = {
    method: 'POST',
    url: '/v2/models/iris/infer',
    headers,
    rawHeaders: Object.entries(headers).flat(),
    socket: { remoteAddress: '127.0.0.1' },
  } as unknown as IncomingMessage;
  const head = await pipeline.decideHead(requestViewOf(req, requestId));
  if (!head.allowed) throw new Error(`refused in the head phase: ${head.denial.code}`);
  const ctx = head.ctx;
  let t = cpuNow();
  ctx.attachBody(c.body, false);
  const read = inferenceRequestOf(ctx);
  if (!read?.ok) throw new Error('the body was not read');
  let now = cpuNow();
  sums.reading += now - t;
  for (const s of bodyStages) {
    t = now;
    const denial = await s.run(ctx);
    if (denial) throw new Error(`refused by ${s.name}: ${denial.code}`);
    now = cpuNow();
    sums[partOf[s.name] ?? 'contract'] += now - t;
  }
  t = now;
  const { answer } = answerForRewriter(c.answerStatus, c.answerHeaders, c.answerBody, maxAnswerBytes);
  if (!answer || !ctx.rewrite) throw new Error('no answer to rewrite');
  const out = ctx.rewrite.rewrite(answer, ctx);
  if (!out.ok) throw new Error(`rewrite refused: ${out.denial.code}`);
  now = cpuNow();
  sums.reduction += now - t;
  t = now;
  for (const o of ctx.observers) await o.observe(answer, ctx);
  sums.extraction += cpuNow() - t;
}

/** The breakdown as a markdown table: µs per request and per row of each part. */
export function batchCostTable(rows: readonly BatchCostRow[]): string {
  const lines = [
    `| rows in the batch | ${BATCH_PARTS.map((p) => `${p} µs/row`).join(' | ')} | total µs/req |`,
    `| --- | ${BATCH_PARTS.map(() => '---:').join(' | ')} | ---: |`,
  ];
  for (const r of rows) {
    const total = BATCH_PARTS.reduce((a, p) => a + r.perRequest[p], 0);
    lines.push(
      `| ${r.batch} ${r.rows} | ${BATCH_PARTS.map((p) => (r.perRequest[p] / r.batch).toFixed(3)).join(' | ')} | ${total.toFixed(1)} |`,
    );
  }
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      rows: { type: 'string', default: '256' },
      count: { type: 'string', default: '400' },
      rounds: { type: 'string', default: '5' },
    },
  });
  const identity = await createBenchIdentity(mkdtempSync(join(tmpdir(), 'igw-batch-')));
  const rows = await measureBatchCost({
    identity,
    batch: boundedArg('rows', values.rows, 1, 256),
    count: boundedArg('count', values.count, 10, 100_000),
    rounds: boundedArg('rounds', values.rounds, 1, 20),
  });
  process.stdout.write(
    `${new Date().toISOString()} · node ${process.version} · gateway JavaScript per batch, everything on, in-process\n\n${batchCostTable(rows)}\n`,
  );
}
