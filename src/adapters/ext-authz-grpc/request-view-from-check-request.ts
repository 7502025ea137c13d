import { randomUUID } from 'node:crypto';
import { splitPathAndQuery, type RequestView } from '../../decision/request-view.js';
import type { CheckRequestMessage, RawHeader } from './check-codec.js';

const NONE: readonly string[] = Object.freeze([]);
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const EMPTY: Record<string, string> = Object.freeze({});
// Envoy joins repeated headers with ','. In an Authorization value a comma followed by
// `scheme SP` starts another credential (auth-params are `name=value`, with no space before '=').
const NEXT_CREDENTIAL = /,\s*(?=[A-Za-z0-9!#$%&'*+.^_`|~-]+ )/;

function credentials(value: string): readonly string[] {
  return value.includes(',') ? value.split(NEXT_CREDENTIAL) : [value];
}

/** The headers of one check, whichever encoding Envoy used, with every value of the repeatable ones. */
interface CheckHeaders {
  /** Lower-case names, pseudo-headers included; repeated headers joined with ',' as Envoy does in `headers`. */
  readonly all: Readonly<Record<string, string>>;
  readonly authorization: readonly string[];
  readonly hosts: readonly string[];
}

/** `headers` (map<string,string>): duplicates arrive comma-joined, so they are split back. */
function fromMap(map: Readonly<Record<string, string>>): CheckHeaders {
  const auth = map['authorization'];
  const host = map['host'];
  return {
    all: map,
    authorization: auth === undefined ? NONE : credentials(auth),
    hosts: host === undefined ? NONE : host.split(','),
  };
}

/**
 * `header_map` (Envoy's `encode_raw_headers`): one entry per header line with its raw bytes,
 * duplicates not combined, so every Authorization and Host value is seen as sent. Values are
 * read as latin1, byte for byte, as Node's HTTP parser reads header values in the proxy door.
 */
function fromRaw(list: readonly RawHeader[]): CheckHeaders {
  const all: Record<string, string> = {};
  const authorization: string[] = [];
  const hosts: string[] = [];
  for (const h of list) {
    if (!h.key) continue;
    const key = h.key.toLowerCase();
    const value =
      h.raw_value && h.raw_value.length > 0
        ? Buffer.from(h.raw_value.buffer, h.raw_value.byteOffset, h.raw_value.length).toString('latin1')
        : (h.value ?? '');
    if (key === 'authorization') authorization.push(value);
    else if (key === 'host') hosts.push(value);
    all[key] = all[key] === undefined ? value : `${all[key]},${value}`;
  }
  return { all, authorization, hosts };
}

/**
 * AttributeContext.HttpRequest → RequestView (https://www.envoyproxy.io/docs/envoy/latest/api-v3/service/auth/v3/attribute_context.proto). The headers come
 * in `headers` (lower-cased, pseudo-headers included, duplicates comma-joined) or, with
 * `encode_raw_headers`, in `header_map`; either way two Authorization headers become two
 * credentials (RFC 6750 §2: refused, not picked from) and two Host headers two hosts, as the
 * proxy sees them in rawHeaders. `path` includes the query; `query` is always empty. The body
 * is `body` (UTF-8) or `raw_body` (packAsBytes); `x-envoy-auth-partial-body` is present whenever
 * one is attached.
 */
export function requestViewFromCheckRequest(msg: CheckRequestMessage): RequestView {
  const http = msg.attributes?.request?.http;
  const raw = http?.header_map?.headers;
  const seen =
    http?.headers && Object.keys(http.headers).length > 0
      ? fromMap(http.headers)
      : raw && raw.length > 0
        ? fromRaw(raw)
        : fromMap(EMPTY);
  const all = seen.all;
  const headers: Record<string, string> = {};
  for (const k in all) {
    if (k.charCodeAt(0) !== 0x3a /* : */) headers[k] = all[k] as string;
  }
  const authority = all[':authority'] || http?.host;
  if (authority && headers['host'] === undefined) headers['host'] = authority;
  const { path, query } = splitPathAndQuery(http?.path || all[':path'] || '/');
  const partial = headers['x-envoy-auth-partial-body'];
  const rawBody = http?.raw_body;
  let body: Buffer | undefined;
  if (rawBody && rawBody.length > 0) body = Buffer.from(rawBody.buffer, rawBody.byteOffset, rawBody.length);
  else if (http?.body) body = Buffer.from(http.body, 'utf8');
  else if (partial !== undefined) body = Buffer.alloc(0);
  const given = headers['x-request-id'];
  return {
    door: 'ext-authz-grpc',
    forwardsAnswer: false,
    method: http?.method || all[':method'] || 'GET',
    path,
    query,
    headers,
    authorization: seen.authorization,
    hosts: seen.hosts,
    body,
    bodyPartial: partial === 'true',
    peer: msg.attributes?.source?.address?.socket_address?.address ?? '',
    // HttpRequest.id is Envoy's stream id, not the x-request-id; prefer the latter for correlation.
    requestId: given !== undefined && REQUEST_ID.test(given) ? given : http?.id || randomUUID(),
  };
}
