import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http2';
import type { RequestView } from '../../decision/request-view.js';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * An HTTP/2 gRPC call → RequestView. gRPC metadata are HTTP/2 header fields, so the token is the
 * `authorization` metadata. Node keeps one value of a single-value field in `headers`; every
 * Authorization line is read from the raw list so two credentials are refused (RFC 6750 §2), as
 * on the HTTP/1.1 door. `:authority` (and any Host field) are the hosts. The body is the whole
 * HTTP/2 body: the length-prefixed message.
 */
export function requestViewFromStream(
  headers: IncomingHttpHeaders,
  rawHeaders: readonly string[],
  body: Buffer,
  peer: string,
): RequestView {
  const plain: Record<string, string | string[] | undefined> = {};
  for (const k in headers) if (k.charCodeAt(0) !== 0x3a /* : */) plain[k] = headers[k];
  const authority = headers[':authority'];
  const hosts: string[] = authority !== undefined ? [authority] : [];
  // Node's http2 raw header list is flat [name, value, ...] with lower-case names: every Host and
  // Authorization line, read in one pass.
  const authorization: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i];
    if (name === 'host') hosts.push(rawHeaders[i + 1]!);
    else if (name === 'authorization') authorization.push(rawHeaders[i + 1]!);
  }
  if (plain['host'] === undefined && authority !== undefined) plain['host'] = authority;
  const path = headers[':path'] ?? '/';
  const q = path.indexOf('?');
  const given = headers['x-request-id'];
  return {
    door: 'grpc',
    forwardsAnswer: true,
    method: headers[':method'] ?? 'POST',
    path: q < 0 ? path : path.slice(0, q),
    query: q < 0 ? '' : path.slice(q + 1),
    headers: plain,
    authorization,
    hosts,
    body,
    bodyPartial: false,
    peer,
    requestId: typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID(),
  };
}
