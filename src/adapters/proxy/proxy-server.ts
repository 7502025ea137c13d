import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Pool } from 'undici';
import type { GatewayConfig } from '../../config/schema.js';
import type { DecisionContext } from '../../decision/decision-context.js';
import { deny, type Denial } from '../../decision/denial.js';
import { renderHttpDenial } from '../../decision/http-denial.js';
import type { DecisionPipeline } from '../../decision/pipeline.js';
import { isPromise } from '../../decision/stage.js';
import { flushAccessLog } from '../../observability/access-record.js';
import type { Logger } from '../../observability/logger.js';
import type { GatewayMetrics } from '../../observability/metrics.js';
import { TRACING_OFF, type Tracing } from '../../observability/tracing.js';
import {
  BODY_NOT_ALLOWED,
  hasBody,
  Intake,
  mustCloseAfterRefusal,
  routeTakesBody,
  type BodyBudget,
} from '../intake/intake.js';
import { Exchange } from './exchange.js';
import { requestViewOf } from './request-view-from-incoming.js';

export interface ProxyDeps {
  readonly config: GatewayConfig;
  readonly pipeline: DecisionPipeline;
  readonly metrics: GatewayMetrics;
  readonly log: Logger;
  /** Spans of the upstream call (off: a constant no-op). */
  readonly tracing?: Tracing;
  /** The process's body budget, shared with the HTTP check door (absent: the door has its own). */
  readonly budget?: BodyBudget;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const SHUTTING_DOWN = deny('shutting_down', 'the gateway is shutting down; retry on another replica');

/**
 * The reverse-proxy front door on node:http and an undici Pool: a thin adapter from HTTP to the
 * decision pipeline and back. No policy here; what it owns is transport: timeouts, connection
 * and memory bounds, forwarding, answer framing, cancellation and drain.
 */
export class ProxyDoor {
  readonly server: Server;
  readonly pool: Pool;
  readonly upstreamOrigin: string;
  readonly upstreamHost: string;
  readonly upstreamTimeoutMs: number;
  readonly upstreamCapacity: number;
  readonly maxAnswerBytes: number;
  readonly tooLargeAnswer: Denial;
  readonly log: Logger;
  readonly tracing: Tracing;
  readonly retries: { inc(): void };
  readonly clientAborts: { inc(): void };
  upstreamActive = 0;
  /** Set on SIGTERM: answers carry `Connection: close` so clients move to other replicas. */
  draining = false;
  /** Set once the listener stopped accepting: requests still arriving on old connections get 503. */
  private stopped = false;
  private readonly intake: Intake;
  private readonly decisionSeconds: { observe(v: number): void };
  private readonly upstreamSecondsByClass = new Map<string, { observe(v: number): void }>();
  private readonly upstreamErrorCounters = new Map<string, { inc(): void }>();
  private readonly tooLargeBody: Denial;
  private readonly overBudget: Denial;
  private readonly trustForwardedFor: boolean;

  constructor(
    private readonly config: GatewayConfig,
    private readonly pipeline: DecisionPipeline,
    private readonly metrics: GatewayMetrics,
    log: Logger,
    tracing: Tracing,
    budget?: BodyBudget,
  ) {
    const { server, upstream } = config;
    this.log = log;
    this.tracing = tracing;
    const url = new URL(upstream.url);
    this.upstreamOrigin = url.origin;
    this.upstreamHost = url.host;
    this.upstreamTimeoutMs = upstream.timeoutMs;
    this.upstreamCapacity = upstream.connections + upstream.maxQueue;
    this.maxAnswerBytes = upstream.maxAnswerBytes;
    this.tooLargeAnswer = deny(
      'upstream_bad_response',
      `the predictor's answer is over upstream.maxAnswerBytes (${upstream.maxAnswerBytes}) and cannot be reduced to the response policy`,
    );
    this.tooLargeBody = deny('body_too_large', `request body is over the ${server.bodyLimitBytes}-byte limit`);
    this.overBudget = deny('server_overloaded', 'too many request bytes are in flight; retry later', {
      retryAfterSeconds: 1,
    });
    this.trustForwardedFor = server.trustForwardedFor;
    this.decisionSeconds = metrics.decisionSeconds.labels({ door: 'proxy' });
    this.retries = metrics.upstreamRetries;
    this.clientAborts = metrics.clientAborts;
    this.pool = new Pool(this.upstreamOrigin, {
      connections: upstream.connections,
      pipelining: 1,
      keepAliveTimeout: upstream.keepAliveTimeoutMs,
      // The whole-answer deadline (Exchange) replaces undici's idle timers.
      headersTimeout: 0,
      bodyTimeout: 0,
      connectTimeout: Math.min(upstream.timeoutMs, 10000),
    });
    this.intake = new Intake(
      { door: 'proxy', config, metrics, log, ...(budget ? { budget } : {}) },
      (req, res, expectsContinue) => this.handle(req, res, expectsContinue),
    );
    this.server = this.intake.server;
  }

  // --- shared by exchanges ---

  forwardedFor(req: IncomingMessage): string {
    const peer = req.socket.remoteAddress ?? '';
    const prior = req.headers['x-forwarded-for'];
    if (!this.trustForwardedFor || prior === undefined) return peer;
    return `${typeof prior === 'string' ? prior : prior.join(', ')}, ${peer}`;
  }

  observeUpstream(ctx: DecisionContext, seconds: number): void {
    const rc = ctx.route.kind === 'model' ? ctx.route.route.verb : ctx.route.kind;
    let h = this.upstreamSecondsByClass.get(rc);
    if (!h) this.upstreamSecondsByClass.set(rc, (h = this.metrics.upstreamSeconds.labels({ route_class: rc })));
    h.observe(seconds);
  }

  upstreamErrors(code: string): { inc(): void } {
    let c = this.upstreamErrorCounters.get(code);
    if (!c) this.upstreamErrorCounters.set(code, (c = this.metrics.upstreamErrors.labels({ code })));
    return c;
  }

  record(
    req: IncomingMessage,
    ctx: DecisionContext | undefined,
    requestId: string,
    outcome: string,
    status: number | undefined,
    started: number,
  ): void {
    this.intake.access({ requestId, method: req.method, ctx, outcome, status, ms: performance.now() - started });
  }

  writeDenial(
    res: ServerResponse,
    denial: Denial,
    requestId: string,
    ctx: DecisionContext | undefined,
    started: number,
    close = false,
  ): void {
    const r = renderHttpDenial(denial, realmOf(this.config));
    const list: string[] = [];
    for (const k in r.headers) list.push(k, r.headers[k] as string);
    list.push('x-request-id', requestId, 'content-length', String(Buffer.byteLength(r.body)));
    if (close || this.draining) list.push('connection', 'close');
    if (!res.headersSent && !res.destroyed) res.writeHead(r.status, list).end(r.body);
    this.intake.access({
      requestId,
      method: res.req.method,
      ctx,
      outcome: denial.code,
      status: r.status,
      ms: performance.now() - started,
    });
  }

  // --- the request path ---

  private handle(req: IncomingMessage, res: ServerResponse, expectsContinue: boolean): void {
    const started = performance.now();
    const given = req.headers['x-request-id'];
    const requestId = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    if (this.stopped) return this.writeDenial(res, SHUTTING_DOWN, requestId, undefined, started, true);
    void this.decide(req, res, requestId, started, expectsContinue);
  }

  /** Answers a request the door failed on; caught inside `decide`, so no `.catch` promise and closure per request. */
  private fault(err: unknown, res: ServerResponse, requestId: string, started: number): void {
    this.log.error({ err, requestId }, 'proxy fault');
    if (res.headersSent) res.destroy();
    else this.writeDenial(res, deny('internal_error', 'internal error'), requestId, undefined, started, true);
  }

  private async decide(
    req: IncomingMessage,
    res: ServerResponse,
    requestId: string,
    started: number,
    expectsContinue: boolean,
  ): Promise<void> {
    try {
      const malformed = this.intake.headProblem(req);
      if (malformed) return this.writeDenial(res, malformed, requestId, undefined, started, hasBody(req));
      // Head phase first: an unauthenticated or refused request never has its body read. This
      // await stays even when the head is decided at once: its turn lets Node's parser take in the
      // body bytes that came with the head, so readBody finds them buffered and reads them without
      // a promise or listeners.
      const head = await this.pipeline.decideHead(requestViewOf(req, requestId));
      if (!head.allowed) {
        this.decisionSeconds.observe((performance.now() - started) / 1000);
        // A small body that already arrived is drained and the connection kept; a larger or
        // unfinished upload is left unread and the connection closed.
        return this.writeDenial(res, head.denial, requestId, head.ctx, started, mustCloseAfterRefusal(req));
      }
      // Only predict and explain read a body; on any other route one is refused, never forwarded
      // (a predictor that ignores it would read it as a second, unchecked request).
      const takesBody = routeTakesBody(head.ctx);
      if (!takesBody && hasBody(req))
        return this.writeDenial(res, BODY_NOT_ALLOWED, requestId, head.ctx, started, mustCloseAfterRefusal(req));
      if (expectsContinue) res.writeContinue();
      const reading = takesBody && hasBody(req) ? this.intake.readBody(req) : undefined;
      const read = isPromise(reading) ? await reading : reading;
      if (read && !read.ok) {
        if (read.reason === 'aborted')
          return this.record(req, head.ctx, requestId, 'client_closed', undefined, started);
        return this.writeDenial(
          res,
          read.reason === 'too_large' ? this.tooLargeBody : this.overBudget,
          requestId,
          head.ctx,
          started,
          true,
        );
      }
      const body = read?.ok ? read.body : undefined;
      const reserved = read?.ok ? read.reserved : 0;
      let handedOver = false;
      try {
        // Routes whose stages read no body (probes, metadata) forward theirs untouched.
        const deciding = this.pipeline.needsBody(head.ctx)
          ? this.pipeline.decideBodyAtOnce(head.ctx, body)
          : this.pipeline.decideBodyAtOnce(head.ctx);
        const decision = isPromise(deciding) ? await deciding : deciding;
        this.decisionSeconds.observe((performance.now() - started) / 1000);
        if (!decision.allowed) return this.writeDenial(res, decision.denial, requestId, decision.ctx, started);
        if (res.destroyed) return this.record(req, decision.ctx, requestId, 'client_closed', undefined, started);
        handedOver = true;
        new Exchange(this, req, res, decision.ctx, requestId, started, body, reserved, decision.ctx.rewrite).start();
      } finally {
        // Once handed over, the exchange releases the body's bytes when its predictor call ends.
        if (!handedOver) this.intake.releaseBody(reserved);
      }
    } catch (err) {
      this.fault(err, res, requestId, started);
    }
  }

  releaseBody(bytes: number): void {
    this.intake.releaseBody(bytes);
  }

  // --- lifecycle ---

  /** Drain phase 1: keep serving, ask every client to reconnect elsewhere. */
  startDraining(): void {
    this.draining = true;
  }

  /** Drain phase 2: stop accepting; idle keep-alive connections are closed, in-flight ones finish. */
  stopAccepting(): Promise<void> {
    this.stopped = true;
    this.draining = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // No response in progress: nothing in flight to finish (a request still arriving is not started).
    for (const s of this.intake.sockets) if (!(s as Socket & { _httpMessage?: unknown })._httpMessage) s.destroy();
    return closed;
  }

  /** Past the grace period: cut what is left. */
  async destroy(): Promise<void> {
    this.server.closeAllConnections();
    flushAccessLog(this.log);
    await this.pool.destroy();
  }

  async close(): Promise<void> {
    flushAccessLog(this.log);
    if (!this.pool.destroyed) await this.pool.close();
  }
}

const realmOf = (config: GatewayConfig) => config.auth.realm;

export function createProxyServer(deps: ProxyDeps): ProxyDoor {
  return new ProxyDoor(deps.config, deps.pipeline, deps.metrics, deps.log, deps.tracing ?? TRACING_OFF, deps.budget);
}
