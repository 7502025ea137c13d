import type { IncomingHttpHeaders } from 'node:http';
import type { DecisionContext } from '../../decision/decision-context.js';
import { TRACE_HEADERS } from '../../observability/tracing.js';
import { hasUnderscore } from '../intake/intake.js';

// RFC 9110 §7.6.1: hop-by-hop fields never cross a proxy, nor do the fields named in Connection.
// `expect` is answered here (undici refuses to send it); `host` becomes the predictor's.
const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
];
// Set by the gateway itself on every forwarded request, so the client's copies are dropped.
const RECOMPUTED = [
  'host',
  'content-length',
  'x-request-id',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
];
const NOT_FORWARDED = new Set([...HOP_BY_HOP, ...RECOMPUTED]);
const TRACE_HEADER_NAMES = new Set(TRACE_HEADERS);
const NOT_RETURNED = new Set([...HOP_BY_HOP, 'content-length', 'x-request-id', 'date']);

/** The Connection field's tokens (RFC 9110 §7.6.1), lower-case; empty when there is none. */
function connectionTokens(value: string | undefined): Set<string> | undefined {
  // The common values name only fields that are hop-by-hop already.
  if (value === undefined || value === 'keep-alive' || value === 'close' || value === 'Keep-Alive') return undefined;
  const tokens = new Set<string>();
  for (const t of value.split(',')) tokens.add(t.trim().toLowerCase());
  return tokens;
}

export interface ForwardedFacts {
  readonly requestId: string;
  /** The X-Forwarded-For value to send (peer, or appended to a trusted client chain). */
  readonly forwardedFor: string;
  /** Ask for an uncompressed answer: a rewriter must read it. */
  readonly identityEncoding: boolean;
  readonly bodyLength: number;
  /** The gateway span's trace context, replacing the client's (undefined: tracing off, the client's pass unchanged). */
  readonly traceHeaders: Readonly<Record<string, string>> | undefined;
}

/**
 * The predictor request's header list (flat [name, value, ...], the form undici takes without
 * copying), built in one pass over the client's headers: hop-by-hop and gateway-set fields
 * dropped, the stages' removals and injections applied, then the gateway's own fields.
 */
export function upstreamHeaders(
  headers: IncomingHttpHeaders,
  ctx: DecisionContext,
  upstreamHost: string,
  f: ForwardedFacts,
): string[] {
  const out: string[] = [];
  const remove = ctx.removeUpstreamHeaders;
  const inject = ctx.upstreamHeaders;
  const named = connectionTokens(headers.connection);
  for (const name in headers) {
    // A stage's injected value replaces the client's (the stripping of spoofed copies relies on it).
    if (NOT_FORWARDED.has(name) || remove.includes(name) || named?.has(name) || name in inject || hasUnderscore(name))
      continue;
    if (f.identityEncoding && name === 'accept-encoding') continue;
    if (f.traceHeaders !== undefined && TRACE_HEADER_NAMES.has(name)) continue;
    const v = headers[name];
    if (v === undefined) continue;
    if (typeof v === 'string') out.push(name, v);
    else for (const one of v) out.push(name, one);
  }
  for (const name in inject) out.push(name, inject[name] as string);
  const trace = f.traceHeaders;
  if (trace !== undefined) for (const name in trace) out.push(name, trace[name] as string);
  out.push(
    'host',
    upstreamHost,
    'x-request-id',
    f.requestId,
    'x-forwarded-for',
    f.forwardedFor,
    'x-forwarded-proto',
    'http',
  );
  if (headers.host !== undefined) out.push('x-forwarded-host', headers.host);
  if (f.identityEncoding) out.push('accept-encoding', 'identity');
  if (f.bodyLength > 0 || headers['content-length'] !== undefined) out.push('content-length', String(f.bodyLength));
  return out;
}

/**
 * The client answer's header list from the predictor's headers (undici hands them parsed, by
 * lower-case name): hop-by-hop fields and the framing the gateway sets itself dropped. `skip`
 * names more fields to drop (a rewritten answer's encoding and lengths). `byName` is every header
 * as received, for a rewriter or an observer.
 */
export function answerHeaders(
  headers: IncomingHttpHeaders,
  skip: ReadonlySet<string> | undefined,
): {
  list: string[];
  contentLength: number | undefined;
  contentEncoding: string | undefined;
  contentType: string | undefined;
  byName: Record<string, string | string[]>;
} {
  const list: string[] = [];
  const cl = headers['content-length'];
  const ce = headers['content-encoding'];
  const ct = headers['content-type'];
  const connection = headers.connection;
  const named = connectionTokens(Array.isArray(connection) ? connection.join(',') : connection);
  for (const name in headers) {
    if (NOT_RETURNED.has(name) || skip?.has(name) || named?.has(name)) continue;
    const v = headers[name];
    if (v === undefined) continue;
    if (typeof v === 'string') list.push(name, v);
    else for (const one of v) list.push(name, one);
  }
  return {
    list,
    contentLength: cl === undefined ? undefined : Number(Array.isArray(cl) ? cl[0] : cl),
    // Several Content-Encoding fields are one list, applied in order (RFC 9110 §8.4).
    contentEncoding: Array.isArray(ce) ? ce.join(', ') : ce,
    contentType: Array.isArray(ct) ? ct.at(-1) : ct,
    // undici's parsed headers hold only strings and string arrays (no undefined values).
    byName: headers as Record<string, string | string[]>,
  };
}
