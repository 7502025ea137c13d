// A closed loop of `concurrency` workers sending exactly `count` requests (or stopping at
// `maxSeconds`), each request built from its index: many distinct users, or one user's long
// history, without a generator cycling a fixed list.
import { Pool } from 'undici';
import type { BenchCall } from './bench-call.js';
import { LatencyRecorder, percentile } from './latency-stats.js';

export interface CountedResult {
  readonly requests: number;
  readonly seconds: number;
  readonly non2xx: number;
  readonly errors: number;
  /** True when the time bound stopped the loop before `count`. */
  readonly cutShort: boolean;
  /** Latency percentiles of the completed requests, ms (closed loop: queueing at `concurrency` included). */
  readonly p50: number;
  readonly p99: number;
}

export async function countedLoad(
  url: string,
  callFor: (i: number) => BenchCall,
  count: number,
  concurrency: number,
  maxSeconds: number,
): Promise<CountedResult> {
  const pool = new Pool(url, { connections: concurrency, keepAliveTimeout: 30_000 });
  let next = 0;
  let done = 0;
  let non2xx = 0;
  let errors = 0;
  const latencies = new LatencyRecorder(Math.min(count, 2_000_000));
  const started = performance.now();
  const deadline = started + maxSeconds * 1000;
  const worker = async () => {
    while (next < count && performance.now() < deadline) {
      const call = callFor(next++);
      const sent = performance.now();
      try {
        const res = await pool.request({
          method: call.method,
          path: call.path,
          headers: call.headers,
          body: call.body,
        });
        await res.body.dump();
        if (res.statusCode < 200 || res.statusCode > 299) non2xx++;
        latencies.record(performance.now() - sent);
      } catch {
        errors++;
      }
      done++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  await pool.destroy();
  const sorted = latencies.sorted();
  return {
    requests: done,
    seconds: (performance.now() - started) / 1000,
    non2xx,
    errors,
    cutShort: done < count,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
  };
}
