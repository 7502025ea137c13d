import { matching, settings, z } from '../fields.js';

export const upstreamSection = settings(
  {
    url: matching(/^https?:\/\/[^/\s]+\/?$/, 'expected an http(s) URL with no path, like http://127.0.0.1:8085')
      .default('http://127.0.0.1:8085')
      .meta({ description: 'Base URL of the predictor (KServe collocation moves the model server to 8085).', env: 'GATEWAY_UPSTREAM_URL' }),
    timeoutMs: z.int().min(1).default(30000).meta({ description: 'Time allowed for the predictor to answer; past it the client gets 504 `upstream_timeout`.', env: 'GATEWAY_UPSTREAM_TIMEOUT_MS' }),
    connections: z.int().min(1).max(4096).default(64).meta({ description: 'Keep-alive connections kept open to the predictor.' }),
    keepAliveTimeoutMs: z.int().min(100).default(30000).meta({ description: 'How long an idle upstream connection is kept.' }),
    readinessPath: matching(/^\//, 'must start with /').default('/v2/health/ready').meta({ description: 'Predictor path probed by /readyz (the gateway is ready only when the model is).' }),
    maxAnswerBytes: z
      .int()
      .min(1024)
      .default(64 * 1024 * 1024)
      .meta({
        description:
          'Largest predictor answer (compressed, and again once decoded) the gateway buffers to reduce it to the response policy; a larger one is refused (502 `upstream_bad_response`). Answers passed unchanged stream and have no cap.',
      }),
    readinessTimeoutMs: z.int().min(1).default(1000).meta({ description: 'Timeout of one readiness probe to the predictor.' }),
  },
  'The predictor the gateway protects.',
);
