import { s } from '../schema-dsl.js';

export const upstreamSection = s.object(
  {
    url: s.string({
      doc: 'Base URL of the predictor (KServe collocation moves the model server to 8085).',
      default: 'http://127.0.0.1:8085',
      env: 'GATEWAY_UPSTREAM_URL',
      pattern: /^https?:\/\/[^/\s]+\/?$/,
      patternHint: 'expected an http(s) URL with no path, like http://127.0.0.1:8085',
    }),
    timeoutMs: s.integer({
      doc: 'Deadline for the whole predictor answer, from forwarding to its last byte (not an idle timeout: a predictor trickling bytes is cut too); past it 504 `upstream_timeout`, or the connection is cut when a streamed answer had begun.',
      default: 30000,
      min: 1,
      env: 'GATEWAY_UPSTREAM_TIMEOUT_MS',
    }),
    connections: s.integer({ doc: 'Keep-alive connections kept open to the predictor.', default: 64, min: 1, max: 4096 }),
    maxQueue: s.integer({
      doc: 'Requests allowed to wait for a free predictor connection beyond `connections`; more get 503 `upstream_overloaded` at once instead of queueing without bound.',
      default: 1024,
      min: 0,
    }),
    keepAliveTimeoutMs: s.integer({ doc: 'How long an idle upstream connection is kept.', default: 30000, min: 100 }),
    readinessPath: s.string({
      doc: 'Predictor path probed by /readyz (the gateway is ready only when the model is).',
      default: '/v2/health/ready',
      pattern: /^\//,
      patternHint: 'must start with /',
    }),
    maxAnswerBytes: s.integer({
      doc: 'Largest predictor answer (compressed, and again once decoded) the gateway buffers to reduce it to the response policy; a larger one is refused (502 `upstream_bad_response`). Answers passed unchanged stream and have no cap.',
      default: 64 * 1024 * 1024,
      min: 1024,
    }),
    readinessTimeoutMs: s.integer({ doc: 'Timeout of one readiness probe to the predictor.', default: 1000, min: 1 }),
  },
  { doc: 'The predictor the gateway protects.' },
);
