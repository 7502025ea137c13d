// Runs one server for the bench in its own process and reports its CPU time over IPC.
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';
import { stallMonitor } from './stall-monitor.js';
import { buildConfig } from '../src/config/load-config.js';
import { Gateway } from '../src/gateway.js';
import { startDemoPredictor } from '../src/quickstart/demo-predictor.js';

const kind = process.argv[2];
const send = (m: unknown) => process.send?.(m);
// Started by the first 'stalls' message only: its 1 ms timer is a cost the other phases must not pay.
let stalls: ReturnType<typeof stallMonitor> | undefined;

process.on('message', (m) => {
  if (m === 'cpu') {
    const u = process.cpuUsage();
    send({ cpu: u.user + u.system });
  }
  // With --expose-gc: a full collection, so the bench can tell retained state from garbage V8 has not collected yet.
  if (m === 'gc') {
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    send({ gc: gc !== undefined, heapUsed: process.memoryUsage().heapUsed });
  }
  // Event-loop delay and GC pauses since the last 'stalls' message (where a tail comes from).
  if (m === 'stalls') send({ stalls: (stalls ??= stallMonitor()).take() });
  // How V8 sized this heap (from the cgroup limit when the process started inside one).
  if (m === 'heap') {
    const young = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
    send({ heapLimit: getHeapStatistics().heap_size_limit, youngBytes: young?.space_size ?? 0 });
  }
});

interface Started {
  url: string;
  extAuthzHttpUrl?: string;
  extAuthzGrpcAddress?: string;
  close: () => Promise<void>;
}

async function start(): Promise<Started> {
  if (kind === 'predictor') return startDemoPredictor();
  const raw = JSON.parse(process.env['BENCH_CONFIG'] ?? '{}') as Record<string, unknown>;
  const gw = await Gateway.create(buildConfig(raw, 'bench'), { defaultMetrics: false });
  const at = await gw.listen();
  return { ...at, close: () => gw.close() };
}

start().then(
  (s) => {
    send({ url: s.url, extAuthzHttpUrl: s.extAuthzHttpUrl, extAuthzGrpcAddress: s.extAuthzGrpcAddress });
    process.on('SIGTERM', () => void s.close().then(() => process.exit(0)));
  },
  (err: unknown) => {
    send({ error: String(err) });
    process.exit(1);
  },
);
