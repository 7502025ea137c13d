import type { IncomingHttpHeaders } from 'node:http';
import { util } from 'undici';
import type { DecisionContext } from '../../decision/decision-context.js';
import { TRACE_HEADERS } from '../../observability/tracing.js';
import { hasUnderscore } from '../intake/intake.js';

// RFC 9110 §7.6.1: hop-by-hop fields never cross a proxy, nor do the fields named in Connection.
// `expect` is answered here (undici refuses to send it); `host` becomes the predictor's.
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'expect'];
// Set by the gateway itself on every forwarded request, so the client's copies are dropped.
const RECOMPUTED = ['host', 'content-length', 'x-request-id', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host'];
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
export function upstreamHeaders(headers: IncomingHttpHeaders, ctx: DecisionContext, upstreamHost: string, f: ForwardedFacts): string[] {
  const out: string[] = [];
  const remove = ctx.removeUpstreamHeaders;
  const inject = ctx.upstreamHeaders;
  const named = connectionTokens(headers.connection);
  for (const name in headers) {
    // A stage's injected value replaces the client's (the stripping of spoofed copies relies on it).
    if (NOT_FORWARDED.has(name) || remove.includes(name) || named?.has(name) || name in inject || hasUnderscore(name)) continue;
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
  out.push('host', upstreamHost, 'x-request-id', f.requestId, 'x-forwarded-for', f.forwardedFor, 'x-forwarded-proto', 'http');
  if (headers.host !== undefined) out.push('x-forwarded-host', headers.host);
  if (f.identityEncoding) out.push('accept-encoding', 'identity');
  if (f.bodyLength > 0 || headers['content-length'] !== undefined) out.push('content-length', String(f.bodyLength));
  return out;
}

/**
 * The client answer's header list from the predictor's raw header bytes (undici hands them as
 * Buffers): hop-by-hop fields and the framing the gateway sets itself dropped. `skip` names
 * more fields to drop (a rewritten answer's encoding and lengths).
 */
export function answerHeaders(
  raw: readonly Buffer[],
  skip: ReadonlySet<string> | undefined,
  withByName = false,
): { list: string[]; contentLength: number | undefined; contentEncoding: string | undefined; contentType: string | undefined; byName: Record<string, string | string[]> | undefined } {
  const list: string[] = [];
  // Every header by lower-case name, for a rewriter or an observer (built in the same pass).
  const byName: Record<string, string | string[]> | undefined = withByName ? {} : undefined;
  let contentLength: number | undefined;
  let contentEncoding: string | undefined;
  let contentType: string | undefined;
  let named: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    // undici's own lookup: common field names come back interned and lower-case, without a copy.
    const name = util.headerNameToString(raw[i] as Buffer);
    const value = (raw[i + 1] as Buffer).toString('latin1');
    if (name === 'content-length') contentLength = Number(value);
    else if (name === 'content-encoding') contentEncoding = contentEncoding === undefined ? value : `${contentEncoding}, ${value}`;
    else if (name === 'content-type') contentType = value;
    else if (name === 'connection') named = connectionTokens(value);
    if (byName) {
      const prior = byName[name];
      byName[name] = prior === undefined ? value : Array.isArray(prior) ? [...prior, value] : [prior, value];
    }
    if (NOT_RETURNED.has(name) || skip?.has(name)) continue;
    list.push(name, value);
  }
  if (named) {
    for (let i = list.length - 2; i >= 0; i -= 2) if (named.has(list[i] as string)) list.splice(i, 2);
  }
  return { list, contentLength, contentEncoding, contentType, byName };
}
