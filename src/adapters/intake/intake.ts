// The HTTP intake every HTTP door shares (the reverse proxy and Envoy's HTTP check): the
// listener's timeouts and connection cap, the header bounds, the answer to malformed HTTP and its
// place on a pipelined connection, the body budget and body reading, and the access record of
// requests refused before a door saw them. A door adds only what makes it that door.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { GatewayConfig } from '../../config/schema.js';
import type { DecisionContext } from '../../decision/decision-context.js';
import { deny, type Denial } from '../../decision/denial.js';
import type { Door } from '../../decision/request-view.js';
import { isGrpcCall } from '../../inference/grpc-route.js';
import { accessRecorder, type AccessEntry } from '../../observability/access-record.js';
import type { Logger } from '../../observability/logger.js';
import type { GatewayMetrics } from '../../observability/metrics.js';
import { BodyBudget } from './body-budget.js';
import { hasBody, readBody, type BodyResult } from './body-reader.js';
import { clientErrorAnswer } from './client-errors.js';

export { declaresBody, hasBody, mustCloseAfterRefusal } from './body-reader.js';
export { BodyBudget } from './body-budget.js';
export type { BodyResult } from './body-reader.js';

/**
 * Header lines a request may carry. Envoy refuses more than 100 by default
 * (`max_headers_count`, https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/core/v3/protocol.proto);
 * the room above it is for what Envoy adds to a check it forwards.
 */
export const MAX_HEADER_COUNT = 128;
/**
 * The whole header block (request line, every name, value, ": " and CRLF). Node's parser counts
 * only name and value bytes against its `maxHeaderSize`, so 2,000 short headers pass it; this
 * counts what is really held.
 */
export const MAX_HEADER_BLOCK_BYTES = 16 * 1024;

const TOO_MANY_HEADERS = deny('headers_too_large', `the request has more than ${MAX_HEADER_COUNT} header lines`);
const HEADER_BLOCK_TOO_LARGE = deny(
  'headers_too_large',
  `the request line and headers are over ${MAX_HEADER_BLOCK_BYTES} bytes`,
);
export const BODY_ON_GET = deny(
  'body_not_allowed',
  'a GET or HEAD request must not carry a body here (RFC 9110 §9.3.1, §9.3.2): it is refused, never forwarded',
);
/** A route that reads no body (probes, metadata, readiness) was sent one. */
export const BODY_NOT_ALLOWED = deny(
  'body_not_allowed',
  'this route takes no request body: it is refused, never forwarded',
);

export type HttpDoor = Extract<Door, 'proxy' | 'ext-authz-http'>;

export interface IntakeSettings {
  readonly door: HttpDoor;
  readonly config: GatewayConfig;
  readonly metrics: GatewayMetrics;
  readonly log: Logger;
  /** The process's one body budget, shared by every HTTP door; a door built alone makes its own. */
  readonly budget?: BodyBudget;
}

export type RequestHandler = (req: IncomingMessage, res: ServerResponse, expectsContinue: boolean) => void;

type PendingResponse = ServerResponse & { shouldKeepAlive?: boolean };

export class Intake {
  readonly server: Server;
  readonly budget: BodyBudget;
  /** Open client connections, to close the idle ones at shutdown (Node's closeIdleConnections skips those that never sent a byte). */
  readonly sockets = new Set<Socket>();
  private readonly recordAccess: (entry: AccessEntry) => void;
  private readonly bodyLimit: number;
  private readonly realm: string;

  constructor(settings: IntakeSettings, handler: RequestHandler) {
    const { server } = settings.config;
    this.realm = settings.config.auth.realm;
    this.bodyLimit = server.bodyLimitBytes;
    this.budget = settings.budget ?? new BodyBudget(server.maxBodyBytesInFlight);
    this.recordAccess = accessRecorder(settings.door, settings.config, settings.metrics, settings.log);
    this.server = createServer(
      {
        keepAliveTimeout: server.keepAliveTimeoutMs,
        // Node requires headersTimeout <= requestTimeout; the whole-request bound covers the headers too.
        headersTimeout: Math.min(server.headersTimeoutMs, server.requestTimeoutMs),
        requestTimeout: server.requestTimeoutMs,
        // Node checks the two timeouts above on this interval (30 s by default, too coarse for slowloris).
        connectionsCheckingInterval: Math.min(1000, Math.max(100, Math.floor(server.headersTimeoutMs / 4))),
        // Refuse ambiguous framing exactly as the predictor's own HTTP parser would (RFC 9112 §6.3).
        insecureHTTPParser: false,
        maxHeaderSize: MAX_HEADER_BLOCK_BYTES,
      },
      (req, res) => handler(req, res, false),
    );
    this.server.maxConnections = server.maxConnections;
    // One over the cap, so a request past it is seen (Node drops further headers silently).
    this.server.maxHeadersCount = MAX_HEADER_COUNT + 1;
    // RFC 9110 §10.1.1: a door answers `Expect: 100-continue` only once the head phase allowed the
    // request, so a refused client never sends its body (Node would send 100 Continue at once).
    this.server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => handler(req, res, true));
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => this.clientError(err, socket));
  }

  /** Writes an access line (and the request counter) for one request. */
  access(entry: AccessEntry): void {
    this.recordAccess(entry);
  }

  /**
   * Why the head of this request is refused before any decision: too many header lines, a header
   * block over the limit, or a body on GET/HEAD (a predictor that ignores GET bodies would read
   * one as the next request).
   */
  headProblem(req: IncomingMessage): Denial | undefined {
    const raw = req.rawHeaders;
    if (raw.length > MAX_HEADER_COUNT * 2) return TOO_MANY_HEADERS;
    // "METHOD SP target SP HTTP/1.1 CRLF", then "name: value CRLF" per line, then CRLF.
    let bytes = (req.method?.length ?? 0) + (req.url?.length ?? 0) + 12 + raw.length * 2 + 2;
    for (let i = 0; i < raw.length; i++) bytes += (raw[i] as string).length;
    if (bytes > MAX_HEADER_BLOCK_BYTES) return HEADER_BLOCK_TOO_LARGE;
    if ((req.method === 'GET' || req.method === 'HEAD') && hasBody(req)) return BODY_ON_GET;
    return undefined;
  }

  /** Reads the body of a request whose route takes one, reserving its bytes from the budget as they arrive. */
  readBody(req: IncomingMessage): BodyResult | Promise<BodyResult> {
    return readBody(req, this.bodyLimit, this.budget);
  }

  releaseBody(bytes: number): void {
    this.budget.release(bytes);
  }

  /**
   * Node's parser refused bytes on this connection, or a timeout fired. A parse error that
   * follows requests still being answered (HTTP/1.1 pipelining) waits for their answers, so a
   * malformed request never costs an earlier one its answer; if one of those answers closes the
   * connection (HTTP/1.0, `Connection: close`), the bytes after it are not a request at all
   * (RFC 9112 §9.6) and get no answer.
   */
  private clientError(err: NodeJS.ErrnoException, socket: Socket): void {
    const state = socket as Socket & { _httpMessage?: PendingResponse | null; intakeDeferred?: boolean };
    if (state.intakeDeferred) return;
    const inFlight = state._httpMessage;
    const parseError = typeof err.code === 'string' && err.code.startsWith('HPE_');
    // An error inside the in-flight request's own body (a bad chunk) ends that request: answer now.
    if (parseError && inFlight && inFlight.req.complete && socket.writable) {
      state.intakeDeferred = true;
      const afterAnswer = (res: PendingResponse) => {
        const next = state._httpMessage;
        if (next && next !== res) return next.once('close', () => afterAnswer(next));
        if (res.shouldKeepAlive === false || !socket.writable) return;
        this.answerClientError(err, socket);
      };
      inFlight.once('close', () => afterAnswer(inFlight));
      return;
    }
    this.answerClientError(err, socket);
  }

  private answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
    const answered = clientErrorAnswer(err, socket, this.realm);
    // Counted and logged like any refusal (no request id: the request was never parsed).
    if (answered)
      this.recordAccess({
        requestId: undefined,
        method: undefined,
        ctx: undefined,
        outcome: answered.code,
        status: answered.status,
        ms: 0,
      });
  }
}

/**
 * Whether this route reads a request body: predict and explain do, and every gRPC call (its
 * message is its body, probes included); every other route refuses one.
 */
export function routeTakesBody(ctx: DecisionContext): boolean {
  if (isGrpcCall(ctx.view)) return true;
  if (ctx.route.kind !== 'model') return false;
  const verb = ctx.route.route.verb;
  return verb === 'predict' || verb === 'explain';
}

/**
 * Header names with an underscore are never passed on: CGI-style servers (WSGI, PHP) read
 * `x_user` and `x-user` as one variable, so a client's `x_user` could stand in for a header the
 * gateway injects, and `transfer_encoding` for framing. nginx drops them by default
 * (`underscores_in_headers off`, https://nginx.org/en/docs/http/ngx_http_core_module.html#underscores_in_headers)
 * and Envoy can (`headers_with_underscores_action: DROP_HEADER`); the gateway drops them too,
 * rather than refusing the request.
 */
export function hasUnderscore(name: string): boolean {
  return name.includes('_');
}

/** The names among these headers that hasUnderscore drops (for the check doors' removal lists). */
export function underscoredNames(headers: Readonly<Record<string, unknown>>): string[] {
  const out: string[] = [];
  for (const name in headers) if (name.includes('_')) out.push(name);
  return out;
}
