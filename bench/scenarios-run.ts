// npm run bench: every scenario under the same load, in one run, reported as ratios against
// its baseline. Loopback only; each scenario is bounded in time.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { startChild, type Child } from './child-processes.js';
import { grpcCheckLoad } from './grpc-check-load.js';
import { scenarios, type Scenario } from './scenarios.js';
import { uncachedVerificationsPerCpuSecond } from './auth-verify-rate.js';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '8' },
    connections: { type: 'string', default: '32' },
    only: { type: 'string' },
  },
});
const DURATION = Math.min(60, Math.max(1, Number(values.duration)));
const CONNECTIONS = Math.min(256, Math.max(1, Number(values.connections)));

interface Result {
  readonly name: string;
  readonly baseline: string | undefined;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly requests: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly gatewayCpuMicrosPerRequest: number | undefined;
}

async function load(url: string, s: Scenario, ctx: { predictorUrl: string }, seconds: number) {
  const reqs = await s.requests(ctx);
  return autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    requests: reqs.map((r) => ({
      method: r.method,
      path: r.path,
      headers: r.headers ?? {},
      ...(r.body ? { body: r.body } : {}),
    })),
  });
}

async function runScenario(s: Scenario, predictor: Child): Promise<Result> {
  const ctx = { predictorUrl: predictor.url };
  let gateway: Child | undefined;
  try {
    if (s.gateway) {
      const cfg = await s.gateway(ctx);
      gateway = await startChild('gateway', {
        server: { host: '127.0.0.1', port: 0, drainDelaySeconds: 0 },
        admin: { host: '127.0.0.1', port: 0 },
        log: { level: 'warn', accessLog: false },
        ...cfg,
      });
    }
    if (s.door === 'ext-authz-grpc') {
      const address = gateway?.extAuthzGrpcAddress;
      if (!gateway || !address) throw new Error(`${s.name}: the gateway has no gRPC ext-authz door`);
      const reqs = await s.requests(ctx);
      await grpcCheckLoad(address, reqs, CONNECTIONS, 1); // warm-up
      const cpuBefore = await gateway.cpuMicros();
      const g = await grpcCheckLoad(address, reqs, CONNECTIONS, DURATION);
      const cpuAfter = await gateway.cpuMicros();
      return {
        name: s.name,
        baseline: s.baseline,
        rps: g.rps,
        p50: g.p50,
        p99: g.p99,
        requests: g.requests,
        non2xx: g.denied,
        errors: g.errors,
        gatewayCpuMicrosPerRequest: g.requests > 0 ? (cpuAfter - cpuBefore) / g.requests : undefined,
      };
    }
    const target = s.door === 'ext-authz-http' ? gateway?.extAuthzHttpUrl : (gateway?.url ?? predictor.url);
    if (!target) throw new Error(`${s.name}: the gateway has no HTTP ext-authz door`);
    await load(target, s, ctx, 1); // warm-up: JIT, pools, caches
    const cpuBefore = gateway ? await gateway.cpuMicros() : 0;
    const r = await load(target, s, ctx, DURATION);
    const cpuAfter = gateway ? await gateway.cpuMicros() : 0;
    const total = r.requests.total;
    return {
      name: s.name,
      baseline: s.baseline,
      rps: r.requests.average,
      p50: r.latency.p50,
      p99: r.latency.p99,
      requests: total,
      non2xx: r.non2xx,
      errors: r.errors + r.timeouts,
      gatewayCpuMicrosPerRequest: gateway && total > 0 ? (cpuAfter - cpuBefore) / total : undefined,
    };
  } finally {
    await gateway?.stop();
    await s.teardown?.();
  }
}

function table(results: Result[]): string {
  const by = new Map(results.map((r) => [r.name, r]));
  const lines = [
    '| scenario | req/s | p50 ms | p99 ms | gateway CPU µs/req | non-2xx | errors | ratio to baseline |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const r of results) {
    const base = r.baseline ? by.get(r.baseline) : undefined;
    const ratio = base ? `${(r.rps / base.rps).toFixed(3)} × ${base.name}` : '';
    const cpu = r.gatewayCpuMicrosPerRequest === undefined ? '' : r.gatewayCpuMicrosPerRequest.toFixed(0);
    lines.push(
      `| ${r.name} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${cpu} | ${r.non2xx} | ${r.errors} | ${ratio} |`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  // --only a,b: scenarios whose name contains a or b, plus the baselines they are compared with.
  const wanted = values.only?.split(',').map((x) => x.trim());
  const picked = new Set(
    wanted
      ? scenarios.filter((s) => wanted.some((w) => s.name.includes(w))).map((s) => s.name)
      : scenarios.map((s) => s.name),
  );
  for (let grew = true; grew;) {
    grew = false;
    for (const s of scenarios)
      if (picked.has(s.name) && s.baseline && !picked.has(s.baseline)) grew = !!picked.add(s.baseline);
  }
  const chosen = scenarios.filter((s) => picked.has(s.name));
  const predictor = await startChild('predictor');
  const results: Result[] = [];
  try {
    for (const s of chosen) {
      process.stderr.write(`bench: ${s.name} (${DURATION}s, ${CONNECTIONS} connections)\n`);
      results.push(await runScenario(s, predictor));
    }
  } finally {
    await predictor.stop();
  }
  const verifyRates = [
    `uncached token verifications per CPU second: ES256 ${(await uncachedVerificationsPerCpuSecond('ES256')).toFixed(0)}, RS256 ${(await uncachedVerificationsPerCpuSecond('RS256')).toFixed(0)}`,
  ];
  const header = `${new Date().toISOString()} · node ${process.version} · ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'} · ${DURATION}s per scenario, ${CONNECTIONS} connections`;
  const text = `${header}\n\n${table(results)}\n\n${verifyRates.join('\n')}\n`;
  process.stdout.write(text);
  mkdirSync(new URL('./.tmp/', import.meta.url), { recursive: true });
  writeFileSync(new URL('./.tmp/last.md', import.meta.url), text);
  const bad = results.filter((r) => r.non2xx > 0 || r.errors > 0);
  if (bad.length > 0) {
    process.stderr.write(`bench: scenarios with failed requests: ${bad.map((r) => r.name).join(', ')}\n`);
    process.exitCode = 1;
  }
}

await main();
