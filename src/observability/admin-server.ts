import { createServer, type Server } from 'node:http';
import type { GatewayMetrics } from './metrics.js';
import type { Readiness } from './readiness.js';

/** /healthz, /readyz and /metrics on their own port, so Prometheus and probes never touch the serving port. */
export function createAdminServer(metrics: GatewayMetrics, readiness: Readiness): Server {
  // Its own listener with its own short timeouts (and, set by the gateway, its own connection
  // cap): slow or stalled clients of either port cannot starve the other's probes.
  return createServer({ headersTimeout: 5000, requestTimeout: 10000, connectionsCheckingInterval: 1000 }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    if (path === '/readyz') {
      readiness.evaluate().then(
        (r) => res.writeHead(r.ready ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(r)),
        () => res.writeHead(503).end(),
      );
      return;
    }
    if (path === '/metrics') {
      metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found","code":"route_not_allowed"}');
  });
}
