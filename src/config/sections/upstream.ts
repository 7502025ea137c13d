import { matching, settings, z } from '../fields.js';

export const upstreamSection = settings(
  {
    url: matching(/^https?:\/\/[^/\s]+\/?$/, 'expected an http(s) URL with no path, like http://127.0.0.1:8085')
      .default('http://127.0.0.1:8085')
      .meta({
        description: 'Base URL of the predictor (KServe collocation moves the model server to 8085).',
        env: 'GATEWAY_UPSTREAM_URL',
      }),
    grpcUrl: matching(
      /^http:\/\/[^/\s]+\/?$/,
      'expected an http URL with no path (cleartext HTTP/2), like http://127.0.0.1:8081',
    )
      .default('http://127.0.0.1:8081')
      .meta({
        description:
          "The predictor's gRPC endpoint (KServe model servers serve gRPC on 8081), used by the gRPC door only.",
        env: 'GATEWAY_UPSTREAM_GRPC_URL',
      }),
    timeoutMs: z.int().min(1).default(30000).meta({
      description:
        'Deadline for the whole predictor answer, from forwarding to its last byte (not an idle timeout: a predictor trickling bytes is cut too); past it 504 `upstream_timeout`, or the connection is cut when a streamed answer had begun.',
      env: 'GATEWAY_UPSTREAM_TIMEOUT_MS',
    }),
    connections: z
      .int()
      .min(1)
      .max(4096)
      .default(64)
      .meta({ description: 'Keep-alive connections kept open to the predictor.' }),
    maxQueue: z.int().min(0).default(1024).meta({
      description:
        'Requests allowed to wait for a free predictor connection beyond `connections`; more get 503 `upstream_overloaded` at once instead of queueing without bound.',
    }),
    keepAliveTimeoutMs: z
      .int()
      .min(100)
      .default(30000)
      .meta({ description: 'How long an idle upstream connection is kept.' }),
    readinessPath: matching(/^\//, 'must start with /')
      .default('/v2/health/ready')
      .meta({ description: 'Predictor path probed by /readyz (the gateway is ready only when the model is).' }),
    maxAnswerBytes: z
      .int()
      .min(1024)
      .default(64 * 1024 * 1024)
      .meta({
        description:
          'Largest predictor answer (compressed, and again once decoded) the gateway buffers to reduce it to the response policy; a larger one is refused (502 `upstream_bad_response`). Answers passed unchanged stream and have no cap.',
      }),
    readinessTimeoutMs: z
      .int()
      .min(1)
      .default(1000)
      .meta({ description: 'Timeout of one readiness probe to the predictor.' }),
  },
  'The predictor the gateway protects.',
);
