import { randomUUID } from 'node:crypto';
import { splitPathAndQuery, type RequestView } from '../../decision/request-view.js';
import type { CheckRequestMessage } from './check-codec.js';

const NONE: readonly string[] = Object.freeze([]);
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const EMPTY: Record<string, string> = Object.freeze({});
// Envoy joins repeated headers with ','. In an Authorization value a comma followed by
// `scheme SP` starts another credential (auth-params are `name=value`, with no space before '=').
const NEXT_CREDENTIAL = /,\s*(?=[A-Za-z0-9!#$%&'*+.^_`|~-]+ )/;

function credentials(value: string): readonly string[] {
  return value.includes(',') ? value.split(NEXT_CREDENTIAL) : [value];
}

/**
 * AttributeContext.HttpRequest → RequestView (https://www.envoyproxy.io/docs/envoy/latest/api-v3/service/auth/v3/attribute_context.proto). `headers` carries every
 * client header lower-cased plus the pseudo-headers; duplicates arrive comma-joined, so two
 * Authorization headers are split back into two credentials (RFC 6750 §2: refused, not picked
 * from), as the proxy sees them in rawHeaders. `path` includes the query; `query` is always empty. The body is `body` (UTF-8)
 * or `raw_body` (packAsBytes); `x-envoy-auth-partial-body` is present whenever one is attached.
 */
export function requestViewFromCheckRequest(msg: CheckRequestMessage): RequestView {
  const http = msg.attributes?.request?.http;
  const all = http?.headers ?? EMPTY;
  const headers: Record<string, string> = {};
  for (const k in all) {
    if (k.charCodeAt(0) !== 0x3a /* : */) headers[k] = all[k] as string;
  }
  const authority = all[':authority'] || http?.host;
  if (authority && headers['host'] === undefined) headers['host'] = authority;
  const { path, query } = splitPathAndQuery(http?.path || all[':path'] || '/');
  const partial = headers['x-envoy-auth-partial-body'];
  const raw = http?.raw_body;
  let body: Buffer | undefined;
  if (raw && raw.length > 0) body = Buffer.from(raw.buffer, raw.byteOffset, raw.length);
  else if (http?.body) body = Buffer.from(http.body, 'utf8');
  else if (partial !== undefined) body = Buffer.alloc(0);
  const auth = headers['authorization'];
  const given = headers['x-request-id'];
  return {
    door: 'ext-authz-grpc',
    method: http?.method || all[':method'] || 'GET',
    path,
    query,
    headers,
    authorization: auth === undefined ? NONE : credentials(auth),
    body,
    bodyPartial: partial === 'true',
    peer: msg.attributes?.source?.address?.socket_address?.address ?? '',
    // HttpRequest.id is Envoy's stream id, not the x-request-id; prefer the latter for correlation.
    requestId: given !== undefined && REQUEST_ID.test(given) ? given : http?.id || randomUUID(),
  };
}
