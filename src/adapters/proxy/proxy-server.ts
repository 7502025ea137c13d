import { randomUUID } from 'node:crypto';
import replyFrom from '@fastify/reply-from';
import type { Readable } from 'node:stream';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { GatewayConfig } from '../../config/schema.js';
import type { DecisionContext, RewrittenAnswer } from '../../decision/decision-context.js';
import { observeAnswer } from '../../decision/observe-answer.js';
import { deny, type Denial } from '../../decision/denial.js';
import { renderHttpDenial } from '../../decision/http-denial.js';
import type { DecisionPipeline } from '../../decision/pipeline.js';
import { routeClass } from '../../decision/route-match.js';
import type { Logger } from '../../observability/logger.js';
import type { GatewayMetrics } from '../../observability/metrics.js';
import { accessRecorder } from '../../observability/access-record.js';
import { TRACING_OFF, withTraceHeaders, type Tracing } from '../../observability/tracing.js';
import { requestViewFromFastify } from './request-view-from-fastify.js';
import { upstreamFailure } from './upstream-errors.js';
import { decodedBody } from './decoded-body.js';

export interface ProxyDeps {
  readonly config: GatewayConfig;
  readonly pipeline: DecisionPipeline;
  readonly metrics: GatewayMetrics;
  readonly log: Logger;
  /** Spans of the upstream call (off: a constant no-op). */
  readonly tracing?: Tracing;
}

// RFC 9110 §7.6.1 hop-by-hop headers, plus those undici refuses to send.
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'expect'];
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const ALL_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const;

interface Outcome {
  ctx: DecisionContext | undefined;
  code: string;
  upstreamStart: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    outcome: Outcome | null;
  }
}

const HANDLER_FAULT: RewrittenAnswer = { ok: false, denial: deny('internal_error', 'internal error while reading the predictor answer') };
const UNDECODABLE = { ok: false, denial: deny('upstream_bad_response', "the predictor's answer has a content-encoding that cannot be decoded, or inflates past upstream.maxAnswerBytes") } as const;

/** The reverse-proxy front door: a thin adapter from HTTP to decide() and back. */
export async function createProxyServer(deps: ProxyDeps): Promise<FastifyInstance> {
  const { config, pipeline, metrics, log } = deps;
  const tracing = deps.tracing ?? TRACING_OFF;
  const upstreamBase = config.upstream.url.replace(/\/$/, '');
  const realm = config.auth.realm;
  const maxAnswer = config.upstream.maxAnswerBytes;
  const TOO_LARGE_ANSWER = deny('upstream_bad_response', `the predictor's answer is over upstream.maxAnswerBytes (${maxAnswer}) and cannot be reduced to the response policy`);
  const app = Fastify({
    // The assertion picks Fastify's logger type for the instance (pino's Logger would make it a different FastifyInstance type).
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
    loggerInstance: log as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.server.bodyLimitBytes,
    keepAliveTimeout: config.server.keepAliveTimeoutMs,
    return503OnClosing: true,
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
  });
  app.decorateRequest('outcome', null);
  const record = accessRecorder('proxy', config, metrics, log);

  // Bodies stay bytes: the model-contract stage parses JSON once, other routes forward untouched.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  await app.register(replyFrom, {
    base: config.upstream.url,
    disableRequestLogging: true,
    undici: {
      connections: config.upstream.connections,
      pipelining: 1,
      keepAliveTimeout: config.upstream.keepAliveTimeoutMs,
      headersTimeout: config.upstream.timeoutMs,
      bodyTimeout: config.upstream.timeoutMs,
    },
  });

  const sendDenial = (req: FastifyRequest, reply: FastifyReply, denial: Denial, ctx: DecisionContext | undefined) => {
    req.outcome = { ctx, code: denial.code, upstreamStart: 0 };
    const r = renderHttpDenial(denial, realm);
    return reply.code(r.status).headers(r.headers).header('x-request-id', req.id).send(r.body);
  };

  const forwardedFor = (req: FastifyRequest, prior: string | string[] | undefined): string => {
    const peer = req.raw.socket.remoteAddress ?? '';
    if (!config.server.trustForwardedFor || prior === undefined) return peer;
    return `${Array.isArray(prior) ? prior.join(', ') : prior}, ${peer}`;
  };

  const forward = (req: FastifyRequest, reply: FastifyReply, ctx: DecisionContext) => {
    const outcome: Outcome = { ctx, code: 'allowed', upstreamStart: performance.now() };
    const span = tracing.upstreamSpan(ctx.view, upstreamBase + ctx.view.path);
    req.outcome = outcome;
    const rc = routeClass(ctx.route);
    // reply-from would JSON-encode a Buffer body of type application/json; hand it the bytes explicitly.
    const body = ctx.upstreamBody ?? (Buffer.isBuffer(req.body) ? req.body : undefined);
    const contentType = req.headers['content-type'] ?? (ctx.upstreamBody ? 'application/json' : 'application/octet-stream');
    return reply.from(undefined, {
      ...(body ? { body, contentType } : {}),
      retryDelay: () => null, // never replay a prediction on our own
      rewriteRequestHeaders: (_req, headers) => {
        for (const h of HOP_BY_HOP) delete headers[h];
        for (const h of ctx.removeUpstreamHeaders) delete headers[h];
        Object.assign(headers, ctx.upstreamHeaders);
        withTraceHeaders(headers, span);
        headers['x-request-id'] = req.id;
        headers['x-forwarded-for'] = forwardedFor(req, headers['x-forwarded-for']);
        headers['x-forwarded-proto'] = 'http';
        if (req.headers.host) headers['x-forwarded-host'] = req.headers.host;
        // A rewriter or an observer must read the answer; ask for it uncompressed.
        if (ctx.rewrite || ctx.observers.length > 0) headers['accept-encoding'] = 'identity';
        return headers;
      },
      rewriteHeaders: (headers) => {
        for (const h of HOP_BY_HOP) delete headers[h];
        headers['x-request-id'] = req.id;
        for (const k in ctx.responseHeaders) headers[k] = ctx.responseHeaders[k];
        return headers;
      },
      onResponse: (_req, _rep, upstream) => {
        const rep = reply;
        const res = upstream as unknown as { statusCode: number; headers: Record<string, string | string[] | undefined>; stream: Readable };
        span.end({ status: res.statusCode });
        metrics.upstreamSeconds.observe({ route_class: rc }, (performance.now() - outcome.upstreamStart) / 1000);
        const rewriter = ctx.rewrite;
        if (!rewriter) {
          rep.send(res.stream);
          if (ctx.observers.length > 0) teeForObservers(res, ctx);
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.stream.on('data', (c: Buffer) => {
          size += c.length;
          if (size <= maxAnswer) {
            chunks.push(c);
            return;
          }
          // Never buffer without bound, never pass an unreduced answer: refuse and drop the stream.
          res.stream.removeAllListeners('end').removeAllListeners('error').on('error', () => undefined);
          res.stream.destroy();
          sendDenial(req, rep.removeHeader('content-length').removeHeader('content-encoding').removeHeader('inference-header-content-length'), TOO_LARGE_ANSWER, ctx);
        });
        res.stream.on('error', (err: unknown) => {
          const d = upstreamFailure(err);
          metrics.upstreamErrors.inc({ code: d.code });
          sendDenial(req, rep.removeHeader('content-length').removeHeader('content-encoding'), d, ctx);
        });
        res.stream.on('end', () => {
          // Asked for identity, but a predictor may compress anyway: the handler reads plain bytes.
          const body = decodedBody(Buffer.concat(chunks), res.headers['content-encoding'], maxAnswer);
          let answer: RewrittenAnswer;
          try {
            answer = body ? rewriter.rewrite({ status: res.statusCode, headers: res.headers, body }, ctx) : UNDECODABLE;
          } catch (err) {
            // A fault in a rewriter must neither crash the process (this runs in a stream callback)
            // nor let the unreduced answer out.
            log.error({ err, requestId: req.id }, 'answer rewriter fault');
            answer = HANDLER_FAULT;
          }
          rep.removeHeader('content-length');
          rep.removeHeader('content-encoding');
          // The reduced answer is plain JSON, whatever the predictor's framing was.
          rep.removeHeader('inference-header-content-length');
          if (!answer.ok) {
            sendDenial(req, rep, answer.denial, ctx);
            return;
          }
          if (answer.headers) {
            // The rewriter's allowlist: every other upstream header stays behind.
            for (const h of Object.keys(rep.getHeaders())) if (!(h in ctx.responseHeaders) && h !== 'x-request-id') rep.removeHeader(h);
            rep.headers(answer.headers);
          }
          if (answer.status !== undefined) rep.code(answer.status);
          if (answer.contentType) rep.header('content-type', answer.contentType);
          rep.send(answer.body);
          if (body) observeAnswer(ctx, { status: res.statusCode, headers: res.headers, body }, log);
        });
      },
      onError: (_rep, { error }) => {
        const rep = reply;
        const d = upstreamFailure(error);
        span.end({ error: d.code });
        metrics.upstreamErrors.inc({ code: d.code });
        log.warn({ requestId: req.id, err: { code: (error as { code?: string }).code, message: error.message } }, 'upstream call failed');
        sendDenial(req, rep, d, ctx);
      },
    });
  };

  // Observers of a streamed (unrewritten) answer get a bounded copy once it has been sent whole.
  const teeForObservers = (res: { statusCode: number; headers: Record<string, string | string[] | undefined>; stream: Readable }, ctx: DecisionContext) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.stream.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= maxAnswer) chunks.push(c);
    });
    res.stream.once('end', () => {
      const body = size <= maxAnswer ? decodedBody(Buffer.concat(chunks), res.headers['content-encoding'], maxAnswer) : undefined;
      if (body) observeAnswer(ctx, { status: res.statusCode, headers: res.headers, body }, log);
    });
  };

  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    const started = performance.now();
    const decision = await pipeline.decide(requestViewFromFastify(req));
    metrics.decisionSeconds.observe({ door: 'proxy' }, (performance.now() - started) / 1000);
    if (!decision.allowed) return sendDenial(req, reply, decision.denial, decision.ctx);
    return forward(req, reply, decision.ctx);
  };

  app.route({ method: [...ALL_METHODS], url: '/', handler });
  app.route({ method: [...ALL_METHODS], url: '/*', handler });
  app.setNotFoundHandler((req, reply) => sendDenial(req, reply, deny('route_not_allowed', 'this method and path are not served'), undefined));

  // Errors raised before the handler (body limit, malformed framing) get the same JSON shape.
  app.setErrorHandler((err: { code?: string; statusCode?: number; message: string }, req, reply) => {
    // The client went away mid-answer: nothing to send, nothing wrong with us.
    if (err.code === 'UND_ERR_ABORTED' || req.raw.destroyed) {
      log.debug({ requestId: req.id }, 'client closed the connection');
      return;
    }
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || err.statusCode === 413) {
      return sendDenial(req, reply, deny('body_too_large', `request body is over the ${config.server.bodyLimitBytes}-byte limit`), undefined);
    }
    if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
      return sendDenial(req, reply, deny('invalid_body', err.message), undefined);
    }
    log.error({ err, requestId: req.id }, 'unhandled proxy error');
    return sendDenial(req, reply, deny('internal_error', 'internal error'), undefined);
  });

  app.addHook('onResponse', (req, reply, done) => {
    const o = req.outcome;
    const outcome = o?.code ?? (reply.statusCode === 404 ? 'route_not_allowed' : 'internal_error');
    record({ requestId: req.id, method: req.method, ctx: o?.ctx, status: reply.statusCode, outcome, ms: reply.elapsedTime });
    done();
  });

  return app;
}
