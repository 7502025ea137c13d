import {
  constants,
  createServer,
  type ClientHttp2Stream,
  type Http2Server,
  type Http2Session,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import type { GatewayConfig } from '../../config/schema.js';
import type { DecisionContext, UpstreamAnswer } from '../../decision/decision-context.js';
import { deny, type Denial } from '../../decision/denial.js';
import { observeAnswer } from '../../decision/observe-answer.js';
import type { DecisionPipeline } from '../../decision/pipeline.js';
import type { RequestView } from '../../decision/request-view.js';
import { accessRecorder, flushAccessLog } from '../../observability/access-record.js';
import type { Logger } from '../../observability/logger.js';
import type { GatewayMetrics } from '../../observability/metrics.js';
import { BodyBudget } from '../intake/body-budget.js';
import { grpcDenialHeaders } from './grpc-denial.js';
import { grpcTimeoutMs, grpcTimeoutValue } from './grpc-timeout.js';
import { requestViewFromStream } from './request-view-from-stream.js';
import { UpstreamSessions } from './upstream-sessions.js';

export interface GrpcProxyDeps {
  readonly config: GatewayConfig;
  readonly pipeline: DecisionPipeline;
  readonly metrics: GatewayMetrics;
  readonly log: Logger;
  /** The process's body budget, shared with the HTTP doors (absent: the door has its own). */
  readonly budget?: BodyBudget;
}

const MAX_STREAMS_PER_CONNECTION = 1000;
// Node's HTTP/1.1 parser limit (--max-http-header-size), which the REST door applies.
const MAX_HEADER_LIST_BYTES = 16 * 1024;
const GRPC_TYPE = /^application\/grpc(\+proto)?(;.*)?$/;
// Fields that never cross the proxy (RFC 9113 §8.2.2 forbids the connection-specific ones in
// HTTP/2) or that the gateway sets itself for the predictor.
const NOT_FORWARDED = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'host',
  'te',
  'content-length',
  'grpc-timeout',
  'x-request-id',
  'x-forwarded-for',
  'grpc-accept-encoding',
  'grpc-encoding',
]);
const NOT_RETURNED = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'content-length',
  'x-request-id',
  'date',
]);

// Compressed messages cannot be read as the server reads them (grpc-infer-request.ts refuses
// them): every answer tells the client to send identity (gRPC compression, grpc-accept-encoding).
const IDENTITY_ONLY = { 'grpc-accept-encoding': 'identity' } as const;
// Errors of a client stream end its call through 'close'; a shared listener keeps them from throwing.
const ignore = (): undefined => undefined;
const NOT_GRPC = deny('bad_request', 'the gRPC door takes POST calls with content-type application/grpc (protobuf)');
const SHUTTING_DOWN = deny('shutting_down', 'the gateway is shutting down; retry on another replica');
const OVERLOADED = deny('upstream_overloaded', 'every predictor connection is busy and the wait queue is full');
const DEADLINE = deny(
  'upstream_timeout',
  'the predictor did not answer within the deadline (grpc-timeout, bounded by upstream.timeoutMs)',
);
const DROPPED = deny('upstream_unreachable', 'the predictor refused or dropped the call');
const READ_TIMEOUT = deny('request_timeout', 'the client did not send its message in time');
const REWRITER_FAULT = deny('internal_error', 'internal error while reading the predictor answer');

/** The predictor's answer to one call: HTTP/2 headers, the body bytes, and trailers. */
interface Answer {
  headers: IncomingHttpHeaders;
  trailers: IncomingHttpHeaders | undefined;
  body: Buffer;
}

/**
 * The gRPC front door: cleartext HTTP/2 with prior knowledge (what gRPC clients speak without
 * TLS), one unary call of `inference.GRPCInferenceService` per stream, decided by the same
 * pipeline as the REST door and forwarded over pooled HTTP/2 sessions. Unary calls carry one
 * message each way, so both are held whole (bounded by server.bodyLimitBytes and
 * upstream.maxAnswerBytes): the message names the model, and an answer under a labels-only
 * policy must be reduced before a byte of it leaves.
 */
export class GrpcProxyDoor {
  readonly server: Http2Server;
  private readonly upstream: UpstreamSessions;
  private readonly upstreamAuthority: string;
  private readonly budget: BodyBudget;
  private readonly access: ReturnType<typeof accessRecorder>;
  private readonly decisionSeconds: { observe(v: number): void };
  private readonly sessions = new Set<Http2Session>();
  private readonly tooLarge: Denial;
  private readonly tooLargeAnswer: Denial;
  private readonly overBudget: Denial;
  private upstreamActive = 0;
  private stopped = false;

  constructor(
    private readonly config: GatewayConfig,
    private readonly pipeline: DecisionPipeline,
    private readonly metrics: GatewayMetrics,
    private readonly log: Logger,
    budget?: BodyBudget,
  ) {
    const { server, upstream } = config;
    const url = new URL(upstream.grpcUrl);
    this.upstreamAuthority = url.host;
    this.upstream = new UpstreamSessions(url.origin, Math.min(4, upstream.connections), upstream.keepAliveTimeoutMs);
    this.budget = budget ?? new BodyBudget(server.maxBodyBytesInFlight);
    this.access = accessRecorder('grpc', config, metrics, log);
    this.decisionSeconds = metrics.decisionSeconds.labels({ door: 'grpc' });
    // The same bound and words as the ext-authz doors, which see the same HTTP/2 body (prefix included).
    this.tooLarge = deny('body_too_large', `request body is over the ${server.bodyLimitBytes}-byte limit`);
    this.tooLargeAnswer = deny(
      'upstream_bad_response',
      `the predictor's answer is over upstream.maxAnswerBytes (${upstream.maxAnswerBytes})`,
    );
    this.overBudget = deny('server_overloaded', 'too many request bytes are in flight; retry later', {
      retryAfterSeconds: 1,
    });
    // Per client connection: streams in flight bounded (each may hold a message until the bytes
    // in flight are spent), header lists no larger than the HTTP/1.1 door's parser accepts.
    this.server = createServer({
      maxSessionMemory: 64,
      settings: { maxConcurrentStreams: MAX_STREAMS_PER_CONNECTION, maxHeaderListSize: MAX_HEADER_LIST_BYTES },
    });
    this.server.maxConnections = server.maxConnections;
    this.server.on('session', (s: Http2Session) => {
      this.sessions.add(s);
      s.on('close', () => this.sessions.delete(s));
      s.on('error', () => undefined);
      s.setTimeout(server.keepAliveTimeoutMs, () => s.close());
    });
    this.server.on(
      'stream',
      (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, _flags: number, rawHeaders: string[]) =>
        this.handle(stream, headers, rawHeaders),
    );
  }

  private record(
    view: RequestView | undefined,
    ctx: DecisionContext | undefined,
    outcome: string,
    status: number | undefined,
    started: number,
  ): void {
    this.access({ requestId: view?.requestId, method: 'POST', ctx, outcome, status, ms: performance.now() - started });
  }

  /** A refusal as a trailers-only gRPC answer; the rest of an upload still arriving is cut (RST_STREAM NO_ERROR, RFC 9113 §8.1). */
  private writeDenial(
    stream: ServerHttp2Stream,
    denial: Denial,
    view: RequestView | undefined,
    ctx: DecisionContext | undefined,
    started: number,
  ): void {
    if (!stream.headersSent && !stream.destroyed && !stream.closed) {
      const headers: OutgoingHttpHeaders = {
        ':status': 200,
        'content-type': 'application/grpc',
        ...IDENTITY_ONLY,
        ...grpcDenialHeaders(denial, this.config.auth.realm),
      };
      if (view) headers['x-request-id'] = view.requestId;
      stream.respond(headers, { endStream: true });
      if (!stream.readableEnded) stream.close(constants.NGHTTP2_NO_ERROR);
    }
    this.record(view, ctx, denial.code, undefined, started);
  }

  private handle(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, rawHeaders: string[]): void {
    const started = performance.now();
    stream.on('error', ignore);
    if (this.stopped) return this.writeDenial(stream, SHUTTING_DOWN, undefined, undefined, started);
    const type = headers['content-type'];
    if (headers[':method'] !== 'POST' || typeof type !== 'string' || !GRPC_TYPE.test(type))
      return this.writeDenial(stream, NOT_GRPC, undefined, undefined, started);
    const clientMs = grpcTimeoutMs(headers['grpc-timeout'] as string | undefined);
    const deadlineAt = started + Math.min(clientMs ?? Infinity, this.config.upstream.timeoutMs);
    this.readMessage(stream, (outcome, body, reserved) => {
      if (outcome !== 'ok') {
        if (outcome === 'aborted') return this.record(undefined, undefined, 'client_closed', undefined, started);
        const denial = outcome === 'too_large' ? this.tooLarge : outcome === 'budget' ? this.overBudget : READ_TIMEOUT;
        return this.writeDenial(stream, denial, undefined, undefined, started);
      }
      const view = requestViewFromStream(headers, rawHeaders, body, stream.session?.socket?.remoteAddress ?? '');
      this.decide(stream, view, deadlineAt, started)
        .catch((err: unknown) => {
          this.log.error({ err, requestId: view.requestId }, 'grpc proxy fault');
          this.writeDenial(stream, deny('internal_error', 'internal error'), view, undefined, started);
        })
        .finally(() => this.budget.release(reserved));
    });
  }

  /** The whole request body, bounded by the message limit, the bytes in flight and server.requestTimeoutMs. */
  private readMessage(
    stream: ServerHttp2Stream,
    done: (outcome: 'ok' | 'too_large' | 'budget' | 'timeout' | 'aborted', body: Buffer, reserved: number) => void,
  ): void {
    const limit = this.config.server.bodyLimitBytes;
    const chunks: Buffer[] = [];
    let size = 0;
    let finished = false;
    const finish = (outcome: 'ok' | 'too_large' | 'budget' | 'timeout' | 'aborted') => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      if (outcome !== 'ok') {
        this.budget.release(size);
        stream.removeAllListeners('data');
        done(outcome, Buffer.alloc(0), 0);
        return;
      }
      done('ok', chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size), size);
    };
    const timer = setTimeout(() => finish('timeout'), this.config.server.requestTimeoutMs);
    stream.on('data', (chunk: Buffer) => {
      if (finished) return;
      if (size + chunk.length > limit) return finish('too_large');
      if (!this.budget.tryReserve(chunk.length)) return finish('budget');
      size += chunk.length;
      chunks.push(chunk);
    });
    stream.on('end', () => finish('ok'));
    stream.on('close', () => finish('aborted'));
  }

  private async decide(
    stream: ServerHttp2Stream,
    view: RequestView,
    deadlineAt: number,
    started: number,
  ): Promise<void> {
    const decision = await this.pipeline.decide(view);
    this.decisionSeconds.observe((performance.now() - started) / 1000);
    if (!decision.allowed) return this.writeDenial(stream, decision.denial, view, decision.ctx, started);
    if (stream.closed || stream.destroyed) return this.record(view, decision.ctx, 'client_closed', undefined, started);
    await this.forward(stream, view, decision.ctx, deadlineAt, started);
  }

  private upstreamHeaders(view: RequestView, ctx: DecisionContext, remainingMs: number): OutgoingHttpHeaders {
    const out: OutgoingHttpHeaders = {};
    const remove = ctx.removeUpstreamHeaders;
    for (const name in view.headers) {
      if (NOT_FORWARDED.has(name) || remove.includes(name) || name in ctx.upstreamHeaders) continue;
      out[name] = view.headers[name] as string | string[];
    }
    Object.assign(out, ctx.upstreamHeaders);
    out[':method'] = 'POST';
    out[':path'] = view.path;
    out[':authority'] = this.upstreamAuthority;
    out[':scheme'] = 'http';
    out['content-type'] = 'application/grpc';
    out['te'] = 'trailers';
    out['grpc-accept-encoding'] = 'identity';
    out['grpc-timeout'] = grpcTimeoutValue(remainingMs);
    out['x-request-id'] = view.requestId;
    out['x-forwarded-for'] = view.peer;
    return out;
  }

  /** One predictor call: deadline, cancellation when the client goes, the answer held whole, then reduced or passed. */
  private forward(
    stream: ServerHttp2Stream,
    view: RequestView,
    ctx: DecisionContext,
    deadlineAt: number,
    started: number,
  ): Promise<void> {
    const { upstream } = this.config;
    if (this.upstreamActive >= upstream.connections + upstream.maxQueue) {
      this.writeDenial(stream, OVERLOADED, view, ctx, started);
      return Promise.resolve();
    }
    const remaining = deadlineAt - performance.now();
    if (remaining <= 0) {
      this.writeDenial(stream, DEADLINE, view, ctx, started);
      return Promise.resolve();
    }
    this.upstreamActive++;
    return new Promise<void>((resolve) => {
      let settled = false;
      let up: ClientHttp2Stream;
      const settle = () => {
        if (settled) return false;
        settled = true;
        clearTimeout(timer);
        stream.off('close', onClientClose);
        this.upstreamActive--;
        resolve();
        return true;
      };
      const failWith = (denial: Denial) => {
        if (!settle()) return;
        if (!up.closed) up.close(constants.NGHTTP2_CANCEL);
        this.metrics.upstreamErrors.labels({ code: denial.code }).inc();
        this.writeDenial(stream, denial, view, ctx, started);
      };
      const onClientClose = () => {
        if (!settle()) return;
        // RST_STREAM(CANCEL): the predictor's gRPC server cancels the call.
        if (!up.closed) up.close(constants.NGHTTP2_CANCEL);
        this.metrics.clientAborts.inc();
        this.record(view, ctx, 'client_closed', undefined, started);
      };
      const timer = setTimeout(() => failWith(DEADLINE), remaining);
      stream.on('close', onClientClose);
      const slot = this.upstream.acquire();
      try {
        up = slot.session.request(this.upstreamHeaders(view, ctx, remaining), { endStream: false });
      } catch {
        this.upstream.release(slot);
        up = undefined as unknown as ClientHttp2Stream;
        settle();
        this.writeDenial(stream, DROPPED, view, ctx, started);
        return;
      }
      const answer: Answer = { headers: {}, trailers: undefined, body: Buffer.alloc(0) };
      const chunks: Buffer[] = [];
      let size = 0;
      let responded = false;
      up.on('response', (h) => {
        responded = true;
        answer.headers = h;
      });
      up.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > upstream.maxAnswerBytes) return failWith(this.tooLargeAnswer);
        chunks.push(chunk);
      });
      up.on('trailers', (t: IncomingHttpHeaders) => {
        answer.trailers = t;
      });
      up.on('error', () => failWith(DROPPED));
      up.on('close', () => {
        this.upstream.release(slot);
        if (settled) return;
        if (!responded || (up.rstCode !== undefined && up.rstCode !== constants.NGHTTP2_NO_ERROR))
          return failWith(DROPPED);
        answer.body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
        if (!settle()) return;
        this.answer(stream, view, ctx, answer, started);
      });
      up.end(ctx.upstreamBody ?? view.body);
    });
  }

  /** The answer leaves reduced (a route whose policy rewrites answers) or as the predictor sent it. */
  private answer(stream: ServerHttp2Stream, view: RequestView, ctx: DecisionContext, a: Answer, started: number): void {
    if (stream.closed || stream.destroyed) return this.record(view, ctx, 'client_closed', undefined, started);
    const byName: Record<string, string | string[]> = {};
    for (const k in a.headers) if (k.charCodeAt(0) !== 0x3a) byName[k] = a.headers[k] as string | string[];
    if (a.trailers)
      for (const k in a.trailers) if (k.charCodeAt(0) !== 0x3a) byName[k] = a.trailers[k] as string | string[];
    const httpStatus = Number(a.headers[':status'] ?? 0);
    const grpcStatus = byName['grpc-status'];
    const upstreamAnswer: UpstreamAnswer = {
      status: httpStatus === 200 && grpcStatus === '0' ? 200 : httpStatus !== 200 ? httpStatus : 500,
      headers: byName,
      body: a.body,
    };
    if (ctx.rewrite) {
      let out;
      try {
        out = ctx.rewrite.rewrite(upstreamAnswer, ctx);
      } catch (err) {
        this.log.error({ err, requestId: view.requestId }, 'answer rewriter fault');
        out = { ok: false as const, denial: REWRITER_FAULT };
      }
      if (!out.ok) this.writeDenial(stream, out.denial, view, ctx, started);
      else {
        // Built by assignment: object spread of small header maps measured as a visible share per call.
        const headers: OutgoingHttpHeaders = {};
        for (const k in out.headers) headers[k] = out.headers[k];
        for (const k in ctx.responseHeaders) headers[k] = ctx.responseHeaders[k];
        headers[':status'] = 200;
        headers['content-type'] = 'application/grpc';
        headers['grpc-accept-encoding'] = IDENTITY_ONLY['grpc-accept-encoding'];
        headers['x-request-id'] = view.requestId;
        stream.respond(headers, { waitForTrailers: true });
        stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        stream.end(out.body);
        this.record(view, ctx, 'allowed', 200, started);
      }
    } else {
      this.passThrough(stream, view, ctx, a);
      this.record(view, ctx, 'allowed', httpStatus, started);
    }
    if (ctx.observers.length > 0) observeAnswer(ctx, upstreamAnswer, this.log);
  }

  private passThrough(stream: ServerHttp2Stream, view: RequestView, ctx: DecisionContext, a: Answer): void {
    const headers: OutgoingHttpHeaders = {};
    for (const k in a.headers) if (k.charCodeAt(0) !== 0x3a && !NOT_RETURNED.has(k)) headers[k] = a.headers[k];
    Object.assign(headers, ctx.responseHeaders);
    headers[':status'] = a.headers[':status'] ?? 200;
    headers['x-request-id'] = view.requestId;
    // What this door reads, whatever the predictor accepts.
    headers['grpc-accept-encoding'] = IDENTITY_ONLY['grpc-accept-encoding'];
    const trailers = a.trailers;
    // A trailers-only answer (an error with no message) carries its status in the headers.
    if (!trailers && a.body.length === 0) {
      stream.respond(headers, { endStream: true });
      return;
    }
    stream.respond(headers, { waitForTrailers: trailers !== undefined });
    if (trailers) {
      const out: OutgoingHttpHeaders = {};
      for (const k in trailers) if (k.charCodeAt(0) !== 0x3a) out[k] = trailers[k];
      stream.once('wantTrailers', () => stream.sendTrailers(out));
    }
    stream.end(a.body);
  }

  // --- lifecycle ---

  /** Stop accepting; each client gets GOAWAY and its calls in flight finish. */
  stopAccepting(): Promise<void> {
    this.stopped = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sessions) s.close();
    return closed;
  }

  destroy(): void {
    for (const s of this.sessions) s.destroy();
    this.upstream.destroy();
    flushAccessLog(this.log);
  }

  close(): void {
    this.upstream.close();
    flushAccessLog(this.log);
  }
}

export function createGrpcProxyServer(deps: GrpcProxyDeps): GrpcProxyDoor {
  return new GrpcProxyDoor(deps.config, deps.pipeline, deps.metrics, deps.log, deps.budget);
}
