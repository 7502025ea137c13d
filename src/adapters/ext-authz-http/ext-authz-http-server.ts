import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { GatewayConfig } from '../../config/schema.js';
import type { DecisionContext } from '../../decision/decision-context.js';
import { deny, type Denial } from '../../decision/denial.js';
import { renderCheckDenial } from '../../decision/http-denial.js';
import type { DecisionPipeline } from '../../decision/pipeline.js';
import type { RequestView } from '../../decision/request-view.js';
import { isPromise } from '../../decision/stage.js';
import { isGrpcCall, isGrpcContentType } from '../../inference/grpc-route.js';
import type { Logger } from '../../observability/logger.js';
import type { GatewayMetrics } from '../../observability/metrics.js';
import {
  BODY_NOT_ALLOWED,
  hasBody,
  Intake,
  mustCloseAfterRefusal,
  routeTakesBody,
  type BodyBudget,
} from '../intake/intake.js';
import { allowHeaders } from './allow-headers.js';
import { checkBody, requestViewFromCheck, stripPrefix } from './request-view-from-check.js';

export interface ExtAuthzHttpDeps {
  readonly config: GatewayConfig;
  readonly pipeline: DecisionPipeline;
  readonly metrics: GatewayMetrics;
  readonly log: Logger;
  /** The process's body budget, shared with the proxy (absent: the door has its own). */
  readonly budget?: BodyBudget;
}

const DOOR = 'ext-authz-http';

/**
 * Envoy's HTTP ext_authz protocol (Envoy ext_authz filter, https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_filters/ext_authz_filter): exactly 200 allows, any other 1xx-4xx
 * denies with that status and body, 5xx is an error (Envoy applies failOpen / statusOnError),
 * so 5xx is kept for real faults. The HTTP intake is the proxy's (timeouts, connection cap, body
 * budget, malformed-HTTP answers); what is the check door's own is the path prefix, the view of
 * the original request, and answering a decision as allow headers or a denial.
 */
export function createExtAuthzHttpServer(deps: ExtAuthzHttpDeps): Server {
  const { config, pipeline, metrics, log } = deps;
  const realm = config.auth.realm;
  const prefix = config.extAuthz.http.pathPrefix;
  const limit = config.server.bodyLimitBytes;
  const noPrefix = deny('route_not_allowed', `check path does not start with the configured pathPrefix "${prefix}"`);
  const tooLarge = deny('body_too_large', `request body is over the ${limit}-byte limit`);
  const overBudget = deny('server_overloaded', 'too many request bytes are in flight; retry later', {
    retryAfterSeconds: 1,
  });
  const decisionSeconds = metrics.decisionSeconds.labels({ door: DOOR });

  const sendDenial = (res: ServerResponse, denial: Denial, close: boolean, grpcCall: boolean) => {
    const r = renderCheckDenial(denial, realm, grpcCall);
    const headers: Record<string, string | number> = { ...r.headers, 'content-length': Buffer.byteLength(r.body) };
    if (close) headers['connection'] = 'close';
    if (!res.headersSent && !res.destroyed) res.writeHead(r.status, headers).end(r.body);
    if (r.status >= 500) metrics.extAuthzFaults.inc({ door: DOOR });
    return r.status;
  };

  const intake = new Intake(
    { door: DOOR, config, metrics, log, ...(deps.budget ? { budget: deps.budget } : {}) },
    (req, res, expectsContinue) => {
      const started = performance.now();
      check(req, res, started, expectsContinue).catch((err: unknown) => fault(res, err, started));
    },
  );

  const record = (
    view: RequestView | undefined,
    ctx: DecisionContext | undefined,
    outcome: string,
    status: number | undefined,
    started: number,
  ) =>
    intake.access({
      requestId: view?.requestId,
      method: view?.method,
      ctx,
      outcome,
      status,
      ms: performance.now() - started,
    });

  const refuse = (
    res: ServerResponse,
    denial: Denial,
    view: RequestView | undefined,
    ctx: DecisionContext | undefined,
    started: number,
    close = false,
    grpcCall = view !== undefined && isGrpcCall(view),
  ) => record(view, ctx, denial.code, sendDenial(res, denial, close, grpcCall), started);

  const check = async (req: IncomingMessage, res: ServerResponse, started: number, expectsContinue: boolean) => {
    const original = stripPrefix(req.url ?? '/', prefix);
    // Refused before there is a view: whether the client made a gRPC call is read from the head.
    const grpcHead = isGrpcContentType(req.headers['content-type']);
    if (original === undefined) return refuse(res, noPrefix, undefined, undefined, started, hasBody(req), grpcHead);
    const malformed = intake.headProblem(req);
    if (malformed) return refuse(res, malformed, undefined, undefined, started, hasBody(req), grpcHead);
    // Decided from the head first, as the proxy does: an unauthenticated check never has its body
    // held. A gRPC call is the exception: its message names the model, so it is routed from its body.
    const view = requestViewFromCheck(req, original, undefined);
    const grpcCall = isGrpcCall(view);
    const head = grpcCall ? undefined : await pipeline.decideHead(view);
    if (head && !head.allowed) {
      decisionSeconds.observe((performance.now() - started) / 1000);
      return refuse(res, head.denial, view, head.ctx, started, mustCloseAfterRefusal(req));
    }
    const takesBody = grpcCall || (head !== undefined && routeTakesBody(head.ctx));
    if (!takesBody && hasBody(req))
      return refuse(res, BODY_NOT_ALLOWED, view, head?.ctx, started, mustCloseAfterRefusal(req));
    // As in the proxy: `Expect: 100-continue` is answered only once the body is wanted.
    if (expectsContinue && takesBody) res.writeContinue();
    const reading = takesBody && hasBody(req) ? intake.readBody(req) : undefined;
    const read = isPromise(reading) ? await reading : reading;
    if (read && !read.ok) {
      if (read.reason === 'aborted') return record(view, head?.ctx, 'client_closed', undefined, started);
      return refuse(res, read.reason === 'too_large' ? tooLarge : overBudget, view, head?.ctx, started, true);
    }
    try {
      const body = read?.ok ? read.body : undefined;
      const attached = checkBody(req, body);
      if (attached.partial) metrics.extAuthzPartialBodies.inc({ door: DOOR });
      const decision = head
        ? await pipeline.decideBody(head.ctx, attached.body, attached.partial)
        : await pipeline.decide(requestViewFromCheck(req, original, body));
      decisionSeconds.observe((performance.now() - started) / 1000);
      const denial = decision.allowed ? undefined : decision.denial;
      if (denial) return refuse(res, denial, decision.ctx.view, decision.ctx, started);
      res.writeHead(200, allowHeaders(decision.ctx));
      res.end();
      record(decision.ctx.view, decision.ctx, 'allowed', 200, started);
    } finally {
      if (read?.ok) intake.releaseBody(read.reserved);
    }
  };

  const fault = (res: ServerResponse, err: unknown, started: number) => {
    log.error({ err }, 'ext-authz http check fault');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    refuse(res, deny('internal_error', 'internal error while checking'), undefined, undefined, started, true);
  };

  return intake.server;
}
