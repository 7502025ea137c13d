// The request every target is measured with: a KServe V2 (Open Inference Protocol) infer call
// for the iris model, N rows of FP32 features, with the bench's bearer token when the target
// authenticates.

export interface BenchCall {
  readonly method: 'POST';
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

const ROW = [6.8, 2.8, 4.8, 1.4];

export function v2InferCall(rows: number, token: string | undefined): BenchCall {
  const body = JSON.stringify({
    inputs: [
      { name: 'input-0', shape: [rows, ROW.length], datatype: 'FP32', data: Array.from({ length: rows }, () => ROW) },
    ],
  });
  return {
    method: 'POST',
    path: '/v2/models/iris/infer',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body,
  };
}

/** One measurement, whatever generated the load. Latencies in milliseconds. */
export interface LoadResult {
  readonly generator: string;
  /** Completed requests (any status). */
  readonly requests: number;
  readonly seconds: number;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  /** Set by the open-loop generator only: the far tail, where single stalls show. */
  readonly p999?: number;
  readonly max?: number;
  /** Answers that were not 2xx. */
  readonly non2xx: number;
  /** Connection errors and timeouts. */
  readonly errors: number;
}
