// The one table: each stable error code with its HTTP status, gRPC code and challenge.
// Adapters never choose a status themselves; they look the code up here.

/** google.rpc.Code values (https://github.com/googleapis/googleapis/blob/master/google/rpc/code.proto). */
export const GrpcCode = {
  OK: 0,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

/** How the WWW-Authenticate challenge is written (RFC 6750 §3). */
export type Challenge = 'none' | 'bare' | 'invalid_request' | 'invalid_token' | 'insufficient_scope';

interface CodeInfo {
  readonly http: number;
  readonly grpc: number;
  readonly challenge: Challenge;
  readonly summary: string;
}

const code = (http: number, grpc: number, summary: string, challenge: Challenge = 'none'): CodeInfo => ({ http, grpc, challenge, summary });

export const ERROR_CODES = {
  invalid_path: code(400, GrpcCode.INVALID_ARGUMENT, 'The path has dot segments, empty segments or encoded separators.'),
  route_not_allowed: code(403, GrpcCode.PERMISSION_DENIED, 'Neither a public route nor a KServe model route.'),
  method_not_allowed: code(405, GrpcCode.PERMISSION_DENIED, 'The method does not fit the KServe route.'),
  model_not_found: code(404, GrpcCode.NOT_FOUND, 'The model is not configured on this gateway.'),
  protocol_not_allowed: code(404, GrpcCode.NOT_FOUND, 'The model does not speak this inference protocol.'),
  token_missing: code(401, GrpcCode.UNAUTHENTICATED, 'No bearer token.', 'bare'),
  token_invalid: code(401, GrpcCode.UNAUTHENTICATED, 'The bearer token is not valid here.', 'invalid_token'),
  token_ambiguous: code(400, GrpcCode.UNAUTHENTICATED, 'More than one credential, or a malformed Authorization header.', 'invalid_request'),
  insufficient_scope: code(403, GrpcCode.PERMISSION_DENIED, 'The token lacks a claim or scope this model requires.', 'insufficient_scope'),
  keys_unavailable: code(503, GrpcCode.UNAVAILABLE, 'No usable signing key could be loaded from the issuer.'),
  body_too_large: code(413, GrpcCode.INVALID_ARGUMENT, 'The request body is over the configured limit.'),
  invalid_body: code(400, GrpcCode.INVALID_ARGUMENT, 'The request body is not a valid inference request.'),
  invalid_input: code(400, GrpcCode.INVALID_ARGUMENT, 'An input breaks the model contract.'),
  scores_not_allowed: code(403, GrpcCode.PERMISSION_DENIED, 'The request asks for scores the response policy withholds.'),
  rate_limited: code(429, GrpcCode.RESOURCE_EXHAUSTED, 'The identity is over a prediction budget.'),
  limits_unavailable: code(503, GrpcCode.UNAVAILABLE, 'The shared limit store is down and the policy fails closed.'),
  extraction_blocked: code(403, GrpcCode.PERMISSION_DENIED, 'The query stream looks like model extraction.'),
  upstream_timeout: code(504, GrpcCode.DEADLINE_EXCEEDED, 'The predictor did not answer in time.'),
  upstream_unreachable: code(502, GrpcCode.UNAVAILABLE, 'The predictor refused or dropped the connection.'),
  upstream_bad_response: code(502, GrpcCode.INTERNAL, 'The predictor answer cannot be made safe under the response policy.'),
  shutting_down: code(503, GrpcCode.UNAVAILABLE, 'The gateway is draining.'),
  internal_error: code(500, GrpcCode.INTERNAL, 'A fault in the gateway.'),
} as const satisfies Record<string, CodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function codeInfo(c: ErrorCode): CodeInfo {
  return ERROR_CODES[c];
}
