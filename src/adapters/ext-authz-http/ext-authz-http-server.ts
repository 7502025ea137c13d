import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { GatewayConfig } from '../../config/schema.js';
import type { DecisionContext } from '../../decision/decision-context.js';
import { deny, type Denial } from '../../decision/denial.js';
import { renderHttpDenial } from '../../decision/http-denial.js';
import type { DecisionPipeline } from '../../decision/pipeline.js';
import type { RequestView } from '../../decision/request-view.js';
import type { Logger } from '../../observability/logger.js';
import type { GatewayMetrics } from '../../observability/metrics.js';
import { accessRecorder } from '../../observability/access-record.js';
import { allowHeaders } from './allow-headers.js';
import { requestViewFromCheck, stripPrefix } from './request-view-from-check.js';

export interface ExtAuthzHttpDeps {
  readonly config: GatewayConfig;
  readonly pipeline: DecisionPipeline;
  readonly metrics: GatewayMetrics;
  readonly log: Logger;
}

const DOOR = 'ext-authz-http';

/**
 * Envoy's HTTP ext_authz protocol (Envoy ext_authz filter, https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_filters/ext_authz_filter): exactly 200 allows, any other 1xx-4xx
 * denies with that status and body, 5xx is an error (Envoy applies failOpen / statusOnError),
 * so 5xx is kept for real faults. A plain node:http server: the check is on every request's
 * path, and it needs no routing or body parsing of its own.
 */
export function createExtAuthzHttpServer(deps: ExtAuthzHttpDeps): Server {
  const { config, pipeline, metrics, log } = deps;
  const realm = config.auth.realm;
  const prefix = config.extAuthz.http.pathPrefix;
  const limit = config.server.bodyLimitBytes;
  const noPrefix = deny('route_not_allowed', `check path does not start with the configured pathPrefix "${prefix}"`);
  const tooLarge = deny('body_too_large', `request body is over the ${limit}-byte limit`);

  const access = accessRecorder(DOOR, config, metrics, log);
  const record = (view: RequestView | undefined, ctx: DecisionContext | undefined, outcome: string, status: number, started: number) =>
    access({ requestId: view?.requestId, method: view?.method, ctx, outcome, status, ms: performance.now() - started });

  const sendDenial = (res: ServerResponse, denial: Denial, close = false) => {
    const r = renderHttpDenial(denial, realm);
    const headers: Record<string, string | number> = { ...r.headers, 'content-length': Buffer.byteLength(r.body) };
    if (close) headers['connection'] = 'close';
    res.writeHead(r.status, headers);
    res.end(r.body);
    if (r.status >= 500) metrics.extAuthzFaults.inc({ door: DOOR });
    return r.status;
  };

  const check = async (req: IncomingMessage, res: ServerResponse, original: string, body: Buffer | undefined, started: number) => {
    const view = requestViewFromCheck(req, original, body);
    if (view.bodyPartial) metrics.extAuthzPartialBodies.inc({ door: DOOR });
    const decision = await pipeline.decide(view);
    metrics.decisionSeconds.observe({ door: DOOR }, (performance.now() - started) / 1000);
    const denial = decision.allowed ? undefined : decision.denial;
    if (denial) {
      const status = sendDenial(res, denial);
      record(view, decision.ctx, denial.code, status, started);
      return;
    }
    res.writeHead(200, allowHeaders(decision.ctx));
    res.end();
    record(view, decision.ctx, 'allowed', 200, started);
  };

  const fault = (res: ServerResponse, err: unknown, started: number) => {
    log.error({ err }, 'ext-authz http check fault');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const status = sendDenial(res, deny('internal_error', 'internal error while checking'));
    record(undefined, undefined, 'internal_error', status, started);
  };

  const server = createServer({ keepAliveTimeout: config.server.keepAliveTimeoutMs }, (req, res) => {
    const started = performance.now();
    const original = stripPrefix(req.url ?? '/', prefix);
    if (original === undefined) {
      record(undefined, undefined, noPrefix.code, sendDenial(res, noPrefix), started);
      return;
    }
    // Envoy sends `content-length: 0` when no body is attached: decide without waiting for a stream.
    if (req.headers['content-length'] === '0') {
      check(req, res, original, undefined, started).catch((err: unknown) => fault(res, err, started));
      return;
    }
    if (Number(req.headers['content-length']) > limit) {
      record(undefined, undefined, tooLarge.code, sendDenial(res, tooLarge, true), started);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      if (over) return;
      size += c.length;
      if (size > limit) {
        over = true;
        record(undefined, undefined, tooLarge.code, sendDenial(res, tooLarge, true), started);
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (over) return;
      const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size);
      check(req, res, original, body, started).catch((err: unknown) => fault(res, err, started));
    });
    req.on('error', (err) => log.debug({ err: { message: err.message } }, 'ext-authz http check request aborted'));
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) return socket.destroy();
    const body = JSON.stringify({ error: 'malformed HTTP request', code: 'invalid_body' });
    socket.end(`HTTP/1.1 400 Bad Request\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`);
  });
  return server;
}
