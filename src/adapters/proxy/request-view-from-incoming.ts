import type { IncomingMessage } from 'node:http';
import { rawHeaderValues, splitPathAndQuery, type RequestView } from '../../decision/request-view.js';

const NONE: readonly string[] = Object.freeze([]);

/** The head of a request as the pipeline sees it; the body is attached after the head phase allowed it. */
export function requestViewOf(req: IncomingMessage, requestId: string): RequestView {
  const { path, query } = splitPathAndQuery(req.url ?? '/');
  return {
    door: 'proxy',
    forwardsAnswer: true,
    method: req.method ?? 'GET',
    path,
    query,
    headers: req.headers,
    // Only scan rawHeaders when there is something to find: duplicates need it, the common case does not.
    authorization: req.headers.authorization === undefined ? NONE : rawHeaderValues(req.rawHeaders, 'authorization'),
    // Node keeps only the first Host in `headers`; the pipeline refuses several (RFC 9112 §3.2).
    hosts: rawHeaderValues(req.rawHeaders, 'host'),
    body: undefined,
    bodyPartial: false,
    peer: req.socket.remoteAddress ?? '',
    requestId,
  };
}
