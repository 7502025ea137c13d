// The gateway's own JavaScript per request, everything on, without sockets: what the proxy door
// runs for one allowed request (request view, head and body phases, predictor request headers,
// answer headers, the labels-only rewrite, the answer observers, the access record), called
// in-process on a real predictor's real answer, N times per round:
//   node dist/bench/profiles/pipeline-cost.js [--count 50000] [--rounds 5]
//   node --cpu-prof dist/bench/profiles/pipeline-cost.js   (a profile with no kernel time in it)
//   node dist/bench/profiles/pipeline-cost.js --redis   (also the same config with limits on a real
//     redis-server, the two gateways in alternate rounds: what the Redis row's own work costs beyond
//     the memory row's, its lease top-ups, evidence flushes and health probes included, since their
//     ioredis work runs in this process too)
// Socket reads and writes, node:http and undici are what the Node floor pays too; this isolates
// what the gateway adds on top, and on a shared machine it is far steadier than a load test
// (no syscalls, no other process in the loop). CPU from process.cpuUsage(), medians over rounds.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { IncomingMessage } from 'node:http';
import { request } from 'undici';
import { startRedis, type RedisServer } from '../../test/helpers/redis-server.js';
import { buildConfig } from '../../src/config/load-config.js';
import { Gateway } from '../../src/gateway.js';
import { createLogger } from '../../src/observability/logger.js';
import { accessRecorder } from '../../src/observability/access-record.js';
import { requestViewOf } from '../../src/adapters/proxy/request-view-from-incoming.js';
import { upstreamHeaders } from '../../src/adapters/proxy/forward-headers.js';
import { answerForRewriter } from '../../src/adapters/proxy/exchange.js';
import { createBenchIdentity } from '../bench-identity.js';
import { startChild } from '../child-processes.js';
import { v2InferCall } from '../load/bench-call.js';
import { everythingOnConfig } from '../targets/gateway-targets.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '50000' },
    rounds: { type: 'string', default: '5' },
    redis: { type: 'boolean', default: false },
  },
});
const COUNT = Math.min(1_000_000, Math.max(1000, Number(values.count)));
const YIELD_EVERY = 32;
const ROUNDS = Math.min(20, Math.max(1, Number(values.rounds)));

const identity = await createBenchIdentity(mkdtempSync(join(tmpdir(), 'igw-pipeline-')));
const token = await identity.token('bench-user');
const call = v2InferCall(1, token);
const predictor = await startChild('predictor', undefined, { stdout: 'ignore' });

// One real answer of the demo predictor, replayed: its raw header bytes as undici hands them.
const upstreamRes = await request(predictor.url + call.path, {
  method: 'POST',
  headers: call.headers,
  body: call.body,
});
const answerBody = Buffer.from(await upstreamRes.body.arrayBuffer());
// As undici hands them to a dispatch handler's onResponseStart: parsed, by lower-case name.
const answerHeaders = upstreamRes.headers;
await predictor.stop();

const baseConfig: Record<string, unknown> = {
  server: { host: '127.0.0.1', port: 0 },
  admin: { host: '127.0.0.1', port: 0 },
  upstream: { url: 'http://127.0.0.1:9' },
  ...everythingOnConfig(identity),
};
const redisServer: RedisServer | undefined = values.redis ? await startRedis() : undefined;
type Row = {
  name: string;
  one: () => Promise<void>;
  close: () => Promise<void>;
  /** Charges the Redis store did not decide (answered by its failure policy) so far. */
  undecided: () => Promise<number>;
  perRound: number[];
};
const rows: Row[] = [await rowFor('memory limits', baseConfig)];
if (redisServer) {
  const limits = baseConfig['limits'] as Record<string, unknown>;
  rows.push(
    await rowFor('limits on Redis', {
      ...baseConfig,
      limits: { ...limits, store: { kind: 'redis', redisUrl: redisServer.url } },
    }),
  );
}

async function rowFor(name: string, raw: Record<string, unknown>): Promise<Row> {
  const config = buildConfig(raw, 'bench');
  // The access log is written, to /dev/null, as the bench's gateways write theirs.
  const log = createLogger(config.log.level, '/dev/null');
  const gw = await Gateway.create(config, { log, defaultMetrics: false });
  const access = accessRecorder('proxy', config, gw.metrics, log);
  const pipeline = gw.pipeline;
  let n = 0;
  async function one(): Promise<void> {
    const started = performance.now();
    const requestId = `bench-${n++}`;
    const head = await pipeline.decideHead(requestViewOf(req, requestId));
    if (!head.allowed) throw new Error(`refused in the head phase: ${head.denial.code}`);
    const d = await pipeline.decideBody(head.ctx, body);
    if (!d.allowed) throw new Error(`refused in the body phase: ${d.denial.code}`);
    const ctx = d.ctx;
    upstreamHeaders(req.headers, ctx, '127.0.0.1:9', {
      requestId,
      forwardedFor: '127.0.0.1',
      identityEncoding: true,
      bodyLength: body.length,
      traceHeaders: undefined,
    });
    const { answer } = answerForRewriter(200, answerHeaders, answerBody, config.upstream.maxAnswerBytes);
    if (!answer || !ctx.rewrite) throw new Error('no answer to rewrite');
    const out = ctx.rewrite.rewrite(answer, ctx);
    if (!out.ok) throw new Error(`rewrite refused: ${out.denial.code}`);
    // The door runs observers on the next turn; here they run inline so their cost is counted.
    for (const o of ctx.observers) await o.observe(answer, ctx);
    access({ requestId, method: 'POST', ctx, outcome: 'allowed', status: 200, ms: performance.now() - started });
  }
  const undecided = async () =>
    (await gw.metrics.limitsStoreFailures.get()).values.reduce((sum, v) => sum + v.value, 0);
  return { name, one, close: () => gw.close(), undecided, perRound: [] };
}

// What node:http hands the door for the bench's request (the parser's work is the floor's too).
const rawHeaders = [
  'Host',
  '127.0.0.1:8080',
  'Content-Type',
  'application/json',
  'Authorization',
  `Bearer ${token}`,
  'Content-Length',
  String(Buffer.byteLength(call.body)),
];
const headers: Record<string, string> = {};
for (let i = 0; i < rawHeaders.length; i += 2) headers[rawHeaders[i]!.toLowerCase()] = rawHeaders[i + 1]!;
const req = {
  method: 'POST',
  url: call.path,
  headers,
  rawHeaders,
  socket: { remoteAddress: '127.0.0.1' },
} as unknown as IncomingMessage;
const body = Buffer.from(call.body);

const undecidedAfterWarmUp: number[] = [];
for (let r = 0; r < ROUNDS + 1; r++) {
  if (r === 1) for (const row of rows) undecidedAfterWarmUp.push(await row.undecided());
  // Rows alternate within a round, in a rotated order, so drift of a shared machine shows as spread.
  for (let k = 0; k < rows.length; k++) {
    const row = rows[(k + r) % rows.length]!;
    const before = process.cpuUsage();
    for (let i = 0; i < COUNT; i++) {
      await row.one();
      // A turn of the event loop now and then, as a server gets between requests: without it the
      // loop runs on microtasks alone, no timer or socket answer is ever read, and the Redis store
      // would never see its health probe answer (so it would charge every request to its failure
      // policy), nor its lease top-ups and evidence flushes.
      if (i % YIELD_EVERY === YIELD_EVERY - 1) await new Promise((resolve) => setImmediate(resolve));
    }
    const used = process.cpuUsage(before);
    // Round 0 is the warm-up (JIT tiers, caches, the Redis health probe's first answer).
    if (r > 0) row.perRound.push((used.user + used.system) / COUNT);
  }
}
// A Redis row whose store answered from its failure policy measured the fallback, not Redis: said, not hidden.
const undecided: number[] = [];
for (const [i, row] of rows.entries()) undecided.push((await row.undecided()) - undecidedAfterWarmUp[i]!);
for (const row of rows) await row.close();
await redisServer?.stop();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const row of rows)
  process.stdout.write(
    `${new Date().toISOString()} · node ${process.version} · gateway JavaScript per request, everything on (${row.name}), in-process: ` +
      `median ${median(row.perRound).toFixed(2)} µs (rounds ${row.perRound.map((x) => x.toFixed(2)).join(', ')}; ${COUNT} requests each; ` +
      `${undecided[rows.indexOf(row)]} charges answered by the store's failure policy after the warm-up)\n`,
  );
if (rows.length === 2) {
  // Paired by round: the two rows of a round ran back to back, so a round's difference is the steadier figure.
  const diffs = rows[1]!.perRound.map((x, i) => x - rows[0]!.perRound[i]!);
  process.stdout.write(
    `limits on Redis minus memory limits, paired by round: median ${median(diffs).toFixed(2)} µs/request (${diffs.map((x) => x.toFixed(2)).join(', ')})\n`,
  );
}
