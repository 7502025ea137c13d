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
    maxBodyBytesInFlight: s.integer({
      doc: 'Bound on the request-body bytes held in memory by all requests together (bodies are read only after the token was checked from the headers). A body that would pass it gets 503 `server_overloaded` and its connection is closed.',
      default: 64 * 1024 * 1024,
      min: 1024,
    }),
    headersTimeoutMs: s.integer({
      doc: 'Time a client has to send the request line and headers (slowloris bound); past it the connection gets 408 `request_timeout` and is closed.',
      default: 10000,
      min: 100,
    }),
    requestTimeoutMs: s.integer({
      doc: 'Time a client has to send the whole request, body included (slow uploads); past it 408 `request_timeout` and the connection is closed.',
      default: 30000,
      min: 100,
    }),
    maxConnections: s.integer({
      doc: 'Concurrent client connections on the serving port; further connections are closed at once. The admin port has its own listener and limit, so probes still answer.',
      default: 4096,
      min: 1,
    }),
    drainDelaySeconds: s.number({
      doc: 'On SIGTERM: keep accepting this long while /readyz reports draining (endpoint removal propagates meanwhile), answering with `Connection: close`; then stop accepting.',
      default: 5,
      min: 0,
      max: 600,
      env: 'GATEWAY_DRAIN_DELAY_SECONDS',
    }),
    shutdownGraceSeconds: s.number({
      doc: 'After the drain delay: time in-flight requests get to finish before remaining connections are closed. Keep drainDelaySeconds + this below the pod terminationGracePeriodSeconds.',
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
    maxConnections: s.integer({
      doc: 'Concurrent connections on the admin port (its own limit, so a flood of the serving port cannot starve the probes, and the reverse).',
      default: 64,
      min: 1,
    }),
  },
  { doc: 'The admin listener.' },
);
