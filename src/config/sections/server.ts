import { s } from '../schema-dsl.js';

const port = (doc: string, def: number, env: string) => s.integer({ doc, default: def, min: 0, max: 65535, env });

export const serverSection = s.object(
  {
    host: s.string({ doc: 'Address the serving listener binds.', default: '0.0.0.0', env: 'GATEWAY_HOST' }),
    port: port('Serving port (KServe traffic-facing port). 0 picks a free port.', 8080, 'GATEWAY_PORT'),
    bodyLimitBytes: s.integer({
      doc: 'Largest request body accepted; larger bodies get 413 `body_too_large` before any stage runs.',
      default: 10 * 1024 * 1024,
      min: 1024,
      max: 1024 * 1024 * 1024,
    }),
    shutdownGraceSeconds: s.number({
      doc: 'On SIGTERM: stop accepting, then wait this long for in-flight requests before closing connections. Keep below the pod terminationGracePeriodSeconds.',
      default: 25,
      min: 0,
      max: 3600,
      env: 'GATEWAY_SHUTDOWN_GRACE_SECONDS',
    }),
    keepAliveTimeoutMs: s.integer({ doc: 'Idle keep-alive timeout for client connections.', default: 65000, min: 1000 }),
    trustForwardedFor: s.boolean({
      doc: 'Append to a client-sent X-Forwarded-For instead of replacing it. Enable only behind a trusted proxy (ingress gateway).',
      default: false,
    }),
  },
  { doc: 'The serving listener (reverse proxy).' },
);

export const adminSection = s.object(
  {
    host: s.string({ doc: 'Address the admin listener binds.', default: '0.0.0.0', env: 'GATEWAY_ADMIN_HOST' }),
    port: port('Admin port: /healthz, /readyz, /metrics (the layer-1 NetworkPolicy opens it to Prometheus only).', 8082, 'GATEWAY_ADMIN_PORT'),
  },
  { doc: 'The admin listener.' },
);
