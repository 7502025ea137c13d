// Open-loop load at a fixed rate (the third scenario: half of the gateway's saturation rate).
// Closed-loop generators (wrk, autocannon) wait for an answer before sending the next request,
// so a slow answer also slows the load and hides queueing; here requests leave on schedule,
// whatever came back, and each latency runs from the moment the request was handed to the
// client pool. The first `warmUpSeconds` run at the same rate unrecorded (connections opened,
// code optimised on both sides). Bounded by count (rate × total seconds) and by time.
import { Pool } from 'undici';
import type { BenchCall, LoadResult } from './bench-call.js';
import { LatencyRecorder, percentile } from './latency-stats.js';

const TICK_MS = 1;

export async function pacedLoad(
  url: string,
  call: BenchCall,
  ratePerSecond: number,
  seconds: number,
  connections: number,
  warmUpSeconds = 1,
): Promise<LoadResult> {
  const unrecorded = Math.floor(ratePerSecond * warmUpSeconds);
  const total = unrecorded + Math.max(1, Math.floor(ratePerSecond * seconds));
  const pool = new Pool(url, { connections, keepAliveTimeout: 30_000 });
  const latencies = new LatencyRecorder(total);
  let sent = 0;
  let done = 0;
  let non2xx = 0;
  let errors = 0;
  const body = Buffer.from(call.body);
  const one = (recorded: boolean) => {
    const t0 = performance.now();
    pool.request({ method: call.method, path: call.path, headers: call.headers, body }).then(
      async (res) => {
        await res.body.dump();
        if (recorded) latencies.record(performance.now() - t0);
        if (res.statusCode < 200 || res.statusCode > 299) non2xx++;
        done++;
      },
      () => {
        errors++;
        done++;
      },
    );
  };
  const started = performance.now();
  const hardStop = started + (warmUpSeconds + seconds + 10) * 1000;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const now = performance.now();
      const due = Math.min(total, Math.floor(((now - started) / 1000) * ratePerSecond));
      while (sent < due) {
        one(sent >= unrecorded);
        sent++;
      }
      if ((sent === total && done === total) || now > hardStop) {
        clearInterval(timer);
        resolve();
      }
    }, TICK_MS);
  });
  const elapsed = (performance.now() - started) / 1000;
  await pool.destroy();
  const sorted = latencies.sorted();
  return {
    generator: 'paced (undici)',
    requests: done,
    seconds: elapsed,
    rps: done / elapsed,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    p999: percentile(sorted, 99.9),
    max: percentile(sorted, 100),
    non2xx,
    errors: errors + (total - done),
  };
}
