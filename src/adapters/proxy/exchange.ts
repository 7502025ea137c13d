import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Pool } from 'undici';
import type { Dispatcher } from 'undici';
import type {
  AnswerRewriter,
  DecisionContext,
  RewrittenAnswer,
  UpstreamAnswer,
} from '../../decision/decision-context.js';
import { observeAnswer } from '../../decision/observe-answer.js';
import { deny, type Denial } from '../../decision/denial.js';
import type { Logger } from '../../observability/logger.js';
import { NO_UPSTREAM_SPAN, type Tracing, type UpstreamSpan } from '../../observability/tracing.js';
import { answerHeaders, upstreamHeaders } from './forward-headers.js';
import { decodedBody } from './decoded-body.js';
import { ClientGoneError, UpstreamDeadlineError, upstreamFailure } from './upstream-errors.js';

// Answers up to this size are collected and written in one write with their length; larger or
// endless ones stream with backpressure (a 1 GiB answer must not be held).
const BUFFER_UP_TO = 64 * 1024;
const NO_BODY_STATUS = (s: number) => s === 204 || s === 304 || (s >= 100 && s < 200);
// A reduced answer is plain JSON whatever the predictor's encoding or binary framing was.
const REWRITTEN_DROPS = new Set(['content-encoding', 'content-type', 'inference-header-content-length']);

const REWRITER_FAULT: RewrittenAnswer = {
  ok: false,
  denial: deny('internal_error', 'internal error while reading the predictor answer'),
};
const UNDECODABLE: RewrittenAnswer = {
  ok: false,
  denial: deny(
    'upstream_bad_response',
    "the predictor's answer has a content-encoding that cannot be decoded, or inflates past upstream.maxAnswerBytes",
  ),
};
// One instance each: no stack captured per request, and compared by identity below.
const DEADLINE = new UpstreamDeadlineError();
const CLIENT_GONE = new ClientGoneError();
const NO_HEADERS: IncomingHttpHeaders = {};

/** What an exchange needs of the proxy door that runs it (the door passes itself). */
export interface ExchangeRuntime {
  readonly pool: Pool;
  readonly upstreamOrigin: string;
  readonly upstreamHost: string;
  readonly upstreamTimeoutMs: number;
  readonly upstreamCapacity: number;
  upstreamActive: number;
  readonly maxAnswerBytes: number;
  readonly tooLargeAnswer: Denial;
  readonly draining: boolean;
  readonly tracing: Tracing;
  readonly log: Logger;
  readonly retries: { inc(): void };
  readonly clientAborts: { inc(): void };
  upstreamErrors(code: string): { inc(): void };
  forwardedFor(req: IncomingMessage): string;
  observeUpstream(ctx: DecisionContext, seconds: number): void;
  releaseBody(bytes: number): void;
  writeDenial(
    res: ServerResponse,
    denial: Denial,
    requestId: string,
    ctx: DecisionContext | undefined,
    started: number,
  ): void;
  record(
    req: IncomingMessage,
    ctx: DecisionContext | undefined,
    requestId: string,
    outcome: string,
    status: number | undefined,
    started: number,
  ): void;
}

/**
 * One forwarded request, from dispatch to the last byte of its answer. It is its own undici
 * dispatch handler (undici's current handler API: onRequestStart, onResponseStart,
 * onResponseData, onResponseEnd, onResponseError, with backpressure through the controller's
 * pause/resume; no per-request closures), holds the single deadline timer, and cancels the
 * predictor call when the client goes away.
 */
export class Exchange implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | null = null;
  private written = false;
  private retried = false;
  private settled = false;
  private status = 0;
  private headers: IncomingHttpHeaders = NO_HEADERS;
  private chunks: Buffer[] = [];
  private size = 0;
  private streaming = false;
  private timer: NodeJS.Timeout | undefined;
  private upstreamStart = 0;
  private readonly opts: Dispatcher.DispatchOptions;
  /** Observers want the answer: keep a bounded copy even of a streamed one. */
  private readonly observed: boolean;
  private copyFailed = false;
  /** The answer's headers as read for the client, kept for the observers. */
  private head: ReturnType<typeof answerHeaders> | undefined;
  /** The upstream call's span: ended by the predictor's status, or by the failure that kept it from answering. */
  private readonly span: UpstreamSpan;

  constructor(
    private readonly rt: ExchangeRuntime,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly ctx: DecisionContext,
    private readonly requestId: string,
    private readonly started: number,
    body: Buffer | undefined,
    private reserved: number,
    private readonly rewriter: AnswerRewriter | undefined,
  ) {
    this.observed = ctx.observers.length > 0;
    const sent = ctx.upstreamBody ?? body;
    // Tracing off: no span and no URL string built.
    this.span = rt.tracing.enabled
      ? rt.tracing.upstreamSpan(ctx.view, rt.upstreamOrigin + ctx.view.path)
      : NO_UPSTREAM_SPAN;
    this.opts = {
      origin: rt.upstreamOrigin,
      method: req.method as Dispatcher.HttpMethod,
      path: req.url ?? '/',
      headers: upstreamHeaders(req.headers, ctx, rt.upstreamHost, {
        requestId,
        forwardedFor: rt.forwardedFor(req),
        // A rewriter or an observer must read the answer: ask for it uncompressed.
        identityEncoding: rewriter !== undefined || ctx.observers.length > 0,
        bodyLength: sent?.length ?? 0,
        traceHeaders: this.span.headers,
      }),
      body: sent ?? null,
      headersTimeout: 0,
      bodyTimeout: 0,
    };
  }

  start(): void {
    const rt = this.rt;
    if (rt.upstreamActive >= rt.upstreamCapacity) {
      rt.releaseBody(this.reserved);
      rt.writeDenial(this.res, OVERLOADED, this.requestId, this.ctx, this.started);
      return;
    }
    rt.upstreamActive++;
    (this.res as ExchangeResponse).exchange = this;
    // 'close' is emitted once per response: a plain listener, without once()'s wrapper per request.
    this.res.on('close', onClientClose);
    this.timer = setTimeout(onDeadline, rt.upstreamTimeoutMs, this);
    this.upstreamStart = performance.now();
    rt.pool.dispatch(this.opts, this);
  }

  // --- undici's dispatch handler ---

  onRequestStart(controller: Dispatcher.DispatchController): void {
    // Called right before undici writes the request: from here the predictor may see it.
    this.written = true;
    this.controller = controller;
    // Settled while it waited for a connection (deadline, client gone): never send it.
    if (this.settled) controller.abort(CLIENT_GONE);
  }

  onResponseStart(_controller: Dispatcher.DispatchController, status: number, headers: IncomingHttpHeaders): void {
    if (status < 200) return; // 1xx interim answers are not forwarded
    this.status = status;
    this.headers = headers;
    this.span.end({ status });
    this.rt.observeUpstream(this.ctx, (performance.now() - this.upstreamStart) / 1000);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.settled) return;
    if (this.streaming) {
      if (this.observed) this.keepCopy(chunk);
      if (!this.res.write(chunk)) this.waitForDrain(controller);
      return;
    }
    this.size += chunk.length;
    this.chunks.push(chunk);
    if (this.rewriter) {
      // Never buffer without bound, never pass an unreduced answer: refuse and drop the call.
      if (this.size > this.rt.maxAnswerBytes) {
        this.fail(this.rt.tooLargeAnswer);
        controller.abort(CLIENT_GONE);
      }
      return;
    }
    if (this.size > BUFFER_UP_TO) this.startStreaming();
  }

  onResponseEnd(): void {
    if (this.settled) return;
    if (this.streaming) {
      const copy = this.observed && !this.copyFailed ? this.joined() : undefined;
      this.res.end();
      this.settle('allowed', this.status);
      if (copy) this.observe(copy);
      return;
    }
    const body = this.joined();
    if (this.rewriter) return this.writeRewritten(body);
    this.writeWhole(body);
    if (this.observed) this.observe(body);
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.upstreamFailed(err);
  }

  private upstreamFailed(err: Error): void {
    if (this.settled) return;
    if (!this.retried && err !== CLIENT_GONE && err !== DEADLINE && this.provablyUnread(err)) {
      this.retried = true;
      this.written = false;
      this.rt.retries.inc();
      // After undici has finished tearing the failed connection down, not from inside it.
      setImmediate(redispatch, this);
      return;
    }
    if (err === CLIENT_GONE) return; // already settled by the close handler
    const denial = upstreamFailure(err);
    this.rt.upstreamErrors(denial.code).inc();
    if (this.streaming) {
      // Headers are gone: the only honest signal left is a cut connection.
      this.settle(denial.code, this.status);
      this.res.destroy();
      return;
    }
    this.rt.log.warn(
      { requestId: this.requestId, err: { code: (err as { code?: string }).code, message: err.message } },
      'upstream call failed',
    );
    this.fail(denial);
  }

  /**
   * Whether the predictor provably never read this request, so sending it again cannot run the
   * model twice: undici had not begun writing it (connect refused, a connection lost while the
   * request waited), or the connection was reset before any answer byte. A reset means the
   * predictor's socket was already closed when the bytes arrived, or was closed with them unread
   * (RFC 9293 §3.10.7.4, §3.6): the race of a predictor closing an idle keep-alive connection just
   * as it is reused. A plain close (FIN) with no answer is not retried: the predictor may have read
   * the request and died while running it.
   */
  private provablyUnread(err: Error): boolean {
    if (!this.written) return true;
    const code = (err as { code?: string }).code;
    return this.status === 0 && (code === 'ECONNRESET' || code === 'EPIPE');
  }

  // --- the answer ---

  /** The answer's headers for the client, read once: with every header by name too when observers will need them. */
  private headerList() {
    const h = answerHeaders(this.headers, undefined);
    this.head = h;
    return h;
  }

  private finishHeaders(list: string[]): string[] {
    list.push('x-request-id', this.requestId);
    const extra = this.ctx.responseHeaders;
    for (const k in extra) list.push(k, extra[k] as string);
    if (this.rt.draining) list.push('connection', 'close');
    return list;
  }

  private writeWhole(body: Buffer): void {
    const h = this.headerList();
    const list = this.finishHeaders(h.list);
    const res = this.res;
    if (this.req.method === 'HEAD') {
      if (h.contentLength !== undefined) list.push('content-length', String(h.contentLength));
      res.writeHead(this.status, list).end();
    } else if (NO_BODY_STATUS(this.status)) {
      res.writeHead(this.status, list).end();
    } else {
      list.push('content-length', String(body.length));
      res.writeHead(this.status, list).end(body);
    }
    this.settle('allowed', this.status);
  }

  private startStreaming(): void {
    const h = this.headerList();
    const list = this.finishHeaders(h.list);
    if (h.contentLength !== undefined) list.push('content-length', String(h.contentLength));
    this.streaming = true;
    this.res.writeHead(this.status, list);
    for (const c of this.chunks) this.res.write(c);
    if (!this.observed) {
      this.chunks = [];
      this.size = 0;
    }
  }

  /** Observers of a streamed answer get a copy bounded by upstream.maxAnswerBytes, or none. */
  private keepCopy(chunk: Buffer): void {
    if (this.copyFailed) return;
    this.size += chunk.length;
    if (this.size > this.rt.maxAnswerBytes) {
      this.copyFailed = true;
      this.chunks = [];
      return;
    }
    this.chunks.push(chunk);
  }

  private joined(): Buffer {
    return this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks, this.size);
  }

  /** The client reads slower than the predictor writes: pause the predictor until the client drains. */
  private waitForDrain(controller: Dispatcher.DispatchController): void {
    controller.pause();
    this.res.once('drain', () => controller.resume());
  }

  /** Observers get the predictor's answer as it came (headers by lower-case name, body decoded), after it was sent. */
  private observe(raw: Buffer): void {
    const h = this.head ?? answerHeaders(this.headers, undefined);
    // Identity was asked for, but a predictor may compress anyway: observers read plain bytes.
    const body = decodedBody(raw, h.contentEncoding, this.rt.maxAnswerBytes);
    if (body) observeAnswer(this.ctx, { status: this.status, headers: h.byName, body }, this.rt.log);
  }

  /** On routes whose policy reduces answers, every answer (any status) leaves only as the rewriter returns it. */
  private writeRewritten(raw: Buffer): void {
    const { h, answer } = answerForRewriter(this.status, this.headers, raw, this.rt.maxAnswerBytes);
    let out: RewrittenAnswer;
    try {
      out = answer ? (this.rewriter as AnswerRewriter).rewrite(answer, this.ctx) : UNDECODABLE;
    } catch (err) {
      // A fault in a rewriter must neither crash the process nor let the unreduced answer out.
      this.rt.log.error({ err, requestId: this.requestId }, 'answer rewriter fault');
      out = REWRITER_FAULT;
    }
    if (!out.ok) {
      this.fail(out.denial);
    } else {
      // The rewriter's header allowlist, when it gives one, replaces the upstream headers.
      const list = out.headers ? allowedHeaders(out.headers) : h.list;
      this.finishHeaders(list);
      const length = typeof out.body === 'string' ? Buffer.byteLength(out.body) : out.body.length;
      list.push(
        'content-type',
        out.contentType ?? h.contentType ?? 'application/json',
        'content-length',
        String(length),
      );
      const status = out.status ?? this.status;
      this.res.writeHead(status, list).end(out.body);
      this.settle('allowed', status);
    }
    if (answer && this.observed) observeAnswer(this.ctx, answer, this.rt.log);
  }

  private fail(denial: Denial): void {
    this.settle(denial.code, undefined, false);
    this.rt.writeDenial(this.res, denial, this.requestId, this.ctx, this.started);
  }

  /** Ends the exchange's bookkeeping once: the timer, the pool slot, the access record. */
  private settle(outcome: string, status: number | undefined, record = true): void {
    this.settled = true;
    clearTimeout(this.timer);
    // No answer head came (deadline, client gone, refused connection): the call ends in error.
    if (this.status === 0) this.span.end({ error: outcome });
    this.rt.upstreamActive--;
    this.rt.releaseBody(this.reserved);
    this.reserved = 0;
    this.chunks = [];
    if (record) this.rt.record(this.req, this.ctx, this.requestId, outcome, status, this.started);
  }

  redispatch(): void {
    if (!this.settled) this.rt.pool.dispatch(this.opts, this);
  }

  /** The deadline for the whole answer passed (upstream.timeoutMs). */
  deadline(): void {
    if (this.settled) return;
    const controller = this.controller;
    this.upstreamFailed(DEADLINE);
    controller?.abort(DEADLINE);
  }

  /** The client closed its connection before the answer was complete: cancel the predictor call. */
  clientGone(): void {
    if (this.settled) return;
    this.settle('client_closed', undefined);
    this.rt.clientAborts.inc();
    this.controller?.abort(CLIENT_GONE);
  }
}

/**
 * The predictor's answer as a rewriter reads it: every header by lower-case name, the body without
 * its content-encoding (undefined when it cannot be decoded within `maxBytes`); `h.list` is what
 * may be returned to the client when the rewriter gives no allowlist (encoding and framing dropped).
 */
export function answerForRewriter(
  status: number,
  headers: IncomingHttpHeaders,
  raw: Buffer,
  maxBytes: number,
): { h: ReturnType<typeof answerHeaders>; answer: UpstreamAnswer | undefined } {
  const h = answerHeaders(headers, REWRITTEN_DROPS);
  const body = decodedBody(raw, h.contentEncoding, maxBytes);
  return { h, answer: body ? { status, headers: h.byName, body } : undefined };
}

const OVERLOADED = deny('upstream_overloaded', 'every predictor connection is busy and the wait queue is full');

function allowedHeaders(headers: Readonly<Record<string, string | string[]>>): string[] {
  const list: string[] = [];
  for (const name in headers) {
    const lower = name.toLowerCase();
    if (lower === 'content-type' || lower === 'content-length') continue;
    const v = headers[name] as string | string[];
    if (typeof v === 'string') list.push(lower, v);
    else for (const one of v) list.push(lower, one);
  }
  return list;
}

interface ExchangeResponse extends ServerResponse {
  exchange?: Exchange;
}

function redispatch(ex: Exchange): void {
  ex.redispatch();
}

function onDeadline(ex: Exchange): void {
  ex.deadline();
}

function onClientClose(this: ExchangeResponse): void {
  if (!this.writableFinished) this.exchange?.clientGone();
}
