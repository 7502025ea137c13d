// A bounded load loop for the gRPC ext-authz door: `concurrency` Checks in flight on one
// HTTP/2 connection (as one Envoy sidecar multiplexes them), stopped by time or by count.
import { Client, credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import {
  CHECK_METHOD_PATH,
  checkMethod,
  type CheckRequestMessage,
  type CheckResponseMessage,
} from '../src/adapters/ext-authz-grpc/check-codec.js';
import type { BenchRequest } from './scenarios.js';

export interface GrpcLoadResult {
  readonly requests: number;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  /** Checks answered with a non-OK status (denials). */
  readonly denied: number;
  /** gRPC errors (transport, deadline, server fault). */
  readonly errors: number;
}

const MAX_CHECKS = 2_000_000;

function checkRequest(r: BenchRequest): Record<string, unknown> {
  const headers: Record<string, string> = {
    ':authority': 'iris.bench',
    ':method': r.method,
    ':path': r.path,
    ':scheme': 'http',
    ...r.headers,
  };
  // With includeRequestBodyInCheck Envoy attaches the body and marks whether it was cut.
  if (r.body !== undefined) headers['x-envoy-auth-partial-body'] = 'false';
  return {
    attributes: {
      request: {
        http: {
          id: '1',
          method: r.method,
          path: r.path,
          host: 'iris.bench',
          headers,
          protocol: 'HTTP/1.1',
          ...(r.body !== undefined ? { body: r.body } : {}),
        },
      },
    },
  };
}

export async function grpcCheckLoad(
  address: string,
  reqs: readonly BenchRequest[],
  concurrency: number,
  seconds: number,
): Promise<GrpcLoadResult> {
  const method = checkMethod();
  const encoded = reqs.map((r) => method.requestSerialize(checkRequest(r) as CheckRequestMessage));
  const client = new Client(address, credentials.createInsecure());
  const latencies: number[] = [];
  let denied = 0;
  let errors = 0;
  let sent = 0;
  const started = performance.now();
  const endAt = started + seconds * 1000;
  const one = (bytes: Buffer) =>
    new Promise<void>((resolve) => {
      const t0 = performance.now();
      client.makeUnaryRequest(
        CHECK_METHOD_PATH,
        (b: Buffer) => b,
        (b: Buffer) => method.responseDeserialize(b),
        bytes,
        new Metadata(),
        { deadline: Date.now() + 5000 },
        (err: ServiceError | null, res?: CheckResponseMessage) => {
          latencies.push(performance.now() - t0);
          if (err) errors++;
          else if ((res?.status?.code ?? 0) !== 0) denied++;
          resolve();
        },
      );
    });
  const worker = async () => {
    while (performance.now() < endAt && sent < MAX_CHECKS) {
      const bytes = encoded[sent++ % encoded.length] as Buffer;
      await one(bytes);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - started) / 1000;
  client.close();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    Math.round((latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0) * 100) / 100;
  return { requests: latencies.length, rps: latencies.length / elapsed, p50: pct(0.5), p99: pct(0.99), denied, errors };
}
