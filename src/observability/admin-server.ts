import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { deny, type Denial } from '../decision/denial.js';
import { renderHttpDenial } from '../decision/http-denial.js';
import { rawHeaderValues } from '../decision/request-view.js';
import type { ConsoleAssets } from '../operator/console-assets.js';
import type { OperatorAuth, OperatorIdentity } from '../operator/operator-identity.js';
import type { GatewayMetrics } from './metrics.js';
import type { Readiness } from './readiness.js';

/** What an operator endpoint answers: a status and a JSON body. */
export interface AdminAnswer {
  readonly status: number;
  readonly body: unknown;
}

/** An operator request, once the router has established who sent it. */
export interface AdminRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly peer: string;
  /** Who is acting: every handler gets one, so every mutation can be logged with it. */
  readonly operator: OperatorIdentity;
  /** The parsed JSON body of a POST (undefined otherwise). */
  readonly body: unknown;
}

/** An operator endpoint a capability adds under its own path prefix (e.g. `/extraction/users`). */
export type AdminHandler = (req: AdminRequest) => AdminAnswer | Promise<AdminAnswer>;

/** Operator endpoints registered by capabilities at start-up, served on the admin port. */
export class AdminRoutes {
  private readonly routes: Array<{ prefix: string; handler: AdminHandler }> = [];

  add(prefix: string, handler: AdminHandler): void {
    this.routes.push({ prefix, handler });
  }

  find(path: string): AdminHandler | undefined {
    return this.routes.find((r) => path === r.prefix || path.startsWith(`${r.prefix}/`))?.handler;
  }

  /** The registered prefixes (the anonymous-refusal test walks them). */
  prefixes(): string[] {
    return this.routes.map((r) => r.prefix);
  }
}

/** Who may use the operator endpoints, and how many operator requests run at once. */
export interface OperatorGate {
  readonly auth: OperatorAuth;
  readonly maxConcurrentRequests: number;
  readonly console?: ConsoleAssets;
}

// No page of the admin listener may be framed, sniffed or cached: the data is operator-only,
// and the console page sets its own, stricter policy.
const BASE_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
} as const;
const JSON_HEADERS = { ...BASE_HEADERS, 'content-type': 'application/json; charset=utf-8' };

const MAX_BODY_BYTES = 4096;
const BUSY = deny('server_overloaded', 'too many operator requests at once; retry later', { retryAfterSeconds: 1 });
const NOT_FOUND = '{"error":"not found","code":"route_not_allowed"}';

function sendDenial(res: ServerResponse, denial: Denial, realm: string): void {
  const d = renderHttpDenial(denial, realm);
  res.writeHead(d.status, { ...BASE_HEADERS, ...d.headers }).end(d.body);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, JSON_HEADERS).end(JSON.stringify(body));
}

/** A small JSON body, or the answer refusing it. */
function readJsonBody(
  req: IncomingMessage,
): Promise<{ ok: true; body: unknown } | { ok: false; status: number; code: string; error: string }> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json')
    return Promise.resolve({
      ok: false,
      status: 415,
      code: 'invalid_input',
      error: 'the body must be application/json',
    });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        resolve({ ok: false, status: 413, code: 'body_too_large', error: `the body is over ${MAX_BODY_BYTES} bytes` });
        req.destroy();
      } else chunks.push(c);
    });
    req.on('error', () =>
      resolve({ ok: false, status: 400, code: 'invalid_input', error: 'the body could not be read' }),
    );
    req.on('end', () => {
      try {
        resolve({ ok: true, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown });
      } catch {
        resolve({ ok: false, status: 400, code: 'invalid_input', error: 'the body is not JSON' });
      }
    });
  });
}

/**
 * Every registered route is an operator route: the identity is checked here, before any handler
 * runs, so a handler added later cannot forget it. At most `maxConcurrentRequests` operator
 * requests are served at once (authentication included), the rest get 503 at once.
 */
function operatorRouter(gate: OperatorGate | undefined) {
  let inFlight = 0;
  return (handler: AdminHandler, req: IncomingMessage, path: string, query: string, res: ServerResponse): void => {
    if (!gate)
      return sendDenial(
        res,
        deny(
          'operator_off',
          'operator endpoints are off: no operator identity is configured (operator.jwt or operator.spiffe)',
        ),
        'inference-gateway',
      );
    const realm = gate.auth.realm;
    if (inFlight >= gate.maxConcurrentRequests) return sendDenial(res, BUSY, realm);
    inFlight++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      inFlight--;
    };
    res.on('close', release);
    const peer = req.socket.remoteAddress ?? '';
    const method = req.method ?? 'GET';
    Promise.resolve(
      gate.auth.check({
        headers: req.headers,
        authorization: rawHeaderValues(req.rawHeaders, 'authorization'),
        query,
        peer,
      }),
    )
      .then(async (who) => {
        if (!who.ok) return sendDenial(res, who.denial, realm);
        let body: unknown;
        if (method === 'POST') {
          const read = await readJsonBody(req);
          if (!read.ok) return sendJson(res, read.status, { error: read.error, code: read.code });
          body = read.body;
        }
        const a = await handler({
          method,
          path,
          query: new URLSearchParams(query),
          peer,
          operator: who.operator,
          body,
        });
        sendJson(res, a.status, a.body);
      })
      .catch(() => {
        if (!res.headersSent)
          res.writeHead(500, JSON_HEADERS).end('{"error":"internal error","code":"internal_error"}');
      })
      .finally(release);
  };
}

/**
 * /healthz, /readyz and /metrics on their own port, so Prometheus and probes never touch the
 * serving port; they need no credential. The console's static files need none either (they hold
 * no data). Everything else registered on `routes` is an operator endpoint.
 */
export function createAdminServer(
  metrics: GatewayMetrics,
  readiness: Readiness,
  routes: AdminRoutes = new AdminRoutes(),
  gate?: OperatorGate,
): Server {
  const serveOperator = operatorRouter(gate);
  // Its own listener with its own short timeouts (and, set by the gateway, its own connection
  // cap): slow or stalled clients of either port cannot starve the other's probes.
  return createServer(
    { headersTimeout: 5000, requestTimeout: 10000, connectionsCheckingInterval: 1000 },
    (req, res) => {
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      const path = q < 0 ? url : url.slice(0, q);
      const route = routes.find(path);
      if (route) return serveOperator(route, req, path, q < 0 ? '' : url.slice(q + 1), res);
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { ...BASE_HEADERS, allow: 'GET, HEAD' }).end();
        return;
      }
      if (path === '/healthz') {
        res.writeHead(200, JSON_HEADERS).end('{"status":"ok"}');
        return;
      }
      if (path === '/readyz') {
        readiness.evaluate().then(
          (r) => res.writeHead(r.ready ? 200 : 503, JSON_HEADERS).end(JSON.stringify(r)),
          () => res.writeHead(503).end(),
        );
        return;
      }
      if (path === '/metrics') {
        metrics.registry.metrics().then(
          (text) => res.writeHead(200, { ...BASE_HEADERS, 'content-type': metrics.registry.contentType }).end(text),
          () => res.writeHead(500).end(),
        );
        return;
      }
      const asset = gate?.console?.get(path);
      if (asset) {
        res.writeHead(200, { ...BASE_HEADERS, ...asset.headers }).end(asset.body);
        return;
      }
      res.writeHead(404, JSON_HEADERS).end(NOT_FOUND);
    },
  );
}
