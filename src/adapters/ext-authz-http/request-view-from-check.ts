import type { IncomingMessage } from 'node:http';
import { randomUUID } from 'node:crypto';
import { rawHeaderValues, splitPathAndQuery, type RequestView } from '../../decision/request-view.js';

const NONE: readonly string[] = Object.freeze([]);
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The original request's path once the provider's `pathPrefix` is removed, or undefined when it lacks it. */
export function stripPrefix(url: string, prefix: string): string | undefined {
  if (prefix === '') return url;
  if (!url.startsWith(prefix)) return undefined;
  const rest = url.slice(prefix.length);
  if (rest === '') return '/';
  const c = rest.charCodeAt(0);
  if (c === 0x2f /* / */) return rest;
  if (c === 0x3f /* ? */) return `/${rest}`;
  // `/authzed/...` does not carry the prefix `/authz`.
  return undefined;
}

/**
 * Envoy's HTTP check: the original method, `pathPrefix + original path` (query kept), the
 * allow-listed headers, and the body only with `includeRequestBodyInCheck` — then it also sends
 * `x-envoy-auth-partial-body` (Envoy ext_authz filter, https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_filters/ext_authz_filter). Content-Type is usually not forwarded, so the
 * body stays raw bytes.
 */
export function requestViewFromCheck(req: IncomingMessage, originalUrl: string, body: Buffer | undefined): RequestView {
  const { path, query } = splitPathAndQuery(originalUrl);
  const headers = req.headers;
  const partial = headers['x-envoy-auth-partial-body'];
  const given = headers['x-request-id'];
  return {
    door: 'ext-authz-http',
    forwardsAnswer: false,
    method: req.method ?? 'GET',
    path,
    query,
    headers,
    authorization: headers.authorization === undefined ? NONE : rawHeaderValues(req.rawHeaders, 'authorization'),
    // Envoy marks every attached body with the partial-body header; without it only a non-empty body counts.
    // Envoy sends the original :authority as Host; a check with two is malformed all the same.
    hosts: rawHeaderValues(req.rawHeaders, 'host'),
    body: partial !== undefined || (body !== undefined && body.length > 0) ? (body ?? Buffer.alloc(0)) : undefined,
    bodyPartial: partial === 'true',
    peer: req.socket.remoteAddress ?? '',
    requestId: typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID(),
  };
}
