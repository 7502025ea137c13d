import type { IncomingMessage } from 'node:http';
import { randomUUID } from 'node:crypto';
import { rawHeaderValues, splitPathAndQuery, type RequestView } from '../../decision/request-view.js';

const NONE: readonly string[] = Object.freeze([]);
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const EMPTY = Buffer.alloc(0);

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
 * The body Envoy attached to a check, as the pipeline reads it: Envoy marks every attached body
 * with `x-envoy-auth-partial-body` (Envoy ext_authz filter, https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_filters/ext_authz_filter);
 * without the header only a non-empty body counts. `partial`: Envoy cut it at max_request_bytes.
 */
export function checkBody(
  req: IncomingMessage,
  body: Buffer | undefined,
): { body: Buffer | undefined; partial: boolean } {
  const partial = req.headers['x-envoy-auth-partial-body'];
  return {
    body: partial !== undefined || (body !== undefined && body.length > 0) ? (body ?? EMPTY) : undefined,
    partial: partial === 'true',
  };
}

/**
 * Envoy's HTTP check: the original method, `pathPrefix + original path` (query kept), the
 * allow-listed headers, and the body only with `includeRequestBodyInCheck` (see checkBody).
 * Content-Type is usually not forwarded, so the body stays raw bytes.
 */
export function requestViewFromCheck(req: IncomingMessage, originalUrl: string, body: Buffer | undefined): RequestView {
  const { path, query } = splitPathAndQuery(originalUrl);
  const headers = req.headers;
  const given = headers['x-request-id'];
  const attached = checkBody(req, body);
  return {
    door: 'ext-authz-http',
    forwardsAnswer: false,
    method: req.method ?? 'GET',
    path,
    query,
    headers,
    authorization: headers.authorization === undefined ? NONE : rawHeaderValues(req.rawHeaders, 'authorization'),
    // Envoy sends the original :authority as Host; a check with two is malformed all the same.
    hosts: rawHeaderValues(req.rawHeaders, 'host'),
    body: attached.body,
    bodyPartial: attached.partial,
    peer: req.socket.remoteAddress ?? '',
    requestId: typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID(),
  };
}
