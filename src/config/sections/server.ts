import { port, settings, z } from '../fields.js';

export const serverSection = settings(
  {
    host: z.string().default('0.0.0.0').meta({ description: 'Address the serving listener binds.', env: 'GATEWAY_HOST' }),
    port: port('Serving port (KServe traffic-facing port). 0 picks a free port.', 8080, 'GATEWAY_PORT'),
    bodyLimitBytes: z
      .int()
      .min(1024)
      .max(1024 * 1024 * 1024)
      .default(10 * 1024 * 1024)
      .meta({ description: 'Largest request body accepted; larger bodies get 413 `body_too_large` before any stage runs.' }),
    shutdownGraceSeconds: z.number().min(0).max(3600).default(25).meta({
      description: 'On SIGTERM: stop accepting, then wait this long for in-flight requests before closing connections. Keep below the pod terminationGracePeriodSeconds.',
      env: 'GATEWAY_SHUTDOWN_GRACE_SECONDS',
    }),
    keepAliveTimeoutMs: z.int().min(1000).default(65000).meta({ description: 'Idle keep-alive timeout for client connections.' }),
    trustForwardedFor: z.boolean().default(false).meta({ description: 'Append to a client-sent X-Forwarded-For instead of replacing it. Enable only behind a trusted proxy (ingress gateway).' }),
  },
  'The serving listener (reverse proxy).',
);

export const adminSection = settings(
  {
    host: z.string().default('0.0.0.0').meta({ description: 'Address the admin listener binds.', env: 'GATEWAY_ADMIN_HOST' }),
    port: port('Admin port: /healthz, /readyz, /metrics (the layer-1 NetworkPolicy opens it to Prometheus only).', 8082, 'GATEWAY_ADMIN_PORT'),
  },
  'The admin listener.',
);
