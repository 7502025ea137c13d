import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { GatewayMetrics } from './metrics.js';
import type { Readiness } from './readiness.js';

/** What an operator endpoint answers: a status and a JSON body. */
export interface AdminAnswer {
  readonly status: number;
  readonly body: unknown;
}

/** An operator endpoint a capability adds under its own path prefix (e.g. `/extraction/users`). */
export type AdminHandler = (req: { readonly method: string; readonly path: string; readonly query: URLSearchParams; readonly peer: string }) => AdminAnswer | Promise<AdminAnswer>;

/** Operator endpoints registered by capabilities at start-up, served on the admin port. */
export class AdminRoutes {
  private readonly routes: Array<{ prefix: string; handler: AdminHandler }> = [];

  add(prefix: string, handler: AdminHandler): void {
    this.routes.push({ prefix, handler });
  }

  find(path: string): AdminHandler | undefined {
    return this.routes.find((r) => path === r.prefix || path.startsWith(`${r.prefix}/`))?.handler;
  }
}

function serveRoute(handler: AdminHandler, req: IncomingMessage, path: string, res: import('node:http').ServerResponse): void {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
  Promise.resolve()
    .then(() => handler({ method: req.method ?? 'GET', path, query, peer: req.socket.remoteAddress ?? '' }))
    .then(
      (a) => res.writeHead(a.status, { 'content-type': 'application/json' }).end(JSON.stringify(a.body)),
      () => res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"internal error","code":"internal_error"}'),
    );
}

/** /healthz, /readyz and /metrics on their own port, so Prometheus and probes never touch the serving port. */
export function createAdminServer(metrics: GatewayMetrics, readiness: Readiness, routes: AdminRoutes = new AdminRoutes()): Server {
  // Its own listener with its own short timeouts (and, set by the gateway, its own connection
  // cap): slow or stalled clients of either port cannot starve the other's probes.
  return createServer({ headersTimeout: 5000, requestTimeout: 10000, connectionsCheckingInterval: 1000 }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const route = routes.find(path);
    if (route) return serveRoute(route, req, path, res);
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
