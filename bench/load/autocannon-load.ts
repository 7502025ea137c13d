// autocannon in the harness process: closed loop, `connections` requests in flight, stopped by
// time (and by a request count, so a fast target cannot run away).
import autocannon from 'autocannon';
import type { BenchCall, LoadResult } from './bench-call.js';

export const MAX_REQUESTS_PER_LOAD = 2_000_000;

export async function autocannonLoad(
  url: string,
  call: BenchCall,
  connections: number,
  seconds: number,
): Promise<LoadResult> {
  const r = await autocannon({
    url: url + call.path,
    method: call.method,
    headers: { ...call.headers },
    body: call.body,
    connections,
    duration: seconds,
    maxOverallRequests: MAX_REQUESTS_PER_LOAD,
    timeout: 10,
  });
  const requests = r.requests.total;
  return {
    generator: 'autocannon',
    requests,
    seconds: r.duration,
    rps: requests / r.duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
  };
}
