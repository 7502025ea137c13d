// gRPC over HTTP/2 (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md):
// `grpc-timeout` is at most 8 ASCII digits followed by a unit: H, M, S, m, u, n.
const UNIT_MS: Readonly<Record<string, number>> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000_001 };
const TIMEOUT = /^(\d{1,8})([HMSmun])$/;

/** The client's deadline in milliseconds, or undefined when it sent none or one that is not valid (then only upstream.timeoutMs bounds the call). */
export function grpcTimeoutMs(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const m = TIMEOUT.exec(value);
  if (!m) return undefined;
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

/** The remaining time as a `grpc-timeout` value for the predictor (whole milliseconds, at least 1). */
export function grpcTimeoutValue(ms: number): string {
  return `${Math.max(1, Math.min(99_999_999, Math.ceil(ms)))}m`;
}
