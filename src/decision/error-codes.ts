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

const code = (http: number, grpc: number, summary: string, challenge: Challenge = 'none'): CodeInfo => ({
  http,
  grpc,
  challenge,
  summary,
});

export const ERROR_CODES = {
  invalid_path: code(
    400,
    GrpcCode.INVALID_ARGUMENT,
    'The path has dot segments, empty segments or encoded separators.',
  ),
  host_ambiguous: code(
    400,
    GrpcCode.INVALID_ARGUMENT,
    'The request carries more than one Host header (RFC 9112 §3.2).',
  ),
  rpc_not_supported: code(
    404,
    GrpcCode.UNIMPLEMENTED,
    'A gRPC method of the inference service the gateway does not serve (streaming, repository RPCs).',
  ),
  route_not_allowed: code(403, GrpcCode.PERMISSION_DENIED, 'Neither a public route nor a KServe model route.'),
  method_not_allowed: code(405, GrpcCode.PERMISSION_DENIED, 'The method does not fit the KServe route.'),
  model_not_found: code(404, GrpcCode.NOT_FOUND, 'The model is not configured on this gateway.'),
  protocol_not_allowed: code(404, GrpcCode.NOT_FOUND, 'The model does not speak this inference protocol.'),
  token_missing: code(401, GrpcCode.UNAUTHENTICATED, 'No bearer token.', 'bare'),
  token_invalid: code(401, GrpcCode.UNAUTHENTICATED, 'The bearer token is not valid here.', 'invalid_token'),
  token_ambiguous: code(
    400,
    GrpcCode.UNAUTHENTICATED,
    'More than one credential, or a malformed Authorization header.',
    'invalid_request',
  ),
  insufficient_scope: code(
    403,
    GrpcCode.PERMISSION_DENIED,
    'The token lacks a claim or scope this model requires.',
    'insufficient_scope',
  ),
  operator_required: code(
    403,
    GrpcCode.PERMISSION_DENIED,
    'An operator endpoint without an accepted operator identity (peer identity or role).',
  ),
  operator_off: code(404, GrpcCode.NOT_FOUND, 'Operator endpoints are off: no operator identity is configured.'),
  keys_unavailable: code(503, GrpcCode.UNAVAILABLE, 'No usable signing key could be loaded from the issuer.'),
  body_too_large: code(413, GrpcCode.INVALID_ARGUMENT, 'The request body is over the configured limit.'),
  body_incomplete: code(
    413,
    GrpcCode.INVALID_ARGUMENT,
    'An ext-authz check of a predict or explain request came without its body, or with a truncated one (x-envoy-auth-partial-body: true).',
  ),
  body_not_allowed: code(
    400,
    GrpcCode.INVALID_ARGUMENT,
    'A body on a route that takes none (GET, HEAD, probes, metadata): refused, never forwarded.',
  ),
  invalid_body: code(400, GrpcCode.INVALID_ARGUMENT, 'The request body is not a valid inference request.'),
  invalid_input: code(400, GrpcCode.INVALID_ARGUMENT, 'An input breaks the model contract.'),
  scores_not_allowed: code(
    403,
    GrpcCode.PERMISSION_DENIED,
    'The request asks for scores the response policy withholds.',
  ),
  rate_limited: code(429, GrpcCode.RESOURCE_EXHAUSTED, 'The identity is over a prediction budget.'),
  limits_unavailable: code(503, GrpcCode.UNAVAILABLE, 'The shared limit store is down and the policy fails closed.'),
  // Deliberately says nothing about why: an attacker must not learn which queries gave them away.
  access_denied: code(403, GrpcCode.PERMISSION_DENIED, 'The account may not use this model at present.'),
  upstream_timeout: code(504, GrpcCode.DEADLINE_EXCEEDED, 'The predictor did not answer in time.'),
  upstream_unreachable: code(502, GrpcCode.UNAVAILABLE, 'The predictor refused or dropped the connection.'),
  upstream_bad_response: code(
    502,
    GrpcCode.INTERNAL,
    'The predictor answer cannot be made safe under the response policy, or is not HTTP.',
  ),
  upstream_overloaded: code(
    503,
    GrpcCode.UNAVAILABLE,
    'Every predictor connection is busy and the wait queue (upstream.maxQueue) is full.',
  ),
  server_overloaded: code(503, GrpcCode.UNAVAILABLE, 'Request bodies in flight are at server.maxBodyBytesInFlight.'),
  request_timeout: code(408, GrpcCode.DEADLINE_EXCEEDED, 'The client did not send its headers or body in time.'),
  headers_too_large: code(
    431,
    GrpcCode.INVALID_ARGUMENT,
    'The request line or headers are over the HTTP parser limit.',
  ),
  bad_request: code(
    400,
    GrpcCode.INVALID_ARGUMENT,
    'The request is not valid HTTP/1.1 (ambiguous framing, bad characters).',
  ),
  upstream_error: code(
    502,
    GrpcCode.INTERNAL,
    'The predictor answered with an error on a route whose answers are reduced: its status is kept (this 502 is nominal), its body withheld.',
  ),
  model_unverified: code(
    503,
    GrpcCode.UNAVAILABLE,
    'The configured model verification has not passed (still running, or failed): model routes are refused.',
  ),
  shutting_down: code(503, GrpcCode.UNAVAILABLE, 'The gateway is draining.'),
  internal_error: code(500, GrpcCode.INTERNAL, 'A fault in the gateway.'),
} as const satisfies Record<string, CodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function codeInfo(c: ErrorCode): CodeInfo {
  return ERROR_CODES[c];
}
