// The gateway's own JavaScript per request, everything on, without sockets: what the proxy door
// runs for one allowed request (request view, head and body phases, predictor request headers,
// answer headers, the labels-only rewrite, the answer observers, the access record), called
// in-process on a real predictor's real answer, N times per round:
//   node dist/bench/profiles/pipeline-cost.js [--count 50000] [--rounds 5]
//   node --cpu-prof dist/bench/profiles/pipeline-cost.js   (a profile with no kernel time in it)
// Socket reads and writes, node:http and undici are what the Node floor pays too; this isolates
// what the gateway adds on top, and on a shared machine it is far steadier than a load test
// (no syscalls, no other process in the loop). CPU from process.cpuUsage(), medians over rounds.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { IncomingMessage } from 'node:http';
import { request } from 'undici';
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
  options: { count: { type: 'string', default: '50000' }, rounds: { type: 'string', default: '5' } },
});
const COUNT = Math.min(1_000_000, Math.max(1000, Number(values.count)));
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

const config = buildConfig(
  {
    server: { host: '127.0.0.1', port: 0 },
    admin: { host: '127.0.0.1', port: 0 },
    upstream: { url: 'http://127.0.0.1:9' },
    ...everythingOnConfig(identity),
  },
  'bench',
);
// The access log is written, to /dev/null, as the bench's gateways write theirs.
const log = createLogger(config.log.level, '/dev/null');
const gw = await Gateway.create(config, { log, defaultMetrics: false });
const access = accessRecorder('proxy', config, gw.metrics, log);
const pipeline = gw.pipeline;

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

const perRound: number[] = [];
for (let r = 0; r < ROUNDS + 1; r++) {
  const before = process.cpuUsage();
  for (let i = 0; i < COUNT; i++) await one();
  const used = process.cpuUsage(before);
  // Round 0 is the warm-up (JIT tiers, caches).
  if (r > 0) perRound.push((used.user + used.system) / COUNT);
}
await gw.close();
const sorted = [...perRound].sort((a, b) => a - b);
process.stdout.write(
  `${new Date().toISOString()} · node ${process.version} · gateway JavaScript per request, everything on, in-process: ` +
    `median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(2)} µs (rounds ${perRound.map((x) => x.toFixed(2)).join(', ')}; ${COUNT} requests each)\n`,
);
