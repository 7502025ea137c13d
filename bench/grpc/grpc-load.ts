// A bounded closed-loop gRPC load generator on @grpc/grpc-js: `concurrency` ModelInfer calls in
// flight on one channel (one HTTP/2 connection, as one gRPC client multiplexes them), stopped by
// time or by count, whichever comes first.
import { Client, credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { encodeMessage } from '../../src/inference/grpc-codec.js';
import { LatencyRecorder, percentile } from '../load/latency-stats.js';

export interface GrpcLoadResult {
  readonly calls: number;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  /** Calls that ended with a non-OK status. */
  readonly errors: number;
  readonly firstError: string | undefined;
}

export const MAX_CALLS = 500_000;

/** A ModelInfer request for the demo model: `rows` iris rows as typed FP32 contents. */
export function inferRequestBytes(rows: number): Buffer {
  const row = [6.1, 2.8, 4.7, 1.2];
  return encodeMessage('ModelInfer', 'request', {
    model_name: 'iris',
    inputs: [
      {
        name: 'input-0',
        datatype: 'FP32',
        shape: [String(rows), '4'],
        contents: { fp32_contents: Array.from({ length: rows }, () => row).flat() },
      },
    ],
  });
}

export async function grpcLoad(
  address: string,
  request: Buffer,
  concurrency: number,
  seconds: number,
  maxCalls = MAX_CALLS,
): Promise<GrpcLoadResult> {
  const client = new Client(address, credentials.createInsecure());
  const latencies = new LatencyRecorder(maxCalls);
  let errors = 0;
  let firstError: string | undefined;
  let sent = 0;
  const started = performance.now();
  const endAt = started + seconds * 1000;
  const one = () =>
    new Promise<void>((resolve) => {
      const t0 = performance.now();
      client.makeUnaryRequest(
        '/inference.GRPCInferenceService/ModelInfer',
        (b: Buffer) => b,
        (b: Buffer) => b,
        request,
        new Metadata(),
        { deadline: Date.now() + 10_000 },
        (err: ServiceError | null) => {
          latencies.record(performance.now() - t0);
          if (err) {
            errors++;
            firstError ??= `${err.code} ${err.details}`;
          }
          resolve();
        },
      );
    });
  const worker = async () => {
    while (performance.now() < endAt && sent < maxCalls) {
      sent++;
      await one();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - started) / 1000;
  client.close();
  const sorted = latencies.sorted();
  return {
    calls: latencies.count,
    rps: latencies.count / elapsed,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    errors,
    firstError,
  };
}
