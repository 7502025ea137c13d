import { port, settings, z } from '../fields.js';

export const serverSection = settings(
  {
    host: z
      .string()
      .default('0.0.0.0')
      .meta({ description: 'Address the serving listener binds.', env: 'GATEWAY_HOST' }),
    port: port('Serving port (KServe traffic-facing port). 0 picks a free port.', 8080, 'GATEWAY_PORT'),
    grpcPort: z.int().min(0).max(65535).optional().meta({
      description:
        'Port of the gRPC door (Open Inference Protocol `inference.GRPCInferenceService` over cleartext HTTP/2, forwarded to `upstream.grpcUrl`). Unset: no gRPC listener. 0 picks a free port.',
      env: 'GATEWAY_GRPC_PORT',
    }),
    bodyLimitBytes: z
      .int()
      .min(1024)
      .max(1024 * 1024 * 1024)
      .default(10 * 1024 * 1024)
      .meta({
        description: 'Largest request body accepted; larger bodies get 413 `body_too_large` before any stage runs.',
      }),
    maxBodyBytesInFlight: z
      .int()
      .min(1024)
      .default(64 * 1024 * 1024)
      .meta({
        description:
          'Bound on the request-body bytes held in memory by all requests together (bodies are read only after the token was checked from the headers). A body that would pass it gets 503 `server_overloaded` and its connection is closed.',
      }),
    headersTimeoutMs: z.int().min(100).default(10000).meta({
      description:
        'Time a client has to send the request line and headers (slowloris bound); past it the connection gets 408 `request_timeout` and is closed.',
    }),
    requestTimeoutMs: z.int().min(100).default(30000).meta({
      description:
        'Time a client has to send the whole request, body included (slow uploads); past it 408 `request_timeout` and the connection is closed.',
    }),
    maxConnections: z.int().min(1).default(4096).meta({
      description:
        'Concurrent client connections on the serving port; further connections are closed at once. The admin port has its own listener and limit, so probes still answer.',
    }),
    drainDelaySeconds: z.number().min(0).max(600).default(5).meta({
      description:
        'On SIGTERM: keep accepting this long while /readyz reports draining (endpoint removal propagates meanwhile), answering with `Connection: close`; then stop accepting.',
      env: 'GATEWAY_DRAIN_DELAY_SECONDS',
    }),
    shutdownGraceSeconds: z.number().min(0).max(3600).default(25).meta({
      description:
        'After the drain delay: time in-flight requests get to finish before remaining connections are closed. Keep drainDelaySeconds + this below the pod terminationGracePeriodSeconds.',
      env: 'GATEWAY_SHUTDOWN_GRACE_SECONDS',
    }),
    keepAliveTimeoutMs: z
      .int()
      .min(1000)
      .default(65000)
      .meta({ description: 'Idle keep-alive timeout for client connections.' }),
    trustForwardedFor: z.boolean().default(false).meta({
      description:
        'Append to a client-sent X-Forwarded-For instead of replacing it. Enable only behind a trusted proxy (ingress gateway).',
    }),
  },
  'The serving listener (reverse proxy).',
);

export const adminSection = settings(
  {
    host: z
      .string()
      .default('0.0.0.0')
      .meta({ description: 'Address the admin listener binds.', env: 'GATEWAY_ADMIN_HOST' }),
    port: port(
      'Admin port: /healthz, /readyz, /metrics without credentials; the operator endpoints and console (see `operator`) with an operator identity.',
      8082,
      'GATEWAY_ADMIN_PORT',
    ),
    maxConnections: z.int().min(1).default(64).meta({
      description:
        'Concurrent connections on the admin port (its own limit, so a flood of the serving port cannot starve the probes, and the reverse).',
    }),
  },
  'The admin listener.',
);
